"""The decision record's kernel: keyed hash-chained append, verify, seals and anchors.

Every event's `hash` is HMAC-SHA256(audit key, prev_hash + canonical JSON of the event). The
key never lives in the database file: it comes from `CALIBRATE_AUDIT_KEY` or from a key file
`<db>.audit-key` (created with owner-only permissions on the first append). A person holding
only the database can therefore neither forge an event nor re-chain an edited log.

Truncation is caught by anchors kept outside the events table: a checkpoint file
`<db>.audit-checkpoints` gets one keyed line (count, head hash) per append, and backup
manifests carry the head too; `verify` compares the log against every anchor it is given.

Tables a decision depends on (COVERED_TABLES) are sealed: each write to them is accompanied,
in the same transaction, by an event whose payload carries a keyed digest of the table
(`"seal": {table: digest}`); `verify` recomputes the digests from the tables.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from calibration.store import negotiation as q
from calibration.store import transaction
from calibration.store.core import utcnow

KEY_ENV = "CALIBRATE_AUDIT_KEY"
KEY_SUFFIX = ".audit-key"
CHECKPOINT_SUFFIX = ".audit-checkpoints"
# Kind of the event that re-anchors a log written before the chain was keyed.
REKEY_KIND = "chain_keyed"
SEAL_KIND = "seal"
# Cycle id of events that belong to no cycle (user region assignments, re-keying).
SYSTEM_CYCLE = 0
# The tables sealed with each write: one list, kept by the store that queries them.
COVERED_TABLES = q.SEALED_TABLES

# Writes that go with appended events (e.g. notifications), in the same transaction:
# side(cur, [(context, events), ...]) once for every write of a group commit that names it.
Side = Callable[[duckdb.DuckDBPyConnection, list[tuple[object, list[dict]]]], object]

# One process-wide lock around every append: each event links to the one before it, so
# appends must be serial. Re-entrant so a sealed write may call helpers that append.
APPEND_LOCK = threading.RLock()
_RETRIES = 5
# A database without a file (":memory:") gets a key for this process only.
_MEMORY_KEY = secrets.token_bytes(32)


class AuditKeyError(RuntimeError):
    """No audit key is available for a database that needs one."""


# ----------------------------------------------------------------------------- the key


def db_file(cur: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the database behind a cursor (None for an in-memory database)."""
    path = q.database_path(cur)
    return Path(path) if path else None


def key_path(db_path: str | Path) -> Path:
    """Where the key file of a database lives."""
    return Path(str(db_path) + KEY_SUFFIX)


def checkpoint_path(db_path: str | Path) -> Path:
    """Where the checkpoint file of a database lives."""
    return Path(str(db_path) + CHECKPOINT_SUFFIX)


def copy_database(src: str | Path, dst: str | Path) -> Path:
    """Copy a closed database file with its audit key and checkpoints (they travel together)."""
    shutil.copyfile(src, dst)
    for suffix in (KEY_SUFFIX, CHECKPOINT_SUFFIX):
        side = Path(str(src) + suffix)
        if side.exists():
            shutil.copy2(side, str(dst) + suffix)
    return Path(dst)


def create_key_file(path: Path) -> bytes:
    """Create a new random key file readable only by its owner; returns the key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return read_key_file(path)


def read_key_file(path: Path) -> bytes:
    """The key stored in a key file."""
    text = Path(path).read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise AuditKeyError(f"the audit key in {path} is too short")
    return text.encode("ascii")


# Key file -> ((inode, size, mtime), key): a submit reads its database's key without
# opening the file again while the file is unchanged.
_KEY_FILES: dict[str, tuple[tuple[int, int, int], bytes]] = {}


def _read_key_cached(path: str) -> bytes | None:
    """The key in a key file (None when there is none), re-read whenever the file changes."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        _KEY_FILES.pop(path, None)
        return None
    sig = (st.st_ino, st.st_size, st.st_mtime_ns)
    known = _KEY_FILES.get(path)
    if known is not None and known[0] == sig:
        return known[1]
    key = read_key_file(Path(path))
    _KEY_FILES[path] = (sig, key)
    return key


