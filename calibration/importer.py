"""Validated import of history, signals, regions, actuals (CSV in UTF-8/BOM/GBK, or XLSX).

A file with any bad row changes nothing; an accepted file is upserted in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from calibration import settings
from calibration.auth import User
from calibration.periods import parse_series
from calibration.store import data as q
from calibration.store import tracking as tq
from calibration.store import transaction
from calibration.store.core import utcnow
from calibration.tracking import DecreasingCumulativeError, to_daily

KINDS = ("history", "signals", "regions", "actuals")
DIMENSIONS = ("market", "pipeline", "capacity")
MAX_REPORTED = 50

# Header aliases (lower-case, stripped) → canonical column.
ALIASES = {
    "region": ("region", "区域", "地区", "大区", "region_id"),
    "period": ("period", "期间", "周期", "时期", "quarter", "季度"),
    "metric": ("metric", "指标"),
    "value": ("value", "数值", "值", "数量"),
    "signal": ("signal", "信号"),
    "dimension": ("dimension", "维度"),
    "name": ("name", "名称", "name_en"),
    "name_zh": ("name_zh", "中文名", "中文名称"),
    "parent": ("parent", "上级", "上级区域"),
    "lead": ("lead", "负责人"),
    "date": ("date", "日期"),
}
REQUIRED = {
    "history": ("region", "period", "metric", "value"),
    "signals": ("region", "period", "signal", "value"),
    "regions": ("region",),
    "actuals": ("region", "date", "metric", "value"),
}
OPTIONAL = {
    "history": (),
    "signals": ("dimension",),
    "regions": ("name", "name_zh", "parent", "lead"),
    "actuals": (),
}
KEYS = {
    "history": ("region", "metric", "period"),
    "signals": ("region", "signal", "period"),
    "regions": ("region",),
    "actuals": ("region", "metric", "date"),
}
# Actuals dates: ISO 2026-01-05 or 2026/1/5 (Excel cells may carry a midnight time).
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]00:00:00(?:\.0+)?)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Problem:
    """One reason a file was refused: where and why."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


