"""Single sign-on in a real browser against a real OpenID Connect provider on loopback.

The provider is oidc-provider-mock (a Flask app, started here in a thread); its authorize
page lists the predefined people, and the browser picks one the way a person would. The app
is `streamlit run server.py` configured by CALIBRATE_OIDC_* variables (server.py hands them
to st.App as the [auth] secrets that st.login reads). One provider and one app server serve
every test of this module; each person gets a fresh browser context (own cookies).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibration.accounts import auth, sso
from calibration.store import connect
from tests.browser.conftest import Server, _need_browser, wait_idle
from tests.factories import copy_demo

pytestmark = pytest.mark.browser

PEOPLE = {
    # sub: claims in the ID token (the "email" and "profile" scopes, plus the groups claim)
    "exec-1": {
        "email": "boss@acme.example",
        "email_verified": True,
        "name": "Big Boss",
        "groups": ["staff", "calibrate-exec"],
    },
    "east-1": {
        "email": "li.na@acme.example",
        "email_verified": True,
        "name": "Li Na",
        "groups": ["staff", "calibrate-lead-east"],
    },
    "south-1": {"email": "Zhao.Min@acme.example", "email_verified": True, "groups": ["staff"]},
    "stranger-1": {
        "email": "**stranger**@acme.example",
        "email_verified": True,
        "groups": ["staff"],
    },
}
GROUP_ROLES = "calibrate-exec=executive; calibrate-lead-east=lead:east"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on a free loopback port; yields its issuer URL."""
    import oidc_provider_mock
    import werkzeug.serving

    users = [oidc_provider_mock.User(sub=sub, claims=c) for sub, c in PEOPLE.items()]
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(user_claims=users), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture(scope="module")
def sso_server(provider: str, demo_template: Path, tmp_path_factory) -> Iterator[Server]:
    """The app with single sign-on on; lead_south provisioned beforehand by its email."""
    _need_browser()
    db = copy_demo(demo_template, tmp_path_factory.mktemp("sso") / "sso.duckdb")
    con = connect(db)
    admin = auth.load_user(con.cursor(), "admin")
    sso.set_email(con.cursor(), admin, "lead_south", "zhao.min@acme.example")
    con.close()
    env = dict(os.environ, CALIBRATE_DB=str(db))
    srv = Server(db, env)
    env.update(
        {
            "CALIBRATE_OIDC_ISSUER": provider,
            "CALIBRATE_OIDC_CLIENT_ID": "calibrate",
            "CALIBRATE_OIDC_CLIENT_SECRET": "calibrate-test-secret",
            "CALIBRATE_OIDC_REDIRECT_URI": f"{srv.url}/oauth2callback",
            "CALIBRATE_OIDC_COOKIE_SECRET": "a-test-cookie-secret-of-enough-length",
            "CALIBRATE_OIDC_NAME": "Acme",
            "CALIBRATE_OIDC_GROUP_ROLES": GROUP_ROLES,
        }
    )
    srv.start()
    yield srv
    srv.stop()


