"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def db_path() -> str:
    """Database file: CALIBRATE_DB, default data/calibrate.duckdb."""
    return os.environ.get("CALIBRATE_DB", str(ROOT / "data" / "calibrate.duckdb"))


def idle_minutes() -> int:
    """Minutes of inactivity after which a signed-in session expires."""
    return int(os.environ.get("CALIBRATE_IDLE_MINUTES", "30"))


def board_refresh_seconds() -> float:
    """How often each open live board checks for changes (CALIBRATE_BOARD_REFRESH, default 3)."""
    return max(0.5, float(os.environ.get("CALIBRATE_BOARD_REFRESH", "3")))


def max_upload_mb() -> int:
    """Largest accepted import file, in megabytes."""
    return int(os.environ.get("CALIBRATE_MAX_UPLOAD_MB", "200"))


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
