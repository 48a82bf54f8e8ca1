"""Consensus letters of a locked cycle: issue, sign, archive, verify and export.

The lock issues each region's letter, built from the cycle state (see `build_contents`)
and from the regions frozen at lock (names, parent, lead), so a later regions import
changes no letter. Reading letters never issues any. The region's lead signs first, then an
executive, each re-entering their password; a signature covers the letter's content
SHA-256. Letters are append-only: when an explicit action changes what a letter says (a
correction), a new version is issued with `previous_sha256` pointing at the one it
replaces, and the old version and its signatures stay as they were.

Support owners are derived from the kind of support: headcount -> HR (the HRBP account when
there is one), budget -> Marketing / Finance, anything else -> the executive named on the
letter. Structured support items are listed; a lead who gave none has their free-text
support request listed as one "other" item.

PDFs are archived lazily: every PDF handed out (page download, CLI) is first stored with
its file SHA-256, so any file a person received can be verified; signing itself only
records the content hash, which keeps the demo and the signing request fast. The final
signature archives both languages at once unless told not to.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from calibration import access, events, exports, settings
from calibration.accounts import auth
from calibration.accounts.auth import User
from calibration.i18n import t
from calibration.letters.archive import zip_letters
from calibration.letters.content import LetterContent, Signature, SupportItem, content_sha256
from calibration.letters.pdf.render import file_sha256, letter_filename, render_letter
from calibration.negotiation import notices
from calibration.negotiation import service as neg
from calibration.store import letters as q
from calibration.store import negotiation as nq
from calibration.store import transaction
from calibration.store.core import utcnow

log = logging.getLogger("calibrate")

LETTER_STATUSES = ("locked", "tracking", "closed")
STATUSES = ("unsigned", "lead_signed", "signed")
LANGS = ("en", "zh")
CORRECTABLE = ("justification", "risks", "support")
HR_OWNER = "HR / 人力资源"
BUDGET_OWNER = "Marketing / Finance · 市场部 / 财务部"
# Marks the executive's reason inside the letter's (bilingual, signed) justification text.
EXECUTIVE_MARK = "[Executive · 高管]"
# The owners above as the page names them in the reader's language (translation keys).
OWNER_KEYS = {HR_OWNER: "letters.owner.hr", BUDGET_OWNER: "letters.owner.budget"}
EXPORT_COLUMNS = (
    "cycle_id",
    "region",
    "region_name_en",
    "region_name_zh",
    "metric",
    "period",
    "target",
    "suggestion",
    "owner",
    "owner_username",
    "executive",
    "support_items",
    "letter_version",
    "letter_status",
    "content_sha256",
)


class LetterError(neg.NegotiationError):
    """A refused letter action; `key` and `values` give the translated message."""


@dataclass(frozen=True)
class Letter:
    """One version of a region's letter with its signatures."""

    letter_id: int
    cycle_id: int
    region: str
    version: int
    content: LetterContent
    content_sha256: str
    previous_sha256: str | None
    lead_username: str | None
    reason: str
    created_at: datetime
    created_by: str
    signatures: tuple[Signature, ...]
    latest: bool = True

    @property
    def status(self) -> str:
        """unsigned, lead_signed or signed."""
        roles = {s.role for s in self.signatures}
        if "executive" in roles:
            return "signed"
        return "lead_signed" if "lead" in roles else "unsigned"

    @property
    def next_role(self) -> str | None:
        """Whose signature is due: lead, executive, or None when fully signed."""
        return {"unsigned": "lead", "lead_signed": "executive", "signed": None}[self.status]

    def signature(self, role: str) -> Signature | None:
        """The signature given in role, if any."""
        return next((s for s in self.signatures if s.role == role), None)


@dataclass(frozen=True)
class LetterFile:
    """An archived PDF of a letter as handed out."""

    file_name: str
    data: bytes
    file_sha256: str
    lang: str
    signatures: int


