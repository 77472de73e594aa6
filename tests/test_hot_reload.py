"""A change written by one process is served by another within a second, no restart.

Two real processes share an embedded installation (SQLite file and file cache, or
Redis as the shared cache): a web server that has already cached the LLM export, and a
separate Python process that edits and publishes a tool through the services.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
from catalog.models import Role
from catalog.services import create_tenant, create_tool, set_membership
from catalog.services.apikeys import create_api_key
from django.contrib.auth import get_user_model
from tests.factories import make_definition

tenant = create_tenant(slug="hot", name="Hot", actor=None)
user = get_user_model().objects.create_user("reader", password="not-used-here-123")
set_membership(tenant, user=user, role=Role.ADMIN, actor=None)
create_tool(tenant, definition=make_definition(name="probe", description="First words."),
            actor=None, publish=True)
key, token = create_api_key(tenant, name="hot reload test", role=Role.VIEWER, actor=user)
print(token)
"""

WRITE = """
import time
from catalog.models import Tool, Tenant
from catalog.selectors import definition_of, with_content
from catalog.services import edit_tool, publish_version
from django.db import transaction

tool = Tool.objects.get(tenant__slug="hot", name="probe")
head = with_content(tool.versions.filter(pk=tool.head_version_id)).get()
definition = {k: v for k, v in definition_of(head).items() if k != "version"}
definition["description"] = "Second words."
with transaction.atomic():
    version = edit_tool(tool, definition=definition, base_version=head, actor=None)
    publish_version(version, actor=None)
print(time.time(), flush=True)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _environment(var_dir: Path, cache_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "SECRET_KEY", "CACHE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(QUIVER_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings")
    if cache_url:
        env["CACHE_URL"] = cache_url
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(params=["file cache", "redis"])
def installation(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A migrated installation with a web server running; yields (url, token, env)."""
    cache_url = None
    if request.param == "redis":
        if not _redis_up():
            if os.environ.get("CI"):
                pytest.fail("Redis is not running at 127.0.0.1:6379")
            pytest.skip("Redis is not running at 127.0.0.1:6379")
        cache_url = f"redis://127.0.0.1:6379/{9 + os.getpid() % 6}"
    env = _environment(tmp_path, cache_url)
    _manage(env, "migrate", "--noinput", "-v0")
    token = _manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url, token, env
    finally:
        server.terminate()
        server.wait(timeout=10)
        if cache_url:
            import redis

            redis.Redis.from_url(cache_url).flushdb()


def _get(url: str, token: str) -> dict | list:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _descriptions(base: str, token: str) -> tuple[str, str]:
    export = _get(f"{base}/api/v1/llm/tools?format=frontend", token)
    tools = export["tools"] if isinstance(export, dict) else export
    listed = next(t["description"] for t in tools if t["name"] == "probe")
    detail = _get(f"{base}/api/v1/tools/probe", token)
    return listed, detail["description"]


def test_a_write_in_one_process_is_served_by_another_within_a_second(
    installation: tuple[str, str, dict[str, str]],
) -> None:
    base, token, env = installation
    # Warm the server's caches (the export and the lookup) with the first version.
    for _ in range(3):
        assert _descriptions(base, token) == ("First words.", "First words.")
    writer = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", WRITE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _descriptions(base, token) != ("Second words.", "Second words."):
            assert writer.poll() in (None, 0), writer.stderr.read() if writer.stderr else ""
            assert time.monotonic() < deadline, "the change never reached the server"
            time.sleep(0.02)
        seen_at = time.time()
        out, err = writer.communicate(timeout=60)
    finally:
        writer.kill()
    assert writer.returncode == 0, err
    committed_at = float(out.strip().splitlines()[-1])
    assert seen_at - committed_at < 1.0
