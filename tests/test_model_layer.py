"""models/ is the estimator only: numpy/pandas/scipy, no calibration, no Streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("calibration", "streamlit", "ui", "pages")


def forbidden_imports(source: str) -> list[str]:
    """Modules from FORBIDDEN that a Python source imports (at any depth, lazily too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in FORBIDDEN]
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.py")), ids=lambda p: p.name)
def test_models_import_no_calibration_or_ui(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


def test_the_rule_catches_a_lazy_import() -> None:
    # The check itself can fail: an import inside a function is found too.
    src = "def f():\n    from calibration.i18n import t\n    import streamlit as st\n"
    assert forbidden_imports(src) == ["calibration.i18n", "streamlit"]
