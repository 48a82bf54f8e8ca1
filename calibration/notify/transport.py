"""Sending: SMTP and robot webhooks, each with a timeout; a failure raises SendError."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

from calibration.notify.config import Smtp

MAX_ERROR = 500


class SendError(RuntimeError):
    """A send that did not go through; the message is safe to show (no secrets)."""


def send_email(smtp: Smtp, to: str, subject: str, body: str, timeout: float) -> None:
    """Send one text/plain e-mail (UTF-8) through the configured SMTP server."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        if smtp.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.starttls and not smtp.ssl:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise SendError(_short(f"smtp: {type(exc).__name__}: {exc}")) from exc


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def dingtalk_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """A DingTalk webhook URL with the signed timestamp its 'sign' security setting wants."""
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def feishu_signed(payload: dict, secret: str, now_s: int | None = None) -> dict:
    """A Feishu payload with the timestamp and signature its signature check wants."""
    ts = str(now_s if now_s is not None else int(time.time()))
    digest = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return {"timestamp": ts, "sign": base64.b64encode(digest).decode(), **payload}


def post_json(url: str, payload: dict, timeout: float) -> None:
    """POST payload to a robot; non-2xx or a non-zero error code in the reply raises."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SendError("webhook is not an http(s) URL")
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            reply = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"http {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # The reason, never the URL: it carries the robot's token.
        reason = getattr(exc, "reason", exc)
        raise SendError(_short(f"{type(exc).__name__}: {reason}")) from exc
    try:
        answer = json.loads(reply or b"{}")
    except ValueError:
        return  # a 2xx without JSON: accepted
    if isinstance(answer, dict):
        for key in ("errcode", "code", "StatusCode"):
            if key in answer and answer[key] not in (0, "0"):
                detail = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage")
                raise SendError(
                    _short(f"robot refused: {key} {answer[key]} {detail or ''}".strip())
                )
