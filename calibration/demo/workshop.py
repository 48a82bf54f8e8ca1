"""Load the demo workshop: data from data/demo, one account per role, and later steps."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from calibration import settings
from calibration.accounts import auth
from calibration.data import importer
from calibration.store import data as dq
from calibration.store import users as uq

DEMO_PASSWORD = "calibrate-demo"
DEMO_REGIONS = ("east", "south", "north", "southwest", "central", "northeast")
DEMO_ACCOUNTS = (
    ("exec", "Chen Wei 陈伟 (Executive)", "executive", ()),
    ("analyst", "Li Na 李娜 (Analyst)", "analyst", ()),
    ("hrbp", "Zhao Min 赵敏 (HRBP)", "hrbp", ()),
    ("admin", "Admin 管理员", "admin", ()),
    ("lead_east", "Wang Lei 王磊 (East)", "lead", ("east",)),
    ("lead_south", "Liu Yang 刘洋 (South)", "lead", ("south",)),
    ("lead_north", "Zhang Jing 张静 (North)", "lead", ("north",)),
    ("lead_southwest", "Yang Fan 杨帆 (Southwest)", "lead", ("southwest",)),
    ("lead_central", "Huang Tao 黄涛 (Central)", "lead", ("central",)),
    ("lead_northeast", "Zhou Hui 周慧 (Northeast)", "lead", ("northeast",)),
)

# Later features (cycles, proposals, letters, actuals) append their demo steps here.
DemoStep = Callable[[duckdb.DuckDBPyConnection], None]
EXTRA_STEPS: list[DemoStep] = []


def is_demo(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database was seeded with the demo workshop."""
    return uq.get_setting(cur, "demo") == "1"


def load_demo(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Seed the demo workshop into a database; returns one summary line per step."""
    lines = []
    for kind in ("regions", "history", "signals"):
        path = settings.demo_dir() / f"{kind}.csv"
        result = importer.import_file(cur, auth.SYSTEM, kind, path)
        lines.append(result.summary())
    for username, display, role, regions in DEMO_ACCOUNTS:
        if uq.get_user(cur, username) is None:
            auth.add_user(cur, auth.SYSTEM, username, role, DEMO_PASSWORD, list(regions), display)
    lines.append(f"{len(DEMO_ACCOUNTS)} demo accounts (password: {DEMO_PASSWORD})")
    uq.set_setting(cur, "demo", "1")
    for step in _steps():
        step(cur)
        lines.append(f"demo step: {step.__doc__ or step.__name__}")
    return lines


def _steps() -> list[DemoStep]:
    # Imported lazily so that optional features register only when present.
    import calibration.letters.demo  # noqa: F401 - registers its step
    import calibration.negotiation.demo  # noqa: F401 - registers its step
    import calibration.tracking.demo  # noqa: F401 - registers its step (after the cycles)

    # A step may ask to run later (tracking needs the cycles other steps create).
    return sorted(EXTRA_STEPS, key=lambda step: getattr(step, "demo_order", 0))


def init_database(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Seed the demo into an empty database; leave a used one alone."""
    if uq.count_users(cur) > 0 or dq.count_history(cur) > 0:
        return ["database already initialised"]
    return load_demo(cur)