@dataclass(frozen=True)
class Verification:
    """What `verify_file` found for a PDF's bytes."""

    ok: bool
    file_sha256: str
    letter: Letter | None = None
    lang: str | None = None
    signature_count: int | None = None
    declared_content_sha256: str | None = None
    superseded_by: int | None = None

    def describe(self) -> str:
        """A one-paragraph English report for the CLI."""
        if not self.ok or self.letter is None:
            text = f"NOT VERIFIED: no archived letter has file SHA-256 {self.file_sha256}."
            if self.declared_content_sha256:
                text += (
                    " The file declares content SHA-256 "
                    f"{self.declared_content_sha256}; it was changed after it was issued"
                    " or was never handed out by Calibrate."
                )
            return text
        c = self.letter.content
        shown = [s for s in sorted(self.letter.signatures, key=lambda s: s.signed_at)][
            : self.signature_count
        ]
        signers = (
            "; ".join(
                f"{s.role} {s.name} ({s.username}) at {s.signed_at:%Y-%m-%d %H:%M:%S} UTC"
                for s in shown
            )
            or "none (unsigned draft)"
        )
        text = (
            f"OK: archived letter, cycle {c.cycle_id} ({c.cycle_name}), region {c.region}"
            f" ({c.region_name_en} {c.region_name_zh}), version {c.version}, {self.lang};"
            f" agreed {c.agreed:g}; signed by: {signers}."
            f" Content SHA-256 {self.letter.content_sha256}, file SHA-256 {self.file_sha256}."
        )
        if self.superseded_by is not None:
            text += f" Note: superseded by version {self.superseded_by}."
        return text


# ----------------------------------------------------------------------------- content JSON


