"""Load harness: simulated sessions over Streamlit's websocket protocol against ONE server.

No browser renders anything: each session is a websocket speaking the protocol
(bench/st_client.py), so the machine's cores go to the server being measured. The harness
seeds a workshop of N regions with one lead account each (tests/browser/load_data.py),
copies it per step, starts `python -m streamlit run server.py` on a free loopback port and:

1. signs every session in through the app's own sign-in form (leads first, then boards);
2. lets the boards tick (the live fragment, re-requested every CALIBRATE_BOARD_REFRESH
   seconds with its fragment id, as the browser's timer does) for a few seconds;
3. has every lead submit a proposal on My region at a random moment within a window, and
   waits until every board's table shows every proposal (bounded by a timeout).

Per action it reports the round trip (send → script_finished), the server's own time
where the app records it (CALIBRATE_TIMINGS: board.tick, board.render), the server
process's CPU per action (/proc/PID/stat before and after each phase) and the
change-to-screen latency: proposal sent → its row shows a status on a board's table (per
board, and on every board). Steps of load (sessions) run until the p95 of "visible on every
board" exceeds 2 s; the largest step under it, per core, is the capacity figure.

    python -m bench.load_harness --steps 10x5            # 10 leads + 5 boards
    python -m bench.load_harness --steps 17x3,42x8,83x17,167x33,250x50 --json
    python -m bench load_harness [--json]                # BENCH_LOAD_STEPS, default 10x5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.common import load_average, machine
from bench.st_client import ProtocolError, Session, click, number_state, text_state
from calibration.events import copy_database
from calibration.i18n import t
from calibration.negotiation import service as neg
from calibration.store import connect
from tests.browser.conftest import Server
from tests.browser.load_data import PASSWORD, region_ids, seed_workshop

GOAL_P95_S = 2.0
DEFAULT_STEPS = "10x5"
# The browser's default is 3 s (settings.board_refresh_seconds); at 3 s the tick alone puts
# the p95 near 3 s, so the capacity question is asked of a 1 s board.
DEFAULT_REFRESH_S = 1.0
SIGN_IN_CONCURRENCY = 8
SUBMIT_WINDOW_S = 10.0
IDLE_S = 5.0
SEE_TIMEOUT_S = 120.0
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def _pct(values: list[float], q: int) -> float:
    """The q-th percentile (nan when empty)."""
    if not values:
        return math.nan
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Step:
    """One load level and what was measured at it."""

    leads: int
    boards: int
    sign_in_s: list[float] = field(default_factory=list)
    submit_s: list[float] = field(default_factory=list)
    tick_s: list[float] = field(default_factory=list)  # fragment ticks that found no change
    redraw_s: list[float] = field(default_factory=list)  # ticks that redrew the whole board
    sent_at: dict[str, float] = field(default_factory=dict)  # region -> submit sent
    saved: set[str] = field(default_factory=set)  # regions whose lead saw "Proposal saved"
    seen: list[dict[str, float]] = field(default_factory=list)  # per board: region -> seen
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # phase -> server CPU seconds
    wall: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    counts: dict[str, int] = field(default_factory=dict)  # phase -> actions
    server_times: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    load_start: float = 0.0
    stored: int = -1  # proposals in the database after the step (-1: not counted)

    @property
    def sessions(self) -> int:
        """Sessions at this step."""
        return self.leads + self.boards

    def latencies(self) -> tuple[list[float], list[float]]:
        """(per proposal and board, per proposal on every board) in seconds, saved ones."""
        per_board, every = [], []
        for region in sorted(self.saved):
            sent = self.sent_at[region]
            times = [board.get(region) for board in self.seen]
            per_board += [x - sent for x in times if x is not None]
            if times and all(x is not None for x in times):
                every.append(max(times) - sent)
        return per_board, every

    def missing(self) -> int:
        """(proposal, board) pairs never seen within the timeout."""
        return sum(1 for r in self.saved for board in self.seen if r not in board)


class Board:
    """A board session: ticks its live fragment and notes when each region shows a status."""

    def __init__(self, session: Session, step: Step, names: dict[str, str]) -> None:
        self.session = session
        self.step = step
        self.names = names  # board label -> region id
        self.seen: dict[str, float] = {}
        step.seen.append(self.seen)
        self.col_region = t("board.col_region", "en")
        self.col_status = t("board.col_status", "en")
        self.waiting = t("board.status_none", "en")

    def read(self, frames: list[tuple[float, bytes]]) -> None:
        """Note regions whose status is shown as anything but 'Waiting', at arrival time."""
        for at, data in frames:
            try:
                table = pa.ipc.open_stream(data).read_all()
            except (pa.ArrowInvalid, OSError):
                continue
            if (
                self.col_region not in table.column_names
                or self.col_status not in table.column_names
            ):
                continue
            labels = table.column(self.col_region).to_pylist()
            statuses = table.column(self.col_status).to_pylist()
            for label, status in zip(labels, statuses, strict=True):
                region = self.names.get(str(label).strip())
                if region and status and status != self.waiting and region not in self.seen:
                    self.seen[region] = at

    async def tick_until(self, stop: asyncio.Event, deadline: float) -> None:
        """Re-request the fragment at its interval until stopped (or the deadline)."""
        while not stop.is_set() and time.monotonic() < deadline:
            if not self.session.fragments:
                self.step.errors.append("board without a live fragment")
                return
            fid, interval = next(iter(self.session.fragments.items()))
            started = time.monotonic()
            try:
                run = await self.session.rerun(fragment_id=fid)
            except ProtocolError as exc:
                self.step.errors.append(f"board tick: {exc}")
                return
            if run.exceptions:
                self.step.errors += run.exceptions
            if run.frames:
                self.step.redraw_s.append(run.seconds)
                self.read(run.frames)
            else:
                self.step.tick_s.append(run.seconds)
            # The browser's timer: the next tick an interval after this one started.
            wait = interval - (time.monotonic() - started)
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                except TimeoutError:
                    pass


async def _sign_in(
    url: str, username: str, step: Step, gate: asyncio.Semaphore, password: str = PASSWORD
) -> Session:
    """Open the app and sign in through its form; the landing page is drawn."""
    async with gate:
        session = Session(url)
        await session.connect()
        await session.rerun()
        started = time.perf_counter()
        run = await session.rerun(
            [
                text_state(session.widgets["login_username"], username),
                text_state(session.widgets["login_password"], password),
                click(session.submitters["login"]),
            ]
        )
        step.sign_in_s.append(time.perf_counter() - started)
        if run.exceptions or t("app.sign_out", "en") not in session.buttons:
            raise ProtocolError(f"sign-in of {username} failed: {run.alerts or run.exceptions}")
        return session


async def _submit(
    session: Session,
    region: str,
    value: float,
    step: Step,
    delay: float,
    texts: tuple[str, str, str] | None = None,
) -> None:
    """After delay seconds, submit a proposal from My region's form in one rerun; texts:
    (justification, support, risk)."""
    await asyncio.sleep(delay)
    justification, support, risk = texts or (
        f"Load harness proposal for {region}.",
        "None needed.",
        "None known.",
    )

    # My region's field keys are scoped by cycle and region: nego_just_<cycle>_<region>.
    def key(name: str) -> str:
        return next(k for k in session.widgets if k.startswith(f"{name}_"))

    states = [
        number_state(session.widgets[key("nego_value")], value),
        text_state(session.widgets[key("nego_just")], justification),
        text_state(session.widgets[key("nego_support")], support),
        text_state(session.widgets[key("nego_risk")], risk),
        # A keyed button, not a form: the fields are saved as drafts on every change.
        click(session.widgets[key("nego_submit")]),
    ]
    step.sent_at[region] = time.perf_counter()
    try:
        run = await session.rerun(states)
    except ProtocolError as exc:
        step.errors.append(f"submit {region}: {exc}")
        return
    step.submit_s.append(run.seconds)
    saved = t("nego.submitted", "en")
    if any(body == saved for _, body in run.alerts):
        step.saved.add(region)
    else:
        step.errors.append(f"submit {region}: {run.alerts or run.exceptions or 'no answer'}")


@dataclass(frozen=True)
class Plan:
    """The scenario's timings, in seconds."""

    idle_s: float = IDLE_S
    submit_window_s: float = SUBMIT_WINDOW_S
    see_timeout_s: float = SEE_TIMEOUT_S


