"""Import: good files, idempotence, corrections, and a corpus of bad files that change nothing."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from calibration.accounts import auth
from calibration.accounts.auth import SYSTEM, User
from calibration.cli import main as cli_main
from calibration.data import importer
from calibration.exports import csv_bytes, xlsx_bytes
from calibration.store import data as q
from tests.factories import ROOT, snapshot

GOOD = "region,period,metric,value\neast,2025Q1,new_customers,120\neast,2025Q2,new_customers,130\n"


def load(cur, kind: str, text: str | bytes, name: str = "f.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return importer.import_bytes(cur, SYSTEM, kind, name, data)


def test_good_history_file_loads_and_reimport_is_idempotent(cur):
    result = load(cur, "history", GOOD)
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    before = snapshot(cur)
    again = load(cur, "history", GOOD)
    assert again.source_id is None and again.inserted == again.updated == 0
    assert snapshot(cur) == before
    hist = q.load_history(cur, "new_customers")
    assert hist["value"].tolist() == [120.0, 130.0]
    assert q.list_regions(cur)["region"].tolist() == ["east"]


def test_corrected_file_replaces_values_and_adds_a_source(cur):
    load(cur, "history", GOOD)
    fixed = GOOD.replace("130", "135")
    result = load(cur, "history", fixed, "fixed.csv")
    assert (result.inserted, result.updated) == (0, 1)
    assert q.load_history(cur, "new_customers")["value"].tolist() == [120.0, 135.0]
    assert q.list_sources(cur)["file_name"].tolist() == ["fixed.csv", "f.csv"]


def test_period_formats_aliases_and_thousands(cur):
    text = (
        " 区域 , 期间 ,指标, 数值 \n"
        'east,2025-Q1,revenue,"1,200"\n'
        "east,2025 Q2,revenue,1300.5\n"
        "east,2025q3,revenue,1400\n"
    )
    load(cur, "history", text)
    hist = q.load_history(cur, "revenue")
    assert hist["period"].tolist() == ["2025Q1", "2025Q2", "2025Q3"]
    assert hist["value"].tolist() == [1200.0, 1300.5, 1400.0]


def test_monthly_and_annual_periods(cur):
    load(cur, "history", "region,period,metric,value\na,2025-03,m,1\na,2025-04,m,2\n")
    load(cur, "history", "region,period,metric,value\na,1998,y,1\na,1999,y,2\n")
    assert q.metric_frequency(cur, "m") == "M"
    assert q.metric_frequency(cur, "y") == "A"


def test_gbk_and_bom_encodings(cur):
    gbk = "区域,期间,指标,数值\n华东,2025Q1,新客户,10\n".encode("gbk")
    load(cur, "history", gbk)
    bom = "\ufeffregion,period,metric,value\n华南,2025Q1,新客户,11\n".encode()
    load(cur, "history", bom)
    assert sorted(q.load_history(cur, "新客户")["region"]) == ["华东", "华南"]


def test_xlsx_first_sheet_and_named_sheet(cur):
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as w:
        pd.DataFrame({"x": [1]}).to_excel(w, sheet_name="notes", index=False)
        pd.DataFrame(
            {"region": ["east"], "period": ["2025Q1"], "metric": ["n"], "value": [5]}
        ).to_excel(w, sheet_name="data", index=False)
    data = buf.getvalue()
    with pytest.raises(importer.ImportRejected, match="required column is missing"):
        importer.import_bytes(cur, SYSTEM, "history", "book.xlsx", data)
    result = importer.import_bytes(cur, SYSTEM, "history", "book.xlsx", data, sheet="data")
    assert result.inserted == 1


def test_signals_dimension_default_and_regions_names(cur):
    load(
        cur,
        "signals",
        "region,period,signal,value,dimension\n"
        "east,2025Q1,search_interest,50,\n"
        "east,2025Q1,headcount_ae,12,capacity\n",
    )
    sig = q.load_signals(cur).set_index("signal")
    assert sig.loc["search_interest", "dimension"] == "market"
    assert sig.loc["headcount_ae", "dimension"] == "capacity"
    load(cur, "regions", "region,name,parent,lead\neast,华东,,lead_east\nsouth,South,,\n")
    regions = q.list_regions(cur).set_index("region")
    assert regions.loc["east", "name_zh"] == "华东"
    assert regions.loc["south", "name_en"] == "South"


def test_formula_looking_text_is_kept_and_neutralised_on_export(cur):
    load(cur, "history", "region,period,metric,value\n=cmd|' /C calc'!A0,2025Q1,@m,1\n")
    hist = cur.execute("SELECT region, metric FROM history").fetchall()
    assert hist == [("=cmd|' /C calc'!A0", "@m")]
    frame = pd.DataFrame({"region": ["=1+1", "+x", "-y", "@z", "ok"], "v": [1, -2, 3, 4, 5]})
    text = csv_bytes(frame).decode("utf-8-sig")
    assert "'=1+1" in text and "'+x" in text and "'-y" in text and "'@z" in text
    assert ",-2" in text  # numbers are numbers, not neutralised text
    back = pd.read_excel(io.BytesIO(xlsx_bytes(frame)), engine="calamine")
    assert back["region"].tolist() == ["'=1+1", "'+x", "'-y", "'@z", "ok"]


BAD_FILES = {
    "missing_column.csv": (b"region,period,value\neast,2025Q1,1\n", "row 1, column 'metric'"),
    "bad_period.csv": (
        b"region,period,metric,value\neast,2025Q1,n,1\neast,Q5-2025,n,2\n",
        "row 3, column 'period': unrecognised period",
    ),
    "mixed_freq.csv": (
        b"region,period,metric,value\neast,2025Q1,n,1\neast,2025Q2,n,1\neast,2025-03,n,2\n",
        "row 4, column 'period': mixed frequencies",
    ),
    "text_number.csv": (
        b"region,period,metric,value\neast,2025Q1,n,twelve\n",
        "row 2, column 'value': not a number",
    ),
    "nan.csv": (b"region,period,metric,value\neast,2025Q1,n,NaN\n", "NaN or infinite"),
    "inf.csv": (b"region,period,metric,value\neast,2025Q1,n,inf\n", "NaN or infinite"),
    "negative.csv": (
        b"region,period,metric,value\neast,2025Q1,n,-5\n",
        "row 2, column 'value': negative values are not allowed",
    ),
    "duplicate.csv": (
        b"region,period,metric,value\neast,2025Q1,n,1\neast,2025-Q1,n,2\n",
        "row 3, column 'period': duplicate of row 2",
    ),
    "empty.csv": (b"", "the file is empty"),
    "header_only.csv": (b"region,period,metric,value\n", "no rows"),
    "utf16.csv": ("region,period,metric,value\n".encode("utf-16"), "binary or UTF-16"),
    "blank_region.csv": (
        b"region,period,metric,value\n,2025Q1,n,1\n",
        "row 2, column 'region': value is missing",
    ),
    "ragged.csv": (
        b"region,period,metric,value\neast,2025Q1,n,1\neast,2025Q2,n,1,extra\n",
        "not a valid CSV",
    ),
    "not_xlsx.xlsx": (b"PK\x03\x04garbage", "not a readable XLSX"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_with_reason_and_changes_nothing(cur, name):
    load(cur, "history", GOOD, "good.csv")
    before = snapshot(cur)
    data, expected = BAD_FILES[name]
    with pytest.raises(importer.ImportRejected) as info:
        importer.import_bytes(cur, SYSTEM, "history", name, data)
    assert expected in info.value.report()
    assert name in info.value.report()
    assert snapshot(cur) == before


def test_bad_dimension_is_refused(cur):
    with pytest.raises(importer.ImportRejected, match="unknown dimension"):
        load(cur, "signals", "region,period,signal,value,dimension\ne,2025Q1,s,1,weather\n")


def test_many_problems_report_first_50_and_total(cur):
    rows = "".join(f"east,2025Q1,n{i},x\n" for i in range(120))
    with pytest.raises(importer.ImportRejected) as info:
        load(cur, "history", "region,period,metric,value\n" + rows)
    assert info.value.total == 120
    assert len(info.value.problems) == 50
    assert "and 70 more problems" in info.value.report()


def test_oversize_file_is_refused(cur, monkeypatch):
    monkeypatch.setenv("CALIBRATE_MAX_UPLOAD_MB", "1")
    data = GOOD.encode() + b"east,2025Q3,n,1\n" * 80_000
    with pytest.raises(importer.ImportRejected, match="larger than 1 MB"):
        importer.import_bytes(cur, SYSTEM, "history", "big.csv", data)


def test_only_analysts_and_admins_import(cur):
    lead = User("lead_east", "L", "lead", frozenset({"east"}))
    with pytest.raises(PermissionError):
        importer.import_bytes(cur, lead, "history", "f.csv", GOOD.encode())
    assert auth.load_user(cur, "lead_east") is None


def test_cli_rejects_bad_file_with_exit_2_and_unchanged_db(tmp_path, capsys):
    db = tmp_path / "d.duckdb"
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert cli_main(["import", "history", str(good), "--db", str(db)]) == 0
    assert "2 new" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("region,period,metric,value\neast,2025Q9,n,1\neast,2025Q3,n,x\n")
    from calibration.store import connect

    con = connect(db)
    before = snapshot(con.cursor())
    con.close()
    assert cli_main(["import", "history", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'period'" in err
    assert "bad.csv, row 3, column 'value': not a number" in err
    con = connect(db)
    assert snapshot(con.cursor()) == before
    con.close()
    assert cli_main(["import", "history", str(good), "--db", str(db)]) == 0
    assert "nothing to change" in capsys.readouterr().out


def test_cli_runs_as_a_module(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "calibration",
            "import",
            "history",
            str(good),
            "--db",
            str(tmp_path / "x.duckdb"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "good.csv: 2 history rows" in proc.stdout


def test_demo_files_are_valid(cur):
    demo = Path(ROOT) / "data" / "demo"
    if not (demo / "history.csv").exists():
        pytest.skip("demo data not generated in this checkout")
    for kind in ("regions", "history", "signals"):
        importer.import_file(cur, SYSTEM, kind, demo / f"{kind}.csv")


RANGE_FILES = {
    "year_zero.csv": (
        "history",
        "region,period,metric,value\neast,0000Q1,n,1\n",
        "row 2, column 'period': the year is outside 1900–2200",
    ),
    "year_far.csv": (
        "history",
        "region,period,metric,value\neast,2025Q1,n,1\neast,9999-03,m,1\n",
        "row 3, column 'period': the year is outside 1900–2200",
    ),
    "old_year.csv": (
        "signals",
        "region,period,signal,value\neast,1899,s,1\n",
        "row 2, column 'period': the year is outside 1900–2200",
    ),
    "date_low.csv": (
        "actuals",
        "region,date,metric,value\neast,0001-01-01,n,1\n",
        "row 2, column 'date': the date is outside the years 1900–2200",
    ),
    "date_high.csv": (
        "actuals",
        "region,date,metric,value\neast,2026-01-05,n,1\neast,2201/1/1,n,1\n",
        "row 3, column 'date': the date is outside the years 1900–2200",
    ),
    "long_id.csv": (
        "history",
        "region,period,metric,value\n" + "r" * 65 + ",2025Q1,n,1\n",
        "row 2, column 'region': region id is longer than 64 characters",
    ),
    "long_name.csv": (
        "regions",
        "region,name\neast," + "E" * 121 + "\n",
        "row 2, column 'name': longer than 120 characters",
    ),
    "long_name_zh.csv": (
        "regions",
        "region,name_zh\neast," + "东" * 121 + "\n",
        "row 2, column 'name_zh': longer than 120 characters",
    ),
    "self_parent.csv": (
        "regions",
        "region,parent\neast,east\n",
        "row 2, column 'parent': the region would be its own ancestor",
    ),
    "loop.csv": (
        "regions",
        "region,parent\na,b\nb,c\nc,a\n",
        "row 2, column 'parent': the region would be its own ancestor (a → b → c → a)",
    ),
}


@pytest.mark.parametrize("name", sorted(RANGE_FILES))
def test_values_out_of_range_refused_naming_row_and_column(cur, name):
    kind, text, expected = RANGE_FILES[name]
    load(cur, "regions", "region,name\nkeep,Keep\n")
    before = snapshot(cur)
    with pytest.raises(importer.ImportRejected) as err:
        load(cur, kind, text, name)
    assert f"{name}, {expected}" in err.value.report()
    assert snapshot(cur) == before


def test_loop_through_stored_regions_is_refused(cur):
    load(cur, "regions", "region,parent\nnorth,hq\nhq,\n")
    before = snapshot(cur)
    with pytest.raises(importer.ImportRejected, match=r"row 2, column 'parent'.*hq → north → hq"):
        load(cur, "regions", "region,parent\nhq,north\n", "moved.csv")
    assert snapshot(cur) == before
    # Names at the limit are fine, and so is a deep chain without a loop.
    load(cur, "regions", "region,name,parent\nwest," + "W" * 120 + ",north\n")
    assert q.list_regions(cur).set_index("region").loc["west", "parent"] == "north"


def test_cycle_name_length_and_period_year_limits(cur):
    from calibration.negotiation import service as neg
    from tests.nego_fixtures import EXEC

    with pytest.raises(neg.ValidationError) as err:
        neg.create_cycle(cur, EXEC, "Q" * 121, "new_customers", "0000Q1", 600)
    assert err.value.errors == {"name": "nego.err_name_too_long", "period": "nego.err_period"}
    assert neg.create_cycle(cur, EXEC, "Q" * 120, "new_customers", "2026Q1", 600)
