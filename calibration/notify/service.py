"""Delivery service: people's settings, routing notifications to channels, sending, status.

A pass (`run_pass`) first routes notifications no pass has seen (each becomes zero or more
pending deliveries, chosen by the person's settings and the company's), then sends the
deliveries that are due. Sending happens outside any transaction and with a timeout; each
result is written in its own short transaction, so one slow or broken receiver delays only
its own deliveries and a database hiccup loses one status, never a pass.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from calibration import access
from calibration.accounts.auth import User
from calibration.i18n import DEFAULT_LANG, LANGS
from calibration.notify import config, messages, transport
from calibration.store import notify as q
from calibration.store import transaction
from calibration.store.core import utcnow

log = logging.getLogger("calibrate.notify")

MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s<>,;:\"'()\[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
SENDERS = 8  # deliveries sent at once in a pass (each waits at most the timeout)
# One pass at a time per process: the server's thread, the CLI and a test never send twice.
_PASS_LOCK = threading.Lock()


class NotifyError(ValueError):
    """Bad settings input; the message is a translation key with values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


# ----------------------------------------------------------------------------- settings


def default_prefs(username: str) -> dict:
    """What a person gets before they set anything: robots on, e-mail once an address is set."""
    return {
        "username": username,
        "email": None,
        "lang": DEFAULT_LANG,
        "email_on": True,
        "wecom_on": True,
        "dingtalk_on": True,
        "feishu_on": True,
        "changed_by": None,
        "changed_at": None,
    }


def get_prefs(cur: duckdb.DuckDBPyConnection, actor: User, username: str) -> dict:
    """A person's delivery settings (their own, or anyone's for the admin)."""
    access.require(actor, "notify.prefs", username)
    return q.latest_prefs(cur, [username]).get(username) or default_prefs(username)


def set_prefs(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    username: str,
    *,
    email: str | None,
    lang: str,
    email_on: bool,
    wecom_on: bool,
    dingtalk_on: bool,
    feishu_on: bool,
) -> dict:
    """Record a person's new settings (append-only; the newest counts); returns them.

    Raises AccessDenied (someone else's settings, not admin) and NotifyError (bad address
    or language, unknown account); nothing is written then.
    """
    access.require(actor, "notify.prefs", username)
    address = (email or "").strip() or None
    if address is not None and (len(address) > MAX_EMAIL or not _EMAIL.match(address)):
        raise NotifyError("notify.err_email")
    if lang not in LANGS:
        raise NotifyError("notify.err_lang")
    row = {
        "username": username,
        "email": address,
        "lang": lang,
        "email_on": bool(email_on),
        "wecom_on": bool(wecom_on),
        "dingtalk_on": bool(dingtalk_on),
        "feishu_on": bool(feishu_on),
        "changed_by": actor.username,
        "changed_at": utcnow(),
    }
    with transaction(cur):
        if not q.user_exists(cur, username):
            raise NotifyError("notify.err_user")
        q.insert_prefs(cur, row)
    return row


# ----------------------------------------------------------------------------- routing


def decision_key(n: dict) -> str:
    """Names the decision behind a notification: every recipient's copy shares it."""
    parts = [n["message_key"], n["cycle_id"], n["region"], n["event_id"], n["params"]]
    parts.append(n["created_at"].isoformat() if n["created_at"] else "")
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def route_new(
    cur: duckdb.DuckDBPyConnection, company: config.Company, now: datetime | None = None
) -> int:
    """Queue deliveries for every notification not routed yet; returns how many were queued.

    Only notifications younger than the maximum age go out (an older backlog, e.g. from
    before delivery was configured, stays in the inbox only).
    """
    now = now or utcnow()
    since = now - timedelta(hours=company.max_age_hours)
    queued = 0
    with transaction(cur):
        notes = q.unrouted_notifications(cur, since)
        prefs = q.latest_prefs(cur, sorted({n["username"] for n in notes}))
        for n in notes:
            p = prefs.get(n["username"]) or default_prefs(n["username"])
            if company.smtp is not None and p["email"] and p["email_on"]:
                queued += _queue(
                    cur, n, "email", p["email"], p["lang"], f"n{n['notification_id']}", now
                )
            key = decision_key(n)
            for channel in config.ROBOTS:
                group = company.group_for(channel, n["region"])
                if group is not None and p[f"{channel}_on"]:
                    queued += _queue(cur, n, channel, group, company.group_lang, key, now)
            q.insert_route(cur, n["notification_id"], now)
    return queued


def _queue(
    cur: duckdb.DuckDBPyConnection,
    n: dict,
    channel: str,
    target: str,
    lang: str,
    dedupe_key: str,
    now: datetime,
) -> int:
    if q.delivery_queued(cur, channel, target, dedupe_key):
        return 0
    q.insert_delivery(
        cur,
        {
            "notification_id": n["notification_id"],
            "channel": channel,
            "target": target,
            "lang": lang,
            "dedupe_key": dedupe_key,
            "created_at": now,
        },
    )
    return 1


