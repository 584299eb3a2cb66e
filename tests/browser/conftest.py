"""Browser tests: the real app served on a local port, driven by Debian's Chromium.

The server runs in a background thread with its own SQLite file and CSRF switched on, as in
production. Playwright is used through its sync API with the system Chromium; its own browser
downloads are never used.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import gettext
from werkzeug.serving import make_server

from directory import PROJECT_ROOT, create_app
from directory.activities.models import Category
from directory.extensions import db
from directory.schools.models import Municipality
from tests.conftest import _free_port, _Inbox, require_tool

CHROMIUM = "/usr/bin/chromium"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

CATEGORIES = [
    ("idrett", "Idrett", "Idrett", "Sport"),
    ("musikk", "Musikk", "Musikk", "Music"),
    ("friluftsliv", "Friluftsliv", "Friluftsliv", "Outdoor life"),
]


def _seed(app) -> None:
    with app.app_context():
        db.create_all()
        db.session.add(
            Municipality(slug="drammen", name="Drammen", messaging_label="Vigilo", org_number=None)
        )
        for slug, nb, nn, en in CATEGORIES:
            db.session.add(Category(slug=slug, name_nb=nb, name_nn=nn, name_en=en))
        db.session.commit()
        db.session.remove()


def _browser_app(root: Path, name: str) -> Flask:
    """An app on its own SQLite file under `root`, with CSRF on as in production."""
    return create_app(
        {
            "SECRET_KEY": f"browser-{name}-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / f'{name}.sqlite3'}",
            "WTF_CSRF_ENABLED": True,
            "UPLOAD_FOLDER": str(root / "uploads"),
            "SEARCH_INDEX_DIR": str(root / "search-index"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    """The app served by a threaded werkzeug server on 127.0.0.1, and the SMTP inbox (a real
    server, aiosmtpd) its mail goes to: (base URL, inbox)."""
    from aiosmtpd.controller import Controller

    app = _browser_app(tmp_path_factory.mktemp("browser-instance"), "browser")
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    _seed(app)
    try:
        with _serving(app) as url:
            yield url, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def live_server(live_site) -> str:
    """The base URL of the live app."""
    return live_site[0]


def wait_for_mail(inbox, address: str):
    """The first message to `address`: mail may leave just after the response, so wait."""
    for _ in range(100):
        messages = inbox.to(address)
        if messages:
            return messages[0]
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {address} arrived")


@pytest.fixture(scope="session")
def browser():
    """A headless system Chromium, shared by all browser tests."""
    if not os.access(CHROMIUM, os.X_OK):
        require_tool(f"Chromium not installed at {CHROMIUM} (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (own cookies) whose relative URLs resolve against the live server."""
    context = browser.new_context(base_url=live_server, locale="nb-NO")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """The git-ignored folder where browser tests leave screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- the demo data, served: what a parent would see --------------------------------------------


class RequestLog:
    """WSGI middleware that notes every request the server answers: what the browser really
    asked for, including what it fetches on its own (a favicon probe) without telling Playwright."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()
        self.entries: list[str] = []

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        line = environ["REQUEST_METHOD"] + " " + environ.get("PATH_INFO", "")
        with self.lock:
            self.entries.append(line + (f"?{query}" if query else ""))
        return self.wsgi_app(environ, start_response)

    def mark(self) -> int:
        """A position in the log, to read what came after it with `since`."""
        with self.lock:
            return len(self.entries)

    def since(self, mark: int) -> list[str]:
        """The requests answered after `mark`, as 'METHOD /path?query'."""
        with self.lock:
            return self.entries[mark:]


@dataclass(frozen=True)
class DemoSite:
    """The app with the demo data, served on 127.0.0.1, and a way to read its database."""

    url: str
    app: Flask
    requests: RequestLog

    def gettext(self, lang: str, text: str) -> str:
        """`text` as the site shows it in `lang` (the bokmål source until it is translated)."""
        with self.app.test_request_context(f"/?lang={lang}"):
            return gettext(text)


def _read_whole(app: Flask):
    """The app as the browser tests' server calls it: each answer read whole, and its iterable
    closed, before the server writes a byte of it. werkzeug's development server closes the
    iterable only after draining the socket, and skips that when the browser has dropped the
    connection meanwhile (a page left while its images load): the upload's open file then
    raised a ResourceWarning that failed whichever test was running."""

    def whole(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return whole


@contextmanager
def _serving(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _read_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Iterator[DemoSite]:
    """The demo municipalities, organisations and ~300 activities, indexed and served.

    A separate instance from `live_server`: the demo brings its own Drammen, and the smoke
    test's organisation would be lost among the demo's activities.
    """
    from directory.demo import load_demo
    from directory.search.service import rebuild_index

    app = _browser_app(tmp_path_factory.mktemp("demo-instance"), "demo")
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.commit()
        rebuild_index()
        db.session.remove()
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log  # type: ignore[method-assign]
    with _serving(app) as url:
        yield DemoSite(url=url, app=app, requests=log)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The axe-core script, or a skip (a failure under REQUIRE_BROWSER=1) when not installed."""
    if not AXE.is_file():
        require_tool("axe-core not installed (make install runs npm ci)")
    return AXE.read_text(encoding="utf-8")


def watch_for_problems(page) -> list[str]:
    """What goes wrong while the page loads, collected as it happens: anything the
    Content-Security-Policy refused, and failed requests (the browser's own favicon probe is not
    the site's concern)."""
    found: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            found.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            found.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return found


# --- two-step login: the demo admins enrol at their first login -----------------------------------

# The secret each account enrolled with in this test session (read from the enrolment page), and
# the last time step whose code was used: the server refuses a code of a step used before.
_TOTP_SECRETS: dict[str, str] = {}
_TOTP_LAST_STEP: dict[str, int] = {}


def _next_code(email: str) -> str:
    """A code the server will take: now's, or the next step's when now's was used; when both
    were, wait for the clock to move on."""
    import time

    import pyotp

    step = int(time.time()) // 30
    step = max(step, _TOTP_LAST_STEP.get(email, -1) + 1)
    while step > int(time.time()) // 30 + 1:
        time.sleep(0.5)
    _TOTP_LAST_STEP[email] = step
    return pyotp.TOTP(_TOTP_SECRETS[email]).generate_otp(step)


def finish_login(page, email: str) -> None:
    """After the password step: enrol as a new admin does (reading the secret shown on the
    page, as one would type it into an app), or pass the second step with a current code."""
    from urllib.parse import urlsplit

    path = urlsplit(page.url).path
    main = page.get_by_role("main")
    if path == "/account/two-step/enrol":
        main.get_by_role("button", name="Start oppsettet", exact=True).click()
        _TOTP_SECRETS[email] = page.locator("#totp-secret").inner_text().replace(" ", "")
        main.get_by_label("Kode fra appen", exact=True).fill(_next_code(email))
        main.get_by_role("button", name="Bekreft og slå på", exact=True).click()
        assert page.locator("ul.recovery-codes li").count() == 10
        main.get_by_role("link", name="Jeg har tatt vare på kodene. Gå videre").click()
    elif path == "/login/two-step":
        assert email in _TOTP_SECRETS, f"{email} enrolled outside this test session"
        main.get_by_label("Kode", exact=True).fill(_next_code(email))
        main.get_by_role("button", name="Logg inn", exact=True).click()
