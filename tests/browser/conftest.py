"""Real-browser fixtures: a Streamlit server on a free port and the system Chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from calibration.accounts import auth, sessions
from calibration.demo.workshop import DEMO_ACCOUNTS
from calibration.store import connect
from tests.factories import ROOT, copy_demo

# Debian's headless shell of the same Chromium build (package chromium-headless-shell, what
# Playwright's own headless mode runs) when installed: a Streamlit page load costs it 2.0 s
# of CPU against 3.5 s for the full browser, and the browsers are most of the suite's CPU.
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
# What a person runs: the benchmarks of page load time use the full browser.
FULL_CHROMIUM = os.environ.get("CALIBRATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM = os.environ.get(
    "CALIBRATE_CHROMIUM",
    HEADLESS_SHELL if Path(HEADLESS_SHELL).exists() else "/usr/bin/chromium",
)
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Server URL -> {username: cookie token} of the sessions opened before the server started.
SIGNED_IN: dict[str, dict[str, str]] = {}


def open_sessions(db: Path, people: Iterable[str]) -> dict[str, str]:
    """In-process, before a server opens db: a signed-in session per person (username ->
    the token of its `calibrate_session` cookie), made as a sign-in makes it (ticket, then
    the route's redemption).

    A browser given that cookie opens the app signed in, as after a reload: no sign-in page
    and no form run, about 1.2 s of CPU less per person. Tests whose subject is signing in
    (test_sessions.py, test_sso.py, the sign-in page checks) use the form.
    """
    con = connect(db)
    try:
        cur = con.cursor()
        tokens = {}
        for username in people:
            user = auth.load_user(cur, username)
            assert user is not None, f"no account {username} in {db}"
            _, ticket = sessions.start(cur, user, "password")
            tokens[username] = sessions.redeem(cur, ticket)[1]
        return tokens
    finally:
        con.close()


class Server:
    """A running `streamlit run server.py` with its own database; people: the usernames
    whose sessions are opened before it starts (see open_sessions and enter_as)."""

    def __init__(self, db: Path, env: dict[str, str], people: Iterable[str] = ()) -> None:
        self.db = db
        self.env = env
        self.people = tuple(people)
        self.tokens: dict[str, str] = {}  # username -> cookie token (open_sessions)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = db.with_suffix(".log")

    def start(self, timeout: float = 90) -> None:
        """Open the people's sessions, start the server and wait for its health endpoint."""
        if self.people and not self.tokens:  # once: a restart keeps them
            self.tokens = open_sessions(self.db, self.people)
        # By URL, for enter_as (a later server may get a stopped one's port).
        SIGNED_IN[self.url] = self.tokens
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "server.py",
                "--server.headless=true",
                f"--server.port={self.port}",
                "--server.address=127.0.0.1",
                "--browser.gatherUsageStats=false",
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("server did not become healthy")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGKILL to simulate a crash)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def _need_browser() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"Chromium not found at {CHROMIUM}; CI must install it"
                " (apt chromium-headless-shell)"
            )
        pytest.skip(f"no Chromium at {CHROMIUM} and CI unset: browser tests skipped")


# Every demo account can open the app by cookie on a demo server.
DEMO_PEOPLE = tuple(username for username, *_ in DEMO_ACCOUNTS)


def _demo_server(folder: Path, demo_template: Path) -> Iterator[Server]:
    _need_browser()
    env = dict(os.environ)
    db = copy_demo(demo_template, folder / "browser.duckdb")
    env["CALIBRATE_DB"] = str(db)
    srv = Server(db, env, people=DEMO_PEOPLE)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(tmp_path: Path, demo_template: Path) -> Iterator[Server]:
    """A fresh app server on a free port, on a private copy of the seeded demo."""
    yield from _demo_server(tmp_path, demo_template)


@pytest.fixture(scope="module")
def module_server(
    tmp_path_factory: pytest.TempPathFactory, demo_template: Path
) -> Iterator[Server]:
    """One demo server shared by a module's tests that only read (a start costs seconds)."""
    yield from _demo_server(tmp_path_factory.mktemp("server"), demo_template)