def resolve_key(db_path: str | Path | None, create: bool = False) -> bytes | None:
    """The audit key for a database: $CALIBRATE_AUDIT_KEY, else its key file.

    With create, a missing key file is made (0600); otherwise None is returned for it.
    """
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        if len(env) < 16:
            raise AuditKeyError(f"{KEY_ENV} is too short (at least 16 characters)")
        return env.encode("utf-8")
    if db_path is None:
        return _MEMORY_KEY
    path = str(db_path) + KEY_SUFFIX
    key = _read_key_cached(path)
    if key is not None or not create:
        return key
    try:
        return create_key_file(Path(path))
    except FileExistsError:
        # Another process created it between our check and our create.
        return read_key_file(Path(path))


def audit_key(cur: duckdb.DuckDBPyConnection, create: bool = False) -> bytes | None:
    """The audit key of the database behind a cursor (see resolve_key)."""
    return resolve_key(db_file(cur), create=create)


def mac(key: bytes, text: str) -> str:
    """HMAC-SHA256 of text under key, hex."""
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- hashing


def canonical(row: dict) -> str:
    """Canonical JSON of an event's content (everything but prev_hash and hash)."""
    at = row["at"]
    content = {
        "id": int(row["id"]),
        "cycle_id": int(row["cycle_id"]),
        "region": row["region"],
        "actor": row["actor"],
        "role": row["role"],
        "at": at.isoformat() if isinstance(at, datetime) else str(at),
        "kind": row["kind"],
        "value": None if row["value"] is None else float(row["value"]),
        "suggestion": None if row["suggestion"] is None else float(row["suggestion"]),
        "run_id": None if row["run_id"] is None else int(row["run_id"]),
        "payload": row["payload"],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def legacy_hash(prev_hash: str, row: dict) -> str:
    """The unkeyed sha256 chain hash used before the chain was keyed (public, forgeable)."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, row: dict) -> str:
    """HMAC-SHA256(key, prev_hash + canonical JSON of the row), hex."""
    return mac(key, prev_hash + canonical(row))


def _plain(value: object) -> object:
    # A stable text form for digests: the same stored value always digests the same.
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    return value


def table_digest(cur: duckdb.DuckDBPyConnection, key: bytes, table: str) -> str:
    """Keyed digest of every row of a covered table."""
    rows = q.table_rows(cur, table)
    text = json.dumps(
        [[_plain(v) for v in row] for row in rows], ensure_ascii=False, separators=(",", ":")
    )
    return mac(key, f"{table}\n{text}")


# ----------------------------------------------------------------------------- anchors


def head(cur: duckdb.DuckDBPyConnection) -> dict:
    """The chain head to anchor elsewhere: {"events": count, "head": hash of the newest}."""
    last_id, last_hash = q.last_event(cur)
    return {"events": int(last_id), "head": last_hash}


def anchor_mac(key: bytes, anchor: dict) -> str:
    """The keyed tag of an anchor, so an anchor cannot be made up without the key."""
    return mac(key, f"anchor:{int(anchor['events'])}:{anchor['head']}")


def _write_checkpoint(
    cur: duckdb.DuckDBPyConnection,
    key: bytes,
    path: Path | None = None,
    anchor: dict | None = None,
) -> None:
    # path and anchor are passed by append, which knows them, to save two queries.
    path = path or db_file(cur)
    if path is None:
        return
    anchor = anchor or head(cur)
    line = json.dumps(
        {**anchor, "at": utcnow().isoformat(timespec="seconds"), "mac": anchor_mac(key, anchor)},
        sort_keys=True,
    )
    # One short line appended per write: O_APPEND keeps concurrent lines whole.
    with open(checkpoint_path(path), "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def write_checkpoint(cur: duckdb.DuckDBPyConnection) -> None:
    """Append the current head to the checkpoint file (after a restore or re-keying)."""
    key = audit_key(cur, create=True)
    assert key is not None
    _write_checkpoint(cur, key)


def read_checkpoints(db_path: str | Path) -> list[dict]:
    """Every line of a database's checkpoint file as parsed dicts (bad lines as {'bad': n})."""
    path = checkpoint_path(db_path)
    if not path.exists():
        return []
    out: list[dict] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                {
                    "events": int(row["events"]),
                    "head": str(row["head"]),
                    "mac": str(row["mac"]),
                    "line": number,
                }
            )
        except (ValueError, KeyError, TypeError):
            out.append({"bad": number})
    return out


