"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent


def db_path() -> str:
    """Database file: CALIBRATE_DB, default data/calibrate.duckdb."""
    return os.environ.get("CALIBRATE_DB", str(ROOT / "data" / "calibrate.duckdb"))


def idle_minutes() -> float:
    """Minutes of inactivity after which a signed-in session expires (fractions allowed)."""
    # A fraction lets a test see an expiry in seconds; whole minutes read as an int ("30").
    minutes = float(os.environ.get("CALIBRATE_IDLE_MINUTES", "30"))
    return int(minutes) if minutes.is_integer() else minutes


def session_hours() -> float:
    """Longest life of a sign-in session, however active (CALIBRATE_SESSION_HOURS, default 12)."""
    try:
        return max(0.01, float(os.environ.get("CALIBRATE_SESSION_HOURS", "12")))
    except ValueError:
        return 12.0


def trust_forwarded_proto() -> bool:
    """Believe a proxy's X-Forwarded-Proto for the cookie's Secure flag (CALIBRATE_TRUST_PROXY=1).

    Only behind a proxy that sets the header itself: otherwise a client could claim https.
    """
    return os.environ.get("CALIBRATE_TRUST_PROXY", "") in ("1", "true", "yes")


def board_refresh_seconds() -> float:
    """How often each open live board checks for changes (CALIBRATE_BOARD_REFRESH, default 3)."""
    return max(0.5, float(os.environ.get("CALIBRATE_BOARD_REFRESH", "3")))


def board_highlight_seconds() -> float:
    """How long a changed region keeps its mark on the board (CALIBRATE_BOARD_HIGHLIGHT, default 15)."""
    return max(1.0, float(os.environ.get("CALIBRATE_BOARD_HIGHLIGHT", "15")))


