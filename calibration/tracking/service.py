"""Tracking service: a cycle's agreed targets → paths, board, escalations, inbox, FVA.

Every write takes the acting user and checks what they may do; records are append-only
events (tracking_events, root_causes, commitment_events, notifications, inbox_reads).
The cycle comes from the negotiation domain through one adapter, `lookup_cycle`; every
function that needs a cycle also accepts a `TrackedCycle` built directly (tests, scripts).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from calibration import access, exports, numbers
from calibration import events as chain
from calibration.accounts.auth import User
from calibration.i18n import plural, region_name, t
from calibration.periods import parse_period, period_bounds
from calibration.store import data as dq
from calibration.store import negotiation as nq
from calibration.store import tracking as q
from calibration.store import transaction
from calibration.store.core import utcnow
from calibration.tracking import path as tracking

COMMITMENT_STATES = ("delivered", "not_delivered", "pending")
MAX_TEXT = 5000
FVA_COLUMNS = ("region", "lead", "suggestion", "proposal", "agreed", "actual")
# Tracking starts at lock; a closed cycle keeps its board and FVA but raises nothing new.
TRACKED_STATUSES = ("locked", "tracking", "closed")
LIVE_STATUSES = ("locked", "tracking")


# --------------------------------------------------------------------------------------
# The cycle
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackedCycle:
    """What tracking needs of a cycle: metric, period and per-region agreed targets.

    `regions` has `region, target, suggestion, proposal, agreed, commitments` (commitments:
    a list of promised support items, as text).
    """

    cycle_id: int
    metric: str
    period: str
    regions: pd.DataFrame
    name: str = ""
    status: str = "tracking"
    company_target: float | None = None

    @property
    def tracked(self) -> bool:
        """Whether the cycle is locked (or later) and has agreed targets."""
        return self.status in TRACKED_STATUSES and not self.regions.empty

    @property
    def bounds(self) -> tuple[date, date]:
        """First and last day of the cycle's period."""
        p = parse_period(self.period)
        if p is None:
            raise ValueError(f"unparseable period {self.period!r}")
        start, end = period_bounds(p)
        return start.date(), end.date()


def cycle_from_targets(
    cycle_id: int,
    metric: str,
    period: str,
    targets: pd.DataFrame,
    *,
    name: str = "",
    status: str = "tracking",
    company_target: float | None = None,
) -> TrackedCycle:
    """A TrackedCycle from a frame `region, target` (optional suggestion, proposal, agreed,
    commitments)."""
    if not {"region", "target"} <= set(targets.columns):
        raise ValueError("targets need columns region, target")
    df = targets.copy()
    df["region"] = df["region"].astype(str)
    df["target"] = pd.to_numeric(df["target"]).astype("float64")
    for col in ("suggestion", "proposal", "agreed"):
        if col not in df.columns:
            df[col] = df["target"] if col == "agreed" else float("nan")
    if "commitments" not in df.columns:
        df["commitments"] = [[] for _ in range(len(df))]
    cols = ["region", "target", "suggestion", "proposal", "agreed", "commitments"]
    return TrackedCycle(
        int(cycle_id),
        metric,
        period,
        df[cols].reset_index(drop=True),
        name or f"#{cycle_id}",
        status,
        company_target,
    )


def _commitment_items(support_items: Any, support: Any = None) -> list[str]:
    """Promised support as texts: the descriptions of the agreed proposal's support items.

    The description is the item's identity (delivery is recorded against it), so the
    amount is not part of it. A lead who listed no items but wrote what support is needed
    has that text as the one commitment, as their consensus letter lists it (letters.service).
    """
    items: list[str] = []
    if not (isinstance(support_items, list | tuple) and support_items):
        text = support.strip() if isinstance(support, str) else ""
        return [text] if text else []
    if isinstance(support_items, list | tuple):
        for it in support_items:
            text = (
                str(it.get("description") or it.get("kind") or "")
                if isinstance(it, dict)
                else str(it)
            )
            if text.strip() and text.strip() not in items:
                items.append(text.strip())
    return items


