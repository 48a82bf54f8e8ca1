"""Service functions behind the Data page: sources, preview, explorer (role-checked)."""

from __future__ import annotations

import duckdb
import pandas as pd

from calibration import access
from calibration.accounts import directory
from calibration.accounts.auth import TOKEN_ACTOR_PREFIX, User
from calibration.data import importer
from calibration.i18n import name_of, region_name, t
from calibration.store import data as q
from calibration.store.core import utcnow


def visible_regions(cur: duckdb.DuckDBPyConnection, user: User, lang: str) -> pd.DataFrame:
    """Regions the user may see, with a display label."""
    regions = q.list_regions(cur)
    regions = regions[
        regions["region"].isin(access.visible_regions(user, list(regions["region"])))
    ].copy()
    regions["label"] = [
        region_name(r, en, zh, lang)
        for r, en, zh in zip(regions["region"], regions["name_en"], regions["name_zh"], strict=True)
    ]
    return regions.reset_index(drop=True)


def sources_with_age(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Loaded files, newest first, with their age in hours (how fresh each feed is)."""
    src = q.list_sources(cur)
    now = pd.Timestamp(utcnow())
    src["age_hours"] = ((now - pd.to_datetime(src["loaded_at"])).dt.total_seconds() / 3600).round(1)
    return src


def freshness(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per kind, the newest load and its age in hours."""
    src = sources_with_age(cur)
    if src.empty:
        return src
    return (
        src.sort_values("loaded_at")
        .groupby("kind", as_index=False)
        .last()[["kind", "file_name", "loaded_at", "loaded_by", "age_hours"]]
    )


def preview(
    name: str, data: bytes, kind: str, sheet: str | None = None, rows: int = 20
) -> pd.DataFrame:
    """The first rows of an upload with normalised headers (raises ImportRejected)."""
    frame = importer.normalise_columns(name, importer.read_table(name, data, sheet), kind)
    return frame.head(rows)


def region_data(
    cur: duckdb.DuckDBPyConnection, user: User, region: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History and signals of one region the user may see."""
    access.require(user, "region.read", region)
    return q.region_history(cur, region), q.region_signals(cur, region)


def overview(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per metric: regions, periods, range and rows."""
    return q.history_summary(cur)


def sources_view(cur: duckdb.DuckDBPyConnection, user: User, lang: str) -> pd.DataFrame:
    """Loaded files for people: kind in lang's words, who loaded it by name, a short
    fingerprint, age in hours (newest first)."""
    src = sources_with_age(cur)
    names = directory.display_names(cur, user, lang)
    src["kind"] = [t(f"data.kind_{k}", lang) for k in src["kind"]]
    src["loaded_by"] = [
        t("data.by_token", lang, name=u.removeprefix(TOKEN_ACTOR_PREFIX))
        if str(u).startswith(TOKEN_ACTOR_PREFIX)
        else directory.person(names, u)
        for u in src["loaded_by"]
    ]
    src["sha256"] = [str(h)[:12] for h in src["sha256"]]
    return src


def overview_view(cur: duckdb.DuckDBPyConnection, lang: str) -> pd.DataFrame:
    """Per metric (by its name in lang): regions, periods, first and last period, rows."""
    summary = q.history_summary(cur)
    summary["metric"] = [name_of("metric", m, lang) for m in summary["metric"]]
    return summary