async def _scenario(
    url: str, pid: int, step: Step, suggestions: dict[str, float], plan: Plan
) -> None:
    """Sign in, idle ticks, the submissions; measures into step."""
    gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)
    regions = region_ids(step.leads)
    names = {f"Region {r[1:]}": r for r in region_ids(len(suggestions))}

    def phase_start() -> tuple[float, float]:
        return time.perf_counter(), _cpu_seconds(pid)

    def phase_end(name: str, mark: tuple[float, float], actions: int) -> None:
        step.wall[name] = time.perf_counter() - mark[0]
        step.cpu[name] = _cpu_seconds(pid) - mark[1]
        step.counts[name] = actions

    mark = phase_start()
    leads = await asyncio.gather(*(_sign_in(url, f"lead_{r}", step, gate) for r in regions))
    boards_s = await asyncio.gather(
        *(_sign_in(url, "exec", step, gate) for _ in range(step.boards))
    )
    phase_end("sign_in", mark, step.sessions)
    boards = [Board(s, step, names) for s in boards_s]

    stop = asyncio.Event()
    deadline = time.monotonic() + plan.idle_s + plan.submit_window_s + plan.see_timeout_s + 60
    tickers = [asyncio.create_task(b.tick_until(stop, deadline)) for b in boards]
    try:
        mark = phase_start()
        await asyncio.sleep(plan.idle_s)
        phase_end("idle", mark, len(step.tick_s) + len(step.redraw_s))
        ticks_before = (len(step.tick_s), len(step.redraw_s))

        mark = phase_start()
        rng = random.Random(19)
        await asyncio.gather(
            *(
                _submit(
                    s,
                    r,
                    float(math.floor(suggestions[r])),
                    step,
                    rng.uniform(0, plan.submit_window_s),
                )
                for s, r in zip(leads, regions, strict=True)
            )
        )
        # Until every board shows every saved proposal (bounded).
        until = time.monotonic() + plan.see_timeout_s
        while time.monotonic() < until and step.missing() and not all(t.done() for t in tickers):
            await asyncio.sleep(0.1)
        phase_end("submit", mark, len(step.saved))
        step.counts["submit_plain_ticks"] = len(step.tick_s) - ticks_before[0]
        step.counts["submit_redraws"] = len(step.redraw_s) - ticks_before[1]
    finally:
        stop.set()
        await asyncio.gather(*tickers, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in [*leads, *boards_s]), return_exceptions=True)


