"""AppTest (issue 16): the Admin page lists sessions and sets a password, which ends every
session of that person: their open tab returns to sign-in saying why."""

from __future__ import annotations

from tests.apptest_helpers import login


def via_app(at) -> None:
    """Make later runs go through app.py (where the session is resolved) as the server's do."""
    at.run()
    at.switch_page("app.py")
    at.run()
    assert not at.exception, at.exception


def test_a_new_password_from_the_admin_page_ends_the_persons_open_sessions(app_env):
    lead = login("lead_east")
    via_app(lead)
    assert "user" in lead.session_state

    admin = login("admin")
    admin.switch_page("pages/admin.py")
    admin.run()
    assert not admin.exception, admin.exception
    live = admin.dataframe[1].value  # accounts first, then the signed-in sessions
    assert {"lead_east", "admin"} <= set(live["Username"])
    assert set(live["Method"]) == {"password"}
    admin.selectbox(key="admin_pw_user").set_value("lead_east")
    admin.text_input(key="admin_pw_new").input("brand-new-passw0rd")
    next(b for b in admin.button if b.label == "Set a new password").click()
    admin.run()
    assert not admin.exception and not admin.error, [e.value for e in admin.error]
    assert [s.value for s in admin.success] == [
        "Password of lead\\_east changed; 1 session(s) ended."
    ]

    lead.run()  # the lead's next action
    assert not lead.exception, lead.exception
    assert "user" not in lead.session_state
    assert lead.text_input(key="login_username")
    assert [w.value for w in lead.warning] == [
        "Your session ended: the password of this account was changed. Please sign in again."
    ]