def content_to_json(content: LetterContent) -> str:
    """Lossless JSON of a letter's content (for storage; the hash uses canonical_json)."""
    body: dict[str, Any] = {}
    for f in dataclasses.fields(content):
        value = getattr(content, f.name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
        elif f.name == "support":
            value = [dataclasses.asdict(item) for item in value]
        body[f.name] = value
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def content_from_json(text: str) -> LetterContent:
    """The LetterContent stored by content_to_json."""
    body = json.loads(text)
    body["support"] = [SupportItem(**item) for item in body["support"]]
    issued = datetime.fromisoformat(body["issued_at"])
    body["issued_at"] = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
    return LetterContent(**body)


# ----------------------------------------------------------------------------- building


def support_owner(kind: str, executive_name: str, hr_name: str | None) -> str:
    """Who delivers a kind of support: HR for headcount, Marketing/Finance for budget,
    the executive otherwise."""
    if kind == "headcount":
        return f"{HR_OWNER} · {hr_name}" if hr_name else HR_OWNER
    if kind == "budget":
        return BUDGET_OWNER
    return executive_name


def metric_label(metric: str) -> str:
    """A metric's letter label in both languages, e.g. "New customers / 新客户"."""
    en, zh = t(f"letters.metric.{metric}", "en"), t(f"letters.metric.{metric}", "zh")
    if en == f"letters.metric.{metric}":
        return metric.replace("_", " ").capitalize()
    return en if en == zh else f"{en} / {zh}"


def _float(value: object, fallback: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return fallback
    return number if number == number and abs(number) != float("inf") else fallback


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _require_letter_cycle(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict:
    cycle = neg.get_cycle(cur, cycle_id)
    if cycle["status"] not in LETTER_STATUSES:
        raise LetterError("letters.err_not_locked", status=cycle["status"])
    return cycle


def is_issuable(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> bool:
    """Whether a cycle is locked (or later), so its letters exist."""
    return neg.get_cycle(cur, cycle_id)["status"] in LETTER_STATUSES


def letter_cycles(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Cycles that have letters (locked or later), newest first, as get_cycle dicts."""
    return [c for c in neg.list_cycles(cur) if c["status"] in LETTER_STATUSES]


def build_contents(
    cur: duckdb.DuckDBPyConnection, cycle_id: int
) -> dict[str, tuple[LetterContent, str | None]]:
    """region -> (content as the cycle state says now, lead username), before versioning.

    version, previous_sha256 and issued_at are placeholders (1, None, now); `issue_letters`
    sets them. Corrections recorded with `correct_letter` are applied on top.
    """
    cycle = _require_letter_cycle(cur, cycle_id)
    state = neg.cycle_state(cur, cycle_id)
    # A locked cycle shows its regions as they were at the lock; cycles locked before the
    # snapshot existed fall back to today's regions table.
    frozen = nq.frozen_regions(cur, cycle_id)
    regions = q.region_rows(cur)
    accounts = {a["username"]: a for a in q.accounts(cur)}
    overrides = q.hr_overrides(cur, cycle_id)
    deciders = q.deciders(cur, cycle_id)
    executives = sorted(u for u, a in accounts.items() if a["role"] == "executive")
    hrbps = sorted(u for u, a in accounts.items() if a["role"] == "hrbp")
    hr_name = accounts[hrbps[0]]["display_name"] if hrbps else None
    unit = q.metric_unit(cur, cycle["metric"]) or ""
    fixes = _corrections(cur, cycle_id)
    now = datetime.now(UTC)
    out: dict[str, tuple[LetterContent, str | None]] = {}
    for row in state.to_dict("records"):
        if row["status"] != "agreed":
            continue
        region = row["region"]
        if region in frozen:
            info = frozen[region]
            lead = info["lead_username"]
            lead_name = _text(info["lead_name"]) or _text(info["lead"]) or "—"
        else:
            info = regions.get(region, {})
            lead = _lead_for(region, info.get("lead"), accounts)
            lead_name = accounts[lead]["display_name"] if lead else _text(info.get("lead")) or "—"
        executive = _executive_for(deciders.get(region), deciders.get(""), executives, accounts)
        exec_name = accounts[executive]["display_name"] if executive else "—"
        suggestion = _float(row["suggestion"], 0.0)
        justification = _text(row["justification"])
        if _text(row["counter_reason"]).strip():
            # The executive's reason (counter-offer or note on acceptance) is part of what
            # both sides agreed to, so it is printed with the lead's justification.
            justification += f"\n\n{EXECUTIVE_MARK} {_text(row['counter_reason'])}"
        items = row["support_items"] if isinstance(row["support_items"], list) else []
        support = [
            SupportItem(
                i["kind"],
                _text(i["description"]),
                _float(i.get("amount"), 0.0),
                support_owner(i["kind"], exec_name, hr_name),
            )
            for i in items
        ]
        if not support and _text(row["support"]).strip():
            support = [SupportItem("other", _text(row["support"]), None, exec_name)]
        content = LetterContent(
            company=settings.company_name(),
            cycle_id=int(cycle_id),
            cycle_name=cycle["name"],
            metric=metric_label(cycle["metric"]),
            metric_unit=unit,
            period=cycle["period"],
            region=region,
            region_name_en=_text(info.get("name_en")) or region,
            region_name_zh=_text(info.get("name_zh")),
            lead_name=lead_name,
            executive_name=exec_name,
            suggestion=suggestion,
            lower80=_float(row["lower80"], suggestion),
            upper80=_float(row["upper80"], suggestion),
            model_run_id=int(_float(row["run_id"], 0)),
            model_reason_en=_text(row["reason_en"]),
            model_reason_zh=_text(row["reason_zh"]),
            agreed=_float(row["agreed_value"], 0.0),
            justification=justification,
            support=support,
            risks=_text(row["risk"]),
            company_target=float(cycle["company_target"]),
            version=1,
            previous_sha256=None,
            issued_at=now,
            hr_override=_text(overrides.get(region)),
        )
        fix = fixes.get(region, {})
        if fix:
            content = dataclasses.replace(content, **fix)
        out[region] = (content, lead)
    return out


def _lead_for(region: str, named: object, accounts: dict[str, dict]) -> str | None:
    # The regions file may name the lead's account; otherwise the one lead account that
    # leads the region (the first by name if several do).
    if isinstance(named, str) and named in accounts and accounts[named]["role"] == "lead":
        return named
    leads = sorted(u for u, a in accounts.items() if a["role"] == "lead" and region in a["regions"])
    return leads[0] if leads else None


def _executive_for(
    answered: tuple[str, str] | None,
    locked: tuple[str, str] | None,
    executives: list[str],
    accounts: dict[str, dict],
) -> str | None:
    # The executive who answered the region, else the one who locked, else the first one.
    for who in (answered, locked):
        if who and who[1] == "executive" and who[0] in accounts:
            return who[0]
    return executives[0] if executives else None


def _corrections(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> dict[str, dict[str, Any]]:
    fixes: dict[str, dict[str, Any]] = {}
    for row in q.corrections(cur, cycle_id):
        value = json.loads(row["value_json"])
        if row["field"] == "support":
            value = [SupportItem(**item) for item in value]
        fixes.setdefault(row["region"], {})[row["field"]] = value
    return fixes


# ----------------------------------------------------------------------------- reading


def _letter(row: dict, sigs: list[dict], latest: bool) -> Letter:
    content = content_from_json(row["content_json"])
    if content_sha256(content) != row["content_sha256"]:
        # The stored JSON must reproduce the hash that was signed; anything else means the
        # archive was altered outside Calibrate.
        raise LetterError("letters.err_tampered", region=row["region"], version=row["version"])
    return Letter(
        letter_id=int(row["letter_id"]),
        cycle_id=int(row["cycle_id"]),
        region=row["region"],
        version=int(row["version"]),
        content=content,
        content_sha256=row["content_sha256"],
        previous_sha256=row["previous_sha256"],
        lead_username=row["lead_username"],
        reason=row["reason"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        signatures=tuple(
            Signature(s["role"], s["name"], s["username"], s["signed_at"], s["content_sha256"])
            for s in sigs
        ),
        latest=latest,
    )


def _load(
    cur: duckdb.DuckDBPyConnection, cycle_id: int, region: str | None = None
) -> dict[str, list[Letter]]:
    rows = q.letters(cur, cycle_id, region)
    sigs = q.signatures(cur, [int(r["letter_id"]) for r in rows])
    by_letter: dict[int, list[dict]] = {}
    for s in sigs:
        by_letter.setdefault(int(s["letter_id"]), []).append(s)
    out: dict[str, list[Letter]] = {}
    for i, row in enumerate(rows):
        latest = i + 1 == len(rows) or rows[i + 1]["region"] != row["region"]
        out.setdefault(row["region"], []).append(
            _letter(row, by_letter.get(int(row["letter_id"]), []), latest)
        )
    return out


def _issues_some(actor: User) -> bool:
    # Deciders issue every region's letter, a lead the letters of their own regions.
    return access.can(actor, "letter.issue") or any(
        access.can(actor, "letter.issue", r) for r in actor.regions
    )


def letter_history(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, region: str
) -> list[Letter]:
    """Every version of a region's letter, oldest first (PermissionError if not visible)."""
    access.require(viewer, "letter.read", region)
    return _load(cur, cycle_id, region).get(region, [])


# ----------------------------------------------------------------------------- issuing


def _pending_versions(
    cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int
) -> list[tuple[LetterContent, str | None, Letter | None]]:
    """Regions whose letter is missing or out of date: (fresh content, lead, latest)."""
    fresh = build_contents(cur, cycle_id)
    current = _load(cur, cycle_id)
    out = []
    for region, (content, lead) in fresh.items():
        if not access.can(actor, "letter.issue", region):
            continue
        latest = current.get(region, [None])[-1]
        if latest is not None:
            same = dataclasses.replace(
                content,
                version=latest.version,
                previous_sha256=latest.previous_sha256,
                issued_at=latest.content.issued_at,
                chain_events=latest.content.chain_events,  # audit: anchor, not content
                chain_head=latest.content.chain_head,
            )
            if content_sha256(same) == latest.content_sha256 and lead == latest.lead_username:
                continue
        out.append((content, lead, latest))
    return out


def may_issue_any(cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int) -> bool:
    """Whether the actor may issue a letter that is missing or out of date (a read)."""
    if not _issues_some(actor):
        return False
    return bool(_pending_versions(cur, actor, cycle_id))


def issue_letters(
    cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int, reason: str = "issued"
) -> list[Letter]:
    """Issue every missing or out-of-date letter of a locked cycle the actor may issue.

    Executives and admins issue all regions, a lead their own. A region whose content is
    unchanged keeps its version; a changed one gets version + 1 chained by previous_sha256.
    Returns the versions created (often none).
    """
    if not _issues_some(actor):
        raise access.AccessDenied("letter.issue")
    if not _pending_versions(cur, actor, cycle_id):
        return []
    created: list[int] = []

    def build() -> list[dict]:
        created.clear()
        events = []
        names = notices.region_names(cur, cycle_id)
        told: list[dict] = []
        # Re-derived under the append lock, so two issuers never create the same version.
        for content, lead, latest in _pending_versions(cur, actor, cycle_id):
            version = 1 if latest is None else latest.version + 1
            previous = None if latest is None else latest.content_sha256
            now = utcnow()
            content = dataclasses.replace(
                content,
                version=version,
                previous_sha256=previous,
                issued_at=now.replace(tzinfo=UTC),
                **_chain_anchor(cur),  # audit: the record's head, read under the append lock
            )
            sha = content_sha256(content)
            why = reason if latest is None else ("changed" if reason == "issued" else reason)
            letter_id = q.insert_letter(
                cur,
                {
                    "cycle_id": int(cycle_id),
                    "region": content.region,
                    "version": version,
                    "content_json": content_to_json(content),
                    "content_sha256": sha,
                    "previous_sha256": previous,
                    "lead_username": lead,
                    "reason": why,
                    "created_at": now,
                    "created_by": actor.username,
                },
            )
            created.append(letter_id)
            # The lead is told the letter waits for their signature (same transaction).
            told += notices.rows(
                cur,
                [lead] if lead else notices.region_leads(cur, content.region),
                "sign_lead",
                "letters.inbox.sign_lead",
                cycle_id,
                content.region,
                {"version": version},
                names,
            )
            events.append(
                _log_event(
                    actor,
                    cycle_id,
                    "letter_issued",
                    content.region,
                    content.agreed,
                    {
                        "letter_id": letter_id,
                        "version": version,
                        "content_sha256": sha,
                        "previous_sha256": previous,
                        "reason": why,
                    },
                )
            )
        notices.write(cur, told)  # one write for every region's lead
        return events

    events.append(cur, build, seal=("letters", "letter_signatures"))  # audit: seal
    current = _load(cur, cycle_id)
    by_id = {x.letter_id: x for versions in current.values() for x in versions}
    return [by_id[i] for i in created]


def _chain_anchor(cur: duckdb.DuckDBPyConnection) -> dict:
    # audit: a signed letter carries the decision record's head, so a truncated log is caught.
    from calibration import events

    anchor = events.head(cur)
    return {"chain_events": anchor["events"], "chain_head": anchor["head"]}


def _log_event(
    actor: User, cycle_id: int, kind: str, region: str, value: float, payload: dict
) -> dict:
    # Letter events join the negotiation's hash-chained decision log, so the audit trail of
    # a target runs from proposal to signed letter in one verifiable chain.
    return {
        "cycle_id": int(cycle_id),
        "actor": actor.username,
        "role": actor.role,
        "kind": kind,
        "region": region,
        "value": value,
        "payload": payload,
    }


def cycle_letters(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int) -> list[Letter]:
    """The latest letter of every region the viewer may see; a read, it issues nothing.

    Raises LetterError("letters.err_not_locked") while the cycle is not locked yet.
    """
    _require_letter_cycle(cur, cycle_id)
    current = _load(cur, cycle_id)
    return [
        versions[-1]
        for region, versions in sorted(current.items())
        if access.can(viewer, "letter.read", region)
    ]


def get_letter(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, region: str) -> Letter:
    """The latest letter of one region (a read: letters are issued by the lock)."""
    access.require(viewer, "letter.read", region)
    _require_letter_cycle(cur, cycle_id)
    versions = _load(cur, cycle_id, region).get(region)
    if not versions:
        raise LetterError("letters.err_no_letter", region=region)
    return versions[-1]


def correct_letter(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    field: str,
    value: object,
    reason: str,
) -> Letter:
    """Correct a letter's justification, risks or support (executive or admin, with a
    reason); returns the new version, which must be signed again."""
    access.require(actor, "letter.correct")
    if field not in CORRECTABLE:
        raise LetterError("letters.err_field", field=field)
    reason = neg.clean_text(reason).strip()
    if not reason:
        raise LetterError("letters.err_reason")
    if field == "support":
        items = [i if isinstance(i, SupportItem) else SupportItem(**i) for i in value]  # type: ignore[union-attr]
        stored: object = [dataclasses.asdict(i) for i in items]
    else:
        stored = neg.clean_text(value)
    _require_letter_cycle(cur, cycle_id)
    issue_letters(cur, actor, cycle_id)
    with transaction(cur):
        q.insert_correction(
            cur,
            {
                "cycle_id": int(cycle_id),
                "region": region,
                "field": field,
                "value_json": json.dumps(stored, ensure_ascii=False),
                "reason": reason,
                "corrected_at": utcnow(),
                "corrected_by": actor.username,
            },
        )
    made = issue_letters(cur, actor, cycle_id, reason=f"correction: {reason}")
    mine = [x for x in made if x.region == region]
    return mine[-1] if mine else get_letter(cur, actor, cycle_id, region)


# ----------------------------------------------------------------------------- signing


def signer_role(user: User, letter: Letter) -> str | None:
    """The role in which user may sign this letter (lead or executive), or None."""
    if access.can(user, "letter.sign_lead", letter.region):
        # A letter names its lead; a co-lead of the region does not sign in their place.
        return "lead" if letter.lead_username in (None, user.username) else None
    if access.can(user, "letter.sign_executive"):
        return "executive"
    return None


def can_sign_now(user: User, letter: Letter) -> bool:
    """Whether it is this user's turn to sign the latest version of the letter."""
    role = signer_role(user, letter)
    return letter.latest and role is not None and role == letter.next_role


def due_for_executive(user: User, letters: list[Letter]) -> list[Letter]:
    """The letters waiting for this person's executive signature (signed together in one go)."""
    return [r for r in letters if can_sign_now(user, r) and signer_role(user, r) == "executive"]


def sign_letter(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    password: str,
    *,
    expected_sha256: str | None = None,
    archive: bool = True,
) -> Letter:
    """Sign the latest version of a region's letter after re-checking the password.

    The region's lead signs first, then an executive; nobody else may sign. Raises
    PermissionError (not a signer), auth.AuthError (wrong password), LetterError
    (out of turn, already signed, or the content changed since expected_sha256).
    With archive, the fully signed PDFs (en, zh) are rendered and archived at once.
    """
    expected = None if expected_sha256 is None else {region: expected_sha256}
    return sign_letters(
        cur, actor, cycle_id, [region], password, expected=expected, archive=archive
    )[0]


def sign_letters(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    regions: list[str] | None,
    password: str,
    *,
    expected: dict[str, str] | None = None,
    archive: bool = True,
) -> list[Letter]:
    """Sign several letters with one password entry, all or none (same rules as
    sign_letter); regions=None signs every letter whose turn is the actor's."""
    signs_lead = any(access.can(actor, "letter.sign_lead", r) for r in actor.regions)
    if not access.can(actor, "letter.sign_executive") and not (
        signs_lead
        and (regions is None or all(access.can(actor, "letter.sign_lead", r) for r in regions))
    ):
        raise access.AccessDenied("letter.sign_lead")
    checked = auth.authenticate(cur, actor.username, password)
    # The account must still be the one the session signed in as (role, regions unchanged).
    if dataclasses.replace(checked, display_name=actor.display_name) != actor:
        raise access.AccessDenied("letter.sign_lead")
    _require_letter_cycle(cur, cycle_id)
    issue_letters(cur, actor, cycle_id)
    done: list[tuple[str, int]] = []

    def build() -> list[dict]:
        done.clear()
        current = _load(cur, cycle_id)
        wanted = regions
        if wanted is None:
            wanted = [r for r, v in sorted(current.items()) if can_sign_now(actor, v[-1])]
        events = []
        for region in wanted:
            if region not in current:
                raise LetterError("letters.err_no_letter", region=region)
            letter = current[region][-1]
            events.append(_sign_one(cur, actor, checked, letter, (expected or {}).get(region)))
            done.append((region, letter.letter_id))
        return events

    events.append(cur, build, seal=("letters", "letter_signatures"))  # audit: seal
    signed = [_load(cur, cycle_id, region)[region][-1] for region, _ in done]
    for letter in signed:
        if archive and letter.status == "signed":
            for lang in LANGS:
                _archived(cur, letter, lang)
    return signed


def _sign_one(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    checked: User,
    letter: Letter,
    expected_sha256: str | None,
) -> dict:
    if expected_sha256 is not None and expected_sha256 != letter.content_sha256:
        raise LetterError("letters.err_changed", version=letter.version)
    role = signer_role(actor, letter)
    if role is None:
        raise access.AccessDenied("letter.sign_lead")
    if letter.signature(role) is not None:
        raise LetterError("letters.err_already_signed", role=t(f"letters.role.{role}"))
    if role == "executive" and letter.signature("lead") is None:
        raise LetterError("letters.err_lead_first")
    q.insert_signature(
        cur,
        {
            "letter_id": letter.letter_id,
            "role": role,
            "username": actor.username,
            "name": checked.display_name,
            "signed_at": utcnow(),
            "content_sha256": letter.content_sha256,
        },
    )
    if role == "lead":
        # Now it waits for an executive: whoever the policy lets sign as one is told.
        notices.notify(
            cur,
            notices.people_who_may(cur, "letter.sign_executive"),
            "sign_executive",
            "letters.inbox.sign_executive",
            letter.cycle_id,
            letter.region,
            {"version": letter.version, "lead": checked.display_name},
        )
    return _log_event(
        actor,
        letter.cycle_id,
        "letter_signed",
        letter.region,
        letter.content.agreed,
        {
            "letter_id": letter.letter_id,
            "version": letter.version,
            "content_sha256": letter.content_sha256,
            "as": role,
        },
    )


# ----------------------------------------------------------------------------- files


def file_name(letter: Letter, lang: str) -> str:
    """The PDF's file name, e.g. letter-c2-east-v1-zh-signed.pdf (known before rendering)."""
    name = letter_filename(letter.content, lang)
    suffix = {0: "", 1: "-lead-signed", 2: "-signed"}[min(len(letter.signatures), 2)]
    return name.replace(".pdf", f"{suffix}.pdf")


def _archived(cur: duckdb.DuckDBPyConnection, letter: Letter, lang: str) -> LetterFile:
    count = len(letter.signatures)
    row = q.get_file(cur, letter.letter_id, lang, count)
    if row is None:
        # Rendering is deterministic, so a concurrent renderer makes the same bytes; the
        # UNIQUE key keeps one copy.
        data = render_letter(letter.content, list(letter.signatures), lang)
        name = file_name(letter, lang)
        try:
            with transaction(cur):
                q.insert_file(
                    cur,
                    {
                        "letter_id": letter.letter_id,
                        "lang": lang,
                        "signatures": count,
                        "file_name": name,
                        "file_sha256": file_sha256(data),
                        "size": len(data),
                        "data": data,
                        "created_at": utcnow(),
                    },
                )
        except duckdb.ConstraintException:
            pass
        row = q.get_file(cur, letter.letter_id, lang, count)
        assert row is not None
    return LetterFile(
        row["file_name"], row["data"], row["file_sha256"], lang, int(row["signatures"])
    )


def letter_file(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, region: str, lang: str
) -> LetterFile:
    """The PDF of a region's latest letter as it stands (archived before it is returned)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}")
    return _archived(cur, get_letter(cur, viewer, cycle_id, region), lang)


def letters_zip(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, langs: tuple[str, ...] = LANGS
) -> bytes:
    """A ZIP of every visible region's latest letter in the given languages (archived)."""
    files = {}
    for letter in cycle_letters(cur, viewer, cycle_id):
        for lang in langs:
            f = _archived(cur, letter, lang)
            files[f.file_name] = f.data
    return zip_letters(files)


def archive_cycle(cur: duckdb.DuckDBPyConnection, actor: User, cycle_id: int) -> list[LetterFile]:
    """(Re)issue any due letters of a cycle, then archive all in both languages (the CLI's
    explicit path for cycles locked before letters were issued at lock)."""
    _require_letter_cycle(cur, cycle_id)
    issue_letters(cur, actor, cycle_id)
    out = []
    for letter in cycle_letters(cur, actor, cycle_id):
        for lang in LANGS:
            out.append(_archived(cur, letter, lang))
    return out


def verify_file(cur: duckdb.DuckDBPyConnection, data: bytes) -> Verification:
    """Whether these PDF bytes are exactly a letter Calibrate archived, and which one."""
    from calibration.letters.pdf.render import embedded_content_sha256

    sha = file_sha256(data)
    found = q.files_by_sha(cur, sha)
    if not found:
        return Verification(False, sha, declared_content_sha256=embedded_content_sha256(data))
    meta = found[0]
    row = q.get_letter(cur, int(meta["letter_id"]))
    assert row is not None
    versions = _load(cur, int(row["cycle_id"]), row["region"])[row["region"]]
    letter = next(x for x in versions if x.letter_id == int(meta["letter_id"]))
    newest = versions[-1].version
    return Verification(
        True,
        sha,
        letter,
        meta["lang"],
        int(meta["signatures"]),
        letter.content_sha256,
        superseded_by=newest if newest != letter.version else None,
    )


# ----------------------------------------------------------------------------- export


def agreed_targets(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int) -> pd.DataFrame:
    """A locked cycle's agreed targets for goal tools (columns EXPORT_COLUMNS).

    support_items is a list of {kind, description, amount, owner}; a lead sees their own
    regions only.
    """
    rows = []
    metric = neg.get_cycle(cur, cycle_id)["metric"]
    for letter in cycle_letters(cur, viewer, cycle_id):
        c = letter.content
        rows.append(
            {
                "cycle_id": c.cycle_id,
                "region": c.region,
                "region_name_en": c.region_name_en,
                "region_name_zh": c.region_name_zh,
                "metric": metric,
                "period": c.period,
                "target": c.agreed,
                "suggestion": c.suggestion,
                "owner": c.lead_name,
                "owner_username": letter.lead_username or "",
                "executive": c.executive_name,
                "support_items": [dataclasses.asdict(i) for i in c.support],
                "letter_version": letter.version,
                "letter_status": letter.status,
                "content_sha256": letter.content_sha256,
            }
        )
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


def export_targets(cur: duckdb.DuckDBPyConnection, viewer: User, cycle_id: int, fmt: str) -> bytes:
    """Agreed targets as CSV (support items as JSON text) or JSON (a list of objects)."""
    frame = agreed_targets(cur, viewer, cycle_id)
    if fmt == "json":
        records = frame.to_dict("records")
        return json.dumps(records, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    if fmt == "csv":
        frame = frame.assign(
            support_items=[json.dumps(x, ensure_ascii=False) for x in frame["support_items"]]
        )
        return exports.csv_bytes(frame)
    raise ValueError(f"unknown export format {fmt!r}")
