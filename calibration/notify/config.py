"""The company's delivery settings, read from the environment (calibration.settings).

Robot webhooks are given per group: `CALIBRATE_WECOM_WEBHOOKS="east=https://...,*=https://..."`
where a group is a region id, or `*` for every region without its own robot. The URL
carries the robot's token, so it is looked up only when sending and never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from calibration import settings

ROBOTS = ("wecom", "dingtalk", "feishu")
CHANNELS = ("email", *ROBOTS)
ANY_GROUP = "*"
_SPLIT = re.compile(r"[,\s]+")


def parse_groups(text: str) -> dict[str, str]:
    """`group=value` pairs separated by commas or white space; malformed pairs are skipped."""
    out: dict[str, str] = {}
    for item in _SPLIT.split(text or ""):
        group, sep, value = item.partition("=")
        if sep and group.strip() and value.strip():
            out[group.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Smtp:
    """Where and how e-mail is sent."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    sender: str
    starttls: bool
    ssl: bool


@dataclass(frozen=True)
class Company:
    """Everything the worker needs to know of the company's channels."""

    smtp: Smtp | None
    webhooks: dict[str, dict[str, str]] = field(repr=False)
    secrets: dict[str, dict[str, str]] = field(repr=False)
    group_lang: str = "zh"
    timeout: float = 10.0
    max_attempts: int = 5
    backoff_minutes: float = 1.0
    max_age_hours: float = 24.0
    public_url: str = ""

    @property
    def configured(self) -> bool:
        """Whether any channel is set up (otherwise the server starts no worker)."""
        return self.smtp is not None or any(self.webhooks.values())

    def group_for(self, channel: str, region: str | None) -> str | None:
        """The robot group a region's messages go to on a channel (its own, else `*`)."""
        hooks = self.webhooks.get(channel, {})
        if region and region in hooks:
            return region
        return ANY_GROUP if ANY_GROUP in hooks else None

    def describe(self) -> dict[str, str]:
        """Per channel, what is configured, without passwords or webhook URLs."""
        out = {}
        if self.smtp is not None:
            mode = "SSL" if self.smtp.ssl else ("STARTTLS" if self.smtp.starttls else "plain")
            out["email"] = f"{self.smtp.host}:{self.smtp.port} ({mode}), from {self.smtp.sender}"
        for channel in ROBOTS:
            groups = sorted(self.webhooks.get(channel, {}))
            if groups:
                signed = sorted(self.secrets.get(channel, {}))
                out[channel] = ", ".join(groups) + (
                    f" (signed: {', '.join(signed)})" if signed else ""
                )
        return out


def company() -> Company:
    """The settings as the environment gives them now."""
    host = settings.smtp_host()
    smtp = (
        Smtp(
            host,
            settings.smtp_port(),
            settings.smtp_user(),
            settings.smtp_password(),
            settings.smtp_from(),
            settings.smtp_starttls(),
            settings.smtp_ssl(),
        )
        if host
        else None
    )
    return Company(
        smtp=smtp,
        webhooks={c: parse_groups(settings.robot_setting(c)) for c in ROBOTS},
        secrets={c: parse_groups(settings.robot_setting(c, "SECRETS")) for c in ROBOTS},
        group_lang=settings.notify_group_lang(),
        timeout=settings.notify_timeout(),
        max_attempts=settings.notify_max_attempts(),
        backoff_minutes=settings.notify_backoff_minutes(),
        max_age_hours=settings.notify_max_age_hours(),
        public_url=settings.public_url(),
    )
