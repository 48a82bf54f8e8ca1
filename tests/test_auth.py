"""Accounts: hashing, sign-in, rate limiting, roles, the CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from calibration import access
from calibration.accounts import auth
from calibration.accounts.auth import SYSTEM, AuthError, User
from calibration.cli import main as cli_main
from calibration.store import connect
from calibration.store import users as uq
from tests.factories import ROOT


def test_add_and_authenticate(cur):
    auth.add_user(cur, SYSTEM, "lead_east", "lead", "s3cret-pass", ["east"], "Wang Lei")
    row = uq.get_user(cur, "lead_east")
    assert row["password_hash"].startswith("$argon2")
    assert "s3cret-pass" not in row["password_hash"]
    user = auth.authenticate(cur, "lead_east", "s3cret-pass")
    assert user == User("lead_east", "Wang Lei", "lead", frozenset({"east"}))
    assert access.can(user, "proposal.write", "east")
    assert not access.can(user, "proposal.write", "south")
    assert not access.can(user, "region.read", "south")


def test_wrong_password_and_unknown_user_give_the_same_error(cur):
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    for name, pw in (("exec", "nope"), ("ghost", "s3cret-pass")):
        with pytest.raises(AuthError) as info:
            auth.authenticate(cur, name, pw)
        assert info.value.key == "auth.err_invalid"


def test_failed_logins_are_logged_and_rate_limited(cur, monkeypatch):
    monkeypatch.setenv("CALIBRATE_LOGIN_MAX_FAILURES", "3")
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    for _ in range(3):
        with pytest.raises(AuthError):
            auth.authenticate(cur, "exec", "wrong")
    with pytest.raises(AuthError) as info:
        auth.authenticate(cur, "exec", "s3cret-pass")
    assert info.value.key == "auth.err_locked"
    # The refused attempt is not counted (so a delay cannot be extended by trying).
    logged = cur.execute("SELECT count(*) FROM login_attempts WHERE NOT ok").fetchall()[0][0]
    assert logged == 3


def test_success_resets_the_failure_count(cur, monkeypatch):
    monkeypatch.setenv("CALIBRATE_LOGIN_MAX_FAILURES", "3")
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    for _ in range(2):
        with pytest.raises(AuthError):
            auth.authenticate(cur, "exec", "wrong")
    auth.authenticate(cur, "exec", "s3cret-pass")
    for _ in range(2):
        with pytest.raises(AuthError):
            auth.authenticate(cur, "exec", "wrong")
    assert auth.authenticate(cur, "exec", "s3cret-pass").role == "executive"


@pytest.mark.parametrize(
    ("name", "role", "password", "regions", "key"),
    [
        ("bad name!", "lead", "longenough", ["east"], "auth.err_username"),
        ("x", "boss", "longenough", [], "auth.err_role"),
        ("x", "analyst", "short", [], "auth.err_password_short"),
        ("x", "lead", "longenough", [], "auth.err_lead_region"),
    ],
)
def test_new_account_fields_are_checked(cur, name, role, password, regions, key):
    with pytest.raises(AuthError) as info:
        auth.add_user(cur, SYSTEM, name, role, password, regions)
    assert info.value.key == key
    assert uq.count_users(cur) == 0


def test_only_admins_add_accounts(cur):
    exec_user = User("exec", "E", "executive")
    with pytest.raises(PermissionError):
        auth.add_user(cur, exec_user, "x", "analyst", "longenough")


def test_duplicate_account_refused(cur):
    auth.add_user(cur, SYSTEM, "x", "analyst", "longenough")
    with pytest.raises(AuthError) as info:
        auth.add_user(cur, SYSTEM, "x", "analyst", "longenough")
    assert info.value.key == "auth.err_exists"


def test_cli_user_add_with_password_stdin(tmp_path, monkeypatch, capsys):
    db = tmp_path / "u.duckdb"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    code = cli_main(
        [
            "user",
            "add",
            "lead_x",
            "--role",
            "lead",
            "--region",
            "east",
            "--password-stdin",
            "--db",
            str(db),
        ]
    )
    assert code == 0, capsys.readouterr()
    con = connect(db)
    assert auth.authenticate(con.cursor(), "lead_x", "a-long-password").regions == {"east"}


def test_non_demo_database_has_no_default_account(cur):
    assert uq.count_users(cur) == 0


def test_each_role_has_its_pages():
    def pages(role: str) -> tuple[str, ...]:
        return access.pages_for(User(role, role, role))

    assert "review" in pages("hrbp") and "board" not in pages("hrbp")
    assert "my_region" in pages("lead") and "model_lab" not in pages("lead")
    assert pages("nobody") == ()


def test_only_the_test_suite_gets_cheap_password_hashes():
    """Without the test-only variable, people's passwords get argon2-cffi's full defaults."""
    env = {k: v for k, v in os.environ.items() if k != "CALIBRATE_TEST_CHEAP_PASSWORDS"}
    probe = (
        "from argon2 import PasswordHasher; from calibration.accounts import auth; "
        "d = PasswordHasher(); h = auth._hasher; "
        "print(h.memory_cost == d.memory_cost and h.time_cost == d.time_cost)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True", out.stderr
