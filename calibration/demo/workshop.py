"""Load the demo workshop: data from data/demo, one account per role, then each feature's step."""

from __future__ import annotations

import duckdb

from calibration import settings
from calibration.accounts import auth
from calibration.data import importer
from calibration.letters.demo import seed_letters
from calibration.negotiation.demo import seed_negotiation
from calibration.store import data as dq
from calibration.store import users as uq
from calibration.tracking.demo import seed_tracking

DEMO_PASSWORD = "calibrate-demo"
DEMO_REGIONS = ("east", "south", "north", "southwest", "central", "northeast")
# The demo's metrics and their units (numbers.py formats by unit: counts whole, money by size).
DEMO_UNITS = {"new_customers": "count", "revenue": "CNY"}
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
    for metric, unit in DEMO_UNITS.items():
        dq.set_metric_unit(cur, metric, unit)
    for username, display, role, regions in DEMO_ACCOUNTS:
        if uq.get_user(cur, username) is None:
            auth.add_user(cur, auth.SYSTEM, username, role, DEMO_PASSWORD, list(regions), display)
    lines.append(f"{len(DEMO_ACCOUNTS)} demo accounts (password: {DEMO_PASSWORD})")
    uq.set_setting(cur, "demo", "1")
    lines.extend(seed_features(cur))
    return lines


def seed_features(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Run each feature's demo step in order; returns one line per step."""
    # The order matters: letters close a cycle of their own after negotiation's open one,
    # and tracking evaluates every cycle the earlier steps created.
    seed_negotiation(cur)
    seed_letters(cur, DEMO_PASSWORD)
    seed_tracking(cur)
    return [
        f"demo step: {step.__doc__}" for step in (seed_negotiation, seed_letters, seed_tracking)
    ]


def init_database(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Seed the demo into an empty database; leave a used one alone."""
    if uq.count_users(cur) > 0 or dq.count_history(cur) > 0:
        return ["database already initialised"]
    return load_demo(cur)
