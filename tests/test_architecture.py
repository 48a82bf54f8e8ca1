"""The house rules, checked from the source's AST (nothing is imported or run).

(a) import rules: `models` imports nothing of the app and no Streamlit; `calibration`
    imports no `ui`, `pages` or Streamlit; `ui` imports no `pages`; the parts of
    `calibration` form a DAG given by ALLOWED (no part imports a later one);
(b) no use of another part's private name (`_x`);
(c) no role comparisons outside calibration/access.py;
(d) SQL only in calibration/store.
Each rule also gets a small synthetic bad module, to show that it fires.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("calibration", "models", "ui", "pages")

# The parts of calibration in dependency order; a part may import only the parts ALLOWED
# lists for it (all earlier in ORDER), so the graph has no cycle. The kernel's small
# modules are parts of their own because the store sits between them.
ORDER = (
    "base",  # settings, i18n, periods, exports, access, charts_theme, periodic: no imports
    "store",  # all SQL, migrations
    "events",  # the hash-chained append and verify, on the store
    "store.backup",  # backup/restore verify the chain, so they come after events
    "accounts",
    "data",
    "modeling",
    "negotiation",
    "letters",
    "tracking",
    "board",
    "notify",  # delivery of the inbox's notifications: reads tracking's rendering
    "demo",
    "api",  # the HTTP API: calls every feature's services, like the CLI
    "cli",  # calibration/cli.py and __main__: the top, may import every part
)
KERNEL = ("base", "store", "events", "store.backup")
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "store": {"base"},
    "events": {"store", "base"},
    "store.backup": {"store", "events", "base"},
    "accounts": {*KERNEL},
    "data": {*KERNEL, "accounts"},
    "modeling": {*KERNEL, "accounts", "data"},
    "negotiation": {*KERNEL, "accounts", "data", "modeling"},
    "letters": {*KERNEL, "accounts", "negotiation", "modeling"},
    "board": {*KERNEL, "accounts", "data", "modeling", "negotiation", "letters", "tracking"},
    "tracking": {*KERNEL, "accounts", "data", "negotiation", "letters"},
    "notify": {*KERNEL, "accounts", "tracking"},
    "demo": {*KERNEL, "accounts", "data", "modeling", "negotiation", "letters", "tracking"},
    "api": set(ORDER) - {"api", "cli"},
    "cli": set(ORDER) - {"cli"},
}
# Back-edges still in the tree, each named with its module and the reason (none left).
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {}
BASE = {
    "settings",
    "i18n",
    "periods",
    "exports",
    "access",
    "charts_theme",
    "numbers",
    "periodic",
    "asset_cache",
}

SQL = re.compile(
    r"^\s*(SELECT\b.+\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|CREATE\s+(OR\s+REPLACE\s+)?(TABLE|INDEX|UNIQUE|SEQUENCE|VIEW)\b)",
    re.IGNORECASE | re.DOTALL,
)


# ---------------------------------------------------------------------------- reading


def module_name(path: Path) -> str:
    """Dotted module name of a file under ROOT (a package's __init__ is the package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[tuple[str, Path]]:
    """(module name, path) of every Python file of the app."""
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            yield module_name(path), path
    yield "app", ROOT / "app.py"
    yield "server", ROOT / "server.py"


@functools.cache
def parse(path: Path) -> ast.Module:
    """A source file's tree, parsed once for all the rules (they only read it)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports(module: str, tree: ast.Module, is_package: bool = False) -> list[tuple[str, int]]:
    """Every module named by an import anywhere in the tree (lazy ones too), with its line."""
    out: list[tuple[str, int]] = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((base, node.lineno))
            # `from calibration.x import y` may name a module y of another part.
            out += [
                (f"{base}.{alias.name}", node.lineno)
                for alias in node.names
                if _is_module(f"{base}.{alias.name}")
            ]
    return out


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def part(module: str) -> str | None:
    """The part of calibration a module belongs to (ORDER), None outside calibration."""
    names = module.split(".")
    if names[0] != "calibration":
        return None
    if len(names) == 1:
        return "base"  # the package itself
    second = names[1]
    if second == "store":
        return "store.backup" if names[2:3] == ["backup"] else "store"
    if second in ("cli", "__main__"):
        return "cli"
    if second == "events":
        return "events"
    if second in BASE:
        return "base"
    return second


def top(module: str) -> str:
    return module.split(".")[0]


# ---------------------------------------------------------------------------- rules


def import_violations(module: str, tree: ast.Module, is_package: bool = False) -> list[str]:
    """Rule (a): layer imports and the DAG of calibration's parts."""
    found = []
    src_top, src_part = top(module), part(module)
    for target, line in dict.fromkeys(imports(module, tree, is_package)):
        dst_top = top(target)
        bad_layer = (
            (src_top == "models" and dst_top in ("calibration", "ui", "pages", "streamlit", "app"))
            or (src_top == "calibration" and dst_top in ("ui", "pages", "streamlit", "app"))
            or (src_top == "ui" and dst_top in ("pages", "app"))
        )
        if bad_layer:
            found.append(f"{module}:{line} imports {target}")
            continue
        dst_part = part(target)
        if src_part is None or dst_part is None or dst_part == src_part:
            continue
        if dst_part not in ALLOWED.get(src_part, set()) and (module, dst_part) not in (
            KNOWN_BACK_EDGES
        ):
            found.append(f"{module}:{line} ({src_part}) imports {target} ({dst_part})")
    return found


def _group(module: str) -> str:
    # "Another package": a feature package, a kernel part, or a top folder outside calibration.
    return part(module) or top(module)


def private_use_violations(module: str, tree: ast.Module, is_package: bool = False) -> list[str]:
    """Rule (b): no `_name` of a module of another package, imported or reached as attribute."""
    found = []
    mine = _group(module)
    aliases: dict[str, str] = {}  # local name -> module of ours it stands for
    ours = ("calibration", "models", "ui", "pages")
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if top(alias.name) in ours:
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if top(base) not in ours:
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and _group(base) != mine:
                    found.append(f"{module}:{node.lineno} imports {base}.{alias.name}")
                # The name may be a module (from pkg import service as s) or an object;
                # treating it as the module base.name only matters for attribute access.
                aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and _group(aliases[node.value.id]) != mine
        ):
            found.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def _is_role(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "role":
        return True
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return isinstance(name, str) and name.endswith("ROLES")


# Modules where `.role` is not a person's role but a signature's slot on a consensus letter
# ("lead" or "executive" block): part of the signed content, not a permission.
SIGNATURE_SLOT_MODULES = {
    "calibration.letters.content",
    "calibration.letters.pdf.render",
    "calibration.letters.service",
}


def role_comparison_violations(module: str, tree: ast.Module) -> list[str]:
    """Rule (c): no comparison of `.role` or against a `*ROLES` name outside access.py."""
    if module == "calibration.access" or module in SIGNATURE_SLOT_MODULES:
        return []
    return [
        f"{module}:{node.lineno} compares roles"
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare) and any(map(_is_role, [node.left, *node.comparators]))
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def sql_violations(module: str, tree: ast.Module) -> list[str]:
    """Rule (d): string literals that are SQL statements only in calibration.store."""
    if module.startswith("calibration.store"):
        return []
    docs = _docstrings(tree)
    return [
        f"{module}:{node.lineno} has SQL {node.value.strip()[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and SQL.match(node.value)
    ]


def check_tree(rule, only: str | None = None) -> list[str]:
    """A rule over every source file (or those whose module starts with `only`)."""
    found = []
    for module, path in source_files():
        if only and not (module == only or module.startswith(only + ".")):
            continue
        args = (
            (path.name == "__init__.py",)
            if rule in (import_violations, private_use_violations)
            else ()
        )
        found += rule(module, parse(path), *args)
    return found


def synthetic(text: str) -> ast.Module:
    return ast.parse(text)


# ---------------------------------------------------------------------------- the tree


def test_allowed_table_is_a_dag_in_order():
    assert set(ALLOWED) == set(ORDER)
    for src, deps in ALLOWED.items():
        later = {d for d in deps if ORDER.index(d) >= ORDER.index(src)}
        assert not later, f"{src} may import later parts {later}"
    for (module, dst), why in KNOWN_BACK_EDGES.items():
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), (module, why)
        assert dst in ORDER, (module, dst)


