"""Run every benchmark and rewrite bench/RESULTS.md: python -m bench [NAME ...]."""

from __future__ import annotations

import importlib
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine

# Each module has run() -> str (a Markdown section).
MODULES = (
    "bench.bench_import",
    "bench.bench_model",
    "bench.realdata_eval",
    "bench.bench_submit",
    "bench.bench_board",
    "bench.bench_letters",
    "bench.bench_tracking",
    "bench.bench_browser",
)
RESULTS = Path(__file__).parent / "RESULTS.md"


def main(names: list[str]) -> int:
    """Run the named (default: all) benchmarks and write RESULTS.md."""
    wanted = [m for m in MODULES if not names or m.rsplit(".", 1)[1] in names]
    sections = []
    failed = 0
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"running {name} ...", flush=True)
        try:
            sections.append(module.run().strip())
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            failed += 1
            sections.append(f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```")
    header = (
        "# Benchmark results\n\n"
        f"Command: `make bench` (python -m bench{' ' + ' '.join(names) if names else ''})  \n"
        f"Machine: {machine()}  \n"
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        "Figures are medians of several runs unless a section says otherwise.\n"
    )
    RESULTS.write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
