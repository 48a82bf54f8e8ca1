"""AppTest: the sign-in page's single sign-on button, st.user handed to the account logic,
the refusal page (translated, email as plain text) and the Accounts page's email form."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from calibration.i18n import t
from calibration.store import connect
from calibration.store import sso as q
from tests.apptest_helpers import TIMEOUT, login
from tests.factories import ROOT

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-enough-length",
    "client_id": "calibrate",
    "client_secret": "s3cret",
    "server_metadata_url": "https://sso.acme.example/.well-known/openid-configuration",
}
SECRETS = {
    "auth": AUTH,
    "calibrate_sso": {"name": "Acme", "group_roles": {"calibrate-lead-east": "lead:east"}},
}


def app(secrets: dict | None = None, user: dict | None = None, lang: str = "en") -> AppTest:
    """app.py with these secrets and this st.user, run once."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    if secrets:
        at.secrets.update(secrets)
    if user:
        at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def identity(sub: str, email: str, groups: list[str]) -> dict:
    """st.user after the provider sent the person back."""
    now = int(time.time())
    return {
        "is_logged_in": True,
        "iss": "https://sso.acme.example",
        "sub": sub,
        "aud": "calibrate",
        "iat": now,
        "exp": now + 3600,
        "nonce": f"{sub}-{now}",
        "email": email,
        "email_verified": True,
        "groups": groups,
        "name": "Li Na",
    }


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_without_single_sign_on_the_sign_in_page_is_unchanged(app_env):
    at = app()
    assert not any("Sign in with" in label for label in labels(at))
    assert not at.warning
    assert at.text_input(key="login_username") is not None


def test_the_company_button_sits_beside_the_password_form_in_both_languages(app_env):
    assert "Sign in with Acme" in labels(app(SECRETS))
    at = app(SECRETS, lang="zh")
    assert "使用 Acme 账号登录" in labels(at)
    assert at.text_input(key="login_password") is not None


def test_broken_settings_say_so_and_keep_password_sign_in(app_env):
    broken = {"auth": {k: v for k, v in AUTH.items() if k != "cookie_secret"}}
    at = app(broken)
    assert [w.value for w in at.warning] == [
        "Single sign-on is set up incorrectly, so only password sign-in works. "
        "Ask your administrator."
    ]
    assert not any("Sign in with" in label for label in labels(at))


def test_a_mapped_group_signs_the_person_in_on_their_page(app_env):
    at = app(SECRETS, identity("kc-east", "li.na@acme.example", ["calibrate-lead-east"]))
    user = at.session_state["user"]
    assert (user.role, user.regions) == ("lead", frozenset({"east"}))
    assert at.title[0].value == "My region: East"


def test_unknown_person_gets_the_translated_refusal_with_their_email_as_text(app_env):
    email = "**li**[x](http://evil.example)@acme.example"
    at = app(SECRETS, identity("kc-x", email, ["staff"]), lang="zh")
    assert "user" not in at.session_state
    assert at.title[0].value == "请联系管理员"
    assert "Calibrate 中还没有您的账户" in at.warning[0].value
    assert [t.value for t in at.text] == [email]
    assert "退出登录" in labels(at)
    # Nothing of any role is reachable.
    assert not [m for m in at.markdown if "App title" in m.value]
    con = connect(app_env)
    assert q.accounts_by_email(con.cursor(), email) == []
    con.close()


def test_admin_sets_the_sign_in_email_on_the_accounts_page(app_env):
    at = login("admin")
    at.switch_page("pages/admin.py")
    at.run()
    at.selectbox(key="sso_email_account").select("lead_south")
    at.text_input(key="sso_email_value").input("zhao.min@acme.example")
    next(b for b in at.button if b.label == "Save email").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Sign-in email of lead\\_south saved."]
    listed = at.dataframe[0].value.set_index("username")
    assert listed.loc["lead_south", "email"] == "zhao.min@acme.example"
    at.selectbox(key="sso_email_account").select("lead_east")
    at.text_input(key="sso_email_value").input("ZHAO.MIN@acme.example")
    next(b for b in at.button if b.label == "Save email").click()
    at.run()
    assert [e.value for e in at.error] == [
        # Typed text is escaped (ui.text.plain: a word joiner stops the e-mail autolink).
        "Email: ZHAO.MIN\u2060@acme.example is already the sign-in email of another account."
    ]


def test_a_failing_sign_on_shows_a_message_not_a_traceback(app_env, monkeypatch):
    import duckdb

    from calibration.accounts import sso

    def broken(*args, **kwargs):
        raise duckdb.IOException("IO Error: could not write file")

    monkeypatch.setattr(sso, "sign_in", broken)
    at = app(SECRETS, identity("kc-east", "li.na@acme.example", ["calibrate-lead-east"]))
    assert "user" not in at.session_state
    assert [e.value for e in at.error] == [t("app.db_write_error")]
    assert "Sign in with Acme" in labels(at)
