"""Validated import of history, signals, regions, actuals (CSV in UTF-8/BOM/GBK, or XLSX).

A file with any bad row changes nothing; an accepted file is upserted in one transaction.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import html
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import NoReturn

import duckdb
import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from calibration import access, settings
from calibration.accounts.auth import User
from calibration.data.actuals import DecreasingCumulativeError, to_daily
from calibration.data.report import KINDS as KINDS
from calibration.data.report import MAX_REPORTED as MAX_REPORTED
from calibration.data.report import ImportRejected as ImportRejected
from calibration.data.report import ImportResult as ImportResult
from calibration.data.report import Problem as Problem
from calibration.periods import parse_series
from calibration.store import data as q
from calibration.store import tracking as tq
from calibration.store import transaction
from calibration.store.core import utcnow

DIMENSIONS = ("market", "pipeline", "capacity")

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


def _rejected(
    name: str, key: str, row: int | None = None, column: str | None = None, **params: object
) -> ImportRejected:
    """ImportRejected with a single problem, its reason the English text of key."""
    return ImportRejected([Problem.of(name, row, column, key, **params)])


def _refuse(name: str, key: str, **params: object) -> NoReturn:
    """Raise ImportRejected with a single problem about the whole file."""
    raise _rejected(name, key, **params)


def _wrong_encoding(name: str, data: bytes) -> ImportRejected:
    """The refusal for text in an encoding we do not accept, naming a guess when there is one."""
    best = from_bytes(data[:200_000]).best()
    if best is None:
        return _rejected(name, "data.err.encoding")
    return _rejected(name, "data.err.encoding_guess", encoding=best.encoding)


def _plausible_chinese(text: str) -> bool:
    """Whether text decoded as GB18030 reads like real GBK text, not Latin-1 or Shift-JIS.

    Bytes of other encodings pair up into rare GBK-extension characters ("Zürich" becomes
    "Z黵ich") or land in private-use and 4-byte ranges; real Chinese exports are almost all
    in the common GB2312 set.
    """
    rare = common = 0
    for ch in set(text):
        if ch.isascii():
            continue
        if unicodedata.category(ch) in ("Co", "Cn", "Cs"):
            return False
        if ord(ch) > 0xFFFF:
            return False
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            rare += 1
    # A few rare characters (names) are fine; mostly rare ones means the wrong codec.
    return rare <= max(2, common // 10)


def decode_csv(name: str, data: bytes) -> str:
    """Text of a CSV file in UTF-8 (with or without BOM) or GBK; refuse anything else."""
    if b"\x00" in data[:4096]:
        raise _rejected(name, "data.err.binary")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK, which Chinese Excel exports use.
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _wrong_encoding(name, data) from None
    if not _plausible_chinese(text):
        raise _wrong_encoding(name, data)
    return text


def read_table(name: str, data: bytes, sheet: str | None = None) -> pd.DataFrame:
    """Every cell as text, header row normalised; XLSX by content, else CSV.

    Sizes, rows, columns and cell length are checked before the parser runs (so a
    decompression bomb or a 100,000-column line is refused without being expanded) and
    again on the parsed table.
    """
    limit = settings.max_upload_mb() * 1024 * 1024
    if len(data) > limit:
        raise _rejected(name, "data.err.too_large", mb=settings.max_upload_mb())
    if not data.strip():
        raise _rejected(name, "data.err.empty")
    if data[:4] == b"PK\x03\x04":
        check_xlsx(name, data)
        try:
            frame = pd.read_excel(
                io.BytesIO(data), sheet_name=sheet or 0, dtype=str, engine="calamine"
            )
        except ValueError as exc:
            raise _rejected(name, "data.err.sheet", detail=str(exc)) from None
        except Exception:
            raise _rejected(name, "data.err.not_xlsx") from None
    else:
        text = decode_csv(name, data)
        _check_csv_shape(name, data, text)
        frame = _parse_csv(name, text)
    _check_frame(name, frame)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _too_many_rows(name: str) -> ImportRejected:
    return _rejected(name, "data.err.too_many_rows", limit=settings.max_import_rows())


def _too_many_columns(name: str, found: int) -> ImportRejected:
    return _rejected(
        name, "data.err.too_many_columns", 1, found=found, limit=settings.max_import_columns()
    )


def _long_cell(name: str, row: int | None, column: str | None) -> ImportRejected:
    return _rejected(name, "data.err.long_cell", row, column, limit=settings.max_cell_chars())


def _check_csv_shape(name: str, data: bytes, text: str) -> None:
    """Refuse too many rows, a too wide header or an overlong line before pandas sees them."""
    if text.count("\n") > settings.max_import_rows() + 1:
        raise _too_many_rows(name)
    max_cols, max_cell = settings.max_import_columns(), settings.max_cell_chars()
    end = text.find("\n")
    first = text if end == -1 else text[:end]
    # Wider than the widest allowed header: refuse without splitting it.
    if len(first) > max_cols * (max_cell + 3):
        raise _too_many_columns(name, first.count(",") + first.count("\t") + 1)
    tabbed = "\t" in first and "," not in first
    header = next(csv.reader([first], delimiter="\t" if tabbed else ","), [])
    if len(header) > max_cols:
        raise _too_many_columns(name, len(header))
    # Line lengths in bytes (vectorised): a line longer than every cell at its limit
    # (4 bytes a character, doubled quotes) must hold an overlong cell.
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], newlines, [len(data)]))
    lengths = np.diff(bounds) - 1
    worst = int(np.argmax(lengths)) if len(lengths) else 0
    if len(lengths) and lengths[worst] > max(len(header), 1) * (4 * max_cell + 3):
        raise _long_cell(name, worst + 1, None)


def _check_frame(name: str, frame: pd.DataFrame) -> None:
    """Rows, columns and cell length of a parsed table against the limits."""
    if len(frame) > settings.max_import_rows():
        raise _too_many_rows(name)
    if len(frame.columns) > settings.max_import_columns():
        raise _too_many_columns(name, len(frame.columns))
    limit = settings.max_cell_chars()
    for col in frame.columns:
        if len(str(col)) > limit:
            raise _long_cell(name, 1, None)
        lengths = frame[col].astype("string").str.len()
        over = (lengths > limit).fillna(False).to_numpy()
        if over.any():
            raise _long_cell(name, int(np.flatnonzero(over)[0]) + 2, str(col).strip().lower())


# Row elements (optionally namespace-prefixed), a row's number, and a cell's column letters.
# Patterns start with a literal so the regex engine can skip ahead (10x faster); sheets
# with namespace-prefixed tags (x:row) take the general, slower patterns.
_ROW_TAG = re.compile(rb"<row[\s>]")
_ROW_NUM = re.compile(rb"<row r=\"(\d{1,9})\"")
_ROW_TAG_NS = re.compile(rb"<(?:\w+:)?row[\s>]")
_ROW_NUM_NS = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"(\d{1,9})\"")
# Only cell references have column letters (a row's r is digits only).
_CELL_COL = re.compile(rb" r=\"([A-Z]{1,7})[0-9]")
_CHUNK = 1 << 20


@functools.lru_cache(maxsize=4)
def _long_run(limit: int) -> re.Pattern[bytes]:
    """Text between tags longer than `limit` bytes."""
    return re.compile(rb">([^<]{%d,})" % (limit + 1))


def _column_index(letters: bytes) -> int:
    """1-based column number of Excel column letters (A=1, Z=26, AA=27)."""
    n = 0
    for b in letters:
        n = n * 26 + (b - 64)
    return n


def _member_chunks(name: str, data: bytes, info: zipfile.ZipInfo):
    """Yield the decompressed bytes of one zip member in bounded chunks.

    Reads the raw stream ourselves so that a member whose header understates its size is
    caught when it overruns, instead of being trusted by the parser.
    """
    if info.flag_bits & 0x1:
        _refuse(name, "data.err.encrypted")
    off = info.header_offset
    sig, *_rest, n_len, x_len = struct.unpack("<IHHHHHIIIHH", data[off : off + 30])
    if sig != 0x04034B50:
        _refuse(name, "data.err.not_xlsx")
    start = off + 30 + n_len + x_len
    raw = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for i in range(0, len(raw), _CHUNK):
            yield bytes(raw[i : i + _CHUNK])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        _refuse(name, "data.err.compression")
    inflater = zlib.decompressobj(-15)
    try:
        for i in range(0, len(raw), 64 * 1024):
            out = inflater.decompress(raw[i : i + 64 * 1024], _CHUNK)
            while True:
                if out:
                    yield out
                if not inflater.unconsumed_tail:
                    break
                out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        tail = inflater.flush()
        if tail:
            yield tail
    except zlib.error:
        _refuse(name, "data.err.not_xlsx")


def check_xlsx(name: str, data: bytes) -> None:
    """Refuse a workbook whose unpacked size, ratio, parts, rows, columns or cells exceed limits.

    Nothing is held beyond one chunk per part, so a decompression bomb costs a few MB.
    """
    mb = 1024 * 1024
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        _refuse(name, "data.err.not_xlsx")
    if len(infos) > settings.xlsx_max_members():
        _refuse(name, "data.err.parts", count=len(infos), limit=settings.xlsx_max_members())
    part_limit = settings.xlsx_max_member_mb() * mb
    total_limit = settings.xlsx_max_uncompressed_mb() * mb
    ratio = settings.xlsx_max_ratio()
    unpacked = {
        "mb": settings.xlsx_max_uncompressed_mb(),
        "part_mb": settings.xlsx_max_member_mb(),
    }
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > part_limit or total > total_limit:
            _refuse(name, "data.err.unpacked", **unpacked)
        # Small parts compress well legitimately; a large one this compressible is a bomb.
        if info.file_size > mb and info.file_size > ratio * max(info.compress_size, 1):
            _refuse(name, "data.err.ratio", ratio=ratio)
    max_rows, max_cols = settings.max_import_rows(), settings.max_import_columns()
    max_cell = settings.max_cell_chars()
    actual_total = 0
    for info in infos:
        is_xml = info.filename.endswith(".xml")
        is_sheet = info.filename.startswith("xl/worksheets/") and is_xml
        produced = rows = 0
        carry = b""
        for chunk in _member_chunks(name, data, info):
            produced += len(chunk)
            actual_total += len(chunk)
            if produced > info.file_size:
                _refuse(name, "data.err.part_lies", part=info.filename)
            if produced > part_limit or actual_total > total_limit:
                _refuse(name, "data.err.unpacked", **unpacked)
            if not is_xml:
                continue
            buf = carry + chunk
            cut = buf.rfind(b"<")
            head, carry = (buf[:cut], buf[cut:]) if cut > 0 else (b"", buf)
            # Any one character takes at most ~10 bytes (entities), so a longer run is too long.
            if len(carry) > 10 * max_cell + 4096:
                raise _long_cell(name, None, None)
            rows = _scan_xml(name, head, is_sheet, rows, max_rows, max_cols, max_cell)
        if is_xml and carry:
            _scan_xml(name, carry, is_sheet, rows, max_rows, max_cols, max_cell)


def _scan_xml(
    name: str, head: bytes, is_sheet: bool, rows: int, max_rows: int, max_cols: int, max_cell: int
) -> int:
    """Check one stretch of XML (cut at a tag start) and return the running row count."""
    # Text runs longer than the limit in bytes (a C-level search); only those are decoded
    # to count characters exactly.
    for match in _long_run(max_cell).finditer(head):
        if len(html.unescape(match.group(1).decode("utf-8", "replace"))) > max_cell:
            raise _long_cell(name, None, None)
    if not is_sheet:
        return rows
    prefixed = b":row" in head
    rows += len((_ROW_TAG_NS if prefixed else _ROW_TAG).findall(head))
    numbers = (_ROW_NUM_NS if prefixed else _ROW_NUM).findall(head)
    top = max([rows, *(int(x) for x in numbers)])
    # Row 1 is the header, so data rows are one fewer than the sheet's last row.
    if top - 1 > max_rows:
        raise _too_many_rows(name)
    letters = set(_CELL_COL.findall(head))
    if letters and max(_column_index(x) for x in letters) > max_cols:
        raise _too_many_columns(name, max(_column_index(x) for x in letters))
    return rows


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
        raise _rejected(name, "data.err.empty") from None
    except pd.errors.ParserError as exc:
        raise _rejected(name, "data.err.csv", detail=str(exc)) from None


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
                Problem.of(name, 1, col, "data.err.missing_column", found=", ".join(frame.columns))
                for col in missing
            ]
        )
    keep = [c for c in REQUIRED[kind] + OPTIONAL[kind] if c in frame.columns]
    frame = frame[keep].copy()
    for col in keep:
        frame[col] = frame[col].fillna("").astype(str).str.strip()
    if frame.empty:
        raise _rejected(name, "data.err.no_rows")
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


def _scalar(value: object) -> object:
    """A plain Python value (not numpy's), so a problem's params serialise to JSON."""
    return value.item() if isinstance(value, np.generic) else value


class _Collector:
    """Gathers problems row by row, vectorised where the checks are."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[int, str, Problem]] = []

    def add_mask(self, mask: pd.Series, column: str, key: str, **params: object) -> None:
        """A problem (key, params) at each row of mask; a Series param gives each row its value."""
        if not mask.any():
            return
        idx = np.flatnonzero(mask.to_numpy())
        for i in idx[: MAX_REPORTED * 2]:
            values = {
                k: _scalar(v.iloc[i] if isinstance(v, pd.Series) else v) for k, v in params.items()
            }
            problem = Problem.of(self.name, int(i) + 2, column, key, **values)
            self.items.append((int(i), column, problem))
        self.extra = getattr(self, "extra", 0) + max(0, len(idx) - MAX_REPORTED * 2)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        # By row, column and English reason, the order reports have always had.
        self.items.sort(key=lambda item: (item[0], item[1], item[2].reason))
        total = len(self.items) + getattr(self, "extra", 0)
        raise ImportRejected([problem for _, _, problem in self.items], total)


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
        issues.add_mask(frame[col] == "", col, "data.err.missing_value")
    max_id = settings.max_region_id_chars()
    issues.add_mask(
        frame["region"].str.len() > max_id,
        "region",
        "data.err.long_region_id",
        limit=max_id,
    )
    if kind == "regions":
        return _validate_regions(cur, name, frame, issues)
    if kind == "actuals":
        return _validate_actuals(name, frame, issues, cumulative)

    parsed = parse_series(frame["period"])
    issues.add_mask(
        (frame["period"] != "") & parsed["freq"].isna(),
        "period",
        "data.err.bad_period",
    )
    years = pd.to_numeric(parsed["label"].str[:4], errors="coerce")
    issues.add_mask(
        parsed["freq"].notna() & ~years.between(settings.MIN_YEAR, settings.MAX_YEAR),
        "period",
        "data.err.period_year",
        low=settings.MIN_YEAR,
        high=settings.MAX_YEAR,
    )
    values, bad_value = parse_numbers(frame["value"])
    raw = frame["value"].str.lower()
    issues.add_mask(
        (frame["value"] != "") & bad_value & raw.isin(["nan", "inf", "-inf", "+inf", "infinity"]),
        "value",
        "data.err.not_finite",
    )
    issues.add_mask(
        (frame["value"] != "") & bad_value & ~raw.isin(["nan", "inf", "-inf", "+inf", "infinity"]),
        "value",
        "data.err.not_a_number",
    )
    group_col = "metric" if kind == "history" else "signal"
    if kind == "history":
        issues.add_mask(~bad_value & (values < 0), "value", "data.err.negative")
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
        # One key per frequency, so each language names it in its own words.
        for code, key in (
            ("Q", "data.err.mixed_quarterly"),
            ("M", "data.err.mixed_monthly"),
            ("A", "data.err.mixed_annual"),
        ):
            issues.add_mask(mixed & (want == code), "period", key, name=frame[group_col])
        issues.add_mask(
            mixed & ~want.isin(["Q", "M", "A"]),
            "period",
            "data.err.mixed_other",
            name=frame[group_col],
            frequency="",
        )
    dimension = pd.Series("market", index=frame.index)
    if kind == "signals" and "dimension" in frame.columns:
        given = frame["dimension"].str.lower()
        issues.add_mask(
            (given != "") & ~given.isin(DIMENSIONS),
            "dimension",
            "data.err.dimension",
            allowed=", ".join(DIMENSIONS),
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
            "data.err.duplicate",
            first=first_row.fillna(-2).astype(int) + 2,
            columns=", ".join(keys),
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
        "data.err.bad_date",
    )
    issues.add_mask(
        dates.notna() & ~dates.dt.year.between(settings.MIN_YEAR, settings.MAX_YEAR),
        "date",
        "data.err.date_year",
        low=settings.MIN_YEAR,
        high=settings.MAX_YEAR,
    )
    dates = dates.where(dates.dt.year.between(settings.MIN_YEAR, settings.MAX_YEAR))
    values, bad_value = parse_numbers(frame["value"])
    issues.add_mask((frame["value"] != "") & bad_value, "value", "data.err.not_a_number")
    negative = "data.err.negative_cumulative" if cumulative else "data.err.negative_daily"
    issues.add_mask(~bad_value & (values < 0), "value", negative)
    key = frame[["region", "metric"]].assign(date=dates)
    dup = key.duplicated(keep="first") & dates.notna()
    if dup.any():
        first = key.reset_index().groupby(["region", "metric", "date"])["index"].transform("min")
        issues.add_mask(
            dup,
            "date",
            "data.err.duplicate",
            first=pd.Series(first.to_numpy(), index=frame.index).fillna(-2).astype(int) + 2,
            columns="region, metric, date",
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
                "data.err.cumulative_decreases",
                region=region,
                day=f"{day:%Y-%m-%d}",
                value=float(value),
                previous=float(prev),
            )
        issues.raise_if_any()
        raise
    daily["date"] = daily["date"].dt.date
    return daily[["region", "metric", "date", "value"]]


def _validate_regions(
    cur: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, issues: _Collector
) -> pd.DataFrame:
    dup = frame["region"].duplicated(keep="first") & (frame["region"] != "")
    issues.add_mask(dup, "region", "data.err.duplicate_region")
    max_id, max_name = settings.max_region_id_chars(), settings.max_display_name_chars()
    for col, limit in (
        ("parent", max_id),
        ("lead", max_id),
        ("name", max_name),
        ("name_zh", max_name),
    ):
        if col in frame.columns:
            issues.add_mask(frame[col].str.len() > limit, col, "data.err.too_long", limit=limit)
    if "parent" in frame.columns:
        for i, chain in _ancestor_loops(cur, frame):
            mask = pd.Series(False, index=frame.index)
            mask.iloc[i] = True
            issues.add_mask(mask, "parent", "data.err.own_ancestor", chain=chain)
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


def _ancestor_loops(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> list[tuple[int, str]]:
    """(row position, chain) of each file row whose parent chain, with the stored regions
    the file does not change, comes back to the row's region."""
    stored = q.list_regions(cur)
    parent_of = {r: p for r, p in zip(stored["region"], stored["parent"], strict=True) if p}
    for region, parent in zip(frame["region"], frame["parent"], strict=True):
        if region:
            parent_of[region] = parent or None
    loops = []
    for i, region in enumerate(frame["region"]):
        chain, seen, at = [region], {region}, parent_of.get(region)
        while at and at not in seen:
            chain.append(at)
            seen.add(at)
            at = parent_of.get(at)
        if at == region and region:
            loops.append((i, " → ".join([*chain, region])))
    return loops


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
    access.require(actor, "data.import")
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
        raise _rejected(path.name, "data.err.not_found")
    size = path.stat().st_size
    if size > settings.max_upload_mb() * 1024 * 1024:
        raise _rejected(path.name, "data.err.too_large", mb=settings.max_upload_mb())
    return import_bytes(
        cur, actor, kind, path.name, path.read_bytes(), sheet, cumulative=cumulative
    )