# ----------------------------------------------------------------------------- append


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _opt_int(value: object) -> int | None:
    number = _opt_float(value)
    return None if number is None else int(number)


def _prepared(ev: dict, seal: dict[str, str] | None = None) -> dict:
    """An event's stored columns except id, at and the hashes (those need the chain head)."""
    payload = dict(ev.get("payload", {}))
    if seal:
        payload["seal"] = seal
    return {
        "region": None,
        **ev,
        "value": _opt_float(ev.get("value")),
        "suggestion": _opt_float(ev.get("suggestion")),
        "run_id": _opt_int(ev.get("run_id")),
        "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False),
    }


def _chain(
    key: bytes,
    rows: list[dict],
    last_id: int,
    prev: str,
    now: datetime,
) -> tuple[list[dict], int, str]:
    """Chain prepared rows on after (last_id, prev); returns the full rows and the new head."""
    out = []
    for prepared in rows:
        last_id += 1
        row = {**prepared, "id": last_id, "at": now, "prev_hash": prev}
        row["hash"] = keyed_hash(key, prev, row)
        prev = row["hash"]
        out.append(row)
    return out, last_id, prev


def _insert(
    cur: duckdb.DuckDBPyConnection, key: bytes, events: list[dict], seal: dict[str, str]
) -> tuple[list[dict], tuple[int, str]]:
    """Insert events after the current head; returns their rows and the head before them."""
    before = q.last_event(cur)
    rows = [_prepared(ev, seal if i == len(events) - 1 else None) for i, ev in enumerate(events)]
    chained, _, _ = _chain(key, rows, *before, utcnow())
    q.insert_events(cur, chained)
    return chained, before


def _anchor(rows: list[dict]) -> dict:
    """The head after rows (the newest of them) as an anchor."""
    return {"events": rows[-1]["id"], "head": rows[-1]["hash"]}


# ----------------------------------------------------------------------------- the record

# How many of this process's newest appends are remembered per database (see appended_since).
RECORD_ROWS = 4096


@dataclass
class _Record:
    """This process's appends to one database, consecutive from the event (base_id, base_hash)."""

    base_id: int
    base_hash: str
    rows: deque = field(default_factory=deque)  # (id, cycle_id, region, kind, hash)


_RECORDS: dict[str, _Record] = {}
_RECORD_LOCK = threading.Lock()
# Databases remembered at once (a test process opens a fresh file per test).
_RECORD_FILES = 8


def _note(path: Path | None, before: tuple[int, str], rows: list[dict]) -> None:
    """Remember rows just committed after the head `before` (called under APPEND_LOCK)."""
    if path is None or not rows:
        return
    name = str(path)
    with _RECORD_LOCK:
        rec = _RECORDS.get(name)
        last = (rec.rows[-1][0], rec.rows[-1][4]) if rec and rec.rows else None
        if rec is None or (last or (rec.base_id, rec.base_hash)) != tuple(before):
            # First append here, or the log moved without this process (a restore, another
            # writer): what is remembered starts again from the head this append followed.
            rec = _Record(int(before[0]), str(before[1]))
            _RECORDS.pop(name, None)
            _RECORDS[name] = rec
            while len(_RECORDS) > _RECORD_FILES:
                _RECORDS.pop(next(iter(_RECORDS)))
        for r in rows:
            rec.rows.append((r["id"], r["cycle_id"], r["region"], r["kind"], r["hash"]))
        while len(rec.rows) > RECORD_ROWS:
            old = rec.rows.popleft()
            rec.base_id, rec.base_hash = old[0], old[4]


def appended_since(
    path: Path | str, event_id: int, event_hash: str
) -> list[tuple[int, int, str | None, str, str]] | None:
    """Events this process appended after event event_id, oldest first, as (id, cycle_id,
    region, kind, hash); [] when it appended none it knows to be later.

    None when the remembered appends do not follow that event (it is older than what is
    remembered, or its hash differs: the log is not the one it was read from). Lets a
    cache kept by the newest event id catch up without reading the database.
    """
    with _RECORD_LOCK:
        rec = _RECORDS.get(str(path))
        if rec is None:
            return []
        last_id = rec.rows[-1][0] if rec.rows else rec.base_id
        if event_id > last_id:
            return []
        if event_id == rec.base_id:
            return list(rec.rows) if event_hash == rec.base_hash else None
        at = event_id - rec.base_id - 1
        if not 0 <= at < len(rec.rows) or rec.rows[at][0] != event_id:
            return None
        if rec.rows[at][4] != event_hash:
            return None
        return [rec.rows[i] for i in range(at + 1, len(rec.rows))]


