"""Two-way negotiation: cycles, published suggestions, proposals, HR review, executive
responses, the opinion layer (comments, attachments) and the hash-chained decision log.

Every write takes the acting `User`, asks calibration.access what that user may do
(access.AccessDenied, a PermissionError, when not allowed) and appends events; nothing is
updated in place. The current state of a cycle is derived from its events (`cycle_state`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from calibration import access, events, exports, numbers, settings
from calibration.access import Scope
from calibration.accounts import directory
from calibration.accounts.auth import User
from calibration.i18n import t
from calibration.negotiation import notices, submit_cache
from calibration.periods import parse_period
from calibration.store import negotiation as q
from calibration.store import users as uq
from calibration.store.core import utcnow

STATUSES = ("draft", "open", "locked", "tracking", "closed")
NEXT_STATUS = {"draft": "open", "open": "locked", "locked": "tracking", "tracking": "closed"}
CONFIDENCE = ("low", "medium", "high")
OUTCOMES = ("supported", "coaching", "escalate")
SUPPORT_KINDS = ("headcount", "budget", "other")
REGION_STATUSES = ("none", "proposed", "flagged", "countered", "agreed")
# Events that change a region's negotiation state (kept with the submit cache, which
# follows them): comments and attachments do not, so a comment never makes somebody's
# proposal stale.
DECISION_KINDS = submit_cache.DECISION_KINDS
DEFAULT_THRESHOLD = 0.15
MIN_JUSTIFICATION = 20
MAX_TEXT = 5000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
LOG_FIELDS = (
    "status",
    "justification",
    "support",
    "support_items",
    "risk",
    "confidence",
    "flagged",
    "outcome",
    "note",
    "action",
    "reason",
    "text",
    "file_name",
    "sha256",
)
RUN_COLUMNS = ("region", "suggestion", "lower80", "upper80")
RUN_OPTIONAL = ("history", "market", "pipeline", "capacity", "reason_en", "reason_zh")
# What a cycle keeps of a model run per region (cycle_suggestions), in state order.
SUGGESTION_COLUMNS = (*RUN_COLUMNS, "run_id", *RUN_OPTIONAL)
STATE_COLUMNS = (
    *SUGGESTION_COLUMNS,
    "proposal_value",
    "justification",
    "support",
    "support_items",
    "risk",
    "confidence",
    "proposed_at",
    "proposed_by",
    "proposal_event_id",
    "proposal_run_id",
    "proposal_suggestion",
    "revision",
    "flagged",
    "gap",
    "review_outcome",
    "review_note",
    "reviewed_by",
    "reviewed_at",
    "response",
    "counter_value",
    "counter_reason",
    "status",
    "agreed_value",
    "last_event_id",
    "last_change_at",
    "last_change_by",
    "answered_older_run",
    "hr_override_reason",
    "hr_override_by",
    "hr_override_at",
    "current_value",
    "current_source",
)
# Where a region's current number comes from, in the order they win.
CURRENT_SOURCES = ("agreed", "counter", "proposal", "suggestion")

# The process-wide append lock lives with the chain in calibration.events.
APPEND_LOCK = events.APPEND_LOCK


class NegotiationError(Exception):
    """A refused action; `key` and `values` give the translated message."""

    def __init__(self, key: str, message: str | None = None, **values: object) -> None:
        super().__init__(message or t(key, "en", **values))
        self.key = key
        self.values = values


class ValidationError(NegotiationError):
    """Invalid fields; `errors` maps each field name to a translation key."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        detail = ", ".join(f"{f}: {t(k, 'en')}" for f, k in self.errors.items())
        super().__init__("nego.err_invalid", f"invalid fields — {detail}")


class StaleWriteError(NegotiationError):
    """Somebody changed the region since the writer's form was drawn; says what changed."""

    def __init__(
        self,
        actor: str | None,
        at: datetime | None,
        event_id: int | None,
        region: str | None = None,
        change: str = "",
        value: float | None = None,
    ) -> None:
        self.actor = actor
        self.at = at
        self.event_id = event_id
        self.region = region
        self.change = change
        self.value = value
        # None when the writer named an event the region does not have (a bad client value).
        super().__init__("nego.err_stale_change", self.text("en"))
        self.values = self._values("en")

    def _values(self, lang: str, names: dict | None = None) -> dict:
        when = self.at.strftime("%H:%M") + " UTC" if self.at is not None else "–"
        number = "" if self.value is None else numbers.number(self.value)
        region = self.region or "–"
        return {
            "region": (names or {}).get(region, region),
            "actor": self.actor or "–",
            "at": when,
            "change": t(f"nego.change.{self.change or 'changed'}", lang, value=number),
        }

    def text(self, lang: str, names: dict | None = None) -> str:
        """The message in lang, region ids replaced by display names from `names`."""
        return t("nego.err_stale_change", lang, **self._values(lang, names))


class CycleStateError(NegotiationError):
    """The cycle or region is not in a state that allows this action."""


# ----------------------------------------------------------------------------- pure helpers


def dissent_gap(value: float, suggestion: float) -> float | None:
    """How far below the suggestion a value is, as a fraction ((s - v) / s); None if s <= 0."""
    if suggestion is None or not math.isfinite(suggestion) or suggestion <= 0:
        return None
    return (suggestion - value) / suggestion


