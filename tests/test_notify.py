"""Notifications that reach people: inbox records for review requests, counters and letters
to sign; their delivery by e-mail (a real SMTP server, aiosmtpd) and to group robots (a
local HTTP receiver standing in for WeCom, DingTalk and Feishu), with retries, back-off,
admin status, and the server's background worker. Loopback only."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import socket
import threading
import urllib.parse
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from calibration import access
from calibration.accounts import auth
from calibration.cli import main as cli_main
from calibration.negotiation import service as neg
from calibration.notify import config, service, transport, worker
from calibration.store import connect, transaction
from calibration.store import notify as nq
from calibration.store import tracking as tq
from calibration.store import users as uq
from calibration.store.core import utcnow
from calibration.tracking import service as tracking_service
from tests.letters_fixtures import ACCOUNTS, PASSWORD, locked_cycle
from tests.nego_fixtures import ANALYST, GOOD, last_id, make_run

# The test SMTP server requires a login over plain TCP: fine on loopback.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

# A reason typed by an executive that would be markup, a link or a mention if interpreted.
HOSTILE = '**Pipeline** [click](http://evil.example) <at user_id="all"></at> @all'


# ---------------------------------------------------------------------------- receivers


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(
            {
                "to": list(envelope.rcpt_tos),
                "subject": str(msg["Subject"]),
                "body": msg.get_body(("plain",)).get_content(),
                "login": getattr(session, "login_data", None),
            }
        )
        self.arrived.set()
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"calibrate" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def smtp_server():
    """A local SMTP server requiring a login (over plain TCP: loopback only)."""
    box = Mailbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=True,  # no mail without the login: a delivered e-mail proves it
    )
    controller.start()
    yield box, port
    controller.stop()


class Robots(ThreadingHTTPServer):
    """Receives webhook posts: /wecom, /dingtalk, /feishu answer like the real robots,
    /refuse answers like a robot with a wrong token, /error with HTTP 500."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RobotHandler)
        self.posts: list[dict] = []
        self.arrived = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _RobotHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parsed = urllib.parse.urlsplit(self.path)
        self.server.posts.append(
            {
                "path": parsed.path,
                "query": urllib.parse.parse_qs(parsed.query),
                "json": json.loads(body),
                "content_type": self.headers.get("Content-Type"),
            }
        )
        self.server.arrived.set()
        if parsed.path == "/error":
            self.send_response(500)
            self.end_headers()
            return
        reply = {
            "/wecom": {"errcode": 0, "errmsg": "ok"},
            "/dingtalk": {"errcode": 0, "errmsg": "ok"},
            "/feishu": {"code": 0, "msg": "success"},
            "/refuse": {"errcode": 93000, "errmsg": "invalid webhook url"},
        }.get(parsed.path, {"errcode": 0})
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def robots():
    """The local robot receiver, shared by the module's tests."""
    server = Robots()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def inboxes(smtp_server, robots):
    """Both receivers, emptied for this test."""
    box, _ = smtp_server
    box.messages.clear()
    box.arrived.clear()
    robots.posts.clear()
    robots.arrived.clear()
    return box, robots


def closed_port() -> int:
    """A loopback port nobody listens on (a receiver that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def company(smtp_port: int | None = None, **overrides) -> config.Company:
    """Company settings for the test (as config.company() builds them from the env)."""
    smtp = (
        config.Smtp("127.0.0.1", smtp_port, "calibrate", "s3cret", "calibrate@test", False, False)
        if smtp_port
        else None
    )
    base = config.Company(smtp=smtp, webhooks={}, secrets={}, timeout=5.0)
    return replace(base, **overrides)


# ---------------------------------------------------------------------------- helpers


def notes_of(cur, username: str) -> list[dict]:
    """A person's inbox rows (kind, message_key, params) oldest first."""
    df = tq.list_notifications(cur, username)
    return df.sort_values("notification_id").to_dict("records")


def quick_accounts(cur, extra_hrbp: bool = False) -> dict[str, auth.User]:
    """The letters fixtures' accounts without passwords (hashing them costs a second)."""
    people = [*ACCOUNTS, ("root", "Root", "admin", ())]
    if extra_hrbp:
        people.append(("hrbp2", "Sun Li", "hrbp", ()))
    with transaction(cur):
        for name, display, role, regions in people:
            uq.insert_user(cur, name, display, role, "!no-password", list(regions), utcnow())
    return {
        name: auth.User(name, display, role, frozenset(regions))
        for name, display, role, regions in people
    }


