"""Import refusals in the person's language: each Problem carries a translation key and its
parameters, while its English `reason` (CLI, API, logs) stays byte-identical."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calibration.accounts.auth import SYSTEM
from calibration.api import service as api_service
from calibration.data import importer, report
from calibration.i18n import catalog, t
from tests.bomb_files import xlsx_sheet
from tests.factories import ROOT

H = "region,period,metric,value\n"
A = "region,date,metric,value\n"
# name → (kind, file bytes, environment, cumulative, the report as main printed it).
# Written from main's output before keys existed: the English must not change.
ENGLISH: dict[str, tuple[str, bytes, dict[str, str], bool, str]] = {
    "bad_period": (
        "history",
        (H + "east,2025Q5,n,1\n").encode(),
        {},
        False,
        "bad_period.csv, row 2, column 'period': unrecognised period "
        "(use 2025Q1, 2025-Q1, 2025-03 or 2025)",
    ),
    "negative": (
        "history",
        (H + "east,2025Q1,n,-5\n").encode(),
        {},
        False,
        "negative.csv, row 2, column 'value': negative values are not allowed",
    ),
    "duplicate": (
        "history",
        (H + "east,2025Q1,n,1\neast,2025-Q1,n,2\n").encode(),
        {},
        False,
        "duplicate.csv, row 3, column 'period': duplicate of row 2 (same region, metric, period)",
    ),
    "dimension": (
        "signals",
        b"region,period,signal,value,dimension\ne,2025Q1,s,1,weather\n",
        {},
        False,
        "dimension.csv, row 2, column 'dimension': unknown dimension "
        "(use market, pipeline, capacity)",
    ),
    "empty": ("history", b"", {}, False, "empty.csv: the file is empty"),
    "not_number": (
        "history",
        (H + "east,2025Q1,n,twelve\n").encode(),
        {},
        False,
        "not_number.csv, row 2, column 'value': not a number",
    ),
    "big": (
        "history",
        H.encode() + b"east,2025Q3,n,1\n" * 80_000,
        {"CALIBRATE_MAX_UPLOAD_MB": "1"},
        False,
        "big.csv: the file is larger than 1 MB",
    ),
    "year": (
        "history",
        (H + "east,1800Q1,n,1\n").encode(),
        {},
        False,
        "year.csv, row 2, column 'period': the year is outside 1900–2200",
    ),
    "nan": (
        "history",
        (H + "east,2025Q1,n,NaN\n").encode(),
        {},
        False,
        "nan.csv, row 2, column 'value': NaN or infinite values are not allowed",
    ),
    "mixed": (
        "history",
        (H + "east,2025Q1,n,1\neast,2025Q2,n,1\neast,2025-03,n,1\n").encode(),
        {},
        False,
        "mixed.csv, row 4, column 'period': mixed frequencies: n is quarterly, this period is not",
    ),
    "missing_col": (
        "history",
        b"region,period,value\neast,2025Q1,1\n",
        {},
        False,
        "missing_col.csv, row 1, column 'metric': required column is missing "
        "(found: region, period, value)",
    ),
    "header_only": (
        "history",
        H.encode(),
        {},
        False,
        "header_only.csv: the file has a header but no rows",
    ),
    "blank": (
        "history",
        (H + ",2025Q1,n,1\n").encode(),
        {},
        False,
        "blank.csv, row 2, column 'region': value is missing",
    ),
    "act_dup": (
        "actuals",
        (A + "east,2026-01-05,n,1\neast,2026/1/5,n,2\n").encode(),
        {},
        False,
        "act_dup.csv, row 3, column 'date': duplicate of row 2 (same region, metric, date)",
    ),
    "act_neg": (
        "actuals",
        (A + "east,2026-01-05,n,-1\n").encode(),
        {},
        False,
        "act_neg.csv, row 2, column 'value': negative daily values are not allowed",
    ),
    "act_date": (
        "actuals",
        (A + "east,2026-13-05,n,1\n").encode(),
        {},
        False,
        "act_date.csv, row 2, column 'date': unrecognised date (use 2026-01-05 or 2026/1/5)",
    ),
    "cumulative": (
        "actuals",
        (A + "north,2026-01-01,n,5\nnorth,2026/1/2,n,4.5\n").encode(),
        {},
        True,
        "cumulative.csv, row 3, column 'value': cumulative value for region north decreases "
        "on 2026-01-02: 4.5 after 5",
    ),
    "loop": (
        "regions",
        b"region,parent\na,b\nb,c\nc,a\n",
        {},
        False,
        "loop.csv, row 2, column 'parent': the region would be its own ancestor (a → b → c → a)\n"
        "loop.csv, row 3, column 'parent': the region would be its own ancestor (b → c → a → b)\n"
        "loop.csv, row 4, column 'parent': the region would be its own ancestor (c → a → b → c)",
    ),
    "utf16": (
        "history",
        H.encode("utf-16"),
        {},
        False,
        "utf16.csv: the file is binary or UTF-16; save it as CSV (UTF-8)",
    ),
    "rows": (
        "history",
        H.encode() + b"east,2025Q3,n,1\n" * 1200,
        {"CALIBRATE_MAX_ROWS": "1000"},
        False,
        "rows.csv: the file has more than 1,000 rows (the limit)",
    ),
    "wide": (
        "history",
        (",".join(f"c{i}" for i in range(1500)) + "\n").encode(),
        {},
        False,
        "wide.csv, row 1: the file has 1,500 columns; at most 200 are accepted",
    ),
    "sjis": (
        "regions",
        "region,name\ntokyo,東京本社\nosaka,大阪支店\n".encode("shift_jis"),
        {},
        False,
        "sjis.csv: the text encoding is not one we accept (it looks like cp932); "
        "save the file as UTF-8, UTF-8 with BOM, or GBK/GB18030",
    ),
    "dense": (
        "history",
        xlsx_sheet(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
        {},
        False,
        "dense.csv, row 1: the file has 16,384 columns; at most 200 are accepted",
    ),
    "cell": (
        "history",
        H.encode() + b"east,2025Q1," + b"x" * 20_000 + b",1\n",
        {},
        False,
        "cell.csv, row 2, column 'metric': a cell is longer than 10,000 characters (the limit)",
    ),
}


def refuse(cur, name: str, monkeypatch: pytest.MonkeyPatch) -> importer.ImportRejected:
    """The refusal of ENGLISH[name]."""
    kind, data, env, cumulative, _ = ENGLISH[name]
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    with pytest.raises(importer.ImportRejected) as info:
        importer.import_bytes(cur, SYSTEM, kind, f"{name}.csv", data, cumulative=cumulative)
    return info.value


@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_english_report_is_unchanged(cur, name, monkeypatch):
    exc = refuse(cur, name, monkeypatch)
    total = exc.total
    assert exc.report() == f"{ENGLISH[name][4]}\n{total} problem(s); nothing was imported."


@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_refusal_carries_a_key_that_rebuilds_its_reason(cur, name, monkeypatch):
    for problem in refuse(cur, name, monkeypatch).problems:
        assert problem.key in catalog(), problem
        assert t(problem.key, "en", **problem.params) == problem.reason
        zh = t(problem.key, "zh", **problem.params)
        assert zh != problem.reason and re.search(r"[\u4e00-\u9fff]", zh), zh


def importer_keys() -> set[str]:
    """Every refusal key named in the import code."""
    found: set[str] = set()
    for path in (ROOT / "calibration" / "data").glob("*.py"):
        found |= set(re.findall(r"\"(data\.err\.[a-z0-9_.]+)\"", path.read_text("utf-8")))
    return found


def test_every_refusal_key_has_english_and_chinese():
    keys = importer_keys()
    assert len(keys) >= 30, sorted(keys)
    texts = catalog()
    for key in sorted(keys):
        assert key in texts, key
        assert texts[key].get("en") and texts[key].get("zh"), key
        # The same placeholders in both languages, so neither can fail to format.
        names = {lang: set(re.findall(r"{(\w+)", texts[key][lang])) for lang in ("en", "zh")}
        assert names["en"] == names["zh"], key


def test_problem_without_key_keeps_working():
    """Problems made from an older API body (no key) still print and show their reason."""
    problem = report.Problem("f.csv", 2, "value", "not a number")
    assert problem.key is None and problem.params == {}
    assert str(problem) == "f.csv, row 2, column 'value': not a number"


def test_api_rejection_adds_key_and_params_and_cli_rebuilds_it(cur, monkeypatch):
    body = api_service.rejection(refuse(cur, "negative", monkeypatch))
    (problem,) = body["problems"]
    assert problem["reason"] == "negative values are not allowed"
    assert problem["key"] == "data.err.negative" and problem["params"] == {}
    # The remote CLI builds Problems from the body: the same report as the local one.
    again = report.ImportRejected([report.Problem(**p) for p in body["problems"]])
    assert again.report().splitlines()[0] == ENGLISH["negative"][4]


def test_data_page_in_chinese_shows_the_reason_in_chinese(app_env: Path) -> None:
    from tests.apptest_helpers import errors, login

    at = login("analyst", lang="zh")
    at.switch_page("pages/data.py")
    at.run()
    uploader = at.get("file_uploader")
    assert uploader, "this Streamlit's AppTest exposes no file_uploader"
    uploader[0].upload("bad.csv", (H + "east,2025Q1,n,-5\n").encode(), "text/csv")
    at.run()
    at.button(key="upload_go").click()
    at.run()
    assert not at.exception, at.exception
    assert errors(at) == ["文件被拒绝:共 1 个问题,未导入任何数据。"], errors(at)
    (table,) = [d.value for d in at.dataframe if "原因" in d.value.columns]
    assert list(table["原因"]) == [t("data.err.negative", "zh")]
    assert "negative" not in table.to_string() and "不允许" in table.to_string()
