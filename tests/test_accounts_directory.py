"""The admin's account list goes through the access policy (no page reads the store)."""

from __future__ import annotations

import pytest

from calibration.access import AccessDenied
from calibration.accounts import auth, directory
from calibration.accounts.auth import SYSTEM, User

ADMIN = User("root", "Root", "admin", frozenset())
LEAD = User("lead_east", "Wang Lei", "lead", frozenset({"east"}))


def test_admin_lists_accounts_without_hashes(cur):
    auth.add_user(cur, SYSTEM, "lead_east", "lead", "s3cret-pass", ["east", "north"], "Wang Lei")
    accounts = directory.list_accounts(cur, ADMIN)
    assert list(accounts.columns) == ["username", "display_name", "role", "regions", "email"]
    row = accounts.set_index("username").loc["lead_east"]
    # The role in words and regions by name (ids here: the test database has no names).
    assert (row["display_name"], row["role"], row["regions"]) == (
        "Wang Lei",
        "Regional lead",
        "east, north",
    )
    zh = directory.list_accounts(cur, ADMIN, "zh").set_index("username").loc["lead_east"]
    assert (zh["role"], zh["regions"]) == ("区域负责人", "east、north")


def test_people_are_shown_by_display_name(cur):
    auth.add_user(cur, SYSTEM, "lead_east", "lead", "s3cret-pass", ["east"], "Wang Lei")
    names = directory.display_names(cur, LEAD, "en")
    assert directory.person(names, "lead_east") == "Wang Lei"
    assert directory.person(names, "system") == "Calibrate (automatic)"
    assert directory.person(names, "gone") == "gone"  # an unknown account keeps its name
    assert directory.person(names, None) == "–"


def test_a_lead_may_not_list_accounts(cur):
    with pytest.raises(AccessDenied):
        directory.list_accounts(cur, LEAD)


def test_admin_page_lists_and_adds_accounts(app_env):
    from calibration.store import connect
    from tests.apptest_helpers import login

    con = connect(app_env)
    # app_env is already a copy of the seeded demo (seeding it again cost 10-30 s).
    con.close()
    at = login("admin")
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception, at.exception
    assert "lead_east" in set(at.dataframe[0].value["username"])
    at.text_input[0].input("lead_west")
    at.text_input[2].input("west")
    at.text_input[3].input("a-long-enough-passw0rd!")
    next(b for b in at.button if b.label == "Add account").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # The list drawn right after the add already has the new account.
    assert "lead_west" in set(at.dataframe[0].value["username"])
    assert [s.value for s in at.success] == ["Account lead\\_west added."]