def open_cycle_with_accounts(cur, extra_hrbp: bool = False):
    """Accounts (exec, two leads, HR, an admin) and an open cycle east 220, south 200."""
    users = quick_accounts(cur, extra_hrbp)
    cid = neg.create_cycle(cur, users["exec"], "2026Q1", "new_customers", "2026Q1", 420)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0}))
    neg.open_cycle(cur, users["exec"], cid)
    return cid, users


def counter_east(cur, cid, users, reason: str = HOSTILE) -> None:
    """The executive counters east (which has not proposed) with 210."""
    neg.respond(
        cur,
        users["exec"],
        cid,
        "east",
        "counter",
        counter_value=210,
        reason=reason,
        expected_last_event=last_id(cur, cid, "east"),
    )


def set_email(cur, user, address: str, lang: str = "en", **channels) -> None:
    """The person's own settings: an address, a language, channels on unless said."""
    flags = {f"{c}_on": channels.get(c, True) for c in config.CHANNELS}
    service.set_prefs(cur, user, user.username, email=address, lang=lang, **flags)


# ---------------------------------------------------------------------------- 1. the inbox


def test_a_flagged_proposal_tells_every_hr_partner(cur):
    cid, users = open_cycle_with_accounts(cur, extra_hrbp=True)
    neg.propose(cur, users["lead_east"], cid, "east", 150, **GOOD, expected_last_event=None)
    for name in ("hrbp", "hrbp2"):
        (note,) = notes_of(cur, name)
        assert note["kind"] == "review_request" and note["region"] == "east"
    # A proposal within the threshold asks nobody.
    neg.propose(cur, users["lead_south"], cid, "south", 195, **GOOD, expected_last_event=None)
    assert len(notes_of(cur, "hrbp")) == 1
    text = tracking_service.inbox(cur, users["hrbp"], "en")["text"].iloc[0]
    assert "150" in text and "220" in text and "31.8%" in text and "Wang Lei" in text


def test_a_counter_tells_the_regions_lead_and_a_refused_one_tells_nobody(cur):
    cid, users = open_cycle_with_accounts(cur)
    counter_east(cur, cid, users, reason="Pipeline supports 210.")
    (note,) = notes_of(cur, "lead_east")
    assert note["kind"] == "counter"
    assert notes_of(cur, "lead_south") == []
    zh = tracking_service.inbox(cur, users["lead_east"], "zh")["text"].iloc[0]
    assert "还价" in zh and "210" in zh and "Pipeline supports 210." in zh
    # Stale (the form named an older event): refused, and no notification either.
    with pytest.raises(neg.StaleWriteError):
        neg.respond(
            cur,
            users["exec"],
            cid,
            "east",
            "counter",
            counter_value=205,
            reason="again",
            expected_last_event=None,
        )
    assert len(notes_of(cur, "lead_east")) == 1


def test_a_counter_to_several_regions_tells_each_lead_or_nobody(cur):
    cid, users = open_cycle_with_accounts(cur)
    offers = [
        {"region": "east", "value": 215, "reason": "allocation", "expected_last_event": None},
        {"region": "south", "value": 205, "reason": "allocation", "expected_last_event": 999},
    ]
    with pytest.raises(neg.StaleWriteError):  # south's form was stale: all or none
        neg.send_counters(cur, users["exec"], cid, offers, method="proportional")
    assert notes_of(cur, "lead_east") == [] and notes_of(cur, "lead_south") == []
    offers[1]["expected_last_event"] = None
    neg.send_counters(cur, users["exec"], cid, offers, method="proportional")
    for lead, region in (("lead_east", "east"), ("lead_south", "south")):
        (note,) = notes_of(cur, lead)
        assert (note["kind"], note["region"], note["cycle_id"]) == ("counter", region, cid)
    assert "205" in tracking_service.inbox(cur, users["lead_south"], "en")["text"].iloc[0]


