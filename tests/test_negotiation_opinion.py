"""Comments, attachments (checked by content), exports and the CLI."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from calibration import cli
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.nego_fixtures import ANALYST, EXEC, GOOD, HRBP, LEAD_EAST, LEAD_SOUTH, open_cycle

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _xlsx() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"a": [1]}).to_excel(buf, index=False, engine="xlsxwriter")
    return buf.getvalue()


def test_comment_thread_permissions(cur):
    cid = open_cycle(cur)
    neg.add_comment(cur, LEAD_EAST, cid, "east", "<b>not bold</b> =1+1")
    neg.add_comment(cur, EXEC, cid, "east", "Thanks, let's discuss.")
    with pytest.raises(PermissionError):  # HRBP only on flagged regions
        neg.add_comment(cur, HRBP, cid, "east", "hello")
    with pytest.raises(neg.ValidationError) as err:
        neg.add_comment(cur, LEAD_EAST, cid, "east", "   ")
    assert err.value.errors == {"text": "nego.err_required"}
    neg.propose(cur, LEAD_EAST, cid, "east", 150, **GOOD, expected_last_event=None)
    neg.add_comment(cur, HRBP, cid, "east", "Let's talk about coaching.")
    thread = neg.thread(cur, ANALYST, cid, "east")  # analysts read
    assert thread["text"].tolist() == [
        "<b>not bold</b> =1+1",
        "Thanks, let's discuss.",
        "Let's talk about coaching.",
    ]
    assert thread["actor"].tolist() == ["lead_east", "exec", "hrbp"]
    with pytest.raises(PermissionError):
        neg.thread(cur, LEAD_SOUTH, cid, "east")
    with pytest.raises(PermissionError):
        neg.thread(cur, HRBP, cid, "south")  # not flagged


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plan.pdf", PDF),
        ("chart.png", PNG),
        ("photo.JPG", JPEG),
        ("pipeline.xlsx", None),
        ("accounts.csv", "客户,数量\n华东,12\n".encode("gbk")),
    ],
)
def test_attachment_accepted(cur, name, data):
    cid = open_cycle(cur)
    data = data if data is not None else _xlsx()
    aid = neg.add_attachment(cur, LEAD_EAST, cid, "east", name, data, note="evidence")
    got = neg.get_attachment(cur, EXEC, aid)
    assert got["data"] == data and got["file_name"] == name and got["size"] == len(data)
    import hashlib

    assert got["sha256"] == hashlib.sha256(data).hexdigest()
    assert neg.thread(cur, LEAD_EAST, cid, "east")["file_name"].tolist() == [name]
    with pytest.raises(PermissionError):
        neg.get_attachment(cur, LEAD_SOUTH, aid)
    assert neg.verify_chain(cur).ok


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [
        ("fake.pdf", b"MZ\x90\x00 this is an exe", "nego.err_file_content"),
        ("fake.png", PDF, "nego.err_file_content"),
        ("fake.xlsx", b"PK\x03\x04 not really a zip", "nego.err_file_content"),
        ("zip.xlsx", None, "nego.err_file_content"),
        ("bin.csv", b"a,b\x00\x01", "nego.err_file_content"),
        ("run.exe", PDF, "nego.err_file_type"),
        ("noext", PDF, "nego.err_file_type"),
        ("empty.pdf", b"", "nego.err_file_empty"),
        ("huge.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "nego.err_file_size"),
    ],
)
def test_attachment_refused(cur, name, data, key):
    cid = open_cycle(cur)
    if data is None:  # a zip without [Content_Types].xml
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("hello.txt", "hi")
        data = buf.getvalue()
    with pytest.raises(neg.ValidationError) as err:
        neg.add_attachment(cur, LEAD_EAST, cid, "east", name, data)
    assert err.value.errors == {"file": key}


def test_file_names_sanitised():
    assert neg.safe_file_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert neg.safe_file_name("C:\\Users\\x\\报告 2026.pdf") == "报告 2026.pdf"
    assert neg.safe_file_name("..hidden.pdf") == "hidden.pdf"
    assert neg.safe_file_name("a\x00b\nc<script>.csv") == "abc_script_.csv"
    assert neg.safe_file_name("") == "attachment"
    assert len(neg.safe_file_name("x" * 300 + ".pdf")) == 120


def test_exports_neutralise_formulas(cur):
    cid = open_cycle(cur)
    neg.add_comment(cur, LEAD_EAST, cid, "east", '=HYPERLINK("http://x")')
    csv = neg.export_log(cur, EXEC, cid, "csv").decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(csv))
    assert frame["kind"].tolist()[-1] == "comment"
    assert frame["text"].tolist()[-1] == '\'=HYPERLINK("http://x")'
    xlsx = neg.export_log(cur, EXEC, cid, "xlsx")
    back = pd.read_excel(io.BytesIO(xlsx), engine="calamine")
    assert len(back) == len(frame) and "hash" in back.columns
    assert back["text"].tolist()[-1].startswith("'=")
    with pytest.raises(PermissionError):
        neg.export_log(cur, HRBP, cid, "csv")


def test_cli_cycles_verify_export(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    con = connect(db)
    cid = open_cycle(con.cursor())
    con.close()
    assert cli.main(["cycles", "--db", str(db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == cid and rows[0]["status"] == "open"
    assert rows[0]["company_target"] == 1200 and rows[0]["metric"] == "new_customers"
    assert cli.main(["audit", "verify", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == "OK, 4 events"
    out = tmp_path / "log.xlsx"
    assert (
        cli.main(["audit", "export", "--db", str(db), "--cycle", str(cid), "--out", str(out)]) == 0
    )
    assert len(pd.read_excel(out, engine="calamine")) == 4
    assert (
        cli.main(
            [
                "audit",
                "export",
                "--db",
                str(db),
                "--cycle",
                str(cid),
                "--out",
                str(tmp_path / "log.csv"),
            ]
        )
        == 0
    )
    con = connect(db)
    con.cursor().execute("UPDATE events SET actor = 'mallory' WHERE id = 3")
    con.close()
    assert cli.main(["audit", "verify", "--db", str(db)]) == 1
    assert "event 3" in capsys.readouterr().err