def lookup_cycle(cur: duckdb.DuckDBPyConnection, cycle_id: int) -> TrackedCycle:
    """A negotiation cycle's metadata and agreed values, as a TrackedCycle.

    Regions without an agreed value are left out (nothing to track until agreed).
    Raises LookupError when the cycle is unknown.
    """
    # Imported here: negotiation's lock calls back into this module.
    from calibration.negotiation import service as negotiation

    try:
        meta = negotiation.get_cycle(cur, int(cycle_id))
    except negotiation.NegotiationError as exc:
        raise LookupError(f"no cycle {cycle_id}") from exc
    # negotiation's cycle_state column names, read directly: a renamed column is a KeyError.
    state = negotiation.cycle_state(cur, int(cycle_id))
    frame = pd.DataFrame(
        {
            "region": state["region"].astype(str) if len(state) else pd.Series(dtype=str),
            "suggestion": pd.to_numeric(state["suggestion"], errors="coerce"),
            "proposal": pd.to_numeric(state["proposal_value"], errors="coerce"),
            "agreed": pd.to_numeric(state["agreed_value"], errors="coerce"),
        }
    )
    frame["commitments"] = [
        _commitment_items(i, s)
        for i, s in zip(state["support_items"], state["support"], strict=True)
    ]
    frame["target"] = frame["agreed"]
    frame = frame[frame["target"].notna()]
    return cycle_from_targets(
        int(meta["id"]),
        str(meta["metric"]),
        str(meta["period"]),
        frame,
        name=str(meta.get("name") or ""),
        status=str(meta.get("status") or ""),
        company_target=meta.get("company_target"),
    )


def resolve(cur: duckdb.DuckDBPyConnection, cycle: TrackedCycle | int) -> TrackedCycle:
    """A TrackedCycle as given, or looked up by id."""
    return cycle if isinstance(cycle, TrackedCycle) else lookup_cycle(cur, int(cycle))


def visible_rows(df: pd.DataFrame, viewer: User) -> pd.DataFrame:
    """The rows of a frame with a `region` column that the viewer may see."""
    # An explicit bool mask: mapping an empty column gives an object Series, which pandas
    # would read as a list of column labels.
    mask = np.array([access.can(viewer, "tracking.read", str(r)) for r in df["region"]], dtype=bool)
    return df[mask].reset_index(drop=True)


def _labels(
    cur: duckdb.DuckDBPyConnection, lang: str, cycle_id: int | None = None
) -> dict[str, str]:
    regions = dq.list_regions(cur)
    out = {
        r: region_name(r, en, zh, lang)
        for r, en, zh in zip(regions["region"], regions["name_en"], regions["name_zh"], strict=True)
    }
    if cycle_id is not None:
        # A locked cycle is tracked under the names it was signed with.
        for r, row in nq.frozen_regions(cur, cycle_id).items():
            out[r] = region_name(r, row["name_en"], row["name_zh"], lang)
    return out


def _names(
    cur: duckdb.DuckDBPyConnection, region: str, cycle_id: int | None = None
) -> dict[str, str]:
    """Region display names in both languages (stored with notifications)."""
    return {lang: _labels(cur, lang, cycle_id).get(region, region) for lang in ("en", "zh")}


def _leads(cur: duckdb.DuckDBPyConnection, region: str, cycle_id: int | None) -> list[str]:
    # The lead frozen at the lock is the one who signed and answers for the target.
    frozen = nq.frozen_regions(cur, cycle_id).get(region) if cycle_id is not None else None
    if frozen and frozen["lead_username"]:
        return [frozen["lead_username"]]
    return q.region_leads(cur, region)


# --------------------------------------------------------------------------------------
# Paths, actuals, the board
# --------------------------------------------------------------------------------------


def planned_paths(cur: duckdb.DuckDBPyConnection, cycle: TrackedCycle | int) -> pd.DataFrame:
    """The agreed path `region, date, planned_cum` of every tracked region.

    Each region's within-period daily profile comes from its past actuals of the metric
    (before the period starts); a region without any is spread evenly.
    """
    c = resolve(cur, cycle)
    if c.regions.empty:
        return pd.DataFrame(columns=["region", "date", "planned_cum"])
    start, _ = c.bounds
    history = q.load_actuals(cur, c.metric, None, start - timedelta(days=1))
    targets = pd.Series(c.regions["target"].to_numpy(), index=c.regions["region"])
    return tracking.planned_path(targets, c.period, history if len(history) else None)


