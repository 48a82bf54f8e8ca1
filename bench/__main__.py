"""Run every benchmark and rewrite bench/RESULTS.md: python -m bench [NAME ...]."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine

# Each module has run() -> str (a Markdown section).
MODULES = (
    "bench.bench_import",
    "bench.bench_model",
    "bench.bench_model_lab",
    "bench.realdata_eval",
    "bench.bench_submit",
    "bench.bench_board",
    "bench.bench_board_page",
    "bench.bench_letters",
    "bench.bench_tracking",
    "bench.bench_browser",
)
RESULTS = Path(__file__).parent / "RESULTS.md"


def _existing_sections() -> dict[str, str]:
    """Sections of the current RESULTS.md by module, from their marker comments."""
    if not RESULTS.exists():
        return {}
    parts = RESULTS.read_text(encoding="utf-8").split("<!-- bench:")
    out = {}
    for part in parts[1:]:
        name, _, body = part.partition(" -->")
        out[name.strip()] = body.strip()
    return out


def main(names: list[str]) -> int:
    """Run the named (default: all) benchmarks; rewrite their sections of RESULTS.md."""
    wanted = [m for m in MODULES if not names or m.rsplit(".", 1)[1] in names]
    sections = _existing_sections() if names else {}
    failed = 0
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"running {name} ...", flush=True)
        load = os.getloadavg()[0]
        try:
            body = module.run().strip()
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            failed += 1
            body = f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```"
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.1f} at start"
        sections[name] = f"{body}\n\n_Run {stamp}._"
    header = (
        "# Benchmark results\n\n"
        "Command: `make bench` (python -m bench; `python -m bench NAME` re-runs one section)  \n"
        f"Machine: {machine()}  \n"
        "Figures are medians of several runs unless a section says otherwise. The load\n"
        "average at the start of each section is given: on this shared 2-core machine other\n"
        "work inflates wall times, so sections also report CPU time where it matters.\n"
    )
    ordered = [m for m in MODULES if m in sections]
    body = "\n\n".join(f"<!-- bench:{m} -->\n{sections[m]}" for m in ordered)
    RESULTS.write_text(header + "\n" + body + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