class ImportRejected(Exception):
    """The file was refused; nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems[:MAX_REPORTED]
        self.total = total if total is not None else len(problems)
        super().__init__(self.report())

    def report(self) -> str:
        """The first problems, one per line, and the total count."""
        lines = [str(p) for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more problems")
        lines.append(f"{self.total} problem(s); nothing was imported.")
        return "\n".join(lines)


@dataclass
class ImportResult:
    """What an accepted import did."""

    kind: str
    file_name: str
    rows: int
    inserted: int
    updated: int
    source_id: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        """Rows identical to what was stored."""
        return self.rows - self.inserted - self.updated

    def summary(self) -> str:
        """One line for the CLI and the page."""
        base = (
            f"{self.file_name}: {self.rows} {self.kind} rows — {self.inserted} new, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        return base + ("" if self.source_id else " (nothing to change)")


def decode_csv(name: str, data: bytes) -> str:
    """Text of a CSV file in UTF-8 (with or without BOM) or GBK; refuse anything else."""
    if b"\x00" in data[:4096]:
        raise ImportRejected(
            [Problem(name, None, None, "the file is binary or UTF-16; save it as CSV (UTF-8)")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK, which Chinese Excel exports use.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise ImportRejected(
            [Problem(name, None, None, "the text encoding is not recognised; use UTF-8 or GBK")]
        )
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise ImportRejected(
            [Problem(name, None, None, f"the file does not decode as {best.encoding}")]
        ) from None


def read_table(name: str, data: bytes, sheet: str | None = None) -> pd.DataFrame:
    """Every cell as text, header row normalised; XLSX by content, else CSV."""
    limit = settings.max_upload_mb() * 1024 * 1024
    if len(data) > limit:
        raise ImportRejected(
            [Problem(name, None, None, f"the file is larger than {settings.max_upload_mb()} MB")]
        )
    if not data.strip():
        raise ImportRejected([Problem(name, None, None, "the file is empty")])
    if data[:4] == b"PK\x03\x04":
        try:
            frame = pd.read_excel(
                io.BytesIO(data), sheet_name=sheet or 0, dtype=str, engine="calamine"
            )
        except ValueError as exc:
            raise ImportRejected([Problem(name, None, None, f"cannot read the sheet: {exc}")]) from None
        except Exception:
            raise ImportRejected(
                [Problem(name, None, None, "the file is not a readable XLSX workbook")]
            ) from None
    else:
        text = decode_csv(name, data)
        frame = _parse_csv(name, text)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _parse_csv(name: str, text: str) -> pd.DataFrame:
    # pyarrow's multi-threaded reader is ~3x faster on large files; the C reader
    # handles tab-separated files and gives the clearer message on malformed rows.
    head = text[:2000]
    tabbed = "\t" in head and "," not in head
    if not tabbed:
        try:
            return pd.read_csv(
                io.BytesIO(text.encode("utf-8")), dtype=str, keep_default_na=False, engine="pyarrow"
            )
        except Exception:  # noqa: BLE001 - retried below with the reader that explains errors
            pass
    try:
        return pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, sep="\t" if tabbed else ","
        )
    except pd.errors.EmptyDataError:
        raise ImportRejected([Problem(name, None, None, "the file is empty")]) from None
    except pd.errors.ParserError as exc:
        raise ImportRejected([Problem(name, None, None, f"not a valid CSV: {exc}")]) from None


def normalise_columns(name: str, frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Rename aliased headers to canonical names; refuse missing required columns."""
    rename: dict[str, str] = {}
    for canonical, names in ALIASES.items():
        for col in frame.columns:
            if col in names and canonical not in rename.values():
                rename[col] = canonical
    frame = frame.rename(columns=rename)
    missing = [c for c in REQUIRED[kind] if c not in frame.columns]
    if missing:
        raise ImportRejected(
            [
                Problem(name, 1, col, f"required column is missing (found: {', '.join(frame.columns)})")
                for col in missing
            ]
        )
    keep = [c for c in REQUIRED[kind] + OPTIONAL[kind] if c in frame.columns]
    frame = frame[keep].copy()
    for col in keep:
        frame[col] = frame[col].fillna("").astype(str).str.strip()
    if frame.empty:
        raise ImportRejected([Problem(name, None, None, "the file has a header but no rows")])
    return frame


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text (thousands separators allowed); also a mask of bad cells."""
    text = values.astype(str).str.strip()
    has_sep = text.str.contains(",", regex=False)
    if has_sep.any():
        ok_sep = text.str.match(_THOUSANDS)
        text = text.where(~(has_sep & ok_sep), text.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    return numbers, pd.Series(bad, index=values.index)


class _Collector:
    """Gathers problems row by row, vectorised where the checks are."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[int, str, str]] = []

    def add_mask(self, mask: pd.Series, column: str, reason: str | pd.Series) -> None:
        if not mask.any():
            return
        idx = np.flatnonzero(mask.to_numpy())
        reasons = reason if isinstance(reason, str) else None
        for i in idx[: MAX_REPORTED * 2]:
            r = reasons if reasons is not None else str(reason.iloc[i])
            self.items.append((int(i), column, r))
        self.extra = getattr(self, "extra", 0) + max(0, len(idx) - MAX_REPORTED * 2)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort()
        total = len(self.items) + getattr(self, "extra", 0)
        problems = [Problem(self.name, i + 2, col, reason) for i, col, reason in self.items]
        raise ImportRejected(problems, total)


