"""Single sign-on: settings, and the claims -> account decision (calibration.accounts.sso)."""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from calibration import access
from calibration import events as chain
from calibration.access import AccessDenied
from calibration.accounts import auth, sso
from calibration.accounts.auth import SYSTEM, User

ISSUER = "https://sso.example.com/realms/acme"
ADMIN = User("root", "Root", "admin", frozenset())
LEAD = User("lead_east", "Wang Lei", "lead", frozenset({"east"}))
MAPPING = (
    "calibrate-exec=executive; calibrate-lead-east=lead:east; "
    "calibrate-lead-west=lead:west; calibrate-lead-north=lead:north; calibrate-hr=hrbp"
)
CONFIG = sso.SSOConfig(
    server_metadata_url=sso.metadata_url(ISSUER),
    client_id="calibrate",
    name="Acme",
    group_roles=sso.parse_group_roles(MAPPING),
)
_nonces = itertools.count()


def claims(sub: str, email: str | None = None, verified: object = True, groups=(), **extra):
    """The claims of a fresh ID token, as st.user holds them."""
    out = {
        "iss": ISSUER,
        "sub": sub,
        "aud": "calibrate",
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
        "nonce": f"n{next(_nonces)}",
        "email_verified": verified,
        "groups": list(groups),
        "is_logged_in": True,
        "provider": "default",
    }
    if email is not None:
        out["email"] = email
    return {**out, **extra}


def sign_in(cur, token: dict, config: sso.SSOConfig = CONFIG, **kw) -> User | None:
    kw.setdefault("throttle", auth.Throttle())
    return sso.sign_in(cur, config, token, **kw)


def account(cur, username: str) -> dict:
    from calibration.store import sso as q

    row = q.account(cur, username)
    assert row is not None
    return row


def kinds(cur) -> list[str]:
    return [r[0] for r in cur.execute("SELECT kind FROM events ORDER BY id").fetchall()]


def payloads(cur, kind: str) -> list[dict]:
    rows = cur.execute("SELECT payload FROM events WHERE kind = ? ORDER BY id", [kind]).fetchall()
    # The seal of user_regions rides on the last event; it is the chain's, not ours.
    return [{k: v for k, v in json.loads(r[0]).items() if k != "seal"} for r in rows]


@pytest.fixture
def lead(cur):
    """lead_east provisioned beforehand with a sign-in email."""
    auth.add_user(cur, SYSTEM, "lead_east", "lead", "s3cret-pass", ["east"], "Wang Lei")
    sso.set_email(cur, ADMIN, "lead_east", "Wang.Lei@Acme.example")
    return "lead_east"


# ----------------------------------------------------------------------------- matching


@pytest.mark.parametrize("verified", [True, "true"])
def test_verified_email_matches_the_provisioned_account_and_stores_the_subject(cur, lead, verified):
    user = sign_in(cur, claims("kc-1", "wang.lei@acme.example", verified))
    assert user == User("lead_east", "Wang Lei", "lead", frozenset({"east"}))
    row = account(cur, lead)
    assert (row["oidc_issuer"], row["oidc_subject"]) == (ISSUER, "kc-1")
    assert kinds(cur)[-1] == sso.KIND_LINKED
    assert chain.verify(cur).ok


def test_subject_matches_later_even_when_the_email_changed(cur, lead):
    sign_in(cur, claims("kc-1", "wang.lei@acme.example"))
    user = sign_in(cur, claims("kc-1", "lei.wang@new-name.example", verified=False))
    assert user is not None and user.username == lead


@pytest.mark.parametrize("verified", [False, None, "false", "yes"])
def test_unverified_email_matches_nothing(cur, lead, verified):
    token = claims("kc-1", "wang.lei@acme.example", verified)
    with pytest.raises(sso.SSORefused) as exc:
        sign_in(cur, token)
    assert exc.value.key == "sso.err_unknown"
    assert account(cur, lead)["oidc_subject"] is None


