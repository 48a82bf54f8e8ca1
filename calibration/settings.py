"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def db_path() -> str:
    """Database file: CALIBRATE_DB, default data/calibrate.duckdb."""
    return os.environ.get("CALIBRATE_DB", str(ROOT / "data" / "calibrate.duckdb"))


def idle_minutes() -> float:
    """Minutes of inactivity after which a signed-in session expires (fractions allowed)."""
    # A fraction lets a test see an expiry in seconds; whole minutes read as an int ("30").
    minutes = float(os.environ.get("CALIBRATE_IDLE_MINUTES", "30"))
    return int(minutes) if minutes.is_integer() else minutes


def board_refresh_seconds() -> float:
    """How often each open live board checks for changes (CALIBRATE_BOARD_REFRESH, default 3)."""
    return max(0.5, float(os.environ.get("CALIBRATE_BOARD_REFRESH", "3")))


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