# ----------------------------------------------------------------------------- sending


def send_one(company: config.Company, delivery: dict) -> None:
    """Send one delivery now; raises transport.SendError when it did not go through."""
    message = messages.compose(delivery, delivery["lang"], company.public_url)
    channel, target = delivery["channel"], delivery["target"]
    if channel == "email":
        if company.smtp is None:
            raise transport.SendError("e-mail is not configured (CALIBRATE_SMTP_HOST)")
        transport.send_email(company.smtp, target, message.subject, message.body, company.timeout)
        return
    url = company.webhooks.get(channel, {}).get(target)
    if not url:
        raise transport.SendError(f"no {channel} robot is configured for group {target}")
    payload = messages.robot_payload(channel, message)
    secret = company.secrets.get(channel, {}).get(target)
    if secret and channel == "dingtalk":
        url = transport.dingtalk_url(url, secret)
    elif secret and channel == "feishu":
        payload = transport.feishu_signed(payload, secret)
    transport.post_json(url, payload, company.timeout)


def backoff(company: config.Company, attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: 1, 2, 4, 8 … times the base."""
    return timedelta(minutes=company.backoff_minutes * 2 ** max(0, attempts - 1))


def _attempt(company: config.Company, delivery: dict) -> str | None:
    try:
        send_one(company, delivery)
    except transport.SendError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken message must not stop the pass
        log.exception("delivery %s failed unexpectedly", delivery["delivery_id"])
        return f"internal error: {type(exc).__name__}"
    return None


@dataclass
class PassResult:
    """What one pass did."""

    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI and the log."""
        return (
            f"queued {self.queued}, sent {self.sent}, will retry {self.retrying},"
            f" failed {self.failed}"
        )


def send_due(
    cur: duckdb.DuckDBPyConnection,
    company: config.Company,
    now: datetime | None = None,
    result: PassResult | None = None,
) -> PassResult:
    """Send every delivery that is due; failures are retried later with back-off."""
    result = result or PassResult()
    now = now or utcnow()
    due = q.due_deliveries(cur, now)
    if not due:
        return result
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(due))) as pool:
        outcomes = list(pool.map(lambda d: _attempt(company, d), due))
    for delivery, error in zip(due, outcomes, strict=True):
        attempts = int(delivery["attempts"]) + 1
        try:
            with transaction(cur):
                if error is None:
                    q.mark_sent(cur, delivery["delivery_id"], attempts, utcnow())
                else:
                    gave_up = attempts >= company.max_attempts
                    q.mark_attempt_failed(
                        cur,
                        delivery["delivery_id"],
                        attempts,
                        "failed" if gave_up else "pending",
                        now + backoff(company, attempts),
                        error,
                    )
        except duckdb.Error as exc:
            # The status could not be written; the delivery stays due and is tried again.
            log.warning("delivery %s: status not saved: %s", delivery["delivery_id"], exc)
            continue
        if error is None:
            result.sent += 1
        else:
            result.errors.append(f"{delivery['channel']} {delivery['target']}: {error}")
            if attempts >= company.max_attempts:
                result.failed += 1
            else:
                result.retrying += 1
    return result


def run_pass(
    con: duckdb.DuckDBPyConnection,
    company: config.Company | None = None,
    now: datetime | None = None,
) -> PassResult:
    """Route new notifications and send what is due, with a cursor of its own."""
    company = company or config.company()
    with _PASS_LOCK:
        cur = con.cursor()
        try:
            result = PassResult(queued=route_new(cur, company, now))
            return send_due(cur, company, now, result)
        finally:
            cur.close()


# ----------------------------------------------------------------------------- admin


def status(cur: duckdb.DuckDBPyConnection, actor: User, limit: int = 20) -> dict:
    """Counts per status, the latest failures (with their error) and the channels set up."""
    access.require(actor, "notify.admin")
    counts = {s: 0 for s in ("pending", "sent", "failed")}
    counts.update(q.status_counts(cur))
    failures = pd.DataFrame(
        q.list_deliveries(cur, "failed", limit),
        columns=[*q.DELIVERY_COLUMNS, "username", "kind"],
    )
    retrying = pd.DataFrame(
        [d for d in q.list_deliveries(cur, "pending", limit) if d["attempts"]],
        columns=[*q.DELIVERY_COLUMNS, "username", "kind"],
    )
    return {
        "counts": counts,
        "failures": failures,
        "retrying": retrying,
        "channels": config.company().describe(),
    }


def retry_now(cur: duckdb.DuckDBPyConnection, actor: User, delivery_ids: list[int]) -> int:
    """Make failed (or waiting) deliveries due at once with fresh attempts; returns how many."""
    access.require(actor, "notify.admin")
    with transaction(cur):
        return q.retry(cur, [int(i) for i in delivery_ids], utcnow())