def test_email_of_an_account_linked_to_someone_else_is_refused(cur, lead):
    sign_in(cur, claims("kc-1", "wang.lei@acme.example"))
    # The address was given to a new person at the provider (new subject): not the same account.
    with pytest.raises(sso.SSORefused) as exc:
        sign_in(cur, claims("kc-2", "wang.lei@acme.example"))
    assert exc.value.key == "sso.err_other_person"


def test_changing_an_accounts_email_unlinks_its_subject(cur, lead):
    sign_in(cur, claims("kc-1", "wang.lei@acme.example"))
    sso.set_email(cur, ADMIN, lead, "new.lead@acme.example")
    assert account(cur, lead)["oidc_subject"] is None
    with pytest.raises(sso.SSORefused):
        sign_in(cur, claims("kc-1", "wang.lei@acme.example"))
    assert sign_in(cur, claims("kc-9", "new.lead@acme.example")).username == lead
    # Another provider (new issuer, new subject): saving the same email again re-opens it.
    moved = claims("entra-1", "new.lead@acme.example", iss="https://login.example/v2.0")
    with pytest.raises(sso.SSORefused):
        sign_in(cur, moved)
    sso.set_email(cur, ADMIN, lead, "new.lead@acme.example")
    moved = claims("entra-1", "new.lead@acme.example", iss="https://login.example/v2.0")
    assert sign_in(cur, moved).username == lead


def test_unknown_person_is_refused_and_gets_no_account(cur, lead):
    before = cur.execute("SELECT count(*) FROM users").fetchall()[0][0]
    for token in (
        claims("kc-7", "stranger@acme.example"),
        claims("kc-8", "other@acme.example", groups=["sales-all", "calibrate-unknown"]),
        claims("kc-9"),
    ):
        with pytest.raises(sso.SSORefused) as exc:
            sign_in(cur, token)
        assert exc.value.key == "sso.err_unknown"
    assert cur.execute("SELECT count(*) FROM users").fetchall()[0][0] == before
    assert sso.KIND_CREATED not in kinds(cur)


# ----------------------------------------------------------------------------- groups


def test_group_mapped_to_lead_east_creates_an_account_that_sees_only_east(cur):
    token = claims(
        "kc-5", "li.na@acme.example", groups=["staff", "calibrate-lead-east"], name="Li Na"
    )
    user = sign_in(cur, token)
    assert user is not None
    assert (user.role, user.regions, user.display_name) == ("lead", frozenset({"east"}), "Li Na")
    assert access.visible_regions(user, ["east", "west", "north"]) == ["east"]
    assert access.pages_for(user)[0] == "my_region"
    created = payloads(cur, sso.KIND_CREATED)
    assert created == [
        {
            "username": user.username,
            "role": "lead",
            "regions": ["east"],
            "identity": sso.identity_from_claims(token, "groups").tag,
            "groups": ["calibrate-lead-east"],
        }
    ]
    assert chain.verify(cur).ok
    # No password signs in to it.
    with pytest.raises(auth.AuthError):
        auth.authenticate(cur, user.username, "", throttle=auth.Throttle())


def test_changed_groups_update_the_account_as_a_recorded_event(cur):
    first = sign_in(cur, claims("kc-5", "li.na@acme.example", groups=["calibrate-lead-east"]))
    again = sign_in(cur, claims("kc-5", "li.na@acme.example", groups=["calibrate-lead-east"]))
    assert again == first
    assert sso.KIND_UPDATED not in kinds(cur)  # nothing changed, nothing recorded
    moved = sign_in(
        cur,
        claims(
            "kc-5", "li.na@acme.example", groups=["calibrate-lead-west", "calibrate-lead-north"]
        ),
    )
    assert moved.username == first.username
    assert moved.regions == frozenset({"west", "north"})
    [update] = payloads(cur, sso.KIND_UPDATED)
    assert update["previous"] == {"role": "lead", "regions": ["east"]}
    assert update["regions"] == ["north", "west"]
    assert chain.verify(cur).ok