# ----------------------------------------------------------------------------- append


def append(
    cur: duckdb.DuckDBPyConnection,
    build: Callable[[], list[dict]],
    seal: Iterable[str] = (),
    side: Side | None = None,
    context: object = None,
) -> list[int]:
    """Run build() and append the events it returns, in one serialised transaction.

    build runs inside the transaction and the append lock, so its checks see exactly the
    state the new events follow. Tables named in seal (written by build) get their digest
    in the last event's payload. side(cur, [(context, events)]), when given, writes what goes
    with the events (e.g. notifications) in the same transaction. The checkpoint file gets the new
    head after the commit.
    """
    tables = tuple(seal)
    key = b""
    for attempt in range(_RETRIES):
        try:
            with APPEND_LOCK:
                with transaction(cur):
                    events = build()
                    if not events:
                        return []
                    # Resolved only when there is something to append: a refused or empty
                    # write never creates a key file (e.g. on a read-only deployment).
                    path = db_file(cur)
                    key = resolve_key(path, create=True) or b""
                    if side is not None:
                        side(cur, [(context, events)])
                    digests = {t: table_digest(cur, key, t) for t in tables}
                    rows, before = _insert(cur, key, events, digests)
                _write_checkpoint(cur, key, path, _anchor(rows))
                _note(path, before, rows)
                return [r["id"] for r in rows]
        except duckdb.TransactionException:
            # Another connection (e.g. a second process-level writer) got there first.
            if attempt == _RETRIES - 1:
                raise
            time.sleep(0.01 * (2**attempt))
    raise AssertionError("unreachable")


@dataclass(eq=False)
class _Pending:
    """One prepared write waiting in a group commit (see append_seen)."""

    events: list[dict]
    rows: list[dict]
    seen: int
    seen_hash: str | None
    cycle_id: int
    region: str | None
    side: Side | None = None
    context: object = None
    done: bool = False
    conflict: bool = False
    ids: list[int] = field(default_factory=list)
    error: BaseException | None = None


# Prepared writes per database file, waiting for whichever writer holds APPEND_LOCK next.
_WAITING: dict[object, list[_Pending]] = {}
_WAITING_LOCK = threading.Lock()


class _Newest:
    """The newest event id per cycle and region, and per cycle for cycle-wide events.

    A dict lookup per waiting writer instead of a scan of every newer event: with 500
    writers waiting, the scan made a group commit quadratic.
    """

    def __init__(self) -> None:
        self.by_region: dict[tuple[int, str], int] = {}
        self.cycle_wide: dict[int, int] = {}
        self.any: dict[int, int] = {}

    def add(self, event_id: int, cycle_id: int, region: str | None) -> None:
        """Note an event (or a write of this group) of cycle_id for region (None: the cycle)."""
        self.any[cycle_id] = max(self.any.get(cycle_id, 0), event_id)
        if region is None:
            self.cycle_wide[cycle_id] = max(self.cycle_wide.get(cycle_id, 0), event_id)
        else:
            key = (cycle_id, region)
            self.by_region[key] = max(self.by_region.get(key, 0), event_id)

    def touches(self, item: _Pending) -> bool:
        """Whether something newer than item's snapshot may change what its build() checked:
        an event of its cycle for its region, or for the whole cycle (status, publish, seals)."""
        if item.region is None:
            return self.any.get(item.cycle_id, 0) > item.seen
        newest = max(
            self.cycle_wide.get(item.cycle_id, 0),
            self.by_region.get((item.cycle_id, item.region), 0),
        )
        return newest > item.seen