def period_actuals(cur: duckdb.DuckDBPyConnection, cycle: TrackedCycle | int) -> pd.DataFrame:
    """Daily actuals `region, date, value` of the cycle's metric within its period."""
    c = resolve(cur, cycle)
    start, end = c.bounds
    return q.load_actuals(cur, c.metric, start, end)


@dataclass
class Board:
    """Everything the tracking page shows for one viewer, as of one day."""

    cycle: TrackedCycle
    as_of: date | None
    path: pd.DataFrame
    actuals: pd.DataFrame
    snapshot: pd.DataFrame  # one row per visible region, ranked by projected shortfall
    weekly: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def regions(self) -> list[str]:
        """Visible tracked regions, worst projected shortfall first."""
        return self.snapshot["region"].tolist()


def _default_as_of(c: TrackedCycle, actuals: pd.DataFrame) -> date | None:
    if actuals.empty:
        return None
    last = pd.to_datetime(actuals["date"]).max().date()
    return min(last, c.bounds[1])


def board(
    cur: duckdb.DuckDBPyConnection,
    viewer: User,
    cycle: TrackedCycle | int,
    as_of: date | None = None,
    lang: str = "en",
) -> Board:
    """Status, projection and warning per region the viewer may see, as of a day.

    as_of defaults to the last day with actuals. The projection pools dispersion across all
    regions, so it is computed on all of them and filtered afterwards: a lead sees the same
    numbers for their region as HQ does.
    """
    c = resolve(cur, cycle)
    path = planned_paths(cur, c)
    actuals = period_actuals(cur, c)
    as_of = as_of or _default_as_of(c, actuals)
    labels = _labels(cur, lang, c.cycle_id)
    visible = [r for r in c.regions["region"] if access.can(viewer, "tracking.read", r)]
    if as_of is None or path.empty:
        snap = pd.DataFrame(columns=[*_SNAPSHOT_EXTRA, "region"])
        weekly = pd.DataFrame(columns=["region", "week", "date", "pace", "status"])
    else:
        snap = tracking.snapshot(path, actuals, as_of)
        weekly = tracking.weekly_status(path, actuals, as_of)
        snap = snap[snap["region"].isin(visible)]
        weekly = weekly[weekly["region"].isin(visible)].reset_index(drop=True)
        snap = _decorate(cur, c, snap, labels, lang, as_of)
    keep = path["region"].isin(visible)
    path = path[keep].reset_index(drop=True)
    actuals = actuals[actuals["region"].isin(visible)].reset_index(drop=True)
    return Board(c, as_of, path, actuals, snap, weekly, labels)


COMPANY = "__company__"


def company_view(b: Board) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The visible regions summed: (path, actuals, projection row) for `tracking_chart`.

    The interval treats regions as independent: half-widths add in quadrature.
    """
    path = b.path.groupby("date", as_index=False)["planned_cum"].sum().assign(region=COMPANY)
    acts = b.actuals.groupby("date", as_index=False)["value"].sum().assign(region=COMPANY)
    s = b.snapshot
    row: dict[str, Any] = {"region": COMPANY, "as_of": pd.Timestamp(b.as_of)}
    for col in ("target", "actual_to_date", "planned_to_date", "projected"):
        row[col] = float(s[col].sum())
    lo = float(((s["projected"] - s["lower80"]) ** 2).sum()) ** 0.5
    hi = float(((s["upper80"] - s["projected"]) ** 2).sum()) ** 0.5
    row["lower80"] = max(row["projected"] - lo, row["actual_to_date"])
    row["upper80"] = row["projected"] + hi
    row["pace"] = row["actual_to_date"] / row["planned_to_date"] if row["planned_to_date"] else 1.0
    row["status"] = str(tracking.status_of(row["pace"]))
    row["shortfall"] = row["target"] - row["projected"]
    return path[["region", "date", "planned_cum"]], acts[["region", "date", "value"]], row


def snapshot(
    cur: duckdb.DuckDBPyConnection,
    viewer: User,
    cycle: TrackedCycle | int,
    as_of: date | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Per visible region as of a day: status, projection, warning, shortfall, support note."""
    return board(cur, viewer, cycle, as_of, lang).snapshot