def _server_times(path: Path) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds per timed block name from CALIBRATE_TIMINGS."""
    out: dict[str, list[tuple[float, float]]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            out.setdefault(parts[0], []).append((float(parts[1]), float(parts[2])))
    return out


def prepare(folder: Path, regions: int) -> tuple[Path, int, dict[str, float]]:
    """Seed a workshop with `regions` regions and leads once; steps copy the file.

    A folder that already holds a template of that size (a kept --work folder) is reused:
    seeding 250 regions takes minutes (one password hash per lead).
    """
    db, saved = folder / "template.duckdb", folder / "template.json"
    if db.exists() and saved.exists():
        known = json.loads(saved.read_text(encoding="utf-8"))
        if len(known["suggestions"]) == regions:
            return db, known["cycle"], known["suggestions"]
    db.unlink(missing_ok=True)
    cid, suggestions = seed_workshop(db, folder / "data", regions)
    saved.write_text(json.dumps({"cycle": cid, "suggestions": suggestions}), encoding="utf-8")
    return db, cid, suggestions


def _run_apart(coro: Coroutine[Any, Any, object]) -> None:
    """Run a coroutine to its end on a thread of its own; its exception is raised here."""
    # Its own thread and event loop: a sync Playwright of the same pytest worker keeps a
    # loop running in the calling thread, where asyncio.run() would refuse to start.
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # handed to the caller, which re-raises it
            failure.append(exc)

    worker = threading.Thread(target=target, name="load-harness-scenario")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def run_step(
    template: Path,
    suggestions: dict[str, float],
    leads: int,
    boards: int,
    folder: Path,
    refresh_s: float = DEFAULT_REFRESH_S,
    plan: Plan | None = None,
    cycle_id: int | None = None,
) -> tuple[Step, Path]:
    """One load level against a fresh server on a fresh copy; returns it and its database."""
    step = Step(leads=leads, boards=boards, load_start=load_average())
    db = folder / f"step_{leads}x{boards}.duckdb"
    copy_database(template, db)  # with its audit key: the chain must verify
    timings = folder / f"timings_{leads}x{boards}.tsv"
    timings.unlink(missing_ok=True)
    env = {
        **os.environ,
        "CALIBRATE_DB": str(db),
        "CALIBRATE_TIMINGS": str(timings),
        "CALIBRATE_BOARD_REFRESH": f"{refresh_s:g}",
    }
    server = Server(db, env)
    server.start(timeout=180)
    client_cpu = time.process_time()
    try:
        _run_apart(_scenario(server.url, server.proc.pid, step, suggestions, plan or Plan()))
    finally:
        step.client_cpu_s = time.process_time() - client_cpu
        server.stop()
    step.server_times = _server_times(timings)
    if cycle_id is not None:
        step.stored = _stored(db, cycle_id)
    return step, db


def _stored(db: Path, cycle_id: int) -> int:
    """Regions with a proposal in the database (a lead's screen may have timed out first)."""
    con = connect(db)
    try:
        state = neg.cycle_state(con.cursor(), cycle_id)
        return int(state["proposal_value"].notna().sum())
    finally:
        con.close()


def summarise(step: Step, cores: int) -> dict:
    """The figures of one step, as numbers (seconds, milliseconds)."""
    per_board, every = step.latencies()
    cpu_tick = step.cpu["idle"] / step.counts["idle"] if step.counts["idle"] else math.nan
    plain = step.counts.get("submit_plain_ticks", 0)
    submit_cpu = step.cpu["submit"] - (plain * cpu_tick if not math.isnan(cpu_tick) else 0)
    out = {
        "leads": step.leads,
        "boards": step.boards,
        "sessions": step.sessions,
        "sessions_per_core": round(step.sessions / cores, 1),
        "proposals_sent": len(step.sent_at),
        "proposals_saved": len(step.saved),
        "proposals_stored": step.stored,
        "pairs_not_seen": step.missing(),
        "errors": len(step.errors),
        "load_average_start": round(step.load_start, 1),
        "client_cpu_s": round(step.client_cpu_s, 1),
    }
    for name, values in (
        ("sign_in", step.sign_in_s),
        ("submit", step.submit_s),
        ("tick", step.tick_s),
        ("board_redraw", step.redraw_s),
        ("seen_per_board", per_board),
        ("seen_on_every_board", every),
    ):
        out[f"{name}_n"] = len(values)
        out[f"{name}_p50_ms"] = round(_pct(values, 50) * 1000, 1)
        out[f"{name}_p95_ms"] = round(_pct(values, 95) * 1000, 1)
    for block, rows in sorted(step.server_times.items()):
        walls, cpus = [w for w, _ in rows], [c for _, c in rows]
        out[f"server_{block}_n"] = len(rows)
        out[f"server_{block}_p50_ms"] = round(_pct(walls, 50) * 1000, 1)
        out[f"server_{block}_p95_ms"] = round(_pct(walls, 95) * 1000, 1)
        out[f"server_{block}_cpu_p50_ms"] = round(_pct(cpus, 50) * 1000, 1)
    out["cpu_per_sign_in_ms"] = round(step.cpu["sign_in"] / max(1, step.sessions) * 1000, 1)
    out["cpu_per_tick_ms"] = round(cpu_tick * 1000, 1)
    # Per proposal stored when counted: under overload a lead's screen times out first.
    done = step.stored if step.stored >= 0 else len(step.saved)
    out["cpu_per_submit_ms"] = round(submit_cpu / max(1, done) * 1000, 1)
    out["server_cpu_share_idle"] = round(step.cpu["idle"] / step.wall["idle"] / cores, 2)
    out["server_cpu_share_submit"] = round(step.cpu["submit"] / step.wall["submit"] / cores, 2)
    out["submit_phase_wall_s"] = round(step.wall["submit"], 1)
    out["ok"] = (
        out["errors"] == 0
        and out["proposals_saved"] == out["proposals_sent"] == step.leads
        and out["pairs_not_seen"] == 0
    )
    return out


def parse_steps(text: str) -> list[tuple[int, int]]:
    """'10x5,42x8' -> [(10, 5), (42, 8)] (leads x boards); a bare N splits 5:1 like 250:50."""
    steps = []
    for part in text.split(","):
        part = part.strip()
        if "x" in part:
            leads, boards = part.split("x")
            steps.append((int(leads), int(boards)))
        elif part:
            n = int(part)
            boards = max(1, round(n / 6))
            steps.append((n - boards, boards))
    return steps


def measure(
    steps: list[tuple[int, int]],
    refresh_s: float = DEFAULT_REFRESH_S,
    keep: Path | None = None,
    keep_going: bool = False,
) -> dict:
    """Run the steps in order, stopping after the first whose p95 exceeds the goal.

    keep: a work folder to keep (and reuse its seeded template); keep_going: run every step.
    """
    cores = os.cpu_count() or 1
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    folder = keep or Path(tempfile.mkdtemp(prefix="calibrate-harness-"))
    results: list[dict] = []
    try:
        t0 = time.perf_counter()
        template, cid, suggestions = prepare(folder, max(leads for leads, _ in steps))
        seed_s = time.perf_counter() - t0
        for leads, boards in steps:
            print(f"load harness: {leads} leads + {boards} boards ...", file=sys.stderr, flush=True)
            step, _ = run_step(
                template, suggestions, leads, boards, folder, refresh_s, cycle_id=cid
            )
            summary = summarise(step, cores)
            summary["error_samples"] = step.errors[:5]
            results.append(summary)
            print(f"load harness: {json.dumps(_no_nan(summary))}", file=sys.stderr, flush=True)
            over = summary["seen_on_every_board_p95_ms"] > GOAL_P95_S * 1000
            if not keep_going and (not summary["ok"] or over):
                break
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    # Capacity: the last step of the run of steps, from the smallest, that all stayed under.
    under: list[dict] = []
    for r in results:
        if not r["ok"] or r["seen_on_every_board_p95_ms"] > GOAL_P95_S * 1000:
            break
        under.append(r)
    return {
        "machine": machine(),
        "cores": cores,
        "board_refresh_s": refresh_s,
        "submit_window_s": SUBMIT_WINDOW_S,
        "regions": len(suggestions),
        "seed_s": round(seed_s, 1),
        "steps": results,
        "capacity_sessions": max((r["sessions"] for r in under), default=0),
        "capacity_sessions_per_core": max((r["sessions_per_core"] for r in under), default=0),
        "capacity_reached": len(under) < len(results),
    }


def _s(ms: float) -> str:
    """Milliseconds as seconds for a table cell ("–" when not measured)."""
    return "–" if math.isnan(ms) else f"{ms / 1000:.2f} s"


def _ms(ms: float) -> str:
    """Milliseconds for a table cell ("–" when not measured)."""
    return "–" if math.isnan(ms) else f"{ms:.0f} ms"


def markdown(result: dict, command: str) -> str:
    """A RESULTS.md section of the figures."""
    rows = []
    for r in result["steps"]:
        rows.append(
            f"| {r['leads']} + {r['boards']} ({r['sessions_per_core']}/core) "
            f"| {r['proposals_saved']}/{r['proposals_sent']} "
            f"({r.get('proposals_stored', -1)} stored), {r['pairs_not_seen']} unseen, "
            f"{r['errors']} errors "
            f"| {_s(r['seen_on_every_board_p50_ms'])} / {_s(r['seen_on_every_board_p95_ms'])} "
            f"| {_s(r['seen_per_board_p50_ms'])} / {_s(r['seen_per_board_p95_ms'])} "
            f"| {_ms(r['submit_p50_ms'])} / {_ms(r['submit_p95_ms'])} "
            f"| {_ms(r['tick_p50_ms'])} / {_ms(r['tick_p95_ms'])} "
            f"| {_ms(r['board_redraw_p50_ms'])} / {_ms(r['board_redraw_p95_ms'])} "
            f"| {_ms(r['sign_in_p50_ms'])} / {_ms(r['sign_in_p95_ms'])} "
            f"| {r['load_average_start']} |"
        )
    cpu_rows = []
    for r in result["steps"]:
        server = (
            f"tick {r.get('server_board.tick_p50_ms', math.nan):.1f} ms wall, "
            f"{r.get('server_board.tick_cpu_p50_ms', math.nan):.1f} ms CPU; "
            f"render {r.get('server_board.render_p50_ms', math.nan):.0f} ms wall, "
            f"{r.get('server_board.render_cpu_p50_ms', math.nan):.0f} ms CPU"
        )
        cpu_rows.append(
            f"| {r['leads']} + {r['boards']} | {r['cpu_per_sign_in_ms']:.0f} ms "
            f"| {r['cpu_per_tick_ms']:.1f} ms | {r['cpu_per_submit_ms']:.0f} ms "
            f"| {r['server_cpu_share_idle']:.0%} / {r['server_cpu_share_submit']:.0%} "
            f"| {server} | {r['client_cpu_s']:.1f} s |"
        )
    first = result["steps"][0] if result["steps"] else None
    if result["capacity_sessions"]:
        capacity = (
            f"p95 (visible on every board) under {GOAL_P95_S:g} s up to "
            f"**{result['capacity_sessions']} sessions "
            f"({result['capacity_sessions_per_core']} per core)**"
            + ("" if result["capacity_reached"] else "; the largest step run stayed under it")
        )
    elif first:
        capacity = (
            f"p95 (visible on every board) over {GOAL_P95_S:g} s already at the smallest step "
            f"run ({first['sessions']} sessions, {first['sessions_per_core']} per core)"
        )
    else:
        capacity = "no step ran"
    return (
        "## Load harness: sessions over the websocket protocol (bench/load_harness.py)\n\n"
        f"Command: `{command}`. One server (`streamlit run server.py`, "
        f"CALIBRATE_BOARD_REFRESH={result['board_refresh_s']:g} s) per step, on a fresh copy "
        f"of one seeded workshop of {result.get('regions', '?')} regions with a lead account "
        "each (a smaller step has fewer of the leads online; every board shows all regions). "
        f"Simulated sessions sign in through the form, {SIGN_IN_CONCURRENCY} at a time, leads "
        "first; then boards tick their live fragment, and leads submit on My region at random "
        f"moments within {result['submit_window_s']:g} s. Latency = submit sent → the proposal's row shows "
        'a status on a board ("every board": on the last of them). Round trips are send → '
        "script_finished as a client sees them; p50 / p95.\n\n"
        "| leads + boards | proposals acknowledged | visible on every board | visible per board "
        "| submit | board tick | board redraw | sign-in | load avg |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\nServer CPU (/proc/PID/stat of the server process; per submit after removing "
        "the plain ticks of the same phase, so it includes the board redraws a submit causes) "
        "beside the server's own wall time (CALIBRATE_TIMINGS, p50):\n\n"
        "| leads + boards | CPU per sign-in | CPU per tick | CPU per submit "
        "| server CPU share idle / submitting | server wall and CPU | harness CPU |\n"
        "|---|---|---|---|---|---|---|\n"
        + "\n".join(cpu_rows)
        + f"\n\nCapacity: {capacity}. Machine: {result['machine']}.\n"
    )


def run() -> str:
    """Markdown section for `make bench` (steps from BENCH_LOAD_STEPS, default 10x5)."""
    steps = os.environ.get("BENCH_LOAD_STEPS", DEFAULT_STEPS)
    result = measure(parse_steps(steps))
    return markdown(result, f"BENCH_LOAD_STEPS={steps} python -m bench load_harness")


def _no_nan(value: object) -> object:
    """NaN (a figure not measured) as null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def main(argv: list[str]) -> int:
    """CLI: run the steps, print the figures (JSON or the Markdown section)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--steps",
        default=os.environ.get("BENCH_LOAD_STEPS", DEFAULT_STEPS),
        help="leads x boards per step, e.g. 17x3,42x8,83x17 (or totals: 20,50)",
    )
    parser.add_argument(
        "--refresh",
        type=float,
        default=DEFAULT_REFRESH_S,
        help="CALIBRATE_BOARD_REFRESH for the server, seconds",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="keep the seeded template and step databases in this folder",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="run every step, also after p95 has passed the goal",
    )
    args = parser.parse_args(argv)
    result = measure(parse_steps(args.steps), args.refresh, args.work, args.keep_going)
    if args.json:
        print(json.dumps(_no_nan(result), indent=2))
    else:
        print(markdown(result, "python -m bench.load_harness " + " ".join(argv)))
    return 0 if all(r["ok"] for r in result["steps"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