def test_every_package_of_calibration_has_a_place():
    packages = {p.name for p in (ROOT / "calibration").iterdir() if (p / "__init__.py").exists()}
    assert packages - {"store"} <= set(ORDER), packages - set(ORDER)


def test_calibration_ui_and_pages_follow_the_import_rules():
    found = [v for v in check_tree(import_violations) if not v.startswith("models")]
    assert found == []


def test_models_import_nothing_of_the_app():
    assert check_tree(import_violations, "models") == []


def test_no_private_names_across_packages():
    assert check_tree(private_use_violations) == []


def test_no_role_comparisons_outside_access():
    assert check_tree(role_comparison_violations) == []


def test_sql_only_in_the_store():
    assert check_tree(sql_violations) == []


# ---------------------------------------------------------------------------- rules fire


def test_import_rule_fires_on_layer_leaks():
    bad = synthetic("import streamlit as st\nfrom calibration.i18n import t\n")
    assert len(import_violations("models.bad", bad)) == 2
    assert len(import_violations("calibration.data.bad", bad)) == 1  # streamlit
    assert import_violations("ui.bad", synthetic("from pages import board\n"))
    assert import_violations("calibration.board.bad", synthetic("from ui import flash\n"))
    assert import_violations("ui.good", synthetic("from calibration import events\n")) == []