def sso_sign_in(browser, url: str, sub: str, cookie_post=None):
    """A new browser context that clicks "Sign in with Acme" and picks sub at the provider
    (cookie_post: a Playwright route handler for the page's background cookie post)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if cookie_post is not None:
        context.route("**/auth/session", cookie_post)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in with Acme").click(timeout=30_000)
    # The provider's own page: the person chooses who they are.
    page.get_by_role("heading", name="Authorize Client").wait_for(timeout=30_000)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{url}/**", timeout=30_000)
    wait_idle(page)
    return context, page


def test_lead_by_group_sees_only_their_region(sso_server, browser, shot):
    context, page = sso_sign_in(browser, sso_server.url, "east-1")
    page.get_by_role("heading", name="My region: East").wait_for(timeout=30_000)
    assert page.get_by_text("Signed in as Li Na · Regional lead").is_visible()
    # The Data page's region choice lists what the policy lets this person read.
    page.get_by_role("link", name="Data", exact=True).first.click()
    wait_idle(page)
    page.get_by_label("Region", exact=True).first.click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=30_000)
    assert options.all_inner_texts() == ["East"]
    shot(page, "sso_lead_east_data")
    context.close()


def test_account_provisioned_by_email_signs_in_with_its_own_role(sso_server, browser):
    context, page = sso_sign_in(browser, sso_server.url, "south-1")
    page.get_by_role("heading", name="My region: South").wait_for(timeout=30_000)
    context.close()


def test_unknown_person_is_sent_to_their_administrator(sso_server, browser, shot):
    context, page = sso_sign_in(browser, sso_server.url, "stranger-1")
    page.get_by_role("heading", name="Ask your administrator").wait_for(timeout=30_000)
    assert page.get_by_text("Calibrate has no account for you yet", exact=False).is_visible()
    # The email they signed in with, as typed at the provider (no Markdown bold).
    assert page.get_by_text("**stranger**@acme.example", exact=True).is_visible()
    # No page of any role: no navigation, no sidebar sign-in.
    assert page.get_by_role("link", name="Live board").count() == 0
    assert page.get_by_text("Signed in as").count() == 0
    shot(page, "sso_unknown_person")
    # Sign-out ends the provider's identity too, and comes back to the sign-in page.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click(timeout=30_000)
    page.get_by_role("button", name="Sign in with Acme").wait_for(timeout=30_000)
    context.close()


def test_executive_by_group_lands_on_the_board_and_signing_out_ends_the_provider_session(
    sso_server, browser, shot
):
    """The provider's group makes the role. On a shared meeting-room laptop the next "Sign
    in with Acme" must not silently sign in the person before: sign-out also ends the
    session at the provider (RP-initiated logout)."""
    context, page = sso_sign_in(browser, sso_server.url, "exec-1")
    page.get_by_role("heading", name="Live board").first.wait_for(timeout=30_000)
    assert page.get_by_text("Signed in as Big Boss · Executive").is_visible()
    shot(page, "sso_executive")
    page.get_by_role("button", name="Sign out").click()
    # The provider's own end-session page, told where to come back to.
    page.get_by_role("heading", name="End Session").wait_for(timeout=30_000)
    assert sso_server.url in page.content()
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in with Acme").wait_for(timeout=30_000)
    assert page.get_by_text("Signed in as").count() == 0
    context.close()


def test_signing_out_before_the_cookie_arrives_ends_the_provider_session_too(sso_server, browser):
    """The cookie is posted in the background after signing in; a person who signs out
    before it arrives (here: the post is answered without one) must still leave through
    the provider."""
    context, page = sso_sign_in(
        browser, sso_server.url, "exec-1", cookie_post=lambda route: route.fulfill(status=204)
    )
    try:
        page.get_by_role("heading", name="Live board").first.wait_for(timeout=30_000)
        assert not [c for c in context.cookies() if c["name"] == "calibrate_session"]
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="End Session").wait_for(timeout=30_000)
    finally:
        context.close()


def test_the_password_form_stays_beside_the_company_and_its_sign_out_stays_in_the_app(
    sso_server, browser, shot
):
    """Password accounts keep their form beside "Sign in with Acme"; only a session that
    came from the provider is sent there on sign-out."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(sso_server.url)
    page.get_by_role("button", name="Sign in with Acme").wait_for(timeout=30_000)
    page.get_by_label("Username").wait_for(timeout=30_000)
    assert page.get_by_label("Password", exact=True).is_visible()
    shot(page, "sso_sign_in_page")
    page.get_by_label("Username").fill("exec")
    page.get_by_label("Password", exact=True).fill("calibrate-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out").click(timeout=30_000)
    page.get_by_role("button", name="Sign in with Acme").wait_for(timeout=30_000)
    assert page.url.startswith(sso_server.url)
    context.close()