def _commit_group(
    cur: duckdb.DuckDBPyConnection, key: bytes, path: Path | None, batch: list[_Pending]
) -> None:
    """Append every item of batch that nothing touched since its snapshot, in one commit.

    Runs under APPEND_LOCK. Items something touched are marked conflict (their writer runs
    its checks again under the lock); every item is marked done before the lock is released.
    """
    try:
        for attempt in range(_RETRIES):
            try:
                taken: list[_Pending] = []
                chained: list[dict] = []
                with transaction(cur):
                    # One query for both: what came after the oldest snapshot, and the head.
                    oldest = min(it.seen for it in batch)
                    newer = q.events_from(cur, oldest)
                    if newer and newer[0][0] == oldest:
                        before = (newer[-1][0], newer[-1][3])
                    else:
                        before = q.last_event(cur)
                    last_id, prev = before
                    newest = _Newest()
                    hashes = {}
                    for eid, c, r, h in newer:
                        newest.add(eid, c, r)
                        hashes[eid] = h
                    now = utcnow()
                    for it in batch:
                        # Checked on another log than this (its event differs: a restore)?
                        moved = it.seen_hash is not None and it.seen > 0
                        moved = moved and hashes.get(it.seen) != it.seen_hash
                        it.conflict = moved or newest.touches(it)
                        if it.conflict:
                            continue
                        rows, last_id, prev = _chain(key, it.rows, last_id, prev, now)
                        it.ids = [r["id"] for r in rows]
                        chained.extend(rows)
                        # A later writer of this group for the same region must check again.
                        newest.add(last_id, it.cycle_id, it.region)
                        taken.append(it)
                    if chained:
                        # One statement for the whole group: per-statement cost dominates.
                        q.insert_events(cur, chained)
                    # Each side once for the group (e.g. one read of who is told, one insert).
                    sides: dict[Side, list[tuple[object, list[dict]]]] = {}
                    for it in taken:
                        if it.side is not None:
                            sides.setdefault(it.side, []).append((it.context, it.events))
                    for side, writes in sides.items():
                        side(cur, writes)
                break
            except duckdb.TransactionException:
                # Another connection (e.g. a second process-level writer) got there first.
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.01 * (2**attempt))
        if chained:
            _write_checkpoint(cur, key, path, _anchor(chained))
            _note(path, before, chained)
    except BaseException as exc:  # every waiting writer reports it; nothing was appended
        for it in batch:
            it.error = exc
    finally:
        for it in batch:
            it.done = True


def append_seen(
    cur: duckdb.DuckDBPyConnection,
    path: Path | None,
    events: list[dict],
    seen: int,
    cycle_id: int,
    region: str | None,
    rebuild: Callable[[], list[dict]],
    side: Side | None = None,
    context: object = None,
    seen_hash: str | None = None,
) -> list[int]:
    """Append events a caller built from the state as of event `seen`, holding the lock
    only for the append.

    Under APPEND_LOCK only the events appended since `seen` are looked at: when none belongs
    to cycle_id and region (or to the whole cycle), and event `seen` has seen_hash (when
    given: the caller's state came from this log), the events are chained on; otherwise
    rebuild() runs under the lock, exactly as append does. Writers that arrive while the
    lock is held are appended together in one commit by the next writer to get it (group
    commit): one transaction, one insert and one checkpoint line for all. side writes what
    goes with the events in that transaction: side(cur, [(context, events), ...]) once for
    every appended write of the group that names the same side.
    """
    if not events:
        return []
    key = resolve_key(path, create=True) or b""
    rows = [_prepared(ev) for ev in events]
    item = _Pending(events, rows, seen, seen_hash, int(cycle_id), region, side, context)
    # A database without a file is private to its connection: no group to join.
    group: object = str(path) if path is not None else item
    with _WAITING_LOCK:
        _WAITING.setdefault(group, []).append(item)
    with APPEND_LOCK:
        if not item.done:
            with _WAITING_LOCK:
                batch = _WAITING.pop(group, [])
            _commit_group(cur, key, path, batch)
    if item.error is not None:
        raise item.error
    if item.conflict:
        return append(cur, rebuild, side=side, context=context)
    return item.ids


def append_checked(
    cur: duckdb.DuckDBPyConnection,
    build: Callable[[], list[dict]],
    cycle_id: int,
    region: str | None,
    side: Side | None = None,
    context: object = None,
) -> list[int]:
    """Like append, but build() runs before the lock: the lock is held only for the append.

    build runs on one snapshot of the database (its checks, reads and the payloads), outside
    APPEND_LOCK, and must not write (side does, with the events); then append_seen.
    """
    with transaction(cur):  # one snapshot: the head and everything build reads
        seen = q.last_event_id(cur)
        events = build()
    if not events:
        return []
    return append_seen(cur, db_file(cur), events, seen, cycle_id, region, build, side, context)


