"""Page load in a real browser (system Chromium): the live board and My region.

Starts its own server on a free port with a temporary demo database (the browser tests'
`Server`). A Streamlit session does not survive a reload, so "load" is measured the ways a
person meets it: the sign-in click until the landing page's headline shows (the board's
KPI row with its live caption; My region's title and proposal form), and a switch from
another page in the sidebar until the same headline shows. Median of 5, fresh context each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser.conftest import CHROMIUM_ARGS, FULL_CHROMIUM, ROOT, Server, wait_idle

RUNS = 5
PAGES = {
    # page title in the sidebar: (account whose landing page it is, a page to come back from,
    # what "headline visible" means)
    "Live board": ("exec", "Data", "last update"),
    "My region": ("lead_east", "Data", "Proposed target"),
}


def _headline(page, text: str) -> None:
    page.get_by_text(text).first.wait_for(timeout=120_000)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far (/proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(browser, url: str, title: str, pid: int) -> dict[str, float]:
    """One fresh context: goto → sign-in form, sign-in → headline, switch back → headline.

    landing_cpu: the server's CPU from the sign-in click to the headline (password hash,
    the runs, the cookie hand-off); the wall time beside it also waits for the browser.
    """
    username, other, marker = PAGES[title]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        t = time.perf_counter()
        page.goto(f"{url}/?lang=en")
        page.get_by_label("Username").wait_for(timeout=120_000)
        shell = time.perf_counter() - t
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill("calibrate-demo")
        t, c = time.perf_counter(), _cpu(pid)
        page.get_by_role("button", name="Sign in").click()
        _headline(page, marker)
        landing, landing_cpu = time.perf_counter() - t, _cpu(pid) - c
        wait_idle(page)
        page.get_by_role("link", name=other, exact=True).click()
        wait_idle(page)
        t = time.perf_counter()
        page.get_by_role("link", name=title, exact=True).click()
        _headline(page, marker)
        switch = time.perf_counter() - t
    finally:
        context.close()
    return {"shell": shell, "landing": landing, "landing_cpu": landing_cpu, "switch": switch}


def run() -> str:
    """Markdown section: median browser load times of the board and My region."""
    from playwright.sync_api import sync_playwright

    if not Path(FULL_CHROMIUM).exists():
        return f"## Page load in the browser (bench/bench_browser.py)\n\nSkipped: no {FULL_CHROMIUM}.\n"
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        env = {**os.environ, "CALIBRATE_DB": str(db)}
        subprocess.run(
            [sys.executable, "-m", "calibration", "init", "--db", str(db)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        server = Server(db, env)
        server.start()
        results: dict[str, list[dict[str, float]]] = {}
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=FULL_CHROMIUM, args=CHROMIUM_ARGS)
                pid = server.proc.pid
                for title in PAGES:
                    _measure(browser, server.url, title, pid)  # warm-up: caches, imports
                    results[title] = [
                        _measure(browser, server.url, title, pid) for _ in range(RUNS)
                    ]
                browser.close()
        finally:
            server.stop()
    lines = [
        "## Page load in the browser (bench/bench_browser.py)",
        "",
        "Command: `python -m bench bench_browser`. "
        f"System Chromium, demo database, median of {RUNS} fresh contexts after one warm-up; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| page | goto → sign-in form s | sign-in → headline s | server CPU of it s "
        "| sidebar switch → headline s |",
        "|---|---|---|---|---|",
    ]
    keys = ("shell", "landing", "landing_cpu", "switch")
    for title, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in keys}
        lines.append(
            f"| {title} | {med['shell']:.2f} | {med['landing']:.2f} | {med['landing_cpu']:.2f} "
            f"| {med['switch']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
