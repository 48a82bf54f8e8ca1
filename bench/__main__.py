"""Run every registered benchmark and rewrite bench/RESULTS.md."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# Benchmark modules, each with run() -> str (a Markdown section).
MODULES = ("bench.bench_model", "bench.realdata_eval")


def main(names: list[str]) -> None:
    """Run the named modules (default: all) and write their sections to RESULTS.md."""
    sections = []
    for name in names or MODULES:
        section = importlib.import_module(name).run()
        print(section, flush=True)
        sections.append(section)
    out = Path(__file__).parent / "RESULTS.md"
    out.write_text("# Benchmark results\n\n" + "\n".join(sections), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
