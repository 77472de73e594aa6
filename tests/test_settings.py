"""Settings read from the environment: embedded by default, strict in production."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def manage(
    *args: str, env: dict[str, str], umask: int | None = None
) -> subprocess.CompletedProcess[str]:
    # Start from the bare environment: the suite itself may run with production settings.
    read_by_settings = ("DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CACHE_URL")
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in read_by_settings and not k.startswith("SECURE_")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        umask=-1 if umask is None else umask,
    )


def loose_modes(folder: Path) -> dict[str, str]:
    """Everything under ``folder`` (itself included) that its group or others may use."""
    return {
        str(path.relative_to(folder)): oct(path.stat().st_mode & 0o777)
        for path in [folder, *folder.rglob("*")]
        if not path.is_symlink() and path.stat().st_mode & 0o077
    }


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
            "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
            "ALLOWED_HOSTS": "quiver.example.org",
            "QUIVER_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = manage(
        "check",
        env={"DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3", "QUIVER_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DATABASE_URL is set" in result.stderr


def test_embedded_mode_keeps_a_generated_secret_key_in_var(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG)"
    env = {"QUIVER_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    run = lambda: manage("shell", "-v", "0", "-c", code, env=env).stdout.split()  # noqa: E731
    first, second = run(), run()
    assert first == second
    assert first[1] == "False"
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert len(first[0]) >= 50


NOT_FOUND = """
from django.test import Client
response = Client().get("/no-such-page/")
print(response.status_code)
print(response.content.decode())
"""
SERVER_ERROR = """
import sys
from django.core.handlers.exception import handle_uncaught_exception
from django.test import RequestFactory
from django.urls import get_resolver
try:
    raise RuntimeError("the database went away")
except RuntimeError:
    request = RequestFactory().get("/tools/")
    response = handle_uncaught_exception(request, get_resolver(), sys.exc_info())
print(response.status_code)
print(response.content.decode())
"""


def test_a_missing_page_is_quivers_own_page_with_the_settings_bin_run_uses(
    tmp_path: Path,
) -> None:
    env = {"QUIVER_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = manage("shell", "-v", "0", "-c", NOT_FOUND, env=env)
    status, page = result.stdout.split("\n", 1)
    assert status == "404", result.stderr
    assert "We couldn't find that page" in page
    assert "URLconf" not in page and "api/v1/" not in page


def test_a_server_error_is_quivers_own_page_with_the_settings_bin_run_uses(
    tmp_path: Path,
) -> None:
    env = {"QUIVER_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = manage("shell", "-v", "0", "-c", SERVER_ERROR, env=env)
    status, page = result.stdout.split("\n", 1)
    assert status == "500", result.stderr
    assert "Something went wrong on our side" in page
    assert "the database went away" not in page and "Traceback" not in page


def test_debug_pages_show_only_when_asked_for(tmp_path: Path) -> None:
    env = {"QUIVER_VAR_DIR": str(tmp_path), "DEBUG": "1"}
    assert "URLconf" in manage("shell", "-v", "0", "-c", NOT_FOUND, env=env).stdout
    assert (
        "the database went away" in manage("shell", "-v", "0", "-c", SERVER_ERROR, env=env).stdout
    )


def test_embedded_mode_serves_plain_http_without_redirects_or_secure_cookies(
    tmp_path: Path,
) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    env = {"QUIVER_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    assert manage("shell", "-v", "0", "-c", code, env=env).stdout.split() == ["False"] * 3


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite only"
)
def test_sqlite_runs_in_wal_mode(db: object) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The test database lives in memory, where SQLite reports "memory" instead.
    assert mode in ("wal", "memory")
    assert "journal_mode=WAL" in settings.DATABASES["default"]["OPTIONS"]["init_command"]


def test_var_and_the_database_are_created_private_to_quivers_user(tmp_path: Path) -> None:
    var = tmp_path / "var"
    # A loose umask, as a shell's usual 022: var/ still comes out private.
    result = manage("migrate", "-v", "0", env={"QUIVER_VAR_DIR": str(var)}, umask=0o022)

    assert result.returncode == 0, result.stderr
    assert (var / "quiver.sqlite3").stat().st_size > 0
    assert {"quiver.sqlite3", "secret_key", "broker"} <= {p.name for p in var.iterdir()}
    assert var.stat().st_mode & 0o777 == 0o700
    assert loose_modes(var) == {}


def test_a_var_folder_left_readable_is_tightened_at_start(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert manage("migrate", "-v", "0", env={"QUIVER_VAR_DIR": str(var)}).returncode == 0
    for path in [var, *var.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (var / "quiver.sqlite3-wal").write_bytes(b"")
    (var / "quiver.sqlite3-wal").chmod(0o644)

    result = manage("check", env={"QUIVER_VAR_DIR": str(var)}, umask=0o022)

    assert result.returncode == 0, result.stderr
    assert loose_modes(var) == {}


def test_the_package_lists_only_apps_that_exist() -> None:
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for pattern in found["packages"]["find"]["include"]:
        assert (ROOT / pattern.rstrip("*") / "__init__.py").exists(), pattern


def test_the_readme_points_nowhere_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "../" not in readme