def validate(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    frame: pd.DataFrame,
    kind: str,
    cumulative: bool = False,
) -> pd.DataFrame:
    """Check every row of a normalised frame; return the frame ready to store."""
    issues = _Collector(name)
    for col in REQUIRED[kind]:
        issues.add_mask(frame[col] == "", col, "value is missing")
    if kind == "regions":
        return _validate_regions(name, frame, issues)
    if kind == "actuals":
        return _validate_actuals(name, frame, issues, cumulative)

    parsed = parse_series(frame["period"])
    issues.add_mask(
        (frame["period"] != "") & parsed["freq"].isna(),
        "period",
        "unrecognised period (use 2025Q1, 2025-Q1, 2025-03 or 2025)",
    )
    values, bad_value = parse_numbers(frame["value"])
    raw = frame["value"].str.lower()
    issues.add_mask(
        (frame["value"] != "") & bad_value & raw.isin(["nan", "inf", "-inf", "+inf", "infinity"]),
        "value",
        "NaN or infinite values are not allowed",
    )
    issues.add_mask(
        (frame["value"] != "") & bad_value & ~raw.isin(["nan", "inf", "-inf", "+inf", "infinity"]),
        "value",
        "not a number",
    )
    group_col = "metric" if kind == "history" else "signal"
    if kind == "history":
        issues.add_mask(~bad_value & (values < 0), "value", "negative values are not allowed")
        stored = {m: q.metric_frequency(cur, m) for m in frame["metric"].unique()}
    else:
        stored = q.signal_frequencies(cur)
    # One frequency per metric (or signal): the stored one, else the file's most common.
    freq = parsed["freq"]
    valid_freq = freq.notna()
    expected = {}
    for key, grp in freq[valid_freq].groupby(frame.loc[valid_freq, group_col]):
        expected[key] = stored.get(key) or grp.mode().iloc[0]
    want = frame[group_col].map(expected)
    mixed = valid_freq & want.notna() & (freq != want)
    if mixed.any():
        names = {"Q": "quarterly", "M": "monthly", "A": "annual"}
        issues.add_mask(
            mixed,
            "period",
            "mixed frequencies: " + frame[group_col] + " is " + want.map(names).fillna("")
            + ", this period is not",
        )
    dimension = pd.Series("market", index=frame.index)
    if kind == "signals" and "dimension" in frame.columns:
        given = frame["dimension"].str.lower()
        issues.add_mask(
            (given != "") & ~given.isin(DIMENSIONS),
            "dimension",
            f"unknown dimension (use {', '.join(DIMENSIONS)})",
        )
        dimension = given.where(given != "", "market")
    keys = list(KEYS[kind])
    key_frame = frame[keys[:-1]].assign(period=parsed["label"].fillna(frame["period"]))
    dup = key_frame.duplicated(keep=False)
    if dup.any():
        first = key_frame[dup].reset_index().groupby(keys)["index"].transform("min")
        later = key_frame.duplicated(keep="first")
        first_row = pd.Series(first.to_numpy(), index=key_frame[dup].index).reindex(frame.index)
        issues.add_mask(
            later,
            keys[-1],
            "duplicate of row " + (first_row.fillna(-2).astype(int) + 2).astype(str) + " (same " + ", ".join(keys) + ")",
        )
    issues.raise_if_any()

    out = pd.DataFrame(
        {
            "region": frame["region"],
            group_col: frame[group_col],
            "period": parsed["label"],
            "ordinal": parsed["ordinal"].astype("int64"),
            "value": values,
        }
    )
    out.attrs["frequencies"] = {k: v for k, v in expected.items() if kind == "history"}
    if kind == "signals":
        out["frequency"] = freq
        out["dimension"] = dimension
    return out


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates from text (2026-01-05 or 2026/1/5); NaT where not a real calendar date."""
    parts = values.astype(str).str.strip().str.extract(_DATE)
    iso = parts[0] + "-" + parts[1].str.zfill(2) + "-" + parts[2].str.zfill(2)
    return pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")


def _validate_actuals(
    name: str, frame: pd.DataFrame, issues: _Collector, cumulative: bool
) -> pd.DataFrame:
    dates = parse_dates(frame["date"])
    issues.add_mask(
        (frame["date"] != "") & dates.isna(),
        "date",
        "unrecognised date (use 2026-01-05 or 2026/1/5)",
    )
    values, bad_value = parse_numbers(frame["value"])
    issues.add_mask((frame["value"] != "") & bad_value, "value", "not a number")
    what = "cumulative" if cumulative else "daily"
    issues.add_mask(~bad_value & (values < 0), "value", f"negative {what} values are not allowed")
    key = frame[["region", "metric"]].assign(date=dates)
    dup = key.duplicated(keep="first") & dates.notna()
    if dup.any():
        first = key.reset_index().groupby(["region", "metric", "date"])["index"].transform("min")
        issues.add_mask(
            dup,
            "date",
            "duplicate of row "
            + (pd.Series(first.to_numpy(), index=frame.index).fillna(-2).astype(int) + 2)
            .astype(str)
            + " (same region, metric, date)",
        )
    issues.raise_if_any()
    clean = pd.DataFrame(
        {"region": frame["region"], "metric": frame["metric"], "date": dates, "value": values}
    )
    try:
        daily = to_daily(clean, cumulative)
    except DecreasingCumulativeError as exc:
        for region, day, prev, value in exc.rows:
            at_row = (clean["region"] == region) & (clean["date"] == pd.Timestamp(day))
            at_row &= clean["value"] == value
            issues.add_mask(
                at_row,
                "value",
                f"cumulative value for region {region} decreases on {day:%Y-%m-%d}: "
                f"{value:g} after {prev:g}",
            )
        issues.raise_if_any()
        raise
    daily["date"] = daily["date"].dt.date
    return daily[["region", "metric", "date", "value"]]


def _validate_regions(name: str, frame: pd.DataFrame, issues: _Collector) -> pd.DataFrame:
    dup = frame["region"].duplicated(keep="first") & (frame["region"] != "")
    issues.add_mask(dup, "region", "duplicate region id")
    issues.raise_if_any()
    name_col = frame["name"] if "name" in frame.columns else pd.Series("", index=frame.index)
    name_zh = frame["name_zh"] if "name_zh" in frame.columns else pd.Series("", index=frame.index)
    # A Chinese display name in the `name` column belongs in name_zh.
    is_cjk = name_col.str.contains(_CJK)
    name_zh = name_zh.where(name_zh != "", name_col.where(is_cjk, ""))
    name_en = name_col.where(~is_cjk, "")

    def blank_none(s: pd.Series) -> pd.Series:
        return s.astype(object).where(s != "", None)

    return pd.DataFrame(
        {
            "region": frame["region"],
            "name_en": blank_none(name_en.where(name_en != "", frame["region"])),
            "name_zh": blank_none(name_zh),
            "parent": blank_none(frame.get("parent", pd.Series("", index=frame.index))),
            "lead": blank_none(frame.get("lead", pd.Series("", index=frame.index))),
        }
    )


def import_bytes(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    kind: str,
    file_name: str,
    data: bytes,
    sheet: str | None = None,
    *,
    cumulative: bool = False,
) -> ImportResult:
    """Validate and store one file; ImportRejected (nothing written) on any bad row.

    `cumulative` applies to actuals only: the values are running totals, stored as daily.
    """
    if actor.role not in ("analyst", "admin"):
        raise PermissionError("only an analyst or admin may import data")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    name = Path(file_name).name
    frame = normalise_columns(name, read_table(name, data, sheet), kind)
    clean = validate(cur, name, frame, kind, cumulative)
    digest = hashlib.sha256(data).hexdigest()
    with transaction(cur):
        if kind == "regions":
            inserted, updated = q.changed_regions(cur, clean)
        elif kind == "actuals":
            inserted, updated = tq.count_actual_changes(cur, clean)
        else:
            inserted, updated = q.count_changes(cur, kind, clean)
        if inserted == 0 and updated == 0:
            return ImportResult(kind, name, len(clean), 0, 0, None)
        source_id = q.insert_source(cur, name, kind, digest, len(clean), utcnow(), actor.username)
        if kind == "regions":
            q.upsert_regions(cur, clean)
        elif kind == "actuals":
            q.ensure_regions(cur, clean["region"].unique().tolist())
            tq.upsert_actuals(cur, clean, source_id)
        else:
            q.ensure_regions(cur, clean["region"].unique().tolist())
            if kind == "history":
                q.ensure_metrics(cur, clean.attrs["frequencies"])
                q.upsert_history(cur, clean, source_id)
            else:
                q.upsert_signals(cur, clean, source_id)
    return ImportResult(kind, name, len(clean), inserted, updated, source_id)


def import_file(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    kind: str,
    path: str | Path,
    sheet: str | None = None,
    *,
    cumulative: bool = False,
) -> ImportResult:
    """Import a file from disk (see import_bytes)."""
    path = Path(path)
    if not path.is_file():
        raise ImportRejected([Problem(path.name, None, None, "file not found")])
    size = path.stat().st_size
    if size > settings.max_upload_mb() * 1024 * 1024:
        raise ImportRejected(
            [Problem(path.name, None, None, f"the file is larger than {settings.max_upload_mb()} MB")]
        )
    return import_bytes(
        cur, actor, kind, path.name, path.read_bytes(), sheet, cumulative=cumulative
    )