def last_actual_day(cur: duckdb.DuckDBPyConnection, cycle: TrackedCycle | int) -> date | None:
    """The latest day of the cycle's period with actuals (the default as_of)."""
    c = resolve(cur, cycle)
    return _default_as_of(c, period_actuals(cur, c))


_SNAPSHOT_EXTRA = ("label", "shortfall", "undelivered", "support_note", "escalation")


def _decorate(
    cur: duckdb.DuckDBPyConnection,
    c: TrackedCycle,
    snap: pd.DataFrame,
    labels: dict[str, str],
    lang: str,
    as_of: date,
) -> pd.DataFrame:
    """Add label, projected shortfall, undelivered support and the latest escalation."""
    snap = snap.copy()
    snap["label"] = snap["region"].map(lambda r: labels.get(r, r))
    snap["shortfall"] = snap["target"] - snap["projected"]
    status = commitment_status(cur, c)
    undelivered = (
        status[status["status"] == "not_delivered"].groupby("region")["item"].agg(list).to_dict()
        if len(status)
        else {}
    )
    snap["undelivered"] = snap["region"].map(lambda r: undelivered.get(r, []))
    # Only a red region says so: its plan depended on support that did not arrive.
    snap["support_note"] = [
        t("tracking.support.not_delivered", lang, items="; ".join(items))
        if s == "red" and items
        else ""
        for s, items in zip(snap["status"], snap["undelivered"], strict=True)
    ]
    events = q.list_events(cur, c.cycle_id)
    # Replaying an earlier day: only what had been raised by then.
    events = events[pd.to_datetime(events["triggered_on"]) <= pd.Timestamp(as_of)]
    latest = (
        events.sort_values(["triggered_on", "level"]).groupby("region")["kind"].last().to_dict()
        if len(events)
        else {}
    )
    snap["escalation"] = snap["region"].map(lambda r: latest.get(r, ""))
    return snap.sort_values(["shortfall", "region"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Evaluation: escalations, alerts, warnings → events and notifications
# --------------------------------------------------------------------------------------


def outlook(row: Mapping[str, Any]) -> str:
    """A region's banner level: its pace status, made amber when the projection misses.

    Pace looks back, the projection forward: a region on pace so far but projected below
    its target (or with an early warning) is not "On track" (issue 15).
    """
    status = str(row["status"])
    if status == "red":
        return "red"
    # As people read the numbers: 233.6 of 234 shows as 234 of 234, not a miss.
    short = round(float(row["projected"])) < round(float(row["target"]))
    return "amber" if bool(row.get("warning")) or short else status


def outlook_text(row: Mapping[str, Any], lang: str) -> str:
    """The banner's words for `outlook(row)`: the projection named when it is the reason."""
    level = outlook(row)
    if level == "amber" and row["status"] == "green":
        return t(
            "tracking.outlook.short",
            lang,
            projected=numbers.number(float(row["projected"])),
            target=numbers.number(float(row["target"])),
        )
    return t(f"tracking.status.{level}", lang)


def events_note(c: TrackedCycle) -> str:
    """Key of what to say when a cycle has no escalations: why, in its status's terms."""
    # evaluate() records only while a cycle is live; a closed cycle's weeks are a look back.
    return "tracking.events.none" if c.status in LIVE_STATUSES else "tracking.events.not_live"


@dataclass
class Evaluation:
    """What one evaluation recorded (nothing when repeated for the same data)."""

    as_of: date | None
    events: list[dict[str, Any]]
    notifications: int

    @property
    def recorded(self) -> int:
        """Number of new events."""
        return len(self.events)


def evaluation_summary(result: Evaluation, lang: str) -> str:
    """ "3 new events, 6 notifications." with each count's plural form."""
    return t(
        "tracking.evaluated",
        lang,
        events=plural("tracking.n_events", result.recorded, lang),
        notifications=plural("tracking.n_notifications", result.notifications, lang),
    )


def _warning_events(path: pd.DataFrame, actuals: pd.DataFrame, as_of: date) -> list[dict]:
    """One warning per run of consecutive warning days, keyed by the run's first day."""
    days = tracking.warning_days(path, actuals, as_of)
    if days.empty:
        return []
    out = []
    for (region, start), _ in days.groupby(["region", "run_start"], sort=True):
        row = tracking.project(path, actuals, start.date())
        row = row[row["region"] == region].iloc[0]
        out.append(
            {
                "region": str(region),
                "kind": "warning",
                "level": 0,
                "triggered_on": start.date(),
                "detail": {
                    "projected": float(row["projected"]),
                    "upper80": float(row["upper80"]),
                    "target": float(row["target"]),
                    "days_remaining": int(row["days_remaining"]),
                    "pace": float(row["pace"]),
                    "notify": ["lead", "executive"],
                },
            }
        )
    return out


def _recipients(
    cur: duckdb.DuckDBPyConnection, who: Iterable[str], region: str, cycle_id: int | None = None
) -> list[str]:
    names: list[str] = []
    for role in who:
        if role == "lead":
            names += _leads(cur, region, cycle_id)
        else:
            # No executive account (a small install): the admins stand in.
            names += q.users_by_role(cur, "executive") or q.users_by_role(cur, "admin")
    return list(dict.fromkeys(names))


# Who is told about what: (kind → [(recipients, message kind)]).
ROUTES: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "alert": [(("lead", "executive"), "alert")],
    "reminder": [(("lead",), "reminder")],
    "escalation": [(("executive",), "escalation"), (("lead",), "root_cause_request")],
    "warning": [(("lead", "executive"), "warning")],
}


def _finite(v: Any) -> Any:
    """JSON has no NaN: store None instead."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


def evaluate(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle: TrackedCycle | int,
    as_of: date | None = None,
) -> Evaluation:
    """Record new escalations, alerts and warnings as of a day, and notify people.

    Idempotent: an event is keyed by (cycle, region, kind, triggered_on), and a key already
    recorded adds nothing (no event, no notification). Level 1 goes to the region's lead,
    level 2 to the executives plus a root-cause form request to the lead, alerts and
    early warnings to the lead and the executives. HQ roles only. Only a locked or tracking
    cycle is evaluated (before the lock there is no agreed path; after closing, no one to
    warn).
    """
    access.require(actor, "tracking.manage")
    c = resolve(cur, cycle)
    if c.status not in LIVE_STATUSES:
        return Evaluation(None, [], 0)
    path = planned_paths(cur, c)
    actuals = period_actuals(cur, c)
    as_of = as_of or _default_as_of(c, actuals)
    if as_of is None or path.empty:
        return Evaluation(as_of, [], 0)
    found = [
        {
            "region": e.region,
            "kind": e.kind,
            "level": e.level,
            "triggered_on": e.triggered_on,
            "detail": e.detail,
        }
        for e in tracking.escalations(path, actuals, as_of)
    ]
    found += _warning_events(path, actuals, as_of)
    found.sort(key=lambda e: (e["triggered_on"], e["level"], e["region"], e["kind"]))
    for attempt in range(3):
        try:
            return _record(cur, actor, c, as_of, found)
        except (duckdb.ConstraintException, duckdb.TransactionException):
            # Another evaluation (a second HQ viewer) recorded the same key first, or its
            # transaction conflicted with ours; the next pass sees its rows and skips them.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def cycle_ids(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """Ids of every cycle, newest first."""
    from calibration.negotiation import service as negotiation

    return [int(c["id"]) for c in negotiation.list_cycles(cur)]


def evaluate_all(
    cur: duckdb.DuckDBPyConnection, actor: User, metric: str | None = None
) -> list[Evaluation]:
    """Evaluate every locked or tracking cycle (of one metric): new actuals arrived."""
    out = []
    for cycle_id in cycle_ids(cur):
        try:
            cycle = lookup_cycle(cur, cycle_id)
        except LookupError:
            continue
        if cycle.status in LIVE_STATUSES and (metric is None or cycle.metric == metric):
            out.append(evaluate(cur, actor, cycle))
    return out


def _record(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    c: TrackedCycle,
    as_of: date,
    found: list[dict],
) -> Evaluation:
    now = utcnow()
    new: list[dict] = []
    sent = 0
    # audit: escalations are sealed in the decision record.
    with chain.sealed(cur, actor.username, actor.role, c.cycle_id, ("tracking_events",)):
        done = q.existing_event_keys(cur, c.cycle_id)
        for e in found:
            if (e["region"], e["kind"], e["triggered_on"]) in done:
                continue
            detail = {k: _finite(v) for k, v in e["detail"].items()}
            event_id = q.insert_event(
                cur,
                c.cycle_id,
                e["region"],
                e["kind"],
                e["level"],
                e["triggered_on"],
                json.dumps(detail, ensure_ascii=False),
                now,
                actor.username,
            )
            names = _names(cur, e["region"], c.cycle_id)
            params = {
                **detail,
                "region_en": names["en"],
                "region_zh": names["zh"],
                "cycle": c.name,
                "day": e["triggered_on"].isoformat(),
            }
            rows = []
            for who, message in ROUTES[e["kind"]]:
                for username in _recipients(cur, who, e["region"], c.cycle_id):
                    rows.append(
                        {
                            "username": username,
                            "kind": message,
                            "cycle_id": c.cycle_id,
                            "region": e["region"],
                            "event_id": event_id,
                            "message_key": f"tracking.inbox.{message}",
                            "params": json.dumps(params, ensure_ascii=False),
                            "created_at": now,
                        }
                    )
            sent += len(q.insert_notifications(cur, rows))
            new.append({**e, "event_id": event_id})
    return Evaluation(as_of, new, sent)


def events(cur: duckdb.DuckDBPyConnection, viewer: User, cycle: TrackedCycle | int) -> pd.DataFrame:
    """Recorded tracking events the viewer may see, with the latest root-cause answer."""
    c = resolve(cur, cycle)
    ev = q.list_events(cur, c.cycle_id)
    ev = visible_rows(ev, viewer)
    forms = q.list_root_causes(cur, c.cycle_id)
    last = forms.groupby("event_id").last() if len(forms) else pd.DataFrame()
    ev["root_cause"] = ev["event_id"].map(last["cause"] if len(last) else {})
    ev["root_cause_text"] = ev["event_id"].map(last["text"] if len(last) else {})
    return ev


def describe_event(row: dict[str, Any] | pd.Series, lang: str, label: str | None = None) -> str:
    """The sentence for a recorded event (escalation rung or early warning)."""
    detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else dict(row["detail"])
    if row["kind"] == "warning":
        return tracking.describe_warning(
            {
                "region": row["region"],
                "projected": detail.get("projected") or 0.0,
                "target": detail.get("target") or 0.0,
                "upper80": detail.get("upper80") or 0.0,
                "days_remaining": detail.get("days_remaining") or 0,
            },
            lang,
            label,
        )
    e = tracking.Escalation(
        str(row["region"]), row["kind"], int(row["level"]), row["triggered_on"], detail
    )
    return tracking.describe_escalation(e, lang, label)


def pending_root_causes(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle: TrackedCycle | int
) -> pd.DataFrame:
    """Level-2 escalations in the viewer's led regions that have no root-cause form yet."""
    ev = events(cur, viewer, cycle)
    if ev.empty:
        return ev
    mine = np.array(
        [access.can(viewer, "tracking.root_cause", str(r)) for r in ev["region"]], dtype=bool
    )
    return ev[(ev["level"] == 2) & mine & ev["root_cause"].isna()].reset_index(drop=True)


def submit_root_cause(
    cur: duckdb.DuckDBPyConnection, actor: User, escalation_id: int, cause: str, text: str
) -> int:
    """Answer a level-2 escalation with a root cause (only the region's lead); returns form id.

    A second answer is a new form (append-only); the latest one counts. The executives
    are told.
    """
    event = q.get_event(cur, int(escalation_id))
    if event is None or event["level"] != 2:
        raise LookupError(f"no level-2 escalation {escalation_id}")
    access.require(actor, "tracking.root_cause", event["region"])
    text = (text or "").strip()
    tracking.validate_root_cause(cause, text)
    if len(text) > MAX_TEXT:
        raise ValueError(f"the explanation is longer than {MAX_TEXT} characters")
    now = utcnow()
    # audit: root-cause answers are sealed in the decision record.
    with chain.sealed(cur, actor.username, actor.role, event["cycle_id"], ("root_causes",)):
        form_id = q.insert_root_cause(
            cur,
            event["event_id"],
            event["cycle_id"],
            event["region"],
            cause,
            text,
            actor.username,
            now,
        )
        names = _names(cur, event["region"], event["cycle_id"])
        params = json.dumps(
            {
                "region_en": names["en"],
                "region_zh": names["zh"],
                "cause": cause,
                "text": text,
                "lead": actor.display_name,
            },
            ensure_ascii=False,
        )
        q.insert_notifications(
            cur,
            [
                {
                    "username": u,
                    "kind": "root_cause_submitted",
                    "cycle_id": event["cycle_id"],
                    "region": event["region"],
                    "event_id": event["event_id"],
                    "message_key": "tracking.inbox.root_cause_submitted",
                    "params": params,
                    "created_at": now,
                }
                for u in _recipients(cur, ("executive",), event["region"])
            ],
        )
    return form_id


# --------------------------------------------------------------------------------------
# Commitments (promised support) and their delivery
# --------------------------------------------------------------------------------------


def set_commitment_status(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    region: str,
    item: str,
    delivered: bool,
    note: str = "",
) -> int:
    """Record whether a promised support item was delivered (executive or admin)."""
    access.require(actor, "tracking.decide")
    item = (item or "").strip()
    note = (note or "").strip()
    if not region or not item:
        raise ValueError("a commitment needs a region and an item")
    if len(item) > 500 or len(note) > MAX_TEXT:
        raise ValueError("the item or note is too long")
    # audit: commitment deliveries are sealed in the decision record.
    with chain.sealed(cur, actor.username, actor.role, cycle_id, ("commitment_events",)):
        return q.insert_commitment_event(
            cur, int(cycle_id), region, item, bool(delivered), note, actor.username, utcnow()
        )


def record_deliveries(
    cur: duckdb.DuckDBPyConnection,
    actor: User,
    cycle_id: int,
    changes: Iterable[tuple[str, str, bool]],
    note: str = "",
) -> int:
    """Record several (region, item, delivered) changes in one transaction; returns how many.

    All are checked before anything is written, so a refused change leaves none recorded.
    """
    access.require(actor, "tracking.decide")
    note = (note or "").strip()
    rows = [((region or "").strip(), (item or "").strip(), bool(d)) for region, item, d in changes]
    for region, item, _ in rows:
        if not region or not item:
            raise ValueError("a commitment needs a region and an item")
        if len(item) > 500 or len(note) > MAX_TEXT:
            raise ValueError("the item or note is too long")
    if not rows:
        return 0
    now = utcnow()
    # audit: one seal for the whole form, as for a single change.
    with chain.sealed(cur, actor.username, actor.role, cycle_id, ("commitment_events",)):
        for region, item, delivered in rows:
            q.insert_commitment_event(
                cur, int(cycle_id), region, item, delivered, note, actor.username, now
            )
    return len(rows)


def commitment_status(
    cur: duckdb.DuckDBPyConnection,
    cycle: TrackedCycle | int,
    viewer: User | None = None,
) -> pd.DataFrame:
    """Per region and promised item: `status` delivered / not_delivered / pending, note, by."""
    c = resolve(cur, cycle)
    rows = [
        {"region": r, "item": item}
        for r, items in zip(c.regions["region"], c.regions["commitments"], strict=True)
        for item in (items or [])
    ]
    promised = pd.DataFrame(rows, columns=["region", "item"])
    recorded = q.latest_commitments(cur, c.cycle_id)
    out = promised.merge(recorded, on=["region", "item"], how="outer")
    out["status"] = [
        "pending" if pd.isna(d) else ("delivered" if bool(d) else "not_delivered")
        for d in out["delivered"]
    ]
    if viewer is not None:
        out = visible_rows(out, viewer)
    cols = ["region", "item", "status", "note", "recorded_by", "recorded_at"]
    return out[cols].sort_values(["region", "item"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Inbox
# --------------------------------------------------------------------------------------


def render_notification(
    message_key: str, params: str | dict, lang: str, escape: Callable[[str], str] | None = None
) -> str:
    """A stored notification as text in the reader's language.

    escape (e.g. the UI's Markdown escaper) is applied to every text a person or a file
    typed (names, answers), never to our own translation.
    """
    p = json.loads(params) if isinstance(params, str) else dict(params)
    cause = p.get("cause")
    if escape is not None:
        p = {k: escape(v) if isinstance(v, str) else v for k, v in p.items()}
    p["region"] = p.get(f"region_{lang}") or p.get("region_en") or ""
    if "cause" in p:
        p["cause"] = t(f"tracking.root_cause.{cause}", lang)
    # Numbers as people write them (stored as numbers; formatted for the reader).
    for k in ("pace", "below"):
        if k in p:
            p[k] = numbers.percent(p[k] if isinstance(p[k], int | float) else None)
    for k in ("projected", "target", "upper80", "upper"):
        if k in p:
            p[k] = numbers.number(p[k] if isinstance(p[k], int | float) else None)
    p.setdefault("run_days", p.get("days", 0))
    try:
        return t(message_key, lang, **p)
    except (KeyError, ValueError, IndexError):
        return t(message_key, lang)


def inbox(
    cur: duckdb.DuckDBPyConnection,
    user: User,
    lang: str = "en",
    escape: Callable[[str], str] | None = None,
) -> pd.DataFrame:
    """The user's own notifications, newest first: id, created_at, kind, region, text, read.

    escape is passed to render_notification for the texts people typed.
    """
    df = q.list_notifications(cur, user.username)
    df["text"] = [
        render_notification(k, p, lang, escape)
        for k, p in zip(df["message_key"], df["params"], strict=True)
    ]
    return df[
        ["notification_id", "created_at", "kind", "cycle_id", "region", "event_id", "text", "read"]
    ]


def unread_count(cur: duckdb.DuckDBPyConnection, user: User) -> int:
    """How many of the user's notifications are unread."""
    return q.unread_count(cur, user.username)


def mark_read(cur: duckdb.DuckDBPyConnection, user: User, ids: Iterable[int]) -> int:
    """Mark the user's own notifications read (others' ids are ignored); returns how many."""
    with transaction(cur):
        return q.insert_reads(cur, user.username, [int(i) for i in ids], utcnow())


# --------------------------------------------------------------------------------------
# Forecast value added (after the period)
# --------------------------------------------------------------------------------------


def fva_ready(cur: duckdb.DuckDBPyConnection, cycle: TrackedCycle | int) -> bool:
    """Whether the period is over: the cycle is closed or actuals reach its last day."""
    c = resolve(cur, cycle)
    if c.status == "closed":
        return True
    _, last = q.actuals_range(cur, c.metric)
    return last is not None and last >= c.bounds[1]


def fva(cur: duckdb.DuckDBPyConnection, viewer: User, cycle: TrackedCycle | int) -> pd.DataFrame:
    """Per visible region: suggestion, proposal, agreed, actual, their errors and FVA.

    `actual` is the sum of the period's daily actuals; `lead` the region's lead account(s).
    A region without a proposal counts the suggestion as its proposal.
    """
    c = resolve(cur, cycle)
    acts = period_actuals(cur, c)
    totals = acts.groupby("region")["value"].sum() if len(acts) else pd.Series(dtype=float)
    df = visible_rows(c.regions, viewer)
    df["proposal"] = df["proposal"].fillna(df["suggestion"])
    df["suggestion"] = df["suggestion"].fillna(df["agreed"])
    df["proposal"] = df["proposal"].fillna(df["agreed"])
    df["actual"] = df["region"].map(totals).fillna(0.0).astype("float64")
    df["lead"] = [", ".join(_leads(cur, r, c.cycle_id)) or "-" for r in df["region"]]
    out = tracking.forecast_value_added(df[list(FVA_COLUMNS)].reset_index(drop=True))
    return out


def fva_leads(
    cur: duckdb.DuckDBPyConnection, viewer: User, cycle: TrackedCycle | int
) -> pd.DataFrame:
    """FVA per lead over the visible regions."""
    table = fva(cur, viewer, cycle)
    return tracking.fva_by_lead(table) if len(table) else table


def fva_export(
    cur: duckdb.DuckDBPyConnection,
    viewer: User,
    cycle: TrackedCycle | int,
    fmt: str,
    by: str = "region",
) -> bytes:
    """The FVA table (per region or per lead) as CSV or XLSX bytes."""
    table = fva_leads(cur, viewer, cycle) if by == "lead" else fva(cur, viewer, cycle)
    if fmt == "csv":
        return exports.csv_bytes(table)
    if fmt == "xlsx":
        return exports.xlsx_bytes(table, sheet=f"fva {by}")
    raise ValueError(f"unknown export format {fmt!r}")
