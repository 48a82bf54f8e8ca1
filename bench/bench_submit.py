"""Proposal submit latency under a burst of leads submitting at the same moment."""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from bench.common import load_average, machine
from calibration import events
from calibration.accounts.auth import User
from calibration.negotiation import service as neg
from calibration.store import connect
from calibration.store import users as uq
from calibration.store.core import utcnow

EXEC = User("exec", "Exec", "executive")
ANALYST = User("analyst", "Analyst", "analyst")
ADMIN = User("admin", "Admin", "admin")
FIELDS = {
    "justification": "Search interest fell and two key accounts churned last quarter.",
    "support": "One more account executive.",
    "risk": "A key renewal is in doubt.",
    "confidence": "medium",
}
# Runs of each burst; the table shows their medians (BENCH_SUBMIT_RUNS to change).
RUNS = int(os.environ.get("BENCH_SUBMIT_RUNS", "5"))
GOALS = {(50, False): 100.0, (500, False): 1000.0}


def _accounts(cur, regions: list[str]) -> None:
    """A lead account per region and an HR partner (flagged proposals notify HR), sealed as
    the app seals region assignments; no password hashing (that is not what is measured)."""
    with events.sealed(cur, ADMIN.username, ADMIN.role, None, ("user_regions",)):
        now = utcnow()
        uq.insert_user(cur, "hrbp", "HR Partner", "hrbp", "!no-password", [], now)
        for region in regions:
            uq.insert_user(cur, f"lead_{region}", region, "lead", "!no-password", [region], now)


def _burst(n: int, serial: bool = False) -> dict:
    """n leads (n regions, one thread each) submit at once; latencies in ms.

    serial=True submits one after another instead (the uncontended cost of one submit).
    """
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        cur = con.cursor()
        regions = [f"r{i:04d}" for i in range(n)]
        _accounts(cur, regions)
        cid = neg.create_cycle(cur, EXEC, "bench", "new_customers", "2026Q1", 100.0 * n)
        frame = pd.DataFrame(
            {"region": regions, "suggestion": 100.0, "lower80": 90.0, "upper80": 110.0}
        )
        neg.publish_run(
            cur,
            ANALYST,
            cid,
            {"run_id": 1, "metric": "new_customers", "period": "2026Q1", "regions": frame},
        )
        neg.open_cycle(cur, EXEC, cid)
        start_events = neg.verify_chain(cur).events
        barrier = threading.Barrier(n)
        latencies: list[float] = []
        submit_cpu: list[float] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def submit(i: int, region: str) -> None:
            lead = User(f"lead_{region}", region, "lead", frozenset({region}))
            c = con.cursor()
            barrier.wait()
            t0 = time.perf_counter()
            c0 = time.thread_time()
            try:
                neg.propose(c, lead, cid, region, 80 + i % 30, **FIELDS, expected_last_event=None)
            except BaseException as exc:  # noqa: BLE001 - counted in the report
                with lock:
                    failures.append(exc)
                return
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                # This thread's CPU in the call (its group commit included when it led one).
                submit_cpu.append(time.thread_time() - c0)

        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        if serial:
            barrier = threading.Barrier(1)
            for i, r in enumerate(regions):
                submit(i, r)
        else:
            threads = [threading.Thread(target=submit, args=(i, r)) for i, r in enumerate(regions)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        report = neg.verify_chain(cur)
        stored = int((neg.cycle_state(cur, cid)["status"] != "none").sum())
        notes = len(cur.execute("SELECT 1 FROM notifications").fetchall())
        con.close()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "n": n,
        "stored": stored,
        "failed": len(failures),
        "p50": q[49],
        "p95": q[94],
        "max": max(latencies),
        "wall": wall,
        "cpu": cpu,
        "submit_cpu": sum(submit_cpu),
        "chain": report.ok and report.events == start_events + n,
        "events": report.events,
        "notes": notes,
    }


def run() -> str:
    """Markdown section: p50/p95 submit latency for 50- and 500-submission bursts."""
    load0 = load_average()
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    rows = []
    verdicts = []
    for n, serial in ((50, True), (50, False), (500, False)):
        runs = [_burst(n, serial) for _ in range(1 if serial else RUNS)]

        def med(key: str, runs: list[dict] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        label = f"{n} one by one" if serial else f"{n} at once"
        ok = all(r["chain"] and r["stored"] == n and not r["failed"] for r in runs)
        each = ", ".join(f"{r['p95']:.0f}" for r in runs)
        rows.append(
            f"| {label} | {len(runs)} | {min(r['stored'] for r in runs)} "
            f"| {sum(r['failed'] for r in runs)} | {med('p50'):.1f} | {med('p95'):.1f} "
            f"| {med('max'):.1f} | {med('wall'):.2f} | {med('cpu'):.2f} "
            f"| {1000 * med('submit_cpu') / n:.2f} | {each} "
            f"| {'OK' if ok else 'BROKEN'}, {runs[0]['notes']} HR notes |"
        )
        goal = GOALS.get((n, serial))
        if goal is not None:
            verdict = "met" if med("p95") < goal else "MISSED"
            verdicts.append(f"{label}: p95 {med('p95'):.0f} ms, goal < {goal:.0f} ms: {verdict}")
    load1 = load_average()
    lines = [
        "## Proposal submit under a burst (bench/bench_submit.py)",
        "",
        f"Command: `python -m bench bench_submit`. Machine: {machine()}; {when}; load average "
        f"{load0:.1f} at the start, {load1:.1f} at the end (shared machine: CPU time is the "
        "steadier figure).",
        "",
        "n regions, a lead account each and an HR partner; n leads, one thread and cursor each,",
        "released together by a barrier; latency is from the call to `negotiation.propose`",
        "until it returns. Fresh DuckDB file per burst; the cycle was just opened. Values",
        "80–109 against a suggestion of 100, so one in six is flagged and notifies HR.",
        f"Bursts run {RUNS} times; the table shows medians of the runs. CPU s: the bench",
        "process's CPU time for the burst (with starting n threads and cursors); submit CPU:",
        "the threads' own CPU inside `propose` (group commits included) per submit; chain:",
        "verified, one event per submit.",
        "",
        "| burst | runs | stored | failed | p50 ms | p95 ms | max ms | wall s | CPU s "
        "| submit CPU ms each | p95 of each run | chain |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        *rows,
        "",
        "Goals: " + "; ".join(verdicts) + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
