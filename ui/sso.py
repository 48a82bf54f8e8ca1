"""Single sign-on in the browser: the "Sign in with <company>" button (st.login), the
provider's identity (st.user) handed to calibration.accounts.sso, the page for a person
Calibrate does not know, and the Accounts page's sign-in email form."""

from __future__ import annotations

import logging

import duckdb
import streamlit as st

from calibration.accounts import auth, directory, sso
from ui import context as ctx
from ui import flash
from ui.text import plain

log = logging.getLogger("calibrate")
REFUSED = "sso_refused"
_EMAIL_SLOT = "sso_email"
_logged: set[str] = set()


def settings() -> tuple[sso.SSOConfig | None, bool]:
    """(the single sign-on settings or None when off, whether they are broken)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return None, False
        return sso.config_from_secrets(st.secrets), False
    except sso.SSOConfigError as exc:
        if str(exc) not in _logged:  # once per problem, not on every run of the sign-in page
            _logged.add(str(exc))
            log.error("single sign-on is off: %s", exc)
        return None, True


def config() -> sso.SSOConfig | None:
    """The single sign-on settings, or None when it is off (or broken)."""
    return settings()[0]


def end_session_url(lang: str) -> str | None:
    """The provider's end-session address for a signing-out browser (server.py's sign-out
    route asks; None when single sign-on is off)."""
    cfg = config()
    return sso.end_session_url(cfg, lang) if cfg is not None else None


def accept_identity(cur: duckdb.DuckDBPyConnection) -> None:
    """Sign in the person the provider vouches for (app.py calls this before routing).

    Runs only while nobody is signed in in this session. A refusal is kept in the session
    for refused_view; a delay or a stale, already used identity leaves the sign-in page.
    """
    if ctx.current_user() is not None or REFUSED in st.session_state:
        return
    cfg = config()
    if cfg is None or not st.user.get("is_logged_in"):
        return
    claims = st.user.to_dict()
    try:
        user = sso.sign_in(cur, cfg, claims, client=ctx.client_address())
    except sso.SSORefused as exc:
        email = claims.get("email")
        st.session_state[REFUSED] = {"key": exc.key, "email": email if email else None}
        return
    except auth.AuthError as exc:  # a sign-in delay: said on the sign-in page
        ctx.show_error(exc)
        return
    except Exception as exc:  # noqa: BLE001 - runs before the page guard: no traceback
        log.exception("single sign-on failed")
        st.error(ctx.tr(ctx.error_key(exc)))
        return
    if user is not None:
        ctx.sign_in(user, "sso")


def refused() -> bool:
    """Whether this session holds a refused single sign-on."""
    return REFUSED in st.session_state


def refused_view() -> None:
    """The "ask your administrator" page: why, the email used (as plain text), sign-out."""
    kept = st.session_state.get(REFUSED) or {}
    _, mid, _ = st.columns([1, 1.3, 1])
    with mid:
        st.title(ctx.tr("sso.refused_title"))
        st.warning(ctx.tr(kept.get("key") or "sso.err_unknown"))
        if kept.get("email"):
            st.caption(ctx.tr("sso.signed_in_with"))
            st.text(str(kept["email"]))
        if st.button(ctx.tr("app.sign_out"), icon=":material/logout:", key="sso_sign_out"):
            st.session_state.pop(REFUSED, None)
            ctx.sign_out()
            # Clears the provider's identity cookie, so another account can be chosen.
            st.logout()


def sign_in_button() -> None:
    """The "Sign in with <company>" button on the sign-in page, when single sign-on is on."""
    cfg, broken = settings()
    if broken:
        st.warning(ctx.tr("sso.misconfigured"))
    if cfg is None:
        return
    label = ctx.tr("sso.button", name=plain(cfg.name))
    if st.button(label, type="primary", icon=":material/key:", key="sso_login", width="stretch"):
        st.login()
    st.caption(ctx.tr("sso.or_password"))


@ctx.guarded
def _save_email(actor: auth.User) -> None:
    username = st.session_state.get("sso_email_account")
    try:
        sso.set_email(ctx.cursor(), actor, username, st.session_state.get("sso_email_value"))
    except (auth.AuthError, PermissionError) as exc:
        flash.error(_EMAIL_SLOT, exc)
    else:
        flash.success(_EMAIL_SLOT, ctx.tr("sso.email_saved", username=plain(username)))


def email_form(actor: auth.User) -> None:
    """The Accounts page's form that sets the email an account is matched by at sign-on."""
    accounts = directory.list_accounts(ctx.cursor(), actor)["username"].tolist()
    st.subheader(ctx.tr("sso.email_title"))
    flash.show(_EMAIL_SLOT)
    with st.form("sso_email", clear_on_submit=True):
        st.selectbox(ctx.tr("sso.email_account"), accounts, key="sso_email_account")
        st.text_input(
            ctx.tr("sso.email_field"), key="sso_email_value", help=ctx.tr("sso.email_help")
        )
        st.form_submit_button(ctx.tr("sso.email_save"), on_click=_save_email, args=(actor,))