@contextmanager
def sealed(
    cur: duckdb.DuckDBPyConnection,
    actor: str,
    role: str,
    cycle_id: int | None,
    tables: Iterable[str],
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A transaction for writes to covered tables that ends with a seal event for them.

    Use in place of `with transaction(cur):`. Nothing is appended when the (append-only)
    tables did not grow, so a re-evaluation that records nothing writes nothing.
    """
    tables = tuple(tables)
    key = b""
    with APPEND_LOCK:
        with transaction(cur):
            before = [q.table_count(cur, t) for t in tables]
            yield cur
            after = [q.table_count(cur, t) for t in tables]
            rows: list[dict] = []
            if after != before:
                key = audit_key(cur, create=True) or b""
                seal = {t: table_digest(cur, key, t) for t in tables}
                rows, head_before = _insert(
                    cur,
                    key,
                    [
                        {
                            "cycle_id": SYSTEM_CYCLE if cycle_id is None else int(cycle_id),
                            "actor": actor,
                            "role": role,
                            "kind": SEAL_KIND,
                            "payload": {"tables": list(tables)},
                        }
                    ],
                    seal,
                )
        if rows:
            path = db_file(cur)
            _write_checkpoint(cur, key, path, _anchor(rows))
            _note(path, head_before, rows)


# ----------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class ChainReport:
    """Result of checking the decision record; problems lists everything found wrong."""

    ok: bool
    events: int
    broken_id: int | None = None
    reason: str = ""
    problems: tuple[str, ...] = field(default_factory=tuple)
    anchor: dict | None = None


def _check_anchor(rows: list[dict], anchor: dict, source: str) -> str | None:
    n = int(anchor["events"])
    if n > len(rows):
        return f"truncated: {source} records {n} events, the log has {len(rows)}"
    if n > 0 and rows[n - 1]["hash"] != anchor["head"]:
        return f"event {n} differs from the head recorded in {source}"
    return None


def _letter_anchors(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, dict]]:
    # A letter's anchor needs no tag of its own: its head is a keyed hash, and the letters
    # table is sealed.
    out = []
    for letter_id, text in q.letter_anchors(cur):
        try:
            body = json.loads(text)
            n, head_hash = int(body.get("chain_events") or 0), str(body.get("chain_head") or "")
        except (ValueError, TypeError, AttributeError):
            continue
        if n:
            out.append((f"letter {letter_id}", {"events": n, "head": head_hash}))
    return out


def verify(
    cur: duckdb.DuckDBPyConnection,
    anchors: Iterable[tuple[str, dict]] = (),
    key: bytes | None = None,
) -> ChainReport:
    """Check the keyed chain, the seals of covered tables and every anchor.

    anchors: extra (source name, {"events", "head", "mac"}) pairs, e.g. a backup manifest's;
    the database's checkpoint file is always read. key overrides the database's own key
    (a restore checks a temporary file that has no key file yet).
    """
    rows = [dict(zip(q.EVENT_COLUMNS, v, strict=True)) for v in q.all_events(cur)]
    path = db_file(cur)
    key = key or resolve_key(path)
    if key is None:
        where = key_path(path) if path else "(memory)"
        if not rows:
            return ChainReport(True, 0)
        reason = (
            f"no audit key: set {KEY_ENV} or restore the key file {where}; "
            "without it the log cannot be checked"
        )
        return ChainReport(False, len(rows), None, reason, (reason,))
    problems: list[str] = []
    broken: int | None = None
    # Events up to the newest re-keying marker may carry the old unkeyed hash: the marker
    # (keyed) pins their head, so none of them can change unnoticed.
    legacy_limit = 0
    for row in rows:
        if row["kind"] == REKEY_KIND:
            try:
                legacy_limit = max(legacy_limit, int(json.loads(row["payload"])["legacy_events"]))
            except (ValueError, KeyError, TypeError):
                pass
    prev = ""
    seals: dict[str, tuple[int, str]] = {}
    for expected_id, row in enumerate(rows, start=1):
        if row["id"] != expected_id:
            broken, why = row["id"], f"missing event before {row['id']}"
        elif row["prev_hash"] != prev:
            broken, why = row["id"], "prev_hash does not match"
        elif keyed_hash(key, prev, row) != row["hash"] and not (
            row["id"] <= legacy_limit and legacy_hash(prev, row) == row["hash"]
        ):
            broken, why = row["id"], "content does not match its keyed hash (edited or forged)"
            if legacy_limit == 0 and legacy_hash(prev, row) == row["hash"]:
                why = (
                    "written before the chain was keyed (or forged with the public hash); "
                    "if this database predates the keyed chain, run "
                    "`python -m calibration audit rekey` once"
                )
        if broken is not None:
            problems.append(f"event {broken}: {why}")
            break
        try:
            payload = json.loads(row["payload"])
        except ValueError:
            payload = {}
        if row["kind"] == REKEY_KIND:
            n = int(payload.get("legacy_events", 0))
            if n >= row["id"] or (n and rows[n - 1]["hash"] != payload.get("legacy_head")):
                broken = row["id"]
                problems.append(f"event {broken}: re-keying marker does not match the log")
                break
        if isinstance(payload, dict) and isinstance(payload.get("seal"), dict):
            for table, digest in payload["seal"].items():
                seals[table] = (int(row["id"]), str(digest))
        prev = row["hash"]
    if broken is None:
        for table in COVERED_TABLES:
            digest = table_digest(cur, key, table)
            if table in seals:
                if seals[table][1] != digest:
                    problems.append(
                        f"table {table} differs from its seal in event "
                        f"{seals[table][0]} (edited outside the app)"
                    )
            elif q.table_count(cur, table) > 0:
                problems.append(
                    f"table {table} has rows that no event seals "
                    "(edited outside the app, or the log was truncated)"
                )
    found: list[tuple[str, dict]] = []
    if path is not None:
        for cp in read_checkpoints(path):
            if "bad" in cp or anchor_mac(key, cp) != cp["mac"]:
                problems.append(
                    f"checkpoint file line {cp.get('bad') or cp['line']} is "
                    "damaged or was not written by this app"
                )
                continue
            found.append((f"checkpoint file line {cp['line']}", cp))
    found.extend(_letter_anchors(cur))
    for source, anchor in anchors:
        if anchor_mac(key, anchor) != anchor.get("mac"):
            problems.append(f"the anchor in {source} was not made with this key")
            continue
        found.append((source, anchor))
    newest = max(found, key=lambda a: int(a[1]["events"]), default=None)
    # The newest anchor says the most; older ones still catch an edited prefix.
    for source, anchor in sorted(found, key=lambda a: -int(a[1]["events"])):
        problem = _check_anchor(rows, anchor, source)
        if problem:
            problems.append(problem)
            break
    reason = problems[0] if problems else ""
    return ChainReport(
        not problems, len(rows), broken, reason, tuple(problems), newest[1] if newest else None
    )


# ----------------------------------------------------------------------------- re-keying


def rekey(cur: duckdb.DuckDBPyConnection, actor: str = "system") -> dict:
    """Re-anchor a log written before the chain was keyed: check its old unkeyed chain,
    then append one keyed marker pinning its head and sealing every covered table.

    Returns {"legacy_events": n}. Refuses (ValueError) when the old chain is broken.
    """
    key = audit_key(cur, create=True)
    assert key is not None
    with APPEND_LOCK:
        rows = [dict(zip(q.EVENT_COLUMNS, v, strict=True)) for v in q.all_events(cur)]
        prev = ""
        for expected_id, row in enumerate(rows, start=1):
            ok = (
                row["id"] == expected_id
                and row["prev_hash"] == prev
                and row["hash"] in (legacy_hash(prev, row), keyed_hash(key, prev, row))
            )
            if not ok:
                raise ValueError(f"event {row['id']} is broken; the log cannot be re-keyed")
            prev = row["hash"]
        n = len(rows)

        def build() -> list[dict]:
            return [
                {
                    "cycle_id": SYSTEM_CYCLE,
                    "actor": actor,
                    "role": "admin",
                    "kind": REKEY_KIND,
                    "payload": {"legacy_events": n, "legacy_head": prev},
                }
            ]

        append(cur, build, seal=COVERED_TABLES)
    return {"legacy_events": n}
