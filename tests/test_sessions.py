"""Sign-in sessions (issue 16): hashes only, tickets, idle and absolute limits, revocation,
password change, drafts; and the cookie routes' refusal of cross-site requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from calibration.access import AccessDenied
from calibration.accounts import auth, drafts, sessions, web
from calibration.accounts.auth import SYSTEM
from calibration.store.core import utcnow

PASSWORD = "correct-horse-1"


@pytest.fixture
def people(cur):
    """An admin and a lead in a fresh database."""
    admin = auth.add_user(cur, SYSTEM, "root", "admin", PASSWORD)
    lead = auth.add_user(cur, SYSTEM, "lead_east", "lead", PASSWORD, ["east"], "Li East")
    return admin, lead


def _all_text(cur) -> str:
    return repr(cur.execute("SELECT * FROM sessions").fetchall())


def test_only_hashes_of_ticket_and_token_are_stored(cur, people):
    _, lead = people
    sid, ticket = sessions.start(cur, lead, "password", "10.0.0.9", "Mozilla/5.0 " + "x" * 500)
    assert ticket not in _all_text(cur)
    session, token = sessions.redeem(cur, ticket)
    stored = _all_text(cur)
    assert token not in stored and ticket not in stored
    assert sessions.secret_hash(token) in stored
    assert session["session_id"] == sid and session["method"] == "password"
    assert len(session["user_agent"]) == sessions.MAX_AGENT_CHARS  # truncated
    assert sessions.resolve(cur, token).ok
    # A new token at every sign-in.
    _, ticket2 = sessions.start(cur, lead, "password")
    _, token2 = sessions.redeem(cur, ticket2)
    assert token2 != token


def test_a_ticket_is_single_use_and_lives_sixty_seconds(cur, people):
    _, lead = people
    throttle = auth.Throttle(free=100)
    _, ticket = sessions.start(cur, lead, "join")
    sessions.redeem(cur, ticket, throttle=throttle)
    with pytest.raises(sessions.SessionError):
        sessions.redeem(cur, ticket, throttle=throttle)
    now = utcnow()
    _, late = sessions.start(cur, lead, "sso", now=now)
    with pytest.raises(sessions.SessionError):
        sessions.redeem(cur, late, now=now + timedelta(seconds=61), throttle=throttle)
    with pytest.raises(sessions.SessionError):
        sessions.redeem(cur, "not-a-ticket", throttle=throttle)


def test_failed_ticket_redemptions_are_throttled_per_address(cur, people):
    _, lead = people
    throttle = auth.Throttle(free=2, base=30)
    for _ in range(2):
        with pytest.raises(sessions.SessionError):
            sessions.redeem(cur, "guess", client="10.1.1.1", throttle=throttle)
    _, ticket = sessions.start(cur, lead, "password")
    with pytest.raises(auth.AuthError) as delayed:
        sessions.redeem(cur, ticket, client="10.1.1.1", throttle=throttle)
    assert delayed.value.key == "auth.err_locked"
    # Another address is not delayed, and the ticket was not used up by the refusal.
    sessions.redeem(cur, ticket, client="10.2.2.2", throttle=throttle)


def test_idle_timeout_and_absolute_lifetime(cur, people, monkeypatch):
    _, lead = people
    monkeypatch.setenv("CALIBRATE_IDLE_MINUTES", "30")
    monkeypatch.setenv("CALIBRATE_SESSION_HOURS", "12")
    start = utcnow()
    sid, _ = sessions.start(cur, lead, "password", now=start)
    assert sessions.check(cur, sid, start + timedelta(minutes=29)).ok
    assert sessions.check(cur, sid, start + timedelta(minutes=31)).reason == "idle"
    # Kept active every 20 minutes, it still ends after 12 hours.
    at = start
    session = sessions.check(cur, sid, at).session
    while at < start + timedelta(hours=11, minutes=50):
        at += timedelta(minutes=20)
        sessions.touch(cur, session, at)
        session = sessions.check(cur, sid, at).session
        assert sessions.status_of(session, at).ok
    assert sessions.check(cur, sid, start + timedelta(hours=12, minutes=1)).reason == "expired"


def test_last_seen_is_written_at_most_once_a_minute(cur, people):
    _, lead = people
    start = utcnow()
    sid, _ = sessions.start(cur, lead, "password", now=start)
    session = sessions.check(cur, sid, start).session
    assert sessions.touch(cur, session, start + timedelta(seconds=30)) == start
    assert sessions.check(cur, sid, start).session["last_seen_at"] == start
    later = start + timedelta(seconds=61)
    assert sessions.touch(cur, session, later) == later
    assert sessions.check(cur, sid, later).session["last_seen_at"] == later


def test_sign_out_and_administrator_revocations(cur, people):
    admin, lead = people
    one, _ = sessions.start(cur, lead, "password")
    two, _ = sessions.start(cur, lead, "join")
    three, _ = sessions.start(cur, lead, "sso")
    assert sessions.end(cur, one)
    assert sessions.check(cur, one).reason == "signed_out"
    with pytest.raises(AccessDenied):
        sessions.revoke(cur, lead, two)
    with pytest.raises(AccessDenied):
        sessions.active(cur, lead)
    assert {s["session_id"] for s in sessions.active(cur, admin)} == {two, three}
    assert sessions.active(cur, admin)[0]["display_name"] == "Li East"
    assert sessions.revoke(cur, admin, two)
    assert sessions.check(cur, two).reason == "revoked"
    assert sessions.revoke_person(cur, admin, "lead_east") == 1
    assert sessions.check(cur, three).reason == "revoked"
    assert sessions.active(cur, admin) == []
    # A revoked session's ticket cannot be redeemed any more.
    four, ticket = sessions.start(cur, lead, "password")
    sessions.revoke(cur, admin, four)
    with pytest.raises(sessions.SessionError):
        sessions.redeem(cur, ticket, throttle=auth.Throttle(free=100))


def test_a_password_change_ends_every_session_of_that_person(cur, people):
    admin, lead = people
    mine, _ = sessions.start(cur, admin, "password")
    theirs = [sessions.start(cur, lead, m)[0] for m in ("password", "join")]
    with pytest.raises(AccessDenied):
        auth.change_password(cur, lead, "lead_east", "another-pass-1")
    with pytest.raises(auth.AuthError):
        auth.change_password(cur, admin, "lead_east", "short")
    assert auth.change_password(cur, admin, "lead_east", "another-pass-1") == 2
    assert all(sessions.check(cur, s).reason == "password_changed" for s in theirs)
    assert sessions.check(cur, mine).ok  # nobody else's
    assert auth.authenticate(cur, "lead_east", "another-pass-1").username == "lead_east"


def test_drafts_are_per_person_and_cleared(cur, people):
    admin, lead = people
    key = drafts.form_key("proposal", 3, "east")
    assert drafts.save(cur, lead, key, {"justification": "half", "value": 120.0}, 41)
    got = drafts.load(cur, lead, key)
    assert got.fields == {"justification": "half", "value": 120.0} and got.seen_event == 41
    assert drafts.load(cur, admin, key) is None  # never shown to anyone else
    drafts.save(cur, lead, key, {"justification": "half typed", "value": 121.0}, 41)
    assert drafts.load(cur, lead, key).fields["justification"] == "half typed"
    assert not drafts.save(cur, lead, key, {"justification": "", "value": None}, 41)
    assert drafts.load(cur, lead, key) is None  # an emptied form leaves no draft
    drafts.save(cur, lead, key, {"justification": "again"}, None)
    drafts.clear(cur, lead, key)
    assert drafts.load(cur, lead, key) is None


# ---------------------------------------------------------------------------- the routes


@pytest.fixture
def client(con):
    """The cookie routes on the test's database, over http://testserver."""
    app = Starlette(routes=web.routes(connect=lambda: con))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