def dissent_check(value: float, suggestion: float, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether a proposal is more than `threshold` below the suggestion (goes to HR review)."""
    gap = dissent_gap(value, suggestion)
    return gap is not None and gap > threshold


def clean_text(text: object) -> str:
    """User text as given, minus NUL bytes (which neither DuckDB nor PostgreSQL store)."""
    return "" if text is None else str(text).replace("\x00", "")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _required_text(errors: dict, field: str, value: object, min_len: int = 1) -> str:
    text = clean_text(value)
    if len(text) > MAX_TEXT:
        errors[field] = "nego.err_too_long"
    elif len(text.strip()) < min_len:
        errors[field] = "nego.err_justification" if min_len > 1 else "nego.err_required"
    return text


def _support_items(errors: dict, items: object) -> list[dict]:
    out: list[dict] = []
    if items is None:
        return out
    if not isinstance(items, list | tuple):
        errors["support_items"] = "nego.err_support_items"
        return out
    for item in items:
        if not isinstance(item, dict):
            errors["support_items"] = "nego.err_support_items"
            return []
        kind = item.get("kind")
        amount = _number(item.get("amount"))
        desc = clean_text(item.get("description"))
        if kind not in SUPPORT_KINDS or amount is None or not desc.strip() or len(desc) > MAX_TEXT:
            errors["support_items"] = "nego.err_support_items"
            return []
        out.append({"kind": kind, "amount": amount, "description": desc})
    return out


def validate_proposal(
    value: object,
    justification: object,
    support: object,
    risk: object,
    confidence: object,
    support_items: object = None,
) -> dict:
    """The cleaned proposal fields; raises ValidationError naming every bad field."""
    errors: dict[str, str] = {}
    number = _number(value)
    if number is None:
        errors["value"] = "nego.err_value"
    fields = {
        "value": number,
        "justification": _required_text(errors, "justification", justification, MIN_JUSTIFICATION),
        "support": _required_text(errors, "support", support),
        "support_items": _support_items(errors, support_items),
        "risk": _required_text(errors, "risk", risk),
        "confidence": confidence,
    }
    if confidence not in CONFIDENCE:
        errors["confidence"] = "nego.err_confidence"
    if errors:
        raise ValidationError(errors)
    return fields


def safe_file_name(name: str) -> str:
    """A safe basename: no directories, control characters or leading dots."""
    name = clean_text(name).replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[^\w.\- ()]", "_", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 120 - len(ext) - 1] + "." + ext) if dot else name[:120]
    return name or "attachment"


def sniff_attachment(file_name: str, data: bytes) -> tuple[str, str]:
    """(safe name, MIME type) when the bytes really are the type the name says.

    Raises ValidationError({"file": key}) for an unknown type, a type mismatch, an empty or
    too large file.
    """
    name = safe_file_name(file_name)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise ValidationError({"file": "nego.err_file_type"})
    if not data:
        raise ValidationError({"file": "nego.err_file_empty"})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": "nego.err_file_size"})
    if not _magic_ok(ext, data):
        raise ValidationError({"file": "nego.err_file_content"})
    if _active_content(ext, data):
        raise ValidationError({"file": "nego.err_file_active"})
    return name, ATTACHMENT_TYPES[ext]


# PDF names that run code, open other files or carry files/forms (checked after #xx escapes
# are resolved, in the file and in every compressed stream).
_PDF_ACTIVE = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|AA|SubmitForm|ImportData|GoToR"
    rb"|GoToE|Sound|Movie)(?![A-Za-z])"
)
_PDF_HTML = re.compile(rb"<\s*(?:html|script|iframe|object|embed|svg)\b", re.IGNORECASE)
_PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Workbook parts that hold code or foreign objects: macros, ActiveX, OLE embeddings.
_XLSX_ACTIVE = re.compile(
    r"(?i)(vbaProject|vbaData|activeX|embeddings/|oleObject|\.bin$|customUI|macrosheets/)"
)


def _unescape_pdf_names(data: bytes) -> bytes:
    return _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _pdf_parts(data: bytes, budget: int = 50 * 1024 * 1024):
    """The PDF's dictionaries: the text outside streams, then each inflated object stream.

    Stream contents (fonts, images) are skipped, since binary data holds "/JS" by chance;
    object streams (/ObjStm) hold dictionaries, where a hidden action would be.
    """
    skeleton, pos = [], 0
    for match in _PDF_STREAM.finditer(data):
        if match.start() < pos:
            continue
        header = _unescape_pdf_names(data[max(pos, match.start() - 400) : match.start()])
        skeleton.append(data[pos : match.end()])
        stop = data.find(b"endstream", match.end())
        stop = len(data) if stop == -1 else stop
        if b"/ObjStm" in header and budget > 0:
            try:
                out = zlib.decompressobj().decompress(data[match.end() : stop], budget)
            except zlib.error:
                out = b""
            budget -= len(out)
            skeleton.append(b"\n" + out + b"\n")
        pos = stop
    skeleton.append(data[pos:])
    return b"".join(skeleton)


def _active_content(ext: str, data: bytes) -> bool:
    """Whether a PDF or workbook carries scripts, actions, macros or embedded objects."""
    if ext == "pdf":
        text = _pdf_parts(data)
        return bool(_PDF_ACTIVE.search(_unescape_pdf_names(text)) or _PDF_HTML.search(text))
    if ext == "xlsx":
        from calibration.data import importer

        try:
            importer.check_xlsx("attachment", data)
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()
                types = zf.read("[Content_Types].xml")
        except (importer.ImportRejected, zipfile.BadZipFile, KeyError, OSError):
            return True
        return any(_XLSX_ACTIVE.search(n) for n in names) or b"macroEnabled" in types
    return False


def _magic_ok(ext: str, data: bytes) -> bool:
    if ext == "pdf":
        return data.startswith(b"%PDF-")
    if ext == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if ext == "xlsx":
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return "[Content_Types].xml" in zf.namelist()
        except zipfile.BadZipFile:
            return False
    if ext == "csv":
        if b"\x00" in data:
            return False
        for encoding in ("utf-8-sig", "gbk"):
            try:
                data.decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
        return False
    return False


# ----------------------------------------------------------------------------- hash chain
# The chain itself lives in calibration.events; these names stay so callers (and other
# branches in flight) keep working.

canonical = events.canonical
# The old, unkeyed and therefore public hash: kept so tests can show a forgery with it fails.
event_hash = events.legacy_hash
ChainReport = events.ChainReport


def verify_chain(cur: duckdb.DuckDBPyConnection) -> ChainReport:
    """Check the keyed chain, the sealed tables and the checkpoint anchors (events.verify)."""
    return events.verify(cur)


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _opt_int(value: object) -> int | None:
    number = _opt_float(value)
    return None if number is None else int(number)


def _event(actor: User, cycle_id: int, kind: str, **fields: object) -> dict:
    return {
        "cycle_id": cycle_id,
        "actor": actor.username,
        "role": actor.role,
        "kind": kind,
        **fields,
    }


def _check_fresh(
    cur: duckdb.DuckDBPyConnection,
    cycle_id: int,
    region: str | None,
    expected: int | None,
    decisions: list[dict] | None = None,
) -> None:
    if decisions is not None:
        last = decisions[0] if decisions else None
    else:
        last = q.last_region_event(cur, cycle_id, region, DECISION_KINDS)
    current = last["id"] if last else 0
    if current != (_opt_int(expected) or 0):
        raise _stale(last, region, cur)


def _change_word(kind: str | None, payload: object) -> str:
    """What a decision event did, as a key suffix (nego.change.<word>)."""
    if kind == "response":
        try:
            action = json.loads(payload).get("action") if isinstance(payload, str) else None
        except ValueError:
            action = None
        return "accepted" if action == "accept" else "countered"
    return {
        "proposal": "proposed",
        "review": "reviewed",
        "counter_accepted": "accepted_counter",
        "hr_override": "overrode_hr",
    }.get(kind or "", "changed")


def _stale(
    last: dict | None, region: str | None, cur: duckdb.DuckDBPyConnection | None = None
) -> StaleWriteError:
    """The refusal for a form drawn before `last` (None: the form named a future event);
    who changed it is named by display name."""
    if last is None:
        return StaleWriteError(None, None, None, region)
    account = uq.get_user(cur, last["actor"]) if cur is not None and last["actor"] else None
    return StaleWriteError(
        account["display_name"] if account else last["actor"],
        last["at"],
        last["id"],
        last.get("region") or region,
        _change_word(last.get("kind"), last.get("payload")),
        _opt_float(last.get("value")),
    )


# ----------------------------------------------------------------------------- cycles


def get_cycle(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict:
    """A cycle: id, name, metric, period, company_target, dissent_threshold, status, run_id."""
    row = q.get_cycle(cur, int(cycle_id))
    if row is None:
        raise CycleStateError("nego.err_no_cycle", cycle=cycle_id)
    return _cycle_dict(cur, row)


def _cycle_dict(cur: duckdb.DuckDBPyConnection, row: dict) -> dict:
    payload = json.loads(row.pop("status_payload") or "{}")
    row["status"] = payload.get("status", "draft")
    row["id"] = int(row["id"])
    row["company_target"] = float(row["company_target"])
    row["dissent_threshold"] = float(row["dissent_threshold"])
    row["run_id"] = None if row["run_id"] is None else int(row["run_id"])
    return row


def list_cycles(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every cycle (newest first) as dicts like get_cycle's."""
    return [_cycle_dict(cur, r) for r in q.list_cycles(cur)]


# What `python -m calibration cycles --json` and GET /api/v1/cycles give of each cycle.
CYCLE_FIELDS = (
    "id",
    "name",
    "metric",
    "period",
    "status",
    "company_target",
    "dissent_threshold",
    "run_id",
)


def cycle_summaries(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every cycle (newest first), only the CYCLE_FIELDS a listing shows."""
    return [{k: c[k] for k in CYCLE_FIELDS} for c in list_cycles(cur)]


def default_cycle_id(cur: duckdb.DuckDBPyConnection) -> int | None:
    """The cycle a page shows when none is chosen: the newest open one, else the newest."""
    cycles = list_cycles(cur)
    for cycle in cycles:
        if cycle["status"] == "open":
            return cycle["id"]
    return cycles[0]["id"] if cycles else None


def cycle_needing(cur: duckdb.DuckDBPyConnection, user: User) -> int | None:
    """The cycle that needs this person now, else default_cycle_id.

    A lead: the newest cycle with an unsigned letter for one of their regions, else an open
    one. Everybody else: the newest open cycle, else the newest locked one awaiting letters.
    """
    cycles = list_cycles(cur)
    # The regions whose letters this person signs as lead (none for everybody else).
    signs = sorted(r for r in user.regions if access.can(user, "letter.sign_lead", r))
    if signs:
        for cycle in cycles:
            if cycle["status"] in ("locked", "tracking") and q.unsigned_letters(
                cur, cycle["id"], signs
            ):
                return cycle["id"]
    for cycle in cycles:
        if cycle["status"] == "open":
            return cycle["id"]
    for cycle in cycles:
        if cycle["status"] == "locked":
            return cycle["id"]
    return cycles[0]["id"] if cycles else None


def cycle_choices(cur: duckdb.DuckDBPyConnection, lang: str) -> list[dict]:
    """[{id, label}] for the sidebar's cycle picker: open cycles first, then newest first."""
    # The live cycle is what a workshop is about, even when a finished one was created later.
    cycles = sorted(list_cycles(cur), key=lambda c: c["status"] != "open")
    return [
        {
            "id": c["id"],
            "label": f"{c['name']} · {t('nego.status.' + c['status'], lang)}",
        }
        for c in cycles
    ]


def current_run(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> int | None:
    """The run id of the latest publish event of a cycle, or None."""
    return q.current_run_id(cur, int(cycle_id))


def create_cycle(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    name: str,
    metric: str,
    period: str,
    company_target: float,
    dissent_threshold: float = DEFAULT_THRESHOLD,
) -> int:
    """Create a draft cycle (executive or admin); returns its id."""
    access.require(actor, "cycle.manage")
    errors: dict[str, str] = {}
    name = clean_text(name).strip()
    if not name:
        errors["name"] = "nego.err_required"
    elif len(name) > settings.max_cycle_name_chars():
        errors["name"] = "nego.err_name_too_long"
    if not clean_text(metric).strip():
        errors["metric"] = "nego.err_required"
    if not clean_text(period).strip():
        errors["period"] = "nego.err_required"
    elif parse_period(clean_text(period).strip()) is None or not (
        settings.MIN_YEAR <= parse_period(clean_text(period).strip()).year <= settings.MAX_YEAR
    ):
        errors["period"] = "nego.err_period"
    else:
        period = parse_period(clean_text(period).strip()).label
    target = _number(company_target)
    if target is None:
        errors["company_target"] = "nego.err_value"
    threshold = _number(dissent_threshold)
    if threshold is None or threshold >= 1:
        errors["dissent_threshold"] = "nego.err_threshold"
    if errors:
        raise ValidationError(errors)
    created: dict[str, int] = {}

    def build() -> list[dict]:
        cycle_id = q.next_cycle_id(cur)
        created["id"] = cycle_id
        q.insert_cycle(
            cur, cycle_id, name, metric, period, target, threshold, utcnow(), actor.username
        )
        payload = {
            "name": name,
            "metric": metric,
            "period": period,
            "company_target": target,
            "dissent_threshold": threshold,
        }
        return [
            _event(actor, cycle_id, "cycle_created", value=target, payload=payload),
            _event(actor, cycle_id, "status", payload={"status": "draft", "from": None}),
        ]

    events.append(cur, build, seal=("cycles",))
    return created["id"]


def set_status(cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int, status: str) -> None:
    """Move a cycle to its next status (draft → open → locked → tracking → closed)."""
    access.require(actor, "cycle.manage")
    if status not in STATUSES:
        raise ValidationError({"status": "nego.err_status"})
    if status == "locked":
        lock_cycle(cur, actor, cycle_id)
        return

    def build() -> list[dict]:
        cycle = get_cycle(cur, cycle_id)
        if NEXT_STATUS.get(cycle["status"]) != status:
            raise CycleStateError("nego.err_transition", current=cycle["status"], target=status)
        if status == "open" and cycle["run_id"] is None:
            raise CycleStateError("nego.err_open_needs_run")
        return [
            _event(actor, cycle_id, "status", payload={"status": status, "from": cycle["status"]})
        ]

    events.append(cur, build)
    if status == "open":
        _warm(cur, cycle_id)


def _warm(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> None:
    # The leads' first submits find the cycle cached; a failure here only means the first
    # submit reads it instead (the decision is already recorded).
    try:
        submit_cache.warm(cur, cycle_id, _submit_cycle)
    except (duckdb.Error, NegotiationError):
        pass


def open_cycle(cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int) -> None:
    """Open a draft cycle for proposals (needs a published run)."""
    set_status(cur, actor, cycle_id, "open")


def lock_cycle(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    expected_last_event: int | None = None,
) -> dict[str, float]:
    """Lock an open cycle once every region is agreed; returns the frozen agreed values.

    Only the negotiation's part: board.lock.lock_cycle, the executive's action, also issues
    the letters and starts tracking.

    expected_last_event, when given, is the newest decision event id of the cycle the
    executive saw; a later one refuses the lock with StaleWriteError.
    """
    access.require(actor, "cycle.lock")
    agreed: dict[str, float] = {}

    def build() -> list[dict]:
        cycle = get_cycle(cur, cycle_id)
        if cycle["status"] != "open":
            raise CycleStateError("nego.err_not_open", status=cycle["status"])
        if expected_last_event is not None:
            _check_fresh(cur, cycle_id, None, expected_last_event)
        state = cycle_state(cur, cycle_id)
        pending = state.loc[state["status"] != "agreed", "region"].tolist()
        if state.empty or pending:
            raise CycleStateError("nego.err_not_all_agreed", regions=", ".join(pending))
        agreed.update(
            {r: float(v) for r, v in zip(state["region"], state["agreed_value"], strict=True)}
        )
        # Frozen in the lock's own transaction: what the cycle shows from now on (names,
        # parents, leads) is what it showed when it was locked, whatever a later import says.
        q.freeze_regions(cur, cycle_id, list(agreed), utcnow())
        return [
            _event(
                actor,
                cycle_id,
                "status",
                value=float(sum(agreed.values())),
                run_id=cycle["run_id"],
                payload={"status": "locked", "from": "open", "agreed": agreed},
            )
        ]

    events.append(cur, build)
    return agreed


# ----------------------------------------------------------------------------- model runs


def publish_run(cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int, run: dict) -> int:
    """Snapshot a model run's per-region suggestions into a cycle (analyst or admin).

    run = {"run_id": int, "metric": str, "period": str, "regions": DataFrame with region,
    suggestion, lower80, upper80 and optionally history, market, pipeline, capacity,
    reason_en, reason_zh}. The latest published run is the cycle's current suggestion.
    Returns the publish event id.
    """
    access.require(actor, "model.run")
    frame = _run_frame(run)
    run_id = int(run["run_id"])

    def build() -> list[dict]:
        cycle = get_cycle(cur, cycle_id)
        if cycle["status"] not in ("draft", "open"):
            raise CycleStateError("nego.err_publish_status", status=cycle["status"])
        if run.get("metric") != cycle["metric"] or str(run.get("period")) != cycle["period"]:
            raise ValidationError({"run": "nego.err_run_mismatch"})
        if q.run_published(cur, cycle_id, run_id):
            raise CycleStateError("nego.err_run_published", run_id=run_id)
        rows = frame.assign(
            cycle_id=int(cycle_id),
            run_id=run_id,
            published_at=utcnow(),
            published_by=actor.username,
        )
        q.insert_suggestions(cur, rows)
        payload = {
            "run_id": run_id,
            "metric": cycle["metric"],
            "period": cycle["period"],
            "regions": int(len(frame)),
            "total": float(frame["suggestion"].sum()),
        }
        return [
            _event(
                actor,
                cycle_id,
                "publish",
                run_id=run_id,
                value=float(frame["suggestion"].sum()),
                payload=payload,
            )
        ]

    event_id = events.append(cur, build, seal=("cycle_suggestions",))[0]
    _warm(cur, cycle_id)
    return event_id


def _run_frame(run: dict) -> pd.DataFrame:
    try:
        int(run["run_id"])
        regions = run["regions"]
    except (KeyError, TypeError, ValueError):
        raise ValidationError({"run": "nego.err_run_format"}) from None
    if not isinstance(regions, pd.DataFrame) or regions.empty:
        raise ValidationError({"run": "nego.err_run_format"})
    missing = [c for c in RUN_COLUMNS if c not in regions.columns]
    if missing:
        raise ValidationError({"run": "nego.err_run_format"})
    frame = regions.copy()
    for col in RUN_OPTIONAL:
        if col not in frame.columns:
            frame[col] = None
    frame = frame.loc[:, list(RUN_COLUMNS + RUN_OPTIONAL)]
    frame["region"] = frame["region"].astype(str)
    for col in ("suggestion", "lower80", "upper80", "history", "market", "pipeline", "capacity"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in ("reason_en", "reason_zh"):
        frame[col] = frame[col].map(lambda v: None if v is None or v != v else clean_text(v))
    if frame["region"].duplicated().any() or not frame["suggestion"].map(math.isfinite).all():
        raise ValidationError({"run": "nego.err_run_format"})
    return frame.astype(object)


# ----------------------------------------------------------------------------- proposals


def propose(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    value: object,
    justification: object,
    support: object,
    risk: object,
    confidence: object,
    *,
    expected_last_event: int | None,
    support_items: list[dict] | None = None,
) -> int:
    """A lead proposes (or revises) the value for a region they lead; returns the event id.

    Raises PermissionError (not this region's lead), ValidationError (bad fields; nothing
    stored), CycleStateError (cycle not open, region not in the published run) and
    StaleWriteError (the region changed since expected_last_event).
    """
    access.require(actor, "proposal.write", region)
    fields = validate_proposal(value, justification, support, risk, confidence, support_items)
    expected = _opt_int(expected_last_event) or 0

    def proposal(cycle: dict, sugg: dict | None, last: int, previous: int | None) -> dict:
        # The checks and the event, from the state as of one event however it was read.
        _check_open(cycle)
        if cycle["run_id"] is None:
            raise CycleStateError("nego.err_open_needs_run")
        if sugg is None:
            raise CycleStateError("nego.err_region_not_in_run", region=region)
        if last != expected:
            # Refusals only: who changed the region, for the message.
            raise _stale(q.last_region_event(cur, cycle_id, region, DECISION_KINDS), region, cur)
        payload = {
            "justification": fields["justification"],
            "support": fields["support"],
            "support_items": fields["support_items"],
            "risk": fields["risk"],
            "confidence": fields["confidence"],
            "flagged": dissent_check(
                fields["value"], sugg["suggestion"], cycle["dissent_threshold"]
            ),
            "gap": dissent_gap(fields["value"], sugg["suggestion"]),
            "threshold": cycle["dissent_threshold"],
            "revises": previous,
        }
        return _event(
            actor,
            cycle_id,
            "proposal",
            region=region,
            value=fields["value"],
            suggestion=float(sugg["suggestion"]),
            run_id=int(cycle["run_id"]),
            payload=payload,
        )

    def build() -> list[dict]:
        # From the database: under the append lock when something came in between.
        cycle = get_cycle(cur, cycle_id)
        sugg = None
        if cycle["run_id"] is not None:
            sugg = q.suggestion_row(cur, cycle_id, cycle["run_id"], region)
        decisions = q.region_decisions(cur, cycle_id, region, DECISION_KINDS)
        previous = next((d["id"] for d in decisions if d["kind"] == "proposal"), None)
        return [proposal(cycle, sugg, decisions[0]["id"] if decisions else 0, previous)]

    facts = submit_cache.facts(cur, cycle_id, region, _submit_cycle)
    if facts is None:  # a database without a file: read in one snapshot, then append
        return events.append_checked(cur, build, cycle_id, region, side=_tell_hr, context=actor)[0]
    # The checks run on the cached state as of facts.seen, before the append lock; under it,
    # only what was appended since is looked at (events.append_seen).
    if facts.last_decision != expected:
        # The cache may be behind what the person saw (e.g. another process appended): a
        # refusal is decided on the database, under the lock.
        return events.append(cur, build, side=_tell_hr, context=actor)[0]
    try:
        prepared = [
            proposal(facts.cycle, facts.suggestion, facts.last_decision, facts.last_proposal)
        ]
    except CycleStateError:
        return events.append(cur, build, side=_tell_hr, context=actor)[0]
    return events.append_seen(
        cur,
        Path(facts.path),
        prepared,
        facts.seen,
        cycle_id,
        region,
        build,
        side=_tell_hr,
        context=actor,
        seen_hash=facts.seen_hash,
    )[0]


def _tell_hr(cur: duckdb.DuckDBPyConnection, proposals: list[tuple[object, list[dict]]]) -> None:
    """Ask every HR partner to review each flagged proposal of (lead, [event]) pairs.

    Runs in the transaction that records the proposals (a group commit's, for all of its
    proposals at once), and only then: a proposal refused or rolled back tells no one.
    """
    flagged = [(lead, evs[0]) for lead, evs in proposals if evs[0]["payload"]["flagged"]]
    if not flagged:
        return
    people = notices.people_who_may(cur, "review.resolve")
    if not people:
        return
    names: dict[int, dict] = {}
    notes: list[dict] = []
    for lead, ev in flagged:
        cycle_id = int(ev["cycle_id"])
        if cycle_id not in names:
            regions = [e["region"] for _, e in flagged if int(e["cycle_id"]) == cycle_id]
            names[cycle_id] = notices.names_of(cur, cycle_id, regions)
        notes += notices.rows(
            cur,
            people,
            "review_request",
            "nego.inbox.review_request",
            cycle_id,
            ev["region"],
            {
                "lead": lead.display_name,
                "value": numbers.number(ev["value"]),
                "suggestion": numbers.number(float(ev["suggestion"])),
                "gap": numbers.percent(ev["payload"]["gap"]),
            },
            names[cycle_id],
        )
    notices.write(cur, notes)


def _submit_cycle(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> tuple[dict, dict[str, dict]]:
    """A cycle and its current run's suggestions by region (what a submit checks)."""
    cycle = get_cycle(cur, cycle_id)
    run_id = cycle["run_id"]
    return cycle, ({} if run_id is None else q.suggestion_rows(cur, cycle_id, run_id))


def _check_open(cycle: dict) -> None:
    if cycle["status"] != "open":
        key = (
            "nego.err_locked"
            if cycle["status"] in ("locked", "tracking", "closed")
            else ("nego.err_not_open")
        )
        raise CycleStateError(key, status=cycle["status"])


def _require_open(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict:
    cycle = get_cycle(cur, cycle_id)
    _check_open(cycle)
    return cycle


def _current_row(cur: duckdb.DuckDBPyConnection, cycle: dict, region: str) -> dict:
    if cycle["run_id"] is None:
        raise CycleStateError("nego.err_open_needs_run")
    row = q.suggestion_row(cur, cycle["id"], cycle["run_id"], region)
    if row is None:
        raise CycleStateError("nego.err_region_not_in_run", region=region)
    return row


# ----------------------------------------------------------------------------- HR review


def resolve_review(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    outcome: str,
    note: object,
    *,
    expected_last_event: int | None,
) -> int:
    """The HRBP resolves a flagged proposal: supported, coaching or escalate, with a note."""
    access.require(actor, "review.resolve")
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "nego.err_outcome"
    note = _required_text(errors, "note", note)
    if errors:
        raise ValidationError(errors)

    def build() -> list[dict]:
        cycle = get_cycle(cur, cycle_id)
        if cycle["status"] not in ("open", "locked"):
            raise CycleStateError("nego.err_not_open", status=cycle["status"])
        _check_fresh(cur, cycle_id, region, expected_last_event)
        row = _state_row(cur, cycle_id, region)
        if row is None or not row["flagged"] or row["review_outcome"] is not None:
            raise CycleStateError("nego.err_nothing_to_review", region=region)
        return [
            _event(
                actor,
                cycle_id,
                "review",
                region=region,
                value=row["proposal_value"],
                suggestion=row["proposal_suggestion"],
                run_id=row["proposal_run_id"],
                payload={
                    "outcome": outcome,
                    "note": note,
                    "proposal_event": row["proposal_event_id"],
                },
            )
        ]

    return events.append(cur, build)[0]


def review_queue(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    include_resolved: bool = False,
    lang: str = "en",
) -> pd.DataFrame:
    """Flagged proposals of a cycle (HRBP, executive, admin): cycle_state rows, gap first,
    with the people in them by display name (`proposed_by_name`, `reviewed_by_name`...)."""
    access.require(actor, "review.read")
    state = cycle_state(cur, cycle_id)
    queue = state[state["flagged"].astype(bool)]
    if not include_resolved:
        queue = queue[queue["review_outcome"].isna()]
    queue = queue.sort_values("gap", ascending=False).reset_index(drop=True)
    names = directory.display_names(cur, actor, lang)
    for col in ("proposed_by", "hr_override_by", "reviewed_by"):
        if col in queue:
            queue[f"{col}_name"] = [
                directory.person(names, u) if isinstance(u, str) else None for u in queue[col]
            ]
    return queue


# ----------------------------------------------------------------------------- responses


def respond(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    action: str,
    *,
    expected_last_event: int | None,
    counter_value: object = None,
    reason: object = "",
    hr_override_reason: object = None,
) -> int:
    """The executive accepts a region's proposal or counters with a value and a reason.

    A flagged proposal can be accepted only once HR resolved it, or with
    hr_override_reason: then an `hr_override` event (payload reason) is recorded first.
    """
    access.require(actor, "cycle.respond")
    errors: dict[str, str] = {}
    number = None
    if action not in ("accept", "counter"):
        errors["action"] = "nego.err_action"
    if action == "counter":
        number = _number(counter_value)
        if number is None:
            errors["counter_value"] = "nego.err_value"
        reason = _required_text(errors, "reason", reason)
    else:
        reason = clean_text(reason)
        if len(reason) > MAX_TEXT:
            errors["reason"] = "nego.err_too_long"
    override = None
    if hr_override_reason is not None:
        override = _required_text(errors, "hr_override_reason", hr_override_reason)
    if errors:
        raise ValidationError(errors)

    def build() -> list[dict]:
        _require_open(cur, cycle_id)
        _check_fresh(cur, cycle_id, region, expected_last_event)
        row = _state_row(cur, cycle_id, region)
        events = []
        if action == "accept" and row is not None and row["status"] == "flagged":
            # The HR gate: a flagged proposal waits for HR unless overridden with a reason.
            if override is None:
                raise CycleStateError("nego.err_hr_pending", region=region)
            events.append(
                _event(
                    actor,
                    cycle_id,
                    "hr_override",
                    region=region,
                    value=row["proposal_value"],
                    suggestion=row["suggestion"],
                    run_id=row["run_id"],
                    payload={"reason": override, "proposal_event": row["proposal_event_id"]},
                )
            )
        elif row is None or row["status"] not in _ANSWERABLE[action]:
            key = "nego.err_nothing_to_answer" if action == "accept" else "nego.err_no_counter_now"
            raise CycleStateError(key, region=region)
        value = row["proposal_value"] if action == "accept" else number
        if action == "counter":
            notices.write(cur, _counter_notes(cur, actor, cycle_id, region, number, reason))
        events.append(
            _event(
                actor,
                cycle_id,
                "response",
                region=region,
                value=value,
                suggestion=row["suggestion"],
                run_id=row["run_id"],
                payload={
                    "action": action,
                    "reason": reason,
                    "proposal_event": row["proposal_event_id"],
                },
            )
        )
        return events

    return events.append(cur, build)[-1]


# Statuses each response may answer. A counter also goes to a region that has not proposed
# (the executive names a number the lead can accept) or replaces an earlier counter.
_ANSWERABLE = {
    # "flagged" is not here: it waits for HR or an hr_override (respond's gate).
    "accept": ("proposed",),
    "counter": ("none", "proposed", "flagged", "countered"),
}


def send_counters(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    offers: list[dict],
    *,
    method: str = "",
) -> list[int]:
    """Counter several regions at once (e.g. a what-if allocation): all or none are recorded.

    Each offer has region, value, reason and expected_last_event (the region's last decision
    event the executive saw). Field errors are keyed "<region>.value" / "<region>.reason".
    """
    access.require(actor, "cycle.respond")
    errors: dict[str, str] = {}
    clean: list[dict] = []
    for offer in offers:
        region = str(offer.get("region") or "")
        field_errors: dict[str, str] = {}
        number = _number(offer.get("value"))
        if number is None:
            field_errors["value"] = "nego.err_value"
        reason = _required_text(field_errors, "reason", offer.get("reason"))
        errors.update({f"{region}.{k}": v for k, v in field_errors.items()})
        clean.append({**offer, "region": region, "value": number, "reason": reason})
    if not clean:
        errors["offers"] = "nego.err_no_offers"
    if errors:
        raise ValidationError(errors)

    def build() -> list[dict]:
        _require_open(cur, cycle_id)
        # One read of the state for all regions: a read per region costs seconds at 200.
        state = {
            r["region"]: r
            for r in (_plain(x) for x in cycle_state(cur, cycle_id).to_dict("records"))
        }
        events = []
        names = notices.region_names(cur, cycle_id)
        leads = notices.leads_by_region(cur)
        told: list[dict] = []
        for offer in clean:
            region = offer["region"]
            row = state.get(region)
            if row is None or row["status"] not in _ANSWERABLE["counter"]:
                raise CycleStateError("nego.err_no_counter_now", region=region)
            seen = _opt_int(offer.get("expected_last_event")) or 0
            if (row["last_event_id"] or 0) != seen:
                raise _stale(
                    q.last_region_event(cur, cycle_id, region, DECISION_KINDS), region, cur
                )
            told += _counter_notes(
                cur, actor, cycle_id, region, offer["value"], offer["reason"], names, leads
            )
            events.append(
                _event(
                    actor,
                    cycle_id,
                    "response",
                    region=region,
                    value=offer["value"],
                    suggestion=row["suggestion"],
                    run_id=row["run_id"],
                    payload={
                        "action": "counter",
                        "reason": offer["reason"],
                        "proposal_event": row["proposal_event_id"],
                        "allocation": method,
                    },
                )
            )
        # Every lead told in one write (a per-row insert costs seconds at 200 regions).
        notices.write(cur, told)
        return events

    return events.append(cur, build)


def _counter_notes(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    value: float | None,
    reason: str,
    names: dict[str, dict[str, str]] | None = None,
    leads: dict[str, list[str]] | None = None,
) -> list[dict]:
    # The region's lead learns of the counter-offer in the transaction that records it.
    return notices.rows(
        cur,
        leads.get(region, []) if leads is not None else notices.region_leads(cur, region),
        "counter",
        "nego.inbox.counter",
        cycle_id,
        region,
        {"by": actor.display_name, "value": numbers.number(value), "reason": reason},
        names,
    )


def accept_counter(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    *,
    expected_last_event: int | None,
) -> int:
    """The region's lead accepts the executive's counter-offer (the region is then agreed)."""
    # Accepting a counter-offer is the lead's answer for the region: a proposal write.
    access.require(actor, "proposal.write", region)

    def build() -> list[dict]:
        _require_open(cur, cycle_id)
        _check_fresh(cur, cycle_id, region, expected_last_event)
        row = _state_row(cur, cycle_id, region)
        if row is None or row["status"] != "countered":
            raise CycleStateError("nego.err_no_counter", region=region)
        return [
            _event(
                actor,
                cycle_id,
                "counter_accepted",
                region=region,
                value=row["counter_value"],
                suggestion=row["suggestion"],
                run_id=row["run_id"],
                payload={"response_event": row["last_event_id"]},
            )
        ]

    return events.append(cur, build)[0]


# ----------------------------------------------------------------------------- state


def _empty_state(region: str) -> dict:
    row = dict.fromkeys(STATE_COLUMNS)
    row.update(
        region=region,
        status="none",
        flagged=False,
        revision=0,
        answered_older_run=False,
        support_items=[],
    )
    return row


def cycle_state(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, viewer: User | None = None
) -> pd.DataFrame:
    """Per-region state derived from the events (columns STATE_COLUMNS).

    With a viewer, only the regions that user may see: a lead their own regions, an HRBP
    the regions with a flagged proposal, everybody else all regions.
    """
    rows = suggestion_rows(cur, get_cycle(cur, cycle_id))
    touched = fold_decisions(rows, q.cycle_events(cur, cycle_id))
    finish_rows(rows, set(rows) - touched)
    frame = pd.DataFrame(list(rows.values()), columns=list(STATE_COLUMNS))
    frame = frame.sort_values("region").reset_index(drop=True)
    if viewer is not None:
        frame = frame[
            [
                access.can(viewer, "proposal.read", Scope(r, bool(f)))
                for r, f in zip(frame["region"], frame["flagged"], strict=True)
            ]
        ].reset_index(drop=True)
    return frame


def _apply(row: dict, ev: dict, payload: dict) -> None:
    kind = ev["kind"]
    if kind == "proposal":
        row.update(
            proposal_value=ev["value"],
            justification=payload["justification"],
            support=payload["support"],
            support_items=payload.get("support_items", []),
            risk=payload["risk"],
            confidence=payload["confidence"],
            proposed_at=ev["at"],
            proposed_by=ev["actor"],
            proposal_event_id=int(ev["id"]),
            proposal_run_id=int(ev["run_id"]),
            proposal_suggestion=ev["suggestion"],
            revision=row["revision"] + 1,
            flagged=bool(payload["flagged"]),
            gap=payload.get("gap"),
            review_outcome=None,
            review_note=None,
            reviewed_by=None,
            reviewed_at=None,
            response=None,
            counter_value=None,
            counter_reason=None,
            hr_override_reason=None,
            hr_override_by=None,
            hr_override_at=None,
            agreed_value=None,
            status="flagged" if payload["flagged"] else "proposed",
        )
    elif kind == "review":
        row.update(
            review_outcome=payload["outcome"],
            review_note=payload["note"],
            reviewed_by=ev["actor"],
            reviewed_at=ev["at"],
        )
        if row["status"] == "flagged":
            row["status"] = "proposed"
    elif kind == "response":
        if payload["action"] == "accept":
            row.update(
                response="accepted",
                status="agreed",
                agreed_value=ev["value"],
                counter_reason=payload.get("reason") or None,
            )
        else:
            row.update(
                response="countered",
                status="countered",
                counter_value=ev["value"],
                counter_reason=payload["reason"],
            )
    elif kind == "counter_accepted":
        row.update(status="agreed", agreed_value=ev["value"])
    elif kind == "hr_override":
        row.update(
            hr_override_reason=payload.get("reason"),
            hr_override_by=ev["actor"],
            hr_override_at=ev["at"],
        )
    row.update(last_event_id=int(ev["id"]), last_change_at=ev["at"], last_change_by=ev["actor"])


def suggestion_rows(cur: duckdb.DuckDBPyConnection, cycle: dict) -> dict[str, dict]:
    """Per-region state rows of a cycle before any decision (cycle_state's starting point)."""
    if cycle["run_id"] is None:
        return {}
    suggestions = q.suggestions(cur, cycle["id"], cycle["run_id"]).to_dict("records")
    return {s["region"]: _suggested(s) for s in suggestions}


def _suggested(suggestion: dict) -> dict:
    """A region's state row before any decision, from its row of a published run."""
    row = _empty_state(suggestion["region"])
    for col in SUGGESTION_COLUMNS[1:]:  # all but the region, the row's key
        row[col] = suggestion[col]
    return row


def fold_decisions(rows: dict[str, dict], events: pd.DataFrame) -> set[str]:
    """Apply events (cycle_events records, oldest first) to state rows in place, as
    cycle_state does, and finish the rows they touched; returns those regions.

    The board's cache replays only the events since its last copy (rows it copied first).
    """
    touched: set[str] = set()
    for ev in events[events["kind"].isin(DECISION_KINDS)].to_dict("records"):
        row = rows.setdefault(ev["region"], _empty_state(ev["region"]))
        _apply(row, ev, json.loads(ev["payload"]))
        touched.add(ev["region"])
    finish_rows(rows, touched)
    return touched


def finish_rows(rows: dict[str, dict], regions: set[str] | None = None) -> None:
    """The derived columns of state rows (answered_older_run, current number), in place."""
    for region in rows if regions is None else regions:
        row = rows[region]
        if row["proposal_run_id"] is not None and row["run_id"] is not None:
            row["answered_older_run"] = int(row["proposal_run_id"]) != int(row["run_id"])
        row["current_value"], row["current_source"] = current_number(row)


def current_number(row: dict) -> tuple[float | None, str | None]:
    """The one number a region stands at, with its source (CURRENT_SOURCES).

    Agreed beats an outstanding counter, which beats the lead's proposal, which beats the
    model's suggestion: every page shows this number and computes its deltas from it.
    """
    status = row.get("status")
    if status == "agreed" and row.get("agreed_value") is not None:
        return float(row["agreed_value"]), "agreed"
    if status == "countered" and row.get("counter_value") is not None:
        return float(row["counter_value"]), "counter"
    if row.get("proposal_value") is not None:
        return float(row["proposal_value"]), "proposal"
    if row.get("suggestion") is not None:
        return float(row["suggestion"]), "suggestion"
    return None, None


def _state_row(cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str) -> dict | None:
    """One region's cycle_state row (None when it has neither a suggestion nor a decision),
    from that region's rows only: a lead's page and a write cost the same at 2,000 regions
    as at 6."""
    run_id = get_cycle(cur, cycle_id)["run_id"]
    suggestion = None if run_id is None else q.suggestion_row(cur, cycle_id, run_id, region)
    rows = {} if suggestion is None else {region: _suggested(suggestion)}
    touched = fold_decisions(rows, q.region_events(cur, cycle_id, region))
    finish_rows(rows, set(rows) - touched)  # as cycle_state: the rows no decision finished
    return _plain(rows[region]) if region in rows else None


def _plain(row: dict) -> dict:
    # Plain Python values for callers: NaN/NaT become None, numpy scalars Python numbers.
    out = {}
    for key, value in row.items():
        if isinstance(value, list | dict):
            out[key] = value
        elif value is None or (not isinstance(value, str) and pd.isna(value)):
            out[key] = None
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    for key in ("last_event_id", "run_id", "proposal_run_id", "proposal_event_id", "revision"):
        if out.get(key) is not None:
            out[key] = int(out[key])
    return out


def region_view(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, region: str) -> dict:
    """One region's cycle_state row for a viewer (who changed it last also by display name,
    `last_change_by_name`); PermissionError if they may not see it."""
    row = _state_row(cur, cycle_id, region)
    # A region with no state yet is unflagged: the HR partner may not read it.
    access.require(viewer, "proposal.read", Scope(region, row is not None and bool(row["flagged"])))
    row = _empty_state(region) if row is None else dict(row)
    account = uq.get_user(cur, row["last_change_by"]) if row.get("last_change_by") else None
    row["last_change_by_name"] = account["display_name"] if account else row.get("last_change_by")
    return row


def region_events(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, region: str, lang: str = "en"
) -> pd.DataFrame:
    """The region's decision events (revision history), oldest first, payload parsed, with
    who acted by display name (`actor_name`)."""
    region_view(cur, viewer, cycle_id, region)
    events = q.cycle_events(cur, cycle_id)
    events = events[(events["region"] == region) & events["kind"].isin(DECISION_KINDS)]
    events = events.drop(columns=["prev_hash", "hash"]).reset_index(drop=True)
    events["payload"] = events["payload"].map(json.loads)
    names = directory.display_names(cur, viewer, lang)
    events["actor_name"] = [directory.person(names, a) for a in events["actor"]]
    return events


# ----------------------------------------------------------------------------- opinion layer


def _can_comment(cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int, region: str) -> bool:
    if access.can(actor, "comment.write", region):
        return True
    # Only a flagged proposal opens the thread to more people (the HR partner): derive
    # the cycle's state only when the answer depends on it.
    row = _state_row(cur, cycle_id, region)
    return row is not None and access.can(
        actor, "comment.write", Scope(region, bool(row["flagged"]))
    )


def add_comment(
    cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int, region: str, text: object
) -> int:
    """Add a comment to a region's thread (its lead, executives, admins, HRBP if flagged)."""
    if not _can_comment(cur, actor, cycle_id, region):
        raise access.AccessDenied("comment.write")
    errors: dict[str, str] = {}
    text = _required_text(errors, "text", text)
    if errors:
        raise ValidationError(errors)

    def build() -> list[dict]:
        cycle = get_cycle(cur, cycle_id)
        if cycle["status"] == "closed":
            raise CycleStateError("nego.err_closed")
        return [_event(actor, cycle_id, "comment", region=region, payload={"text": text})]

    return events.append(cur, build)[0]


def add_attachment(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    file_name: str,
    data: bytes,
    note: object = "",
) -> int:
    """Attach evidence (PDF, PNG/JPEG, XLSX, CSV; ≤ 10 MB, checked by content) to a thread.

    Returns the attachment id; the bytes are stored with their sha256 and an event records
    the upload in the decision log.
    """
    if not _can_comment(cur, actor, cycle_id, region):
        raise access.AccessDenied("comment.write")
    name, mime = sniff_attachment(file_name, data)
    note = clean_text(note)
    if len(note) > MAX_TEXT:
        raise ValidationError({"note": "nego.err_too_long"})
    digest = hashlib.sha256(data).hexdigest()
    created: dict[str, int] = {}

    def build() -> list[dict]:
        cycle = get_cycle(cur, cycle_id)
        if cycle["status"] == "closed":
            raise CycleStateError("nego.err_closed")
        attachment_id = q.next_attachment_id(cur)
        created["id"] = attachment_id
        q.insert_attachment(
            cur,
            {
                "attachment_id": attachment_id,
                "cycle_id": int(cycle_id),
                "region": region,
                "file_name": name,
                "mime": mime,
                "size": len(data),
                "sha256": digest,
                "data": data,
                "uploaded_at": utcnow(),
                "uploaded_by": actor.username,
            },
        )
        return [
            _event(
                actor,
                cycle_id,
                "attachment",
                region=region,
                payload={
                    "attachment_id": attachment_id,
                    "file_name": name,
                    "mime": mime,
                    "size": len(data),
                    "sha256": digest,
                    "note": note,
                },
            )
        ]

    events.append(cur, build)
    return created["id"]


def thread(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, region: str, lang: str = "en"
) -> pd.DataFrame:
    """A region's comments and attachments, oldest first: id, at, actor, actor_name (display
    name), role, kind, text, attachment_id, file_name, mime, size."""
    region_view(cur, viewer, cycle_id, region)
    names = directory.display_names(cur, viewer, lang)
    events = q.cycle_events(cur, cycle_id)
    events = events[(events["region"] == region) & events["kind"].isin(("comment", "attachment"))]
    rows = []
    for ev in events.to_dict("records"):
        p = json.loads(ev["payload"])
        rows.append(
            {
                "id": int(ev["id"]),
                "at": ev["at"],
                "actor": ev["actor"],
                "actor_name": directory.person(names, ev["actor"]),
                "role": ev["role"],
                "kind": ev["kind"],
                "text": p.get("text", p.get("note", "")),
                "attachment_id": p.get("attachment_id"),
                "file_name": p.get("file_name"),
                "mime": p.get("mime"),
                "size": p.get("size"),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "at",
            "actor",
            "actor_name",
            "role",
            "kind",
            "text",
            "attachment_id",
            "file_name",
            "mime",
            "size",
        ],
    )


def get_attachment(cur: duckdb.DuckDBPyConnection, viewer: User, attachment_id: int) -> dict:
    """An attachment (file_name, mime, size, sha256, data, ...) the viewer may see."""
    row = q.get_attachment(cur, int(attachment_id))
    if row is None:
        raise CycleStateError("nego.err_no_attachment")
    region_view(cur, viewer, row["cycle_id"], row["region"])
    row["data"] = bytes(row["data"])
    return row


# ----------------------------------------------------------------------------- log, exports


def _lead_view(events: pd.DataFrame, viewer: User) -> pd.DataFrame:
    # Cycle-level events can carry every region's numbers (the lock event's agreed values);
    # a lead sees only their own regions' entries, and no total they could subtract from.
    events = events.copy()
    for i, text in enumerate(events["payload"]):
        payload = json.loads(text)
        if isinstance(payload.get("agreed"), dict):
            payload["agreed"] = {
                r: v for r, v in payload["agreed"].items() if access.can(viewer, "proposal.read", r)
            }
            events.loc[i, "payload"] = json.dumps(payload, sort_keys=True, ensure_ascii=False)
            events.loc[i, "value"] = None
    return events


def decision_log(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int) -> pd.DataFrame:
    """A cycle's events as a table (a lead: cycle-level events and their own regions)."""
    access.require(viewer, "log.read")
    get_cycle(cur, cycle_id)
    events = q.cycle_events(cur, cycle_id)
    shown = [
        r for r in events["region"].dropna().unique() if access.can(viewer, "proposal.read", r)
    ]
    events = events[events["region"].isna() | events["region"].isin(shown)].reset_index(drop=True)
    # Who cannot read the whole board (a lead) gets cycle-level totals cut to their regions.
    if not access.can(viewer, "board.read"):
        events = _lead_view(events, viewer)
    payloads = events["payload"].map(json.loads)
    out = events[
        ["id", "at", "region", "actor", "role", "kind", "value", "suggestion", "run_id"]
    ].copy()
    # The fields people read get their own columns; the full payload stays in `details`.
    for key in LOG_FIELDS:
        out[key] = [
            json.dumps(p[key], ensure_ascii=False)
            if isinstance(p.get(key), list | dict)
            else p.get(key)
            for p in payloads
        ]
    out["details"] = events["payload"]
    out["prev_hash"] = events["prev_hash"]
    out["hash"] = events["hash"]
    return out


def export_log(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, fmt: str) -> bytes:
    """The decision log as CSV or XLSX bytes (formula-looking text neutralised)."""
    frame = decision_log(cur, viewer, cycle_id)
    if fmt == "csv":
        return exports.csv_bytes(frame)
    if fmt == "xlsx":
        return exports.xlsx_bytes(frame, sheet=f"cycle {cycle_id}")
    raise ValueError(f"unknown export format {fmt!r}")
