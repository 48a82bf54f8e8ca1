"""The board's caches live in ui/cache.py, one st.cache_* per function (issue 14: a double
@st.cache_data was stacked on the board's inputs)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOARD_FILES = [ROOT / "pages" / "board.py", *sorted((ROOT / "ui").glob("board_*.py"))]


def _cache_decorators(func: ast.FunctionDef) -> list[str]:
    """Names of the st.cache_* decorators on a function."""
    found = []
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr.startswith("cache_"):
            found.append(target.attr)
    return found


def _functions(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def test_board_files_keep_no_cache_of_their_own():
    cached = [
        f"{path.relative_to(ROOT)}:{func.name}"
        for path in BOARD_FILES
        for func in _functions(path)
        if _cache_decorators(func)
    ]
    assert cached == [], "st.cache_* belongs in ui/cache.py"


def test_no_function_carries_two_caches():
    paths = [ROOT / "ui" / "cache.py", *BOARD_FILES]
    doubled = [
        f"{path.relative_to(ROOT)}:{func.name}"
        for path in paths
        for func in _functions(path)
        if len(_cache_decorators(func)) > 1
    ]
    assert doubled == []


def test_the_board_caches_exist_in_ui_cache():
    names = {f.name for f in _functions(ROOT / "ui" / "cache.py") if _cache_decorators(f)}
    # Snapshot and view come from the one process-wide board_cache (calibration/board/live.py).
    assert {"board_inputs", "board_cache", "board_chart", "board_styler"} <= names
    assert "board_allocation" in names