SAME = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


def test_a_ticket_from_another_site_is_refused_and_stays_unused(cur, people, client):
    _, lead = people
    sid, ticket = sessions.start(cur, lead, "password")
    for headers in (
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {},  # neither header: not a browser page of this app
    ):
        r = client.post(
            web.SESSION_PATH, data={"ticket": ticket, "next": "/board"}, headers=headers
        )
        assert r.status_code == 403, headers
        assert sessions.COOKIE not in r.headers.get("set-cookie", "")
        assert "did not come from Calibrate" in r.text
    r = client.post(web.SESSION_PATH, data={"ticket": ticket, "next": "/board"}, headers=SAME)
    assert r.status_code == 303 and r.headers["location"] == "/board"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http
    token = cookie.split(";")[0].split("=", 1)[1]
    assert sessions.resolve(cur, token).session["session_id"] == sid
    # Single use: the same ticket again, even from the right page, gets no cookie.
    again = client.post(web.SESSION_PATH, data={"ticket": ticket}, headers=SAME)
    assert again.status_code == 400 and "set-cookie" not in again.headers


def test_the_cookie_is_secure_over_https_and_behind_a_trusted_proxy(cur, people, con, monkeypatch):
    _, lead = people
    app = Starlette(routes=web.routes(connect=lambda: con))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as https:
        _, ticket = sessions.start(cur, lead, "password")
        r = https.post(web.SESSION_PATH, data={"ticket": ticket}, headers=SAME)
        assert "Secure" in r.headers["set-cookie"]
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as http:
        _, ticket = sessions.start(cur, lead, "password")
        proxied = {**SAME, "X-Forwarded-Proto": "https"}
        r = http.post(web.SESSION_PATH, data={"ticket": ticket}, headers=proxied)
        assert "Secure" not in r.headers["set-cookie"]  # the header is not trusted by default
        monkeypatch.setenv("CALIBRATE_TRUST_PROXY", "1")
        _, ticket = sessions.start(cur, lead, "password")
        r = http.post(web.SESSION_PATH, data={"ticket": ticket}, headers=proxied)
        assert "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    "wanted,went",
    [
        ("/tracking", "/tracking"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_is_a_same_origin_path_only(wanted, went):
    assert web.safe_next(wanted) == went


def test_sign_out_route_refuses_other_sites_then_ends_and_clears(cur, people, client):
    _, lead = people
    sid, ticket = sessions.start(cur, lead, "password")
    r = client.post(web.SESSION_PATH, data={"ticket": ticket}, headers=SAME)
    token = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    client.cookies.set(sessions.COOKIE, token)
    foreign = client.post(web.SIGNOUT_PATH, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert sessions.check(cur, sid).ok  # a cross-site form cannot sign anyone out
    out = client.post(web.SIGNOUT_PATH, data={"ui_lang": "zh"}, headers=SAME)
    assert out.status_code == 303 and out.headers["location"] == "/?lang=zh"
    assert 'calibrate_session=""' in out.headers["set-cookie"]
    assert sessions.check(cur, sid).reason == "signed_out"


def test_routes_answer_get_with_405(client):
    assert client.get(web.SESSION_PATH).status_code == 405
    assert client.get(web.SIGNOUT_PATH).status_code == 405


def test_the_handoff_form_escapes_what_it_carries_and_posts_only_to_cookie_routes():
    page = web.handoff_html(web.SESSION_PATH, {"next": '/x"><script>alert(1)</script>'}, "Go")
    assert "<script>alert(1)</script>" not in page
    assert 'value="/x&quot;&gt;&lt;script&gt;' in page
    with pytest.raises(ValueError):
        web.handoff_html("https://evil.example/", {}, "Go")
    # A field named like a property of the form would be dropped by the page's sanitiser.
    with pytest.raises(ValueError):
        web.handoff_html(web.SIGNOUT_PATH, {"lang": "zh"}, "Go")


def test_a_new_sign_in_in_the_same_browser_ends_the_session_it_replaces(cur, people, client):
    admin, lead = people
    first, ticket = sessions.start(cur, lead, "password")
    r = client.post(web.SESSION_PATH, data={"ticket": ticket}, headers=SAME)
    client.cookies.set(sessions.COOKIE, r.headers["set-cookie"].split(";")[0].split("=", 1)[1])
    second, ticket = sessions.start(cur, admin, "join")
    client.post(web.SESSION_PATH, data={"ticket": ticket}, headers=SAME)
    assert sessions.check(cur, first).reason == "replaced"
    assert sessions.check(cur, second).ok


def test_a_sign_out_before_the_cookie_arrives_still_ends_the_provider_session(con, cur, people):
    """Signing out within a second of a single sign-on (the cookie is posted in the
    background) must still send the browser through the provider's end-session page; a
    cookie's own sign-in method wins over what the tab says."""
    _, lead = people
    provider = "https://idp.example/logout?post_logout_redirect_uri=x"
    routes = web.routes(connect=lambda: con, end_session=lambda lang: provider)
    with TestClient(
        Starlette(routes=routes), base_url="http://testserver", follow_redirects=False
    ) as client:
        # No cookie yet: the tab that signed in through the provider says so.
        out = client.post(web.SIGNOUT_PATH, data={"ui_lang": "en", "via": "sso"}, headers=SAME)
        assert out.status_code == 303 and out.headers["location"] == provider
        plain = client.post(web.SIGNOUT_PATH, data={"ui_lang": "en"}, headers=SAME)
        assert plain.headers["location"] == "/?lang=en"
        # A password session's cookie: a local sign-out whatever the form claims.
        _, ticket = sessions.start(cur, lead, "password")
        r = client.post(web.SESSION_PATH, data={"ticket": ticket}, headers=SAME)
        client.cookies.set(sessions.COOKIE, r.headers["set-cookie"].split(";")[0].split("=", 1)[1])
        out = client.post(web.SIGNOUT_PATH, data={"ui_lang": "en", "via": "sso"}, headers=SAME)
        assert out.headers["location"] == "/?lang=en"