def test_letters_waiting_for_a_signature_tell_the_signer(cur):
    from calibration.letters import service as letters

    cid, users = locked_cycle(cur)
    # The lock issued one letter per region: each lead is asked to sign theirs.
    kinds = {n["kind"] for n in notes_of(cur, "lead_east")}
    assert "sign_lead" in kinds
    assert notes_of(cur, "exec") == [] or all(
        n["kind"] != "sign_executive" for n in notes_of(cur, "exec")
    )
    letters.sign_letter(cur, users["lead_east"], cid, "east", PASSWORD, archive=False)
    signs = [n for n in notes_of(cur, "exec") if n["kind"] == "sign_executive"]
    assert len(signs) == 1 and signs[0]["region"] == "east"
    text = tracking_service.inbox(cur, users["exec"], "en")["text"].iloc[0]
    assert "Wang Lei" in text and "executive signature" in text


# ---------------------------------------------------------------------------- settings


def test_settings_are_a_persons_own_or_the_admins(cur):
    users = quick_accounts(cur)
    admin = users["root"]
    lead = users["lead_east"]
    assert service.get_prefs(cur, lead, "lead_east")["email"] is None  # defaults
    set_email(cur, lead, "wang.lei@example.com", "zh", wecom=False)
    got = service.get_prefs(cur, lead, "lead_east")
    assert (got["email"], got["lang"], got["wecom_on"], got["feishu_on"]) == (
        "wang.lei@example.com",
        "zh",
        False,
        True,
    )
    with pytest.raises(access.AccessDenied):
        service.get_prefs(cur, lead, "lead_south")
    with pytest.raises(access.AccessDenied):
        service.set_prefs(
            cur, lead, "lead_south", email=None, lang="en", email_on=True, wecom_on=True,
            dingtalk_on=True, feishu_on=True,
        )  # fmt: skip
    service.set_prefs(
        cur, admin, "lead_south", email="liu@example.com", lang="en", email_on=True,
        wecom_on=True, dingtalk_on=True, feishu_on=True,
    )  # fmt: skip
    assert service.get_prefs(cur, admin, "lead_south")["email"] == "liu@example.com"
    before = nq.latest_prefs(cur, ["lead_east"])
    for bad in ("not an address", "a@b.c\r\nBcc: all@example.com", "x" * 250 + "@example.com"):
        with pytest.raises(service.NotifyError):
            set_email(cur, lead, bad)
    with pytest.raises(service.NotifyError):
        service.set_prefs(
            cur, admin, "nobody", email=None, lang="en", email_on=True, wecom_on=True,
            dingtalk_on=True, feishu_on=True,
        )  # fmt: skip
    assert nq.latest_prefs(cur, ["lead_east"]) == before  # nothing changed


def test_the_own_username_scope_of_the_policy():
    lead = auth.User("lead_east", "L", "lead", frozenset({"east"}))
    assert access.can(lead, "notify.prefs", "lead_east")
    assert not access.can(lead, "notify.prefs", "lead_south")
    assert not access.can(lead, "notify.admin")


