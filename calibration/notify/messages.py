"""What a delivery says: an e-mail (subject, body) or a robot's JSON, in one language.

The text is the inbox's own sentence (tracking.service.render_notification) without any
markup: e-mail is text/plain and every robot gets its `text` message type, so a name or an
answer a person typed is shown as typed and can never become a link, a heading or a mention.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from calibration.i18n import t
from calibration.tracking.service import render_notification

# Feishu reads <at user_id="..."> inside a text message as a mention; the full-width signs
# look the same to a reader and mean nothing to the robot.
_FEISHU_SAFE = str.maketrans({"<": "\uff1c", ">": "\uff1e"})


@dataclass(frozen=True)
class Message:
    """One notification as text in one language."""

    subject: str
    body: str


def _one_line(text: str) -> str:
    # A header may not hold a line break (it would start a new header).
    return " ".join(str(text).split())


def compose(delivery: dict, lang: str, public_url: str = "") -> Message:
    """Subject and body of a delivery's notification (message_key, params, kind)."""
    text = render_notification(delivery["message_key"], delivery["params"], lang)
    params = json.loads(delivery["params"]) if isinstance(delivery["params"], str) else {}
    region = params.get(f"region_{lang}") or params.get("region_en") or ""
    kind = t(f"notify.kind.{delivery['kind']}", lang)
    if kind == f"notify.kind.{delivery['kind']}":
        kind = t("notify.kind.other", lang)
    subject = _one_line(
        t("notify.subject.region", lang, kind=kind, region=region)
        if region
        else t("notify.subject.plain", lang, kind=kind)
    )
    footer = t("notify.footer", lang)
    if public_url:
        footer += "\n" + public_url
    return Message(subject, f"{text}\n\n{footer}")


def email_body(message: Message) -> str:
    """The text/plain body of an e-mail."""
    return message.body


def robot_payload(channel: str, message: Message) -> dict:
    """The JSON a channel's group robot takes, as a text message."""
    text = f"{message.subject}\n{message.body}"
    if channel == "wecom":
        return {"msgtype": "text", "text": {"content": text}}
    if channel == "dingtalk":
        return {"msgtype": "text", "text": {"content": text}}
    if channel == "feishu":
        return {"msg_type": "text", "content": {"text": text.translate(_FEISHU_SAFE)}}
    raise ValueError(f"unknown robot channel {channel!r}")
