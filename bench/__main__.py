"""Run every registered benchmark and rewrite bench/RESULTS.md: python -m bench."""

from __future__ import annotations

import importlib
import platform
from datetime import UTC, datetime
from pathlib import Path

# Benchmark modules, each with run() -> str (a Markdown section).
BENCHMARKS = ("bench.bench_submit",)


def main() -> None:
    """Run the benchmarks and write their sections to RESULTS.md."""
    sections = [
        "# Benchmark results",
        "",
        f"Recorded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.python_version()}, "
        f"{platform.machine()}.",
        "",
    ]
    for name in BENCHMARKS:
        sections.append(importlib.import_module(name).run())
    text = "\n".join(sections)
    (Path(__file__).parent / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