def company_tz() -> ZoneInfo:
    """The company's time zone for clocks people read (CALIBRATE_TZ, an IANA name; default UTC)."""
    try:
        return ZoneInfo(os.environ.get("CALIBRATE_TZ", "").strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        # A mistyped zone shows UTC (and says so) rather than stop every board.
        return ZoneInfo("UTC")


def present_page_seconds() -> float:
    """How long presentation mode shows each page of regions (CALIBRATE_PRESENT_PAGE_SECONDS)."""
    try:
        return max(1.0, float(os.environ.get("CALIBRATE_PRESENT_PAGE_SECONDS", "10")))
    except ValueError:
        return 10.0


def max_upload_mb() -> int:
    """Largest accepted import file, in megabytes."""
    return int(os.environ.get("CALIBRATE_MAX_UPLOAD_MB", "50"))


def _int(name: str, default: int) -> int:
    """An integer setting; a malformed value falls back to the default rather than crash."""
    try:
        return int(os.environ.get(name, str(default)))
    except ValueError:
        return default


def max_import_rows() -> int:
    """Most data rows an import file may have (CALIBRATE_MAX_ROWS)."""
    return _int("CALIBRATE_MAX_ROWS", 2_000_000)


def max_import_columns() -> int:
    """Most columns an import file may have (CALIBRATE_MAX_COLUMNS)."""
    return _int("CALIBRATE_MAX_COLUMNS", 200)


def max_cell_chars() -> int:
    """Longest text in one cell of an import file (CALIBRATE_MAX_CELL_CHARS)."""
    return _int("CALIBRATE_MAX_CELL_CHARS", 10_000)


def xlsx_max_uncompressed_mb() -> int:
    """Most bytes an .xlsx may decompress to, all parts together (CALIBRATE_XLSX_MAX_UNPACKED_MB)."""
    return _int("CALIBRATE_XLSX_MAX_UNPACKED_MB", 500)


def xlsx_max_member_mb() -> int:
    """Most bytes one part of an .xlsx may decompress to (CALIBRATE_XLSX_MAX_PART_MB)."""
    return _int("CALIBRATE_XLSX_MAX_PART_MB", 300)


def xlsx_max_ratio() -> int:
    """Highest compression ratio of a large .xlsx part (CALIBRATE_XLSX_MAX_RATIO)."""
    return _int("CALIBRATE_XLSX_MAX_RATIO", 100)


def xlsx_max_members() -> int:
    """Most parts (zip members) an .xlsx may have (CALIBRATE_XLSX_MAX_PARTS)."""
    return _int("CALIBRATE_XLSX_MAX_PARTS", 1000)


def max_region_id_chars() -> int:
    """Longest region id (CALIBRATE_MAX_REGION_ID)."""
    return _int("CALIBRATE_MAX_REGION_ID", 64)


def max_display_name_chars() -> int:
    """Longest display name of a region or person (CALIBRATE_MAX_DISPLAY_NAME)."""
    return _int("CALIBRATE_MAX_DISPLAY_NAME", 120)


def max_cycle_name_chars() -> int:
    """Longest cycle name (CALIBRATE_MAX_CYCLE_NAME)."""
    return _int("CALIBRATE_MAX_CYCLE_NAME", 120)


# Years a period or date may fall in; anything else is a typo or an attack.
MIN_YEAR = 1900
MAX_YEAR = 2200


def login_max_failures() -> int:
    """Failed logins per account within the lockout window before refusing."""
    return int(os.environ.get("CALIBRATE_LOGIN_MAX_FAILURES", "5"))


def login_window_minutes() -> int:
    """Window, in minutes, over which failed logins are counted."""
    return int(os.environ.get("CALIBRATE_LOGIN_WINDOW_MINUTES", "15"))


def company_name() -> str:
    """Company name printed on letters and shown in the app."""
    return os.environ.get("CALIBRATE_COMPANY", "Calibrate Demo SaaS Co.")


def demo_dir() -> Path:
    """Folder of the demo CSV files (CALIBRATE_DEMO_DIR, default data/demo)."""
    return Path(os.environ.get("CALIBRATE_DEMO_DIR", str(ROOT / "data" / "demo")))


def cheap_password_hashes() -> bool:
    """Test suites only (CALIBRATE_TEST_CHEAP_PASSWORDS=1): the cheapest argon2 profile."""
    return os.environ.get("CALIBRATE_TEST_CHEAP_PASSWORDS") == "1"


def read_only() -> bool:
    """Open the database read-only (CALIBRATE_READ_ONLY=1), e.g. to review an archive."""
    return os.environ.get("CALIBRATE_READ_ONLY", "") in ("1", "true", "yes")


def logo_path() -> str | None:
    """Logo image (PNG or JPEG) printed on letters: CALIBRATE_LOGO, default none."""
    return os.environ.get("CALIBRATE_LOGO") or None


def font_cache_dir() -> Path:
    """Where derived (subset) fonts are cached: CALIBRATE_FONT_CACHE, default a temp dir."""
    default = Path(tempfile.gettempdir()) / f"calibrate-fonts-{os.getuid()}"
    return Path(os.environ.get("CALIBRATE_FONT_CACHE") or default)


def api_rate_per_minute() -> int:
    """Calls per minute one API token may make on average (CALIBRATE_API_RATE)."""
    return max(1, _int("CALIBRATE_API_RATE", 60))


def api_burst() -> int:
    """Calls one API token may make at once before the rate applies (CALIBRATE_API_BURST)."""
    return max(1, _int("CALIBRATE_API_BURST", 20))


def backup_dir() -> Path | None:
    """Folder the API's server-side backups are written into (CALIBRATE_BACKUP_DIR; unset: none)."""
    value = os.environ.get("CALIBRATE_BACKUP_DIR", "").strip()
    return Path(value) if value else None


def api_server() -> str | None:
    """Base URL of a running Calibrate server the CLI should go through (CALIBRATE_SERVER)."""
    return os.environ.get("CALIBRATE_SERVER", "").strip() or None


def api_token() -> str | None:
    """API token the CLI sends to that server (CALIBRATE_TOKEN)."""
    return os.environ.get("CALIBRATE_TOKEN", "").strip() or None


# ----------------------------------------------------------------------------- notifications
# Company-wide delivery settings (README "Integrations" → "Notifications"). Passwords and
# webhook URLs (which carry the robot's token) are read here and never shown in the UI.


def smtp_host() -> str:
    """SMTP server for e-mail notifications (CALIBRATE_SMTP_HOST); empty: no e-mail."""
    return os.environ.get("CALIBRATE_SMTP_HOST", "").strip()


def smtp_port() -> int:
    """SMTP port (CALIBRATE_SMTP_PORT, default 587)."""
    return _int("CALIBRATE_SMTP_PORT", 587)


def smtp_user() -> str:
    """SMTP login (CALIBRATE_SMTP_USER); empty: no login."""
    return os.environ.get("CALIBRATE_SMTP_USER", "")


def smtp_password() -> str:
    """SMTP password (CALIBRATE_SMTP_PASSWORD)."""
    return os.environ.get("CALIBRATE_SMTP_PASSWORD", "")


def smtp_from() -> str:
    """Sender address (CALIBRATE_SMTP_FROM, default calibrate@localhost)."""
    return os.environ.get("CALIBRATE_SMTP_FROM", "") or "calibrate@localhost"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def smtp_starttls() -> bool:
    """Upgrade the SMTP connection with STARTTLS (CALIBRATE_SMTP_STARTTLS, default on)."""
    return _flag("CALIBRATE_SMTP_STARTTLS", True)


def smtp_ssl() -> bool:
    """Connect with implicit TLS, e.g. port 465 (CALIBRATE_SMTP_SSL, default off)."""
    return _flag("CALIBRATE_SMTP_SSL", False)


def robot_setting(channel: str, what: str = "WEBHOOKS") -> str:
    """Raw text of CALIBRATE_<CHANNEL>_<WHAT>, e.g. CALIBRATE_WECOM_WEBHOOKS."""
    return os.environ.get(f"CALIBRATE_{channel.upper()}_{what}", "")


def retention_days() -> int:
    """Days access records are kept (CALIBRATE_RETENTION_DAYS, default 400; 0: forever)."""
    return max(0, _int("CALIBRATE_RETENTION_DAYS", 400))


def notify_interval() -> float:
    """Seconds between the server's delivery passes (CALIBRATE_NOTIFY_INTERVAL, 0: off)."""
    try:
        return max(0.0, float(os.environ.get("CALIBRATE_NOTIFY_INTERVAL", "30")))
    except ValueError:
        return 30.0


def notify_timeout() -> float:
    """Seconds one send may take before it counts as failed (CALIBRATE_NOTIFY_TIMEOUT)."""
    try:
        return min(120.0, max(0.5, float(os.environ.get("CALIBRATE_NOTIFY_TIMEOUT", "10"))))
    except ValueError:
        return 10.0


def notify_max_attempts() -> int:
    """Attempts before a delivery is marked failed (CALIBRATE_NOTIFY_MAX_ATTEMPTS, default 5)."""
    return max(1, _int("CALIBRATE_NOTIFY_MAX_ATTEMPTS", 5))


def notify_backoff_minutes() -> float:
    """Wait after the first failure, doubled after each next one (CALIBRATE_NOTIFY_BACKOFF_MINUTES)."""
    try:
        return max(0.0, float(os.environ.get("CALIBRATE_NOTIFY_BACKOFF_MINUTES", "1")))
    except ValueError:
        return 1.0


def notify_max_age_hours() -> float:
    """Older notifications are never sent out, only kept in the inbox (CALIBRATE_NOTIFY_MAX_AGE_HOURS)."""
    try:
        return max(0.0, float(os.environ.get("CALIBRATE_NOTIFY_MAX_AGE_HOURS", "24")))
    except ValueError:
        return 24.0


def notify_group_lang() -> str:
    """Language of group robot messages (CALIBRATE_NOTIFY_GROUP_LANG, zh or en; default zh)."""
    lang = os.environ.get("CALIBRATE_NOTIFY_GROUP_LANG", "zh").strip()
    return lang if lang in ("en", "zh") else "zh"


def public_url() -> str:
    """The app's address for links in messages (CALIBRATE_PUBLIC_URL); empty: no link."""
    return os.environ.get("CALIBRATE_PUBLIC_URL", "").strip()
