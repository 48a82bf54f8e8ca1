"""Shared helpers for benchmarks: timing, machine description, Markdown."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable


def machine() -> str:
    """One line describing this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def timed(fn: Callable[[], object], runs: int = 3, warmup: int = 0) -> tuple[float, list[float]]:
    """Median wall time in seconds over runs (after warmup calls), and all the times."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


# A number with an optional unit: "197 ms", "78.7 s", "1,000,000", "42x", "3.6 MB".
_NUMBER = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)\s*(ms|s|min|MB|KB|GB|%|x)?(?![\w.])")


def _cell(text: str) -> dict:
    """A table cell: its text and every number in it with its unit (None when bare)."""
    numbers = [
        {"value": float(m[1].replace(",", "")), "unit": m[2]} for m in _NUMBER.finditer(text)
    ]
    return {"text": text, "numbers": numbers}


def _row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def section_figures(markdown: str) -> dict:
    """A benchmark's Markdown section as data: title, every table as rows of cells, the prose.

    Parsed from the section itself, so every module (including ones that only return
    Markdown) can be re-measured as JSON with `python -m bench NAME --json`.
    """
    lines = markdown.strip().splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), "")
    tables: list[dict] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        is_header = (
            line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(r"\s*\|[\s:|-]+\|\s*", lines[i + 1]) is not None
        )
        if is_header:
            columns = _row(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = _row(lines[i])
                rows.append({col: _cell(cell) for col, cell in zip(columns, cells, strict=False)})
                i += 1
            tables.append({"columns": columns, "rows": rows})
            continue
        if line.strip() and not line.startswith("#"):
            prose.append(line.strip())
        i += 1
    return {"title": title, "tables": tables, "text": " ".join(prose)}


def load_average() -> float:
    """The 1-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
