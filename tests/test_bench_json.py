"""`python -m bench NAME --json`: a section's Markdown tables as numbers with units."""

from __future__ import annotations

import json

import pytest

import bench.__main__ as bench_main
from bench.common import section_figures

SECTION = """## Letters

Consensus letters, median of 3 runs.

| measure | value |
|---|---|
| per letter, wall / CPU | 197 ms / 82 ms |
| rows imported | 1,000,000 |
| ZIP | 16.7 MB in 0.50 s |
"""


def test_tables_become_numbers_with_units() -> None:
    figures = section_figures(SECTION)
    assert figures["title"] == "Letters"
    assert figures["text"] == "Consensus letters, median of 3 runs."
    (table,) = figures["tables"]
    assert table["columns"] == ["measure", "value"]
    per_letter, rows, zipped = (row["value"] for row in table["rows"])
    assert per_letter["numbers"] == [{"value": 197.0, "unit": "ms"}, {"value": 82.0, "unit": "ms"}]
    assert rows["numbers"] == [{"value": 1_000_000.0, "unit": None}]
    assert zipped["numbers"] == [{"value": 16.7, "unit": "MB"}, {"value": 0.5, "unit": "s"}]


def test_json_flag_prints_figures_and_leaves_results_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    class Fake:
        @staticmethod
        def run() -> str:
            return SECTION

    results = tmp_path / "RESULTS.md"
    monkeypatch.setattr(bench_main, "RESULTS", results)
    monkeypatch.setattr(bench_main.importlib, "import_module", lambda name: Fake)
    assert bench_main.main(["letters", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (section,) = out["sections"]
    assert section["module"] == "bench.bench_letters" and section["ok"]
    assert section["tables"][0]["rows"][0]["value"]["numbers"][0] == {"value": 197.0, "unit": "ms"}
    assert not results.exists()


def test_unknown_benchmark_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.main(["nosuch", "--json"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
