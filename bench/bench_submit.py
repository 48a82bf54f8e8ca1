"""Proposal submit latency under a burst of leads submitting at the same moment."""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from calibration.accounts.auth import User
from calibration.negotiation import service as neg
from calibration.store import connect

EXEC = User("exec", "Exec", "executive")
ANALYST = User("analyst", "Analyst", "analyst")
FIELDS = {
    "justification": "Search interest fell and two key accounts churned last quarter.",
    "support": "One more account executive.",
    "risk": "A key renewal is in doubt.",
    "confidence": "medium",
}


def _burst(n: int, serial: bool = False) -> dict:
    """n leads (n regions, one thread each) submit at once; latencies in ms.

    serial=True submits one after another instead (the uncontended cost of one submit).
    """
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        cur = con.cursor()
        regions = [f"r{i:04d}" for i in range(n)]
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
        barrier = threading.Barrier(n)
        latencies: list[float] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def submit(i: int, region: str) -> None:
            lead = User(f"lead_{region}", region, "lead", frozenset({region}))
            c = con.cursor()
            barrier.wait()
            t0 = time.perf_counter()
            try:
                neg.propose(c, lead, cid, region, 80 + i % 30, **FIELDS, expected_last_event=None)
            except BaseException as exc:  # noqa: BLE001 - counted in the report
                with lock:
                    failures.append(exc)
                return
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

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
        "chain": report.ok,
        "events": report.events,
    }


def run() -> str:
    """Markdown section: p50/p95 submit latency for 50- and 500-submission bursts."""
    load = os.getloadavg()[0]
    lines = [
        "## Proposal submit under a burst (bench/bench_submit.py)",
        "",
        f"{os.cpu_count()} CPUs, load average {load:.1f} at start.",
        "",
        "Command: `python -m bench bench_submit`. n leads, one thread and cursor each,",
        "released together by a barrier; latency is from the call to `negotiation.propose`",
        "until it returns (includes waiting for the process-wide append lock). Fresh DuckDB",
        "file per burst. A submit checks and reads outside the lock (`events.append_checked`);",
        "under it only the events since its snapshot are looked at, and the writers waiting",
        "are appended in one commit. CPU s is the bench process's CPU time for the burst.",
        "",
        "| burst | stored | failed | p50 ms | p95 ms | max ms | wall s | CPU s | chain |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n, serial in ((50, True), (50, False), (500, False)):
        r = _burst(n, serial)
        label = f"{n} one by one" if serial else f"{n} at once"
        lines.append(
            f"| {label} | {r['stored']} | {r['failed']} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['max']:.1f} | {r['wall']:.2f} | {r['cpu']:.2f} "
            f"| {'OK' if r['chain'] else 'BROKEN'}, "
            f"{r['events']} events |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
