"""Consensus letters domain: issue, sign in order, immutability, archive, verify, export."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from calibration.accounts import auth
from calibration.letters import service as letters
from calibration.letters.content import content_sha256
from calibration.negotiation import service as neg
from calibration.store import connect, transaction
from tests.factories import ROOT, copy_demo
from tests.letters_fixtures import ACCOUNTS, PASSWORD, locked_cycle, make_accounts
from tests.nego_fixtures import open_cycle

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler missing")


@pytest.fixture(scope="module")
def locked_file(tmp_path_factory: pytest.TempPathFactory, empty_template: Path) -> tuple[Path, int]:
    """The locked two-region cycle, built once per module (its accounts hash four passwords
    and its lock issues the letters): tests with `setup` start from a copy."""
    path = copy_demo(empty_template, tmp_path_factory.mktemp("letters") / "locked.duckdb")
    con = connect(path)
    try:
        cid, _ = locked_cycle(con.cursor())
    finally:
        con.close()
    return path, cid


@pytest.fixture
def db_template(request: pytest.FixtureRequest, empty_template: Path) -> Path:
    """Tests with `setup` start from the locked cycle, the others from an empty database."""
    if "setup" in request.fixturenames:
        return request.getfixturevalue("locked_file")[0]
    return empty_template


@pytest.fixture
def setup(cur, locked_file: tuple[Path, int]):
    users = {name: auth.load_user(cur, name) for name, *_ in ACCOUNTS}
    return cur, locked_file[1], users


def test_letters_wait_for_the_lock(cur):
    make_accounts(cur)
    cid = open_cycle(cur)
    exec_user = auth.load_user(cur, "exec")
    with pytest.raises(letters.LetterError) as err:
        letters.cycle_letters(cur, exec_user, cid)
    assert err.value.key == "letters.err_not_locked"
    assert not letters.is_issuable(cur, cid)


def test_generation_from_the_cycle_state(setup):
    cur, cid, users = setup
    got = {x.region: x for x in letters.cycle_letters(cur, users["exec"], cid)}
    assert sorted(got) == ["east", "south"]
    east, south = got["east"].content, got["south"].content
    assert (east.agreed, east.suggestion, east.lower80) == (200, 220, 198)
    assert east.upper80 == pytest.approx(242)
    assert east.model_run_id == 1 and east.model_reason_zh == "east:历史与市场"
    assert east.lead_name == "Wang Lei 王磊" and east.executive_name == "Chen Wei 陈伟"
    assert east.company_target == 420 and east.metric == "New customers / 新客户"
    owners = {i.kind: i.owner for i in east.support}
    assert owners["headcount"].startswith("HR") and "Zhao Min" in owners["headcount"]
    assert owners["budget"].startswith("Marketing")
    # South has no structured items: the free-text request, owned by the executive.
    assert [(i.kind, i.owner) for i in south.support] == [("other", "Chen Wei 陈伟")]
    assert south.agreed == 198 and "Pipeline supports 198." in south.justification
    assert all(x.version == 1 and x.status == "unsigned" for x in got.values())
    # Asking again issues nothing new.
    assert letters.issue_letters(cur, users["exec"], cid) == []
    # A lead sees only their own region.
    assert [x.region for x in letters.cycle_letters(cur, users["lead_east"], cid)] == ["east"]
    with pytest.raises(PermissionError):
        letters.get_letter(cur, users["lead_east"], cid, "south")


def test_signing_order_password_and_who(setup):
    cur, cid, users = setup
    ex, east, south, hr = users["exec"], users["lead_east"], users["lead_south"], users["hrbp"]
    with pytest.raises(letters.LetterError) as err:
        letters.sign_letter(cur, ex, cid, "east", PASSWORD, archive=False)
    assert err.value.key == "letters.err_lead_first"
    with pytest.raises(auth.AuthError):
        letters.sign_letter(cur, east, cid, "east", "wrong-password", archive=False)
    for outsider in (south, hr, auth.SYSTEM):
        with pytest.raises(PermissionError):
            letters.sign_letter(cur, outsider, cid, "east", PASSWORD, archive=False)
    letter = letters.sign_letter(cur, east, cid, "east", PASSWORD, archive=False)
    assert letter.status == "lead_signed"
    sig = letter.signature("lead")
    assert (sig.name, sig.username, sig.content_sha256) == (
        "Wang Lei 王磊",
        "lead_east",
        content_sha256(letter.content),
    )
    with pytest.raises(letters.LetterError):
        letters.sign_letter(cur, east, cid, "east", PASSWORD, archive=False)
    letter = letters.sign_letter(cur, ex, cid, "east", PASSWORD, archive=False)
    assert letter.status == "signed" and letter.next_role is None
    kinds = neg.decision_log(cur, ex, cid)["kind"].tolist()
    assert kinds.count("letter_signed") == 2 and kinds.count("letter_issued") == 2
    assert neg.verify_chain(cur).ok


def test_signed_letter_never_changes_a_correction_makes_a_new_version(setup):
    cur, cid, users = setup
    ex, east = users["exec"], users["lead_east"]
    letters.sign_letter(cur, east, cid, "east", PASSWORD, archive=False)
    v1 = letters.sign_letter(cur, ex, cid, "east", PASSWORD, archive=False)
    with pytest.raises(PermissionError):
        letters.correct_letter(cur, east, cid, "east", "risks", "x", "typo")
    v2 = letters.correct_letter(
        cur, ex, cid, "east", "risks", "A renewal slipped to Q2.", "risk updated after signing"
    )
    assert (v2.version, v2.previous_sha256, v2.status) == (2, v1.content_sha256, "unsigned")
    assert v2.content.risks == "A renewal slipped to Q2." and v2.content.agreed == 200
    history = letters.letter_history(cur, ex, cid, "east")
    assert [h.version for h in history] == [1, 2]
    old = history[0]
    assert old.content_sha256 == v1.content_sha256 and old.status == "signed"
    assert old.content == v1.content and not old.latest
    # A change to the underlying data after the lock changes nothing: the region was frozen
    # into the cycle at lock (issue 12), and reading issues no version.
    with transaction(cur):
        cur.execute(
            "INSERT INTO regions (region, name_en, name_zh) VALUES ('east', 'East', '华东')"
        )
    same = letters.get_letter(cur, ex, cid, "east")
    assert (same.version, same.content_sha256, same.content.region_name_zh) == (
        2,
        v2.content_sha256,
        "",
    )
    assert letters.issue_letters(cur, ex, cid) == []
    # A signer holding the old hash is told the letter changed.
    with pytest.raises(letters.LetterError) as err:
        letters.sign_letter(
            cur, east, cid, "east", PASSWORD, expected_sha256=v1.content_sha256, archive=False
        )
    assert err.value.key == "letters.err_changed"


def test_archive_verify_cli_and_pdf_text(setup, tmp_path, db_path, con):
    cur, cid, users = setup
    letters.sign_letter(cur, users["lead_east"], cid, "east", PASSWORD, archive=False)
    signed = letters.sign_letter(cur, users["exec"], cid, "east", PASSWORD)  # archives en+zh
    zh = letters.letter_file(cur, users["lead_east"], cid, "east", "zh")
    assert zh.signatures == 2 and zh.file_name.endswith("-zh-signed.pdf")
    assert letters.verify_file(cur, zh.data).letter.letter_id == signed.letter_id
    # The lead's ZIP holds their region only, straight from the archive.
    with zipfile.ZipFile(io.BytesIO(letters.letters_zip(cur, users["lead_east"], cid))) as z:
        assert sorted(z.namelist()) == [f"letter-c{cid}-east-v1-en-signed.pdf", zh.file_name]
        assert z.read(zh.file_name) == zh.data
    good = tmp_path / zh.file_name
    good.write_bytes(zh.data)
    bad = tmp_path / "modified.pdf"
    bad.write_bytes(zh.data + b"\n% an incremental edit\n")
    con.close()  # one process per DuckDB file: let the CLI open it
    run = [sys.executable, "-m", "calibration", "letters", "verify"]
    ok = subprocess.run(
        [*run, str(good), "--db", str(db_path)], capture_output=True, text=True, cwd=ROOT
    )
    assert ok.returncode == 0, ok.stderr
    assert "region east" in ok.stdout and "lead_east" in ok.stdout and "exec" in ok.stdout
    nok = subprocess.run(
        [*run, str(bad), "--db", str(db_path)], capture_output=True, text=True, cwd=ROOT
    )
    assert nok.returncode == 1 and "NOT VERIFIED" in nok.stderr
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(good), "-"], capture_output=True, text=True).stdout
        assert "200" in text and "目标共识确认函" in text and "共识目标" in text
        assert "已电子签署" in text and "王磊" in text


def test_cli_writes_drafts_and_exports(setup, tmp_path, db_path, con):
    cur, cid, _ = setup
    con.close()
    base = [sys.executable, "-m", "calibration", "letters"]
    out = tmp_path / "out"
    r = subprocess.run(
        [*base, "--db", str(db_path), "--cycle", str(cid), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        f"letter-c{cid}-east-v1-en.pdf",
        f"letter-c{cid}-east-v1-zh.pdf",
        f"letter-c{cid}-south-v1-en.pdf",
        f"letter-c{cid}-south-v1-zh.pdf",
    ]
    target = tmp_path / "targets.json"
    r = subprocess.run(
        [
            *base,
            "export",
            "--db",
            str(db_path),
            "--cycle",
            str(cid),
            "--format",
            "json",
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    rows = {x["region"]: x for x in json.loads(target.read_text(encoding="utf-8"))}
    assert rows["south"]["target"] == 198 and rows["east"]["owner"] == "Wang Lei 王磊"
    assert rows["east"]["support_items"][1]["amount"] == 50000


def test_export_csv_for_a_lead(setup):
    cur, cid, users = setup
    data = letters.export_targets(cur, users["lead_south"], cid, "csv").decode("utf-8-sig")
    lines = data.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{cid},south,")


def test_executive_batch_signing_is_all_or_none(setup):
    cur, cid, users = setup
    ex = users["exec"]
    with pytest.raises(PermissionError):
        letters.sign_letters(cur, users["lead_east"], cid, ["east", "south"], PASSWORD)
    for name, region in (("lead_east", "east"), ("lead_south", "south")):
        letters.sign_letter(cur, users[name], cid, region, PASSWORD, archive=False)
    stale = {"east": letters.get_letter(cur, ex, cid, "east").content_sha256, "south": "0" * 64}
    with pytest.raises(letters.LetterError):
        letters.sign_letters(
            cur, ex, cid, ["east", "south"], PASSWORD, expected=stale, archive=False
        )
    assert {x.status for x in letters.cycle_letters(cur, ex, cid)} == {"lead_signed"}
    done = letters.sign_letters(cur, ex, cid, None, PASSWORD, archive=False)
    assert [(x.region, x.status) for x in done] == [("east", "signed"), ("south", "signed")]