def test_company_settings_come_from_the_environment_and_hide_secrets(monkeypatch):
    monkeypatch.setenv("CALIBRATE_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("CALIBRATE_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv(
        "CALIBRATE_WECOM_WEBHOOKS",
        "east=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY, *=https://x/y?key=K2",
    )
    monkeypatch.setenv("CALIBRATE_DINGTALK_SECRETS", "east=SECabc")
    c = config.company()
    assert c.configured and c.smtp.port == 587 and c.smtp.starttls
    assert c.group_for("wecom", "east") == "east"
    assert c.group_for("wecom", "south") == "*"
    assert c.group_for("feishu", "east") is None
    shown = json.dumps(c.describe()) + repr(c)
    assert "hunter2" not in shown and "SECRETKEY" not in shown and "SECabc" not in shown
    monkeypatch.delenv("CALIBRATE_SMTP_HOST")
    monkeypatch.delenv("CALIBRATE_WECOM_WEBHOOKS")
    assert not config.company().configured
    assert worker.make_worker() is None  # nothing configured: no thread


# ---------------------------------------------------------------------------- 2. delivery


def test_email_arrives_in_the_persons_language(con, inboxes, smtp_server):
    box, _ = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    set_email(cur, users["lead_east"], "wang.lei@example.com", "zh")
    set_email(cur, users["lead_south"], "liu.yang@example.com", "en")
    counter_east(cur, cid, users)
    result = service.run_pass(con, company(smtp_server[1]))
    assert (result.queued, result.sent, result.errors) == (1, 1, [])
    (mail,) = box.messages
    assert mail["to"] == ["wang.lei@example.com"]
    assert mail["subject"] == "Calibrate · 还价 · east"
    assert "还价 — east" in mail["body"] and "210" in mail["body"]
    assert HOSTILE in mail["body"]  # as typed: text/plain, nothing interpreted or lost
    assert "收件箱" in mail["body"]
    # A second pass sends nothing again.
    again = service.run_pass(con, company(smtp_server[1]))
    assert (again.queued, again.sent) == (0, 0) and len(box.messages) == 1
    (d,) = nq.deliveries_of(cur, notes_of(cur, "lead_east")[0]["notification_id"])
    assert (d["status"], d["attempts"], d["channel"]) == ("sent", 1, "email")
    assert d["sent_at"] is not None


def test_smtp_refusals_are_kept_as_errors_to_retry(con, inboxes, smtp_server):
    box, _ = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    set_email(cur, users["lead_east"], "wang.lei@example.com")
    counter_east(cur, cid, users)
    good = company(smtp_server[1])
    # (aiosmtpd answers a wrong login slowly: a short timeout keeps the test quick)
    wrong_password = replace(good, smtp=replace(good.smtp, password="wrong"), timeout=1.0)
    no_tls = replace(good, smtp=replace(good.smtp, starttls=True))  # the test server has none
    first = service.run_pass(con, wrong_password)
    assert first.retrying == 1 and first.errors[0].startswith("email wang.lei@example.com: smtp:")
    later = utcnow() + timedelta(hours=1)
    second = service.send_due(cur, no_tls, later)
    assert second.retrying == 1 and "STARTTLS" in second.errors[0]
    assert box.messages == []
    third = service.send_due(cur, good, later + timedelta(hours=1))
    assert third.sent == 1 and len(box.messages) == 1


def test_each_robot_gets_its_own_format_once_per_decision(con, inboxes):
    _, robots = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur, extra_hrbp=True)
    c = company(
        webhooks={
            "wecom": {"*": robots.url("/wecom")},
            "dingtalk": {"east": robots.url("/dingtalk?access_token=T")},
            "feishu": {"*": robots.url("/feishu")},
        },
        secrets={"dingtalk": {"east": "SECdd"}, "feishu": {"*": "fsecret"}},
        group_lang="en",
    )
    neg.propose(
        cur, users["lead_east"], cid, "east", 150, **{**GOOD}, expected_last_event=None
    )  # two HR partners are told: one message per robot, not two
    counter_east(cur, cid, users)
    result = service.run_pass(con, c)
    assert result.errors == [] and result.sent == 6
    by = {}
    for post in robots.posts:
        by.setdefault(post["path"], []).append(post)
    assert sorted(by) == ["/dingtalk", "/feishu", "/wecom"]
    assert all(len(v) == 2 for v in by.values())  # review request + counter, each once
    wecom = [p["json"] for p in by["/wecom"]]
    assert all(set(j) == {"msgtype", "text"} and j["msgtype"] == "text" for j in wecom)
    assert any("HR review needed" in j["text"]["content"] for j in wecom)
    counter_text = next(
        j["text"]["content"] for j in wecom if "Counter-offer" in j["text"]["content"]
    )
    assert HOSTILE in counter_text  # a text message: shown as typed
    ding = by["/dingtalk"][0]
    assert ding["json"]["msgtype"] == "text" and set(ding["json"]["text"]) == {"content"}
    assert ding["query"]["access_token"] == ["T"]
    ts = ding["query"]["timestamp"][0]
    expected = transport.dingtalk_url("u?x=1", "SECdd", int(ts))
    assert ding["query"]["sign"][0] == urllib.parse.parse_qs(expected.split("?")[1])["sign"][0]
    for post in by["/feishu"]:
        j = post["json"]
        assert j["msg_type"] == "text" and set(j["content"]) == {"text"}
        assert j["sign"] == transport.feishu_signed({}, "fsecret", int(j["timestamp"]))["sign"]
    feishu_counter = next(
        p["json"] for p in by["/feishu"] if "Counter" in p["json"]["content"]["text"]
    )
    # Feishu would read <at user_id="all"> as a mention: the brackets are neutralised.
    assert "<at" not in feishu_counter["content"]["text"]
    assert '＜at user_id="all"＞' in feishu_counter["content"]["text"]