def test_import_rule_fires_on_back_edges():
    back = synthetic("def f():\n    from calibration.tracking.path import to_daily\n")
    assert import_violations("calibration.data.importer", back) == [
        "calibration.data.importer:2 (data) imports calibration.tracking.path (tracking)"
    ]
    relative = synthetic("from ..negotiation import service\n")
    assert import_violations("calibration.store.bad", relative)
    assert import_violations("calibration.negotiation.bad", relative) == []
    # Negotiation builds on nothing later: the lock's letters come from board.lock.
    lock = synthetic("from calibration.letters import service\n")
    assert import_violations("calibration.negotiation.service", lock)
    assert import_violations("calibration.board.lock", lock) == []


def test_private_rule_fires_across_packages():
    bad = synthetic(
        "from calibration.negotiation import service as neg\n"
        "neg._append(cur, build)\n"
        "from calibration.negotiation.service import _check_fresh\n"
    )
    assert len(private_use_violations("calibration.letters.service", bad)) == 2
    # Inside its own package a private helper is fine.
    assert private_use_violations("calibration.negotiation.cli", bad) == []
    ok = synthetic("from calibration import events\nevents.append(cur, build)\n")
    assert private_use_violations("calibration.letters.service", ok) == []


def test_role_rule_fires():
    bad = synthetic(
        "if user.role == 'lead':\n    pass\n"
        "ok = actor.role in ('executive', 'admin')\n"
        "ok = role not in BOARD_ROLES\n"
    )
    assert len(role_comparison_violations("calibration.board.service", bad)) == 3
    assert role_comparison_violations("calibration.access", bad) == []
    fine = synthetic("ok = access.can(user, 'cycle.lock')\nname = user.role\n")
    assert role_comparison_violations("calibration.board.service", fine) == []


def test_sql_rule_fires_outside_the_store():
    bad = synthetic(
        'def f(cur):\n    """Create a cycle (a docstring, not SQL)."""\n'
        '    cur.execute("SELECT id FROM events WHERE id = ?", [1])\n'
        "    cur.execute('''\n        insert into events (id) values (?)''', [2])\n"
    )
    assert len(sql_violations("calibration.negotiation.service", bad)) == 2
    assert sql_violations("calibration.store.negotiation", bad) == []
    assert sql_violations("pages.board", synthetic("label = 'Select a region'\n")) == []
