"""Sign-in policy (issue 13): atomic rate limit, delays that end, equal work, read-only, logs."""

from __future__ import annotations

import logging
import threading

import pytest

from calibration.accounts import auth
from calibration.accounts.auth import SYSTEM, AuthError
from calibration.i18n import t
from calibration.store import connect

SECRET_NAME = "Hunter2-correct-horse-battery"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingHasher:
    """The real hasher, with each verify recorded (and optionally held until released)."""

    def __init__(self, real: object, hold: threading.Event | None) -> None:
        self.real = real
        self.hold = hold
        self.calls: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        """Record the call, then verify for real."""
        self.calls.append(password_hash)
        if self.hold is not None:
            self.hold.wait(5)  # keep every evaluated guess in flight together
        return self.real.verify(password_hash, password)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def counting_verify(
    monkeypatch: pytest.MonkeyPatch, hold: threading.Event | None = None
) -> list[str]:
    """Replace the hasher with one that records each verify call; the list of calls."""
    hasher = CountingHasher(auth._hasher, hold)
    monkeypatch.setattr(auth, "_hasher", hasher)
    return hasher.calls


def wrong(cur, name: str = "exec", **kw) -> AuthError:
    """One wrong guess; the AuthError it raised."""
    with pytest.raises(AuthError) as info:
        auth.authenticate(cur, name, "wrong-guess", **kw)
    return info.value


def test_simultaneous_wrong_guesses_are_counted_before_they_are_checked(con, monkeypatch):
    monkeypatch.setenv("CALIBRATE_LOGIN_MAX_FAILURES", "5")
    auth.add_user(con.cursor(), SYSTEM, "exec", "executive", "s3cret-pass")
    hold = threading.Event()
    calls = counting_verify(monkeypatch, hold)
    start = threading.Barrier(10)
    keys: list[str] = []
    lock = threading.Lock()

    def guess() -> None:
        cur = con.cursor()
        start.wait()
        try:
            auth.authenticate(cur, "exec", "wrong-guess")
        except AuthError as exc:
            with lock:
                keys.append(exc.key)

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for th in threads:
        th.start()
    # Release the evaluated guesses only once every thread has had its chance at the check.
    for th in threads:
        th.join(0.5)
    hold.set()
    for th in threads:
        th.join()
    assert len(keys) == 10
    assert len(calls) <= 5, f"{len(calls)} wrong guesses were evaluated"
    assert keys.count("auth.err_invalid") == len(calls)
    assert keys.count("auth.err_locked") == 10 - len(calls)


def test_attempts_during_a_delay_do_not_extend_it(cur, monkeypatch):
    clock = FakeClock()
    throttle = auth.Throttle(free=3, base=30, cap=900, clock=clock)
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    for _ in range(3):
        assert wrong(cur, throttle=throttle).key == "auth.err_invalid"
    # The third failure started a 30 s delay; guesses inside it neither run nor extend it.
    clock.now += 10
    err = wrong(cur, throttle=throttle)
    assert (err.key, err.values["seconds"]) == ("auth.err_locked", 20)
    clock.now += 19
    assert wrong(cur, throttle=throttle).values["seconds"] == 1
    clock.now += 1
    assert auth.authenticate(cur, "exec", "s3cret-pass", throttle=throttle).role == "executive"


def test_the_delay_grows_up_to_a_cap_and_then_ends_on_its_own(cur):
    clock = FakeClock()
    throttle = auth.Throttle(free=3, base=30, cap=240, forget=3600, clock=clock)
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    for _ in range(2):
        wrong(cur, throttle=throttle)
    waits = []
    for _ in range(6):
        assert wrong(cur, throttle=throttle).key == "auth.err_invalid"
        waits.append(wrong(cur, throttle=throttle).values["seconds"])
        clock.now += waits[-1]
    assert waits == [30, 60, 120, 240, 240, 240]
    # Quiet for longer than the forget window: the count starts afresh.
    clock.now += 3601
    assert wrong(cur, throttle=throttle).key == "auth.err_invalid"
    assert auth.authenticate(cur, "exec", "s3cret-pass", throttle=throttle).username == "exec"


def test_one_client_address_guessing_many_accounts_is_delayed(cur):
    clock = FakeClock()
    throttle = auth.Throttle(free=3, base=30, clock=clock)
    for name in ("a1", "a2", "a3", "a4"):
        auth.add_user(cur, SYSTEM, name, "analyst", "s3cret-pass")
    for name in ("a1", "a2", "a3"):
        assert wrong(cur, name, client="10.0.0.9", throttle=throttle).key == "auth.err_invalid"
    err = wrong(cur, "a4", client="10.0.0.9", throttle=throttle)
    assert (err.key, err.values["seconds"]) == ("auth.err_locked", 30)
    # Another address is not affected, and a4 itself has no failures.
    user = auth.authenticate(cur, "a4", "s3cret-pass", client="10.0.0.10", throttle=throttle)
    assert user.username == "a4"


def test_the_wait_is_told_in_both_languages():
    assert t("auth.err_locked", "en", seconds=40) == "Too many failed sign-ins. Try again in 40 s."
    assert "40 秒" in t("auth.err_locked", "zh", seconds=40)


def test_unknown_usernames_cost_the_same_password_check(cur, monkeypatch):
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    calls = counting_verify(monkeypatch)
    wrong(cur, "exec")
    wrong(cur, "ghost")
    wrong(cur, "")
    assert len(calls) == 3
    assert all(h.startswith("$argon2id$") for h in calls)


def test_read_only_mode_signs_in_without_writing(db_path, monkeypatch):
    writer = connect(db_path)
    auth.add_user(writer.cursor(), SYSTEM, "exec", "executive", "s3cret-pass")
    writer.close()
    monkeypatch.setenv("CALIBRATE_READ_ONLY", "1")
    monkeypatch.setenv("CALIBRATE_LOGIN_MAX_FAILURES", "2")
    reader = connect(db_path, read_only=True)
    try:
        cur = reader.cursor()
        assert auth.authenticate(cur, "exec", "s3cret-pass").role == "executive"
        assert wrong(cur).key == "auth.err_invalid"
        # The limit still holds, kept in memory.
        wrong(cur)
        assert wrong(cur).key == "auth.err_locked"
        assert cur.execute("SELECT count(*) FROM login_attempts").fetchall()[0][0] == 0
    finally:
        reader.close()


def test_failed_sign_ins_never_log_the_typed_name(cur, caplog):
    auth.add_user(cur, SYSTEM, "exec", "executive", "s3cret-pass")
    with caplog.at_level(logging.INFO, logger="calibrate"):
        wrong(cur, SECRET_NAME)
        wrong(cur, "exec")
    assert SECRET_NAME not in caplog.text and SECRET_NAME[:6] not in caplog.text
    assert auth.username_tag(SECRET_NAME) in caplog.text
    assert auth.username_tag("exec") in caplog.text
    stored = [r[0] for r in cur.execute("SELECT username FROM login_attempts").fetchall()]
    assert stored == [auth.username_tag(SECRET_NAME), "exec"]