@pytest.fixture(scope="session")
def browser():
    """The system Chromium driven by Playwright (no browser download)."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shot():
    """Save a full-page screenshot under test-artifacts/screenshots/NAME.png (see screenshot)."""

    def take(page, name: str, failure: bool = False) -> Path | None:
        return screenshot(page, ARTIFACTS / f"{name}.png", full_page=True, failure=failure)

    return take


def screenshots_wanted() -> bool:
    """Pictures of every step only when asked (`make screenshots`): each costs the test
    machine a re-layout and a PNG, a fifth of the browser tests' time."""
    return os.environ.get("CALIBRATE_SCREENSHOTS", "") not in ("", "0")


def screenshot(page, path: Path, full_page: bool = False, failure: bool = False) -> Path | None:
    """Save the page as path when screenshots are wanted, or always for a failure."""
    if not (failure or screenshots_wanted()):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def page_report(page, log: Path | None = None) -> str:
    """What a failed browser step should print: the URL, the messages and field errors on
    screen, whether a script is running, and the server's last errors (CI keeps no pictures)."""
    try:
        alerts = page.locator("[data-testid='stAlert']").all_inner_texts()
        running = page.locator("[data-testid='stStatusWidget']").all_inner_texts()
        title = page.locator("h1").first.inner_text(timeout=2_000)
    except Exception as exc:  # a closed or crashed page still gets a line
        return f"url={page.url} (unreadable: {exc.__class__.__name__})"
    lines = [f"url={page.url} title={title!r} status={running} alerts={alerts}"]
    if log is not None and log.exists():
        text = log.read_text(errors="replace").splitlines()
        errors = [line for line in text if "Error" in line or "Traceback" in line]
        lines.append(f"server errors: {errors[-8:]}")
    return " ".join(lines)


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout,
    )
    # A rerun the last action asked for may not have started yet (a click during a
    # reconnect was lost with a shorter pause here): give it the time to begin.
    page.wait_for_timeout(400)


def sign_in(
    page, url: str, username: str, password: str = "calibrate-demo", lang: str = "en"
) -> None:
    """Open the app, optionally switch to Chinese, and sign in."""
    page.goto(f"{url}/?lang={lang}")
    page.get_by_label("Username" if lang == "en" else "用户名").wait_for(timeout=30_000)
    page.get_by_label("Username" if lang == "en" else "用户名").fill(username)
    page.get_by_label("Password" if lang == "en" else "密码", exact=True).fill(password)
    page.get_by_role("button", name="Sign in" if lang == "en" else "登录").click()
    page.get_by_role("button", name="Sign out" if lang == "en" else "退出登录").wait_for(
        timeout=30_000
    )
    wait_cookie(page)
    wait_idle(page)


def session_cookie(url: str, username: str) -> dict | None:
    """The cookie of the session the server at url opened for username before it started
    (Server(people=...)), as a Playwright cookie; None when it opened none."""
    token = SIGNED_IN.get(url, {}).get(username)
    return None if token is None else {"name": sessions.COOKIE, "value": token, "url": url}


def enter_as(page, url: str, username: str, lang: str = "en") -> None:
    """Open the app signed in as username: with the cookie of the session the server's
    fixture opened for them (session_cookie), else through the sign-in form."""
    cookie = session_cookie(url, username)
    if cookie is None:
        sign_in(page, url, username, lang=lang)
        return
    page.context.add_cookies([cookie])
    page.goto(f"{url}/?lang={lang}")
    page.get_by_role("button", name="Sign out" if lang == "en" else "退出登录").wait_for(
        timeout=30_000
    )
    wait_idle(page)


def number_text(value: str) -> re.Pattern[str]:
    """A number input's text for value, however many decimals it shows."""
    return re.compile(rf"^{re.escape(value)}(\.0+)?$")


def wait_cookie(page, timeout_s: float = 30) -> None:
    """Wait for the session cookie the page posts in the background after a sign-in."""
    deadline = time.time() + timeout_s
    while not any(c["name"] == "calibrate_session" for c in page.context.cookies()):
        if time.time() > deadline:
            raise AssertionError("no session cookie after signing in")
        page.wait_for_timeout(100)


def open_page(page, title: str) -> None:
    """Click a page in the sidebar navigation (absent when the role has one page)."""
    link = page.get_by_role("link", name=title, exact=True)
    if link.count():
        link.first.click()
        wait_idle(page)