def test_groups_override_a_provisioned_account_and_then_are_required(cur, lead):
    user = sign_in(cur, claims("kc-1", "wang.lei@acme.example", groups=["calibrate-exec"]))
    assert (user.username, user.role, user.regions) == (lead, "executive", frozenset())
    assert chain.verify(cur).ok
    # Out of every mapped group: the role came from groups, so it is not kept.
    with pytest.raises(sso.SSORefused) as exc:
        sign_in(cur, claims("kc-1", "wang.lei@acme.example", groups=["staff"]))
    assert exc.value.key == "sso.err_unknown"


def test_provisioned_account_without_mapped_groups_keeps_its_role(cur, lead):
    user = sign_in(cur, claims("kc-1", "wang.lei@acme.example", groups=["staff"]))
    assert (user.role, user.regions) == ("lead", frozenset({"east"}))


def test_groups_of_different_roles_are_refused(cur):
    token = claims("kc-6", "x@acme.example", groups=["calibrate-exec", "calibrate-hr"])
    with pytest.raises(sso.SSORefused) as exc:
        sign_in(cur, token)
    assert exc.value.key == "sso.err_groups_conflict"


def test_new_usernames_do_not_collide(cur, lead):
    a = sign_in(cur, claims("kc-a", "lead_east@other.example", groups=["calibrate-hr"]))
    b = sign_in(cur, claims("kc-b", "lead.east@x.example", groups=["calibrate-hr"], verified=False))
    assert a.username == "lead_east-2" and b.username == "lead.east"
    assert a.display_name == "lead_east-2"


# ----------------------------------------------------------------------------- the rules


def test_an_identity_signs_in_once_and_only_while_fresh(cur, lead):
    token = claims("kc-1", "wang.lei@acme.example")
    assert sign_in(cur, token).username == lead
    # The same identity again (a reload after signing out, a copied cookie): nothing.
    assert sign_in(cur, token) is None
    stale = claims("kc-1", "wang.lei@acme.example", iat=int(time.time()) - 11 * 60)
    assert sign_in(cur, stale) is None
    assert sign_in(cur, claims("kc-1", iat=None)) is None
    assert sign_in(cur, {"is_logged_in": True, "email": "wang.lei@acme.example"}) is None


def test_refusals_are_delayed_like_wrong_passwords(cur):
    throttle = auth.Throttle(free=2, base=30, clock=lambda: 100.0)
    for _ in range(2):
        with pytest.raises(sso.SSORefused):
            sign_in(cur, claims("kc-x", "x@acme.example"), throttle=throttle, client="10.0.0.9")
    with pytest.raises(auth.AuthError) as exc:
        sign_in(cur, claims("kc-x", "x@acme.example"), throttle=throttle, client="10.0.0.9")
    assert exc.value.key == "auth.err_locked"


def test_logs_and_attempts_carry_a_hash_never_the_claims(cur, lead, caplog):
    caplog.set_level(logging.INFO, logger="calibrate")
    token = claims("kc-secret-sub", "stranger@acme.example")
    with pytest.raises(sso.SSORefused):
        sign_in(cur, token)
    sign_in(cur, claims("kc-1", "wang.lei@acme.example"))
    text = caplog.text
    assert "stranger" not in text and "kc-secret-sub" not in text and "wang.lei" not in text
    tag = sso.identity_from_claims(token, "groups").tag
    assert tag in text
    attempts = cur.execute(
        "SELECT username, ok FROM login_attempts ORDER BY attempted_at"
    ).fetchall()
    assert attempts == [(tag, False), (lead, True)]
    stored = cur.execute("SELECT * FROM sso_sign_ins").fetchall()
    assert "stranger" not in repr(stored) and "kc-secret-sub" not in repr(stored)


