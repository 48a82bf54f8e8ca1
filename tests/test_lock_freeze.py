"""Issue 12: a closed cycle stays as it was signed; letters are issued at lock; ids from
sequences; the executive's HR override is printed on the letter."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pytest

from calibration.board import lock as board_lock
from calibration.data import importer
from calibration.letters import service as letters
from calibration.letters.pdf.render import render_letter
from calibration.negotiation import service as neg
from calibration.store import connect, transaction
from calibration.store import letters as lq
from calibration.store import negotiation as nq
from calibration.store.core import table_row_counts
from tests.letters_fixtures import PASSWORD, locked_cycle, make_accounts
from tests.nego_fixtures import ANALYST, GOOD, last_id, make_run

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler missing")

REGIONS_AT_LOCK = (
    b"region,name,name_zh,parent,lead\n"
    b"east,East,\xe5\x8d\x8e\xe4\xb8\x9c,china,lead_east\n"
    b"south,South,\xe5\x8d\x8e\xe5\x8d\x97,china,lead_south\n"
)
# After the lock: both regions renamed and re-parented, south's lead moved to lead_east.
REGIONS_LATER = (
    b"region,name,name_zh,parent,lead\n"
    b"east,East Renamed,\xe4\xb8\x9c\xe5\x8c\xba,asia,lead_east\n"
    b"south,South Renamed,\xe5\x8d\x97\xe5\x8c\xba,asia,lead_east\n"
)


def _import_regions(cur, data: bytes) -> None:
    importer.import_bytes(cur, ANALYST, "regions", "regions.csv", data)


@pytest.fixture
def signed(cur):
    """The two-region cycle locked with named regions, both letters fully signed."""
    users = make_accounts(cur)
    _import_regions(cur, REGIONS_AT_LOCK)
    cid, users = locked_cycle(cur, users)
    letters.sign_letters(cur, users["lead_east"], cid, ["east"], PASSWORD)
    letters.sign_letter(cur, users["lead_south"], cid, "south", PASSWORD)
    letters.sign_letters(cur, users["exec"], cid, None, PASSWORD)
    return cur, cid, users


def test_lock_issues_the_letters(cur):
    cid, _ = locked_cycle(cur)
    # Nobody opened Letters: the lock itself issued one version per agreed region.
    rows = lq.letters(cur, cid)
    assert [(r["region"], r["version"]) for r in rows] == [("east", 1), ("south", 1)]
    frozen = nq.frozen_regions(cur, cid)
    assert sorted(frozen) == ["east", "south"]


def test_regions_import_after_lock_keeps_signed_letters_byte_identical(
    signed, con, db_path, tmp_path
):
    cur, cid, users = signed
    ex = users["exec"]
    before = {x.region: x for x in letters.cycle_letters(cur, ex, cid)}
    assert {x.status for x in before.values()} == {"signed"}
    assert before["east"].content.region_name_en == "East"
    pdfs = {
        (r, lang): letters.letter_file(cur, ex, cid, r, lang).data
        for r in before
        for lang in letters.LANGS
    }
    _import_regions(cur, REGIONS_LATER)
    counts = table_row_counts(cur)
    after = {x.region: x for x in letters.cycle_letters(cur, ex, cid)}
    assert table_row_counts(cur) == counts  # reading wrote nothing: no v2
    for region, letter in after.items():
        assert letter.version == 1 and letter.status == "signed"
        assert letter.content_sha256 == before[region].content_sha256
        assert [s.username for s in letter.signatures] == [
            s.username for s in before[region].signatures
        ]
        assert letter.content.lead_name == before[region].content.lead_name
    assert after["east"].content.region_name_en == "East"
    assert after["south"].content.region_name_zh == "华南"
    for (region, lang), data in pdfs.items():
        assert letters.letter_file(cur, ex, cid, region, lang).data == data
        check = letters.verify_file(cur, data)
        assert check.ok and check.superseded_by is None
    # `letters verify` (the CLI) still passes on a file written before the import.
    path = tmp_path / "east.pdf"
    path.write_bytes(pdfs[("east", "en")])
    # A second process cannot open the file while this one holds it.
    con.close()
    result = subprocess.run(
        [sys.executable, "-m", "calibration", "letters", "verify", str(path), "--db", str(db_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_board_and_tracking_of_a_locked_cycle_show_the_frozen_regions(cur):
    from calibration.board import service as board_service
    from calibration.tracking import service as tracking_service

    users = make_accounts(cur)
    _import_regions(cur, REGIONS_AT_LOCK)
    cid, users = locked_cycle(cur, users)
    _import_regions(cur, REGIONS_LATER)
    snap = board_service.snapshot(cur, users["exec"], cid).get("regions")
    rows = snap.set_index("region")
    assert rows.loc["east", "name_en"] == "East" and rows.loc["south", "parent"] == "china"
    assert rows.loc["south", "lead"] == "lead_south"
    assert tracking_service._labels(cur, "zh", cid)["east"] == "华东"


def test_lead_change_after_lock_keeps_the_people_and_the_signers(cur):
    users = make_accounts(cur)
    _import_regions(cur, REGIONS_AT_LOCK)
    cid, users = locked_cycle(cur, users)
    ex = users["exec"]
    first = {x.region: x for x in letters.cycle_letters(cur, ex, cid)}
    _import_regions(cur, REGIONS_LATER)  # south's lead is now lead_east
    now = {x.region: x for x in letters.cycle_letters(cur, ex, cid)}
    assert now["south"].version == 1
    assert now["south"].lead_username == "lead_south"
    assert now["south"].content.lead_name == first["south"].content.lead_name == "Liu Yang 刘洋"
    # The original lead still signs; the newly named one may not.
    assert letters.signer_role(users["lead_east"], now["south"]) is None
    signed = letters.sign_letter(cur, users["lead_south"], cid, "south", PASSWORD)
    assert signed.signature("lead").username == "lead_south" and signed.version == 1
    letters.sign_letter(cur, ex, cid, "south", PASSWORD)


def test_concurrent_inserts_do_not_collide(con):
    """Threads that each pick an id and insert at the same moment get distinct ids."""
    threads, errors, ids = 8, [], []
    barrier = threading.Barrier(threads)

    def work(i: int) -> None:
        cur = con.cursor()
        try:
            with transaction(cur):
                barrier.wait()
                ids.append(
                    lq.insert_correction(
                        cur,
                        {
                            "cycle_id": 1,
                            "region": f"r{i}",
                            "field": "risks",
                            "value_json": '""',
                            "reason": "x",
                            "corrected_at": neg.utcnow(),
                            "corrected_by": "t",
                        },
                    )
                )
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert len(ids) == threads and len(set(ids)) == threads


def test_upgrade_to_007_continues_ids_and_freezes_locked_cycles(tmp_path, monkeypatch):
    """A database made before migration 007: sequences start past its ids, and a cycle
    locked then is frozen as its newest letter shows it."""
    from calibration.store import core

    path = tmp_path / "old.duckdb"
    every = core.migrations()
    monkeypatch.setattr(core, "migrations", lambda: [m for m in every if m[0] < 7])
    old = connect(path)
    content = '{"region_name_en": "East", "region_name_zh": "华东", "lead_name": "Wang Lei"}'
    with transaction(old.cursor()) as c:
        c.execute(
            "INSERT INTO letter_corrections VALUES (3, 1, 'east', 'risks', '\"\"', 'x', now(), 't')"
        )
        c.execute(
            "INSERT INTO letters VALUES (5, 1, 'east', 1, ?, 'sha', NULL, 'lead_east',"
            " 'issued', now(), 'exec')",
            [content],
        )
        c.execute("INSERT INTO regions VALUES ('east', 'East Renamed', NULL, 'asia', 'x')")
    old.close()
    monkeypatch.setattr(core, "migrations", lambda: every)
    cur = connect(path).cursor()
    with transaction(cur):
        new_id = lq.insert_correction(
            cur,
            {
                "cycle_id": 1,
                "region": "r",
                "field": "risks",
                "value_json": '""',
                "reason": "x",
                "corrected_at": neg.utcnow(),
                "corrected_by": "t",
            },
        )
    assert new_id == 4
    frozen = nq.frozen_regions(cur, 1)["east"]
    assert (
        frozen["name_en"],
        frozen["name_zh"],
        frozen["lead_username"],
        frozen["lead_name"],
        frozen["parent"],
    ) == ("East", "华东", "lead_east", "Wang Lei", "asia")


def _flagged_override_cycle(cur) -> tuple[int, dict]:
    """east proposed far below the suggestion and was accepted with an HR override."""
    users = make_accounts(cur)
    ex, east, south = users["exec"], users["lead_east"], users["lead_south"]
    cid = neg.create_cycle(cur, ex, "2026Q1 new customers", "new_customers", "2026Q1", 420)
    neg.publish_run(cur, ANALYST, cid, make_run(1, {"east": 220.0, "south": 200.0}))
    neg.open_cycle(cur, ex, cid)
    neg.propose(cur, east, cid, "east", 150, **GOOD, expected_last_event=None)
    neg.propose(cur, south, cid, "south", 195, **GOOD, expected_last_event=None)
    # The executive accepts flagged east without HR's review: an hr_override with its reason.
    neg.respond(
        cur,
        ex,
        cid,
        "east",
        "accept",
        expected_last_event=last_id(cur, cid, "east"),
        hr_override_reason="Key account lost <b>in March</b>",
    )
    neg.respond(cur, ex, cid, "south", "accept", expected_last_event=last_id(cur, cid, "south"))
    board_lock.lock_cycle(cur, ex, cid)
    return cid, users


@needs_poppler
def test_hr_override_is_printed_on_the_letter(cur, tmp_path):
    cid, users = _flagged_override_cycle(cur)
    got = {x.region: x for x in letters.cycle_letters(cur, users["exec"], cid)}
    assert got["east"].content.hr_override == "Key account lost <b>in March</b>"
    assert got["south"].content.hr_override == ""
    for lang, words in (
        ("en", "Accepted by the executive without HR review"),
        ("zh", "高管未经人力资源审核即接受"),
    ):
        pdf = tmp_path / f"east-{lang}.pdf"
        pdf.write_bytes(render_letter(got["east"].content, [], lang))
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        flat = " ".join(text.split())
        assert words in flat and "Key account lost <b>in March</b>" in flat
        other = tmp_path / f"south-{lang}.pdf"
        other.write_bytes(render_letter(got["south"].content, [], lang))
        south = subprocess.run(
            ["pdftotext", str(other), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert words not in " ".join(south.split())