def test_a_receiver_that_is_down_is_retried_with_backoff_then_failed(con, inboxes, smtp_server):
    box, robots = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    set_email(cur, users["lead_east"], "wang.lei@example.com", "en")
    down = f"http://127.0.0.1:{closed_port()}/robot"
    c = company(
        smtp_server[1],
        webhooks={
            "wecom": {"*": down},
            "dingtalk": {"*": robots.url("/refuse")},
            "feishu": {"*": robots.url("/feishu")},
        },
        max_attempts=5,
        backoff_minutes=1.0,
    )
    counter_east(cur, cid, users)
    now = utcnow()
    first = service.run_pass(con, c, now)
    # The broken receivers did not keep the others from going out.
    assert first.sent == 2 and first.retrying == 2
    assert len(box.messages) == 1 and [p["path"] for p in robots.posts].count("/feishu") == 1
    note_id = notes_of(cur, "lead_east")[0]["notification_id"]

    def broken() -> dict[str, dict]:
        return {
            d["channel"]: d
            for d in nq.deliveries_of(cur, note_id)
            if d["channel"] in ("wecom", "dingtalk")
        }

    waits = []
    for attempt in range(1, 6):
        rows = broken()
        assert {d["attempts"] for d in rows.values()} == {attempt}
        if attempt < 5:
            assert {d["status"] for d in rows.values()} == {"pending"}
            waits.append(rows["wecom"]["next_attempt_at"] - now)
            # Not due yet: a pass just before the next attempt sends nothing.
            early = service.send_due(
                cur, c, rows["wecom"]["next_attempt_at"] - timedelta(seconds=1)
            )
            assert early.sent + early.retrying + early.failed == 0
            now = rows["wecom"]["next_attempt_at"]
            service.send_due(cur, c, now)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    rows = broken()
    assert {d["status"] for d in rows.values()} == {"failed"}
    assert "refused" in rows["wecom"]["last_error"] or "Connection" in rows["wecom"]["last_error"]
    assert "93000" in rows["dingtalk"]["last_error"]
    assert "access_token" not in json.dumps([str(d["last_error"]) for d in rows.values()])
    # Failed for good: later passes leave them alone.
    later = service.send_due(cur, c, now + timedelta(days=1))
    assert later.sent + later.retrying + later.failed == 0
    # The inbox keeps the record whatever happened to the copies.
    assert tracking_service.inbox(cur, users["lead_east"], "en")["kind"].tolist() == ["counter"]

    # The admin sees the failures and retries them once the receiver is fixed.
    admin = users["root"]
    st = service.status(cur, admin)
    assert st["counts"] == {"pending": 0, "sent": 2, "failed": 2}
    assert set(st["failures"]["channel"]) == {"wecom", "dingtalk"}
    assert st["failures"]["last_error"].notna().all()
    with pytest.raises(access.AccessDenied):
        service.status(cur, users["exec"])
    with pytest.raises(access.AccessDenied):
        service.retry_now(cur, users["exec"], st["failures"]["delivery_id"].tolist())
    assert service.retry_now(cur, admin, st["failures"]["delivery_id"].tolist()) == 2
    fixed = replace(
        c,
        webhooks={
            "wecom": {"*": robots.url("/wecom")},
            "dingtalk": {"*": robots.url("/dingtalk")},
            "feishu": {"*": robots.url("/feishu")},
        },
    )
    assert service.send_due(cur, fixed).sent == 2
    assert service.status(cur, admin)["counts"] == {"pending": 0, "sent": 4, "failed": 0}


def test_a_receiver_that_hangs_times_out_without_holding_the_others(con, inboxes):
    _, robots = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    # Listens but never answers: the send must give up at the timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        c = company(
            webhooks={
                "wecom": {"*": f"http://127.0.0.1:{silent.getsockname()[1]}/hang"},
                "feishu": {"*": robots.url("/feishu")},
            },
            timeout=0.5,
        )
        counter_east(cur, cid, users)
        result = service.run_pass(con, c)
    finally:
        silent.close()
    assert result.sent == 1 and result.retrying == 1
    assert any("timed out" in e for e in result.errors)