def test_read_only_database_refuses_single_sign_on(cur, lead, monkeypatch):
    monkeypatch.setenv("CALIBRATE_READ_ONLY", "1")
    with pytest.raises(sso.SSORefused) as exc:
        sign_in(cur, claims("kc-1", "wang.lei@acme.example"))
    assert exc.value.key == "sso.err_read_only"


# ----------------------------------------------------------------------------- emails


def test_sign_in_email_is_checked_and_set_by_an_admin_only(cur, lead):
    auth.add_user(cur, SYSTEM, "analyst", "analyst", "s3cret-pass", [])
    with pytest.raises(AccessDenied):
        sso.set_email(cur, LEAD, lead, "me@acme.example")
    for bad in ("not an email", "a@b", "x" * 250 + "@acme.example"):
        with pytest.raises(auth.AuthError) as exc:
            sso.set_email(cur, ADMIN, "analyst", bad)
        assert exc.value.key == "sso.err_email"
    with pytest.raises(auth.AuthError) as exc:
        sso.set_email(cur, ADMIN, "analyst", "WANG.LEI@acme.example")
    assert exc.value.key == "sso.err_email_taken"
    with pytest.raises(auth.AuthError) as exc:
        sso.set_email(cur, ADMIN, "nobody", "n@acme.example")
    assert exc.value.key == "sso.err_no_account"
    assert sso.set_email(cur, ADMIN, lead, "  ") is None
    assert account(cur, lead)["email"] is None
    assert [p["email"] for p in payloads(cur, sso.KIND_EMAIL)] == ["Wang.Lei@Acme.example", None]


# ----------------------------------------------------------------------------- settings


def test_no_issuer_means_single_sign_on_is_off():
    assert sso.secrets_from_env({}) is None
    assert sso.config_from_secrets({}) is None


def test_environment_settings_become_streamlit_auth_secrets():
    env = {
        "CALIBRATE_OIDC_ISSUER": ISSUER + "/",
        "CALIBRATE_OIDC_CLIENT_ID": "calibrate",
        "CALIBRATE_OIDC_CLIENT_SECRET": "s3cret",
        "CALIBRATE_OIDC_REDIRECT_URI": "https://calibrate.acme.example/oauth2callback",
        "CALIBRATE_OIDC_COOKIE_SECRET": "a-long-random-cookie-secret",
        "CALIBRATE_OIDC_NAME": "Acme SSO",
        "CALIBRATE_OIDC_GROUPS_CLAIM": "roles",
        "CALIBRATE_OIDC_GROUP_ROLES": "cal-exec=executive\ncal-east = lead:east, north ;",
    }
    secrets = sso.secrets_from_env(env)
    assert secrets["auth"] == {
        "server_metadata_url": ISSUER + "/.well-known/openid-configuration",
        "client_id": "calibrate",
        "client_secret": "s3cret",
        "redirect_uri": "https://calibrate.acme.example/oauth2callback",
        "cookie_secret": "a-long-random-cookie-secret",
    }
    config = sso.config_from_secrets(secrets)
    assert (config.name, config.groups_claim) == ("Acme SSO", "roles")
    assert config.group_roles == {
        "cal-exec": sso.GroupRole("executive"),
        "cal-east": sso.GroupRole("lead", frozenset({"east", "north"})),
    }


