"""The decision record: `audit verify` catches truncation, forgery and edits of every table a
decision depends on; the key never lives in the database; leads see only their regions."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from calibration.cli import main as cli_main
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.nego_fixtures import GOOD, LEAD_EAST, open_cycle


def _verify(db: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli_main(["audit", "verify", "--db", str(db)])
    out = capsys.readouterr()
    return code, out.out + out.err


def _tamper(db: Path, *statements: tuple[str, list]) -> None:
    # A raw connection, as a person with only the database file would use.
    raw = duckdb.connect(str(db))
    for sql, params in statements:
        raw.execute(sql, params)
    raw.close()


def test_demo_verifies_ok(demo_db, capsys):
    code, text = _verify(demo_db, capsys)
    assert code == 0, text
    assert text.startswith("OK")


@pytest.mark.parametrize("keep", ["last", "five", "all"])
def test_truncation_is_detected(demo_db, capsys, keep):
    con = connect(demo_db)
    n = con.execute("SELECT max(id) FROM events").fetchone()[0]
    con.close()
    cut = {"last": n, "five": n - 4, "all": 1}[keep]
    _tamper(demo_db, ("DELETE FROM events WHERE id >= ?", [cut]))
    code, text = _verify(demo_db, capsys)
    assert code == 1
    assert "truncated" in text or "no event seals" in text or "differs" in text


def test_truncation_detected_by_checkpoint_alone(db_path, capsys):
    # A log whose only other evidence is the checkpoint file: the anchor must catch it.
    con = connect(db_path)
    cur = con.cursor()
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None)
    neg.add_comment(cur, LEAD_EAST, cid, "east", "evidence follows")
    last = con.execute("SELECT max(id) FROM events").fetchone()[0]
    con.close()
    _tamper(db_path, ("DELETE FROM events WHERE id = ?", [last]))
    code, text = _verify(db_path, capsys)
    assert code == 1
    assert f"records {last} events, the log has {last - 1}" in text


def test_forged_accept_with_public_hash_is_detected(demo_db, capsys):
    con = connect(demo_db)
    cur = con.cursor()
    last = neg.q.all_events(cur)[-1]
    con.close()
    prev = dict(zip(neg.q.EVENT_COLUMNS, last, strict=True))
    row = {
        "id": prev["id"] + 1,
        "cycle_id": 1,
        "region": "east",
        "actor": "exec",
        "role": "executive",
        "at": datetime(2026, 1, 1),
        "kind": "response",
        "value": 1.0,
        "suggestion": None,
        "run_id": None,
        "payload": json.dumps({"action": "accept"}),
        "prev_hash": prev["hash"],
    }
    row["hash"] = neg.event_hash(prev["hash"], row)
    cols = list(neg.q.EVENT_COLUMNS)
    _tamper(
        demo_db,
        (
            f"INSERT INTO events ({neg.q._EVENT_SQL}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols],
        ),
    )
    code, text = _verify(demo_db, capsys)
    assert code == 1
    assert f"event {row['id']}" in text


def test_edit_and_rehash_whole_chain_is_detected(demo_db, capsys):
    con = connect(demo_db)
    rows = [dict(zip(neg.q.EVENT_COLUMNS, r, strict=True)) for r in neg.q.all_events(con.cursor())]
    con.close()
    target = next(r for r in rows if r["kind"] == "proposal")
    target["value"] = 1.0
    prev = ""
    updates = []
    for r in rows:
        r["prev_hash"] = prev
        r["hash"] = neg.event_hash(prev, r)
        prev = r["hash"]
        updates.append(
            (
                "UPDATE events SET value = ?, prev_hash = ?, hash = ? WHERE id = ?",
                [r["value"], r["prev_hash"], r["hash"], r["id"]],
            )
        )
    _tamper(demo_db, *updates)
    code, text = _verify(demo_db, capsys)
    assert code == 1
    assert "event 1" in text


TAMPERING = {
    "company_target": ("UPDATE cycles SET company_target = company_target + 1", [], "cycles"),
    "threshold": ("UPDATE cycles SET dissent_threshold = 0.5", [], "cycles"),
    "suggestion": (
        "UPDATE cycle_suggestions SET suggestion = 1 WHERE region = 'east'",
        [],
        "cycle_suggestions",
    ),
    "signature": (
        "DELETE FROM letter_signatures WHERE role = 'executive'"
        " AND signature_id = (SELECT min(signature_id) FROM letter_signatures"
        " WHERE role = 'executive')",
        [],
        "letter_signatures",
    ),
    "letter": ("UPDATE letters SET reason = 'edited' WHERE letter_id = 1", [], "letters"),
    "user_region": ("INSERT INTO user_regions VALUES ('lead_east', 'south')", [], "user_regions"),
    "commitment": (
        "UPDATE commitment_events SET delivered = NOT delivered",
        [],
        "commitment_events",
    ),
    "escalation": (
        "INSERT INTO tracking_events VALUES (99, 1, 'east', 'escalation', 2,"
        " DATE '2026-02-01', '{}', TIMESTAMP '2026-02-01 00:00:00', 'system')",
        [],
        "tracking_events",
    ),
    "root_cause": (
        "INSERT INTO root_causes VALUES (99, 1, 1, 'east', 'external', 'x', 'lead_east',"
        " TIMESTAMP '2026-02-01 00:00:00')",
        [],
        "root_causes",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_edit_of_covered_table_is_detected(demo_db, capsys, case):
    sql, params, table = TAMPERING[case]
    _tamper(demo_db, (sql, params))
    code, text = _verify(demo_db, capsys)
    assert code == 1, text
    assert f"table {table}" in text


def test_service_writes_to_covered_tables_still_verify(demo_db, capsys):
    from calibration.accounts import auth
    from calibration.tracking import service as tracking_service

    con = connect(demo_db)
    cur = con.cursor()
    auth.add_user(cur, auth.SYSTEM, "lead_west", "lead", "a long enough password 1", ["west"])
    cycle_id = int(cur.execute("SELECT min(cycle_id) FROM cycles").fetchone()[0])
    tracking_service.set_commitment_status(
        cur, auth.SYSTEM, cycle_id, "east", "one AE", True, "done"
    )
    con.close()
    code, text = _verify(demo_db, capsys)
    assert code == 0, text


def test_key_file_is_owner_only_and_outside_the_database(db_path, monkeypatch):
    monkeypatch.delenv("CALIBRATE_AUDIT_KEY", raising=False)
    con = connect(db_path)
    open_cycle(con.cursor())
    con.close()
    key = Path(str(db_path) + ".audit-key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    secret = key.read_text().strip()
    assert secret.encode() not in db_path.read_bytes()


def test_env_key_is_used_and_a_wrong_key_fails(db_path, monkeypatch, capsys):
    monkeypatch.setenv("CALIBRATE_AUDIT_KEY", "k" * 40)
    con = connect(db_path)
    open_cycle(con.cursor())
    con.close()
    assert not Path(str(db_path) + ".audit-key").exists()
    assert _verify(db_path, capsys)[0] == 0
    monkeypatch.setenv("CALIBRATE_AUDIT_KEY", "x" * 40)
    assert _verify(db_path, capsys)[0] == 1


def test_missing_key_is_reported(db_path, capsys):
    con = connect(db_path)
    open_cycle(con.cursor())
    con.close()
    Path(str(db_path) + ".audit-key").unlink()
    code, text = _verify(db_path, capsys)
    assert code == 1 and "no audit key" in text


def test_legacy_chain_needs_explicit_rekey(db_path, capsys):
    con = connect(db_path)
    cur = con.cursor()
    cid = open_cycle(cur)
    neg.propose(cur, LEAD_EAST, cid, "east", 200, **GOOD, expected_last_event=None)
    rows = [dict(zip(neg.q.EVENT_COLUMNS, r, strict=True)) for r in neg.q.all_events(cur)]
    con.close()
    # Rewrite the log as a database from before the keyed chain: unkeyed hashes, no seals.
    prev, updates = "", []
    for r in rows:
        payload = json.loads(r["payload"])
        payload.pop("seal", None)
        r["payload"] = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        r["prev_hash"] = prev
        r["hash"] = neg.event_hash(prev, r)
        prev = r["hash"]
        updates.append(
            (
                "UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE id = ?",
                [r["payload"], r["prev_hash"], r["hash"], r["id"]],
            )
        )
    _tamper(db_path, *updates)
    Path(str(db_path) + ".audit-checkpoints").unlink()
    code, text = _verify(db_path, capsys)
    assert code == 1 and "rekey" in text
    capsys.readouterr()
    assert cli_main(["audit", "rekey", "--db", str(db_path)]) == 0
    assert f"{len(rows)} earlier events" in capsys.readouterr().out
    code, text = _verify(db_path, capsys)
    assert code == 0, text
    # After re-keying, the old part is pinned: an edit there is still found.
    _tamper(db_path, ("UPDATE events SET value = 1 WHERE kind = 'proposal'", []))
    assert _verify(db_path, capsys)[0] == 1


def test_decision_log_hides_other_regions_from_a_lead(demo_db):
    con = connect(demo_db)
    cur = con.cursor()
    lock = cur.execute(
        "SELECT cycle_id, payload FROM events WHERE kind = 'status'"
        " AND payload LIKE '%\"locked\"%' LIMIT 1"
    ).fetchone()
    assert lock is not None
    cycle_id, payload = lock
    others = {r: v for r, v in json.loads(payload)["agreed"].items() if r != "east"}
    assert others
    lead = neg.User("lead_east", "Lead East", "lead", frozenset({"east"}))
    log = neg.decision_log(cur, lead, cycle_id)
    con.close()
    text = log.astype(str).to_csv()
    for region in others:
        assert f'"{region}"' not in text and f"'{region}'" not in text


def test_signed_letter_anchor_catches_truncation(demo_db, capsys):
    con = connect(demo_db)
    content = json.loads(
        con.execute("SELECT content_json FROM letters ORDER BY letter_id DESC LIMIT 1").fetchone()[
            0
        ]
    )
    con.close()
    n = content["chain_events"]
    assert n > 0 and content["chain_head"]
    # Cut the log back to before the letter's anchor and remove the checkpoint file too.
    _tamper(demo_db, ("DELETE FROM events WHERE id >= ?", [n]))
    Path(str(demo_db) + ".audit-checkpoints").unlink()
    code, text = _verify(demo_db, capsys)
    assert code == 1
    assert "letter" in text and "truncated" in text


def test_letter_pdf_carries_the_anchor(demo_db):
    from io import BytesIO

    from pypdf import PdfReader

    from calibration.letters.pdf.render import render_letter
    from calibration.letters.service import content_from_json

    con = connect(demo_db)
    text = con.execute(
        "SELECT content_json FROM letters ORDER BY letter_id DESC LIMIT 1"
    ).fetchone()
    con.close()
    content = content_from_json(text[0])
    keywords = str(PdfReader(BytesIO(render_letter(content, [], "en"))).metadata["/Keywords"])
    assert f"chain-head:{content.chain_events}:{content.chain_head}" in keywords