def test_old_notifications_stay_in_the_inbox_only(con, inboxes):
    _, robots = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    counter_east(cur, cid, users)
    c = company(webhooks={"wecom": {"*": robots.url("/wecom")}}, max_age_hours=24)
    # A pass two days later (e.g. delivery configured after the fact) sends nothing old.
    assert service.run_pass(con, c, utcnow() + timedelta(days=2)).queued == 0
    # A person who switched the channel off gets no copy of a new one either.
    service.set_prefs(
        cur, users["lead_east"], "lead_east", email=None, lang="en", email_on=True,
        wecom_on=False, dingtalk_on=True, feishu_on=True,
    )  # fmt: skip
    neg.accept_counter(
        cur, users["lead_east"], cid, "east", expected_last_event=last_id(cur, cid, "east")
    )
    counter_south = dict(counter_value=190, reason="r", expected_last_event=None)
    neg.respond(cur, users["exec"], cid, "south", "counter", **counter_south)
    assert service.run_pass(con, c).queued == 1  # south's lead: channel on by default
    assert robots.posts and len(robots.posts) == 1


def test_cli_notify_send_runs_one_pass(db_path, inboxes, monkeypatch, capsys):
    _, robots = inboxes
    con = connect(db_path)
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    counter_east(cur, cid, users)
    con.close()
    assert cli_main(["notify", "send", "--db", str(db_path)]) == 0
    assert "nothing to send" in capsys.readouterr().out
    monkeypatch.setenv("CALIBRATE_WECOM_WEBHOOKS", f"*={robots.url('/wecom')}")
    assert cli_main(["notify", "send", "--db", str(db_path)]) == 0
    assert "sent 1" in capsys.readouterr().out
    assert cli_main(["notify", "status", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "sent 1" in out and "wecom: *" in out and robots.url("/wecom") not in out


# ---------------------------------------------------------------------------- the server


def test_the_servers_lifespan_worker_delivers_and_stops(con, inboxes, monkeypatch):
    _, robots = inboxes
    cur = con.cursor()
    cid, users = open_cycle_with_accounts(cur)
    monkeypatch.setenv("CALIBRATE_WECOM_WEBHOOKS", f"*={robots.url('/wecom')}")
    monkeypatch.setenv("CALIBRATE_NOTIFY_INTERVAL", "0.1")

    async def serve() -> worker.Worker:
        async with worker.lifespan(lambda: con)(None) as state:
            running = state["notify_worker"]
            assert running is not None and running.alive
            # A decision while the server runs reaches the robot without anyone asking.
            counter_east(cur, cid, users)
            assert await asyncio.to_thread(robots.arrived.wait, 30)
        return running

    # Its own thread (own event loop): a session's sync Playwright may hold this thread's loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        stopped = pool.submit(asyncio.run, serve()).result(timeout=120)
    assert not stopped.alive
    (post,) = robots.posts
    assert post["json"]["msgtype"] == "text" and "east" in post["json"]["text"]["content"]


def test_a_running_server_delivers_by_itself(demo_db, inboxes):
    """`streamlit run server.py` (as `make run` starts it): its worker sends the demo's
    notifications to the robot with nobody signed in, and the outbox says so."""
    from tests.browser.conftest import Server

    _, robots = inboxes
    env = {
        **os.environ,
        "CALIBRATE_DB": str(demo_db),
        "CALIBRATE_WECOM_WEBHOOKS": f"*={robots.url('/wecom')}",
        "CALIBRATE_NOTIFY_INTERVAL": "0.2",
    }
    srv = Server(demo_db, env)
    srv.start()
    try:
        assert robots.arrived.wait(60), srv.log.read_text()[-2000:]
    finally:
        srv.stop()
    con = connect(demo_db)
    try:
        counts = nq.status_counts(con.cursor())
    finally:
        con.close()
    assert counts.get("sent", 0) >= 1 and counts.get("failed", 0) == 0
    assert all(p["path"] == "/wecom" and p["json"]["msgtype"] == "text" for p in robots.posts)