@pytest.mark.parametrize(
    "change, says",
    [
        ({"CALIBRATE_OIDC_CLIENT_SECRET": ""}, "CALIBRATE_OIDC_CLIENT_SECRET"),
        ({"CALIBRATE_OIDC_GROUP_ROLES": "g=boss"}, "unknown role 'boss'"),
        ({"CALIBRATE_OIDC_GROUP_ROLES": "g=lead"}, "needs regions"),
        ({"CALIBRATE_OIDC_GROUP_ROLES": "just-a-group"}, "group=role"),
        ({"CALIBRATE_OIDC_MAX_AGE_MINUTES": "soon"}, "max_age_minutes"),
    ],
)
def test_bad_settings_are_named(change, says):
    env = {
        "CALIBRATE_OIDC_ISSUER": ISSUER,
        "CALIBRATE_OIDC_CLIENT_ID": "c",
        "CALIBRATE_OIDC_CLIENT_SECRET": "s",
        "CALIBRATE_OIDC_REDIRECT_URI": "http://localhost:8501/oauth2callback",
        "CALIBRATE_OIDC_COOKIE_SECRET": "cookie-secret-cookie-secret",
        **change,
    }
    with pytest.raises(sso.SSOConfigError, match=says):
        sso.secrets_from_env(env)


def test_secrets_toml_table_form_and_incomplete_auth():
    config = sso.config_from_secrets(
        {
            "auth": {
                "server_metadata_url": sso.metadata_url(ISSUER),
                "client_id": "c",
                "client_secret": "s",
                "redirect_uri": "http://localhost:8501/oauth2callback",
                "cookie_secret": "cookie-secret-cookie-secret",
            },
            "calibrate_sso": {"group_roles": {"/calibrate/leads/east": "lead:east"}},
        }
    )
    assert config.group_roles == {
        "/calibrate/leads/east": sso.GroupRole("lead", frozenset({"east"}))
    }
    with pytest.raises(sso.SSOConfigError, match="cookie_secret"):
        sso.config_from_secrets({"auth": {"server_metadata_url": "x", "client_id": "c"}})


def test_cli_sets_and_removes_the_sign_in_email(db_path, capsys):
    from calibration import cli
    from calibration.store import connect

    con = connect(db_path)
    auth.add_user(con.cursor(), SYSTEM, "lead_east", "lead", "s3cret-pass", ["east"])
    con.close()
    assert cli.main(["user", "email", "lead_east", "w@acme.example", "--db", str(db_path)]) == 0
    assert cli.main(["user", "email", "nobody", "n@acme.example", "--db", str(db_path)]) == 2
    assert "Account nobody does not exist." in capsys.readouterr().err
    assert cli.main(["user", "email", "lead_east", "--db", str(db_path)]) == 0
    assert "lead_east: sign-in email (none)" in capsys.readouterr().out


# ----------------------------------------------------------------------------- sign-out


@contextlib.contextmanager
def _discovery_server(document: object) -> Iterator[str]:
    """A provider's discovery document served on loopback; yields its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/openid-configuration"
    finally:
        server.shutdown()
        server.server_close()


def _config(metadata_url: str) -> sso.SSOConfig:
    return sso.SSOConfig(
        server_metadata_url=metadata_url,
        client_id="calibrate",
        name="Acme",
        redirect_uri="https://calibrate.acme.example/oauth2callback",
    )


def test_sign_out_goes_to_the_providers_end_session_and_back_to_the_app():
    endpoint = "https://id.acme.example/logout"
    with _discovery_server({"end_session_endpoint": endpoint}) as url:
        address = sso.end_session_url(_config(url), "zh")
    parts = urllib.parse.urlsplit(address)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == endpoint
    assert urllib.parse.parse_qs(parts.query) == {
        "client_id": ["calibrate"],
        "post_logout_redirect_uri": ["https://calibrate.acme.example/?lang=zh"],
    }


def test_no_end_session_endpoint_or_no_provider_means_a_local_sign_out_only():
    with _discovery_server({"issuer": "https://id.acme.example"}) as url:
        assert sso.end_session_url(_config(url), "en") is None
    with _discovery_server({"end_session_endpoint": "javascript:alert(1)"}) as url:
        assert sso.end_session_url(_config(url), "en") is None
    # Nobody listening: the sign-out must not hang or fail (the app's session ends anyway).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert sso.end_session_url(_config(f"http://127.0.0.1:{port}/x"), "en") is None
