"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Each test process starts one headless Chromium; each test gets a fresh page that fails
the test if the browser logged an error or refused something under the Content Security
Policy. ``shot(page, name)`` saves full-page screenshots to
``var/screenshots/<module>/<test>/`` (or under ``$QUIVER_SCREENSHOTS``), which git ignores.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

# Room for a loaded machine (the whole suite runs in parallel with these tests).
expect.set_options(timeout=10_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
Shot = Callable[[Page, str], Path]


@dataclass
class BrowserSession:
    browser: Browser
    loop: asyncio.AbstractEventLoop


@contextmanager
def browser_turn(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While browser code runs in this thread, and only then, let Django's ORM run here.

    Between calls Playwright's sync API leaves its event loop marked as running in the
    calling thread, and Django then refuses ORM calls as "async unsafe" (the test code is
    plain synchronous code, so they are safe). The mark and DJANGO_ALLOW_ASYNC_UNSAFE are
    both set for one browser test and taken away after it, so the other tests this process
    runs (and the programs they start, e.g. ``manage.py check --deploy``) see neither.
    """
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    asyncio._set_running_loop(loop)  # what Playwright itself sets after every call
    try:
        yield
    finally:
        asyncio._set_running_loop(None)
        if before is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = before


@pytest.fixture(scope="session")
def browser_session() -> Iterator[BrowserSession]:
    """One headless Chromium per test process (each xdist worker has its own)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    playwright = sync_playwright().start()
    loop = asyncio.get_running_loop()
    with browser_turn(loop):
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except BaseException:
            playwright.stop()
            raise
    yield BrowserSession(chromium, loop)
    with browser_turn(loop):
        try:
            chromium.close()
        finally:
            playwright.stop()


@pytest.fixture(autouse=True)
def own_cache(settings: Any) -> None:
    """A private in-memory cache per test: sign-in throttling counts failures per address,
    and every request here comes from 127.0.0.1, so counts must not leak between tests
    (or between xdist workers sharing the file cache)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"browser-{uuid.uuid4().hex}",
        }
    }


@dataclass
class BrowserProblems:
    """What went wrong in the page: console errors, uncaught exceptions, CSP refusals."""

    console: list[tuple[str, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    failed_documents: set[str] = field(default_factory=set)

    def record_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console.append((message.text, message.location.get("url", "")))

    def record_csp(self, text: str) -> None:
        self.csp.append(text)

    def report(self) -> list[str]:
        problems = [f"uncaught exception: {text}" for text in self.exceptions]
        problems += [f"CSP violation: {text}" for text in self.csp]
        for text, url in self.console:
            # A page the server answered 403/404/429 on purpose logs "Failed to load
            # resource" for the document itself; a missing script or style still counts.
            if text.startswith("Failed to load resource") and url in self.failed_documents:
                continue
            problems.append(f"console error: {text} ({url})")
        return problems


REPORT_CSP = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.quiverReportCsp(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " from " + e.sourceFile + ":" + e.lineNumber + " on " + document.location.pathname +
    (e.sample ? " (" + e.sample + ")" : "") +
    (e.target && e.target.outerHTML ? " in " + e.target.outerHTML.slice(0, 160) : ""));
});
"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, so the page fixture knows if the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _shot_folder(node: pytest.Item) -> Path:
    root = Path(os.environ.get("QUIVER_SCREENSHOTS") or REPO / "var" / "screenshots")
    return root / node.path.stem / UNSAFE_CHARS.sub("_", node.name)


@pytest.fixture
def page(
    browser_session: BrowserSession, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh 1280x900 page on the live server; fails the test on browser errors.

    When the test fails, the page as it was is saved as ``failure.png`` next to its
    screenshots."""
    problems = BrowserProblems()
    shutil.rmtree(_shot_folder(request.node), ignore_errors=True)
    with browser_turn(browser_session.loop):
        context = browser_session.browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("console", problems.record_console)
        page.on("pageerror", lambda error: problems.exceptions.append(str(error)))
        page.on(
            "response",
            lambda response: (
                problems.failed_documents.add(response.url)
                if response.request.resource_type == "document" and response.status >= 400
                else None
            ),
        )
        page.expose_function("quiverReportCsp", problems.record_csp)
        page.add_init_script(REPORT_CSP)
        try:
            yield page
            failed = getattr(request.node, "report_call", None)
            if failed is not None and failed.failed and not page.is_closed():
                folder = _shot_folder(request.node)
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / "failure.png"), full_page=True, caret="initial")
        finally:
            context.close()
    found = problems.report()
    if found:
        pytest.fail("The browser reported problems:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """``shot(page, "name")`` saves a numbered full-page screenshot for this test."""
    folder = _shot_folder(request.node)
    taken: list[Path] = []

    def take(page: Page, name: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{UNSAFE_CHARS.sub('_', name)}.png"
        folder.mkdir(parents=True, exist_ok=True)
        # From the top, so the sticky navigation bar is drawn at the top of the image.
        # caret="initial": hiding the caret leaves style="" on every input, which htmx
        # then copies onto swapped-in elements, a CSP violation the app did not cause.
        page.evaluate("window.scrollTo(0, 0)")
        # A long page (Redoc's) takes seconds to draw whole on a busy 2-CPU machine.
        page.screenshot(path=str(path), full_page=True, caret="initial", timeout=30_000)
        taken.append(path)
        return path

    return take


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill in and submit the real sign-in form, waiting for the page it leads to."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


# The users of tests/conftest.py, with a password the tests know.


@pytest.fixture
def admin(admin: Any) -> Any:
    return _with_password(admin)


@pytest.fixture
def editor(editor: Any) -> Any:
    return _with_password(editor)


@pytest.fixture
def viewer(viewer: Any) -> Any:
    return _with_password(viewer)


@pytest.fixture
def outsider(outsider: Any) -> Any:
    return _with_password(outsider)
