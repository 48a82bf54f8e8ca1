"""Run every benchmark and rewrite bench/RESULTS.md: python -m bench [NAME ...] [--json].

With --json, the named sections' figures are printed as one JSON document on stdout
(progress goes to stderr) and RESULTS.md is left as it is: a re-measurement to compare
with README's figures, not a new record.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import load_average, machine, section_figures

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
    "bench.load_harness",
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


def main(args: list[str]) -> int:
    """Run the named (default: all) benchmarks; rewrite their sections of RESULTS.md."""
    as_json = "--json" in args
    short = {m.rsplit(".", 1)[1] for m in MODULES}
    # "letters" and "bench_letters" both name bench/bench_letters.py.
    names = [a if a in short else f"bench_{a}" for a in args if not a.startswith("--")]
    unknown = [n for n in names if n not in short]
    if unknown:
        known = ", ".join(m.rsplit(".", 1)[1] for m in MODULES)
        print(f"unknown benchmark {', '.join(unknown)}; known: {known}", file=sys.stderr)
        return 2
    figures: list[dict] = []
    wanted = [m for m in MODULES if not names or m.rsplit(".", 1)[1] in names]
    sections = (
        _existing_sections()
        if names
        else {m: body for m, body in _existing_sections().items() if m not in MODULES}
    )
    failed = 0
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"running {name} ...", file=sys.stderr if as_json else sys.stdout, flush=True)
        load = load_average()
        ok = True
        try:
            body = module.run().strip()
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            failed += 1
            ok = False
            body = f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```"
        if as_json:
            figures.append(
                {
                    "module": name,
                    "ok": ok,
                    "load_average_start": round(load, 2),
                    "load_average_end": round(load_average(), 2),
                    "date_utc": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
                    **section_figures(body),
                }
            )
            continue
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.1f} at start"
        sections[name] = f"{body}\n\n_Run {stamp}._"
    if as_json:
        print(json.dumps({"machine": machine(), "sections": figures}, indent=2))
        return 1 if failed else 0
    header = (
        "# Benchmark results\n\n"
        "Command: `make bench` (python -m bench; `python -m bench NAME` re-runs one section)  \n"
        f"Machine: {machine()}  \n"
        "Figures are medians of several runs unless a section says otherwise. The load\n"
        "average at the start of each section is given: on this shared 2-core machine other\n"
        "work inflates wall times, so sections also report CPU time where it matters.\n"
    )
    # Sections written by hand (no module, e.g. bench.test_suite) stay, after the others.
    ordered = [m for m in MODULES if m in sections] + [m for m in sections if m not in MODULES]
    body = "\n\n".join(f"<!-- bench:{m} -->\n{sections[m]}" for m in ordered)
    RESULTS.write_text(header + "\n" + body + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
