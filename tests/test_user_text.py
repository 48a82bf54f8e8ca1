"""User text stays text: every page, every role, a database whose typed fields are hostile.

Streamlit renders titles, captions, alerts, toasts, metric/tab/expander/widget labels and
radio options as Markdown. None of them may carry a person's or a file's text unescaped:
links, remote images, colour directives, HTML and emphasis must show as the literal text.
The browser counterpart (what a person sees) is tests/browser/test_user_text_browser.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator

import pandas as pd
import pytest

from calibration import access, cli, exports
from calibration.accounts import auth
from tests.apptest_helpers import login
from tests.factories import ROOT
from tests.user_text_fixtures import HOSTILE, make_hostile
from ui.text import plain

# What an unescaped payload leaves in a Markdown source; plain() changes each of them.
FRAGMENTS = ("[click]", "](http", "![x]", ":red[", "<img", "**bold**", "http://evil")
UNESCAPED = re.compile("|".join(r"(?<!\\)" + re.escape(f) for f in FRAGMENTS))
# Element protos whose text is drawn verbatim (not Markdown): skipped by the scan.
PLAIN_ELEMENTS = {
    "text",
    "code",
    "arrow_data_frame",
    "vega_lite_chart",
    "arrow_vega_lite_chart",
    "text_area",
    "text_input",
    "selectbox",
    "multiselect",
    "json",
    "exception",
}
# Proto fields that Streamlit renders as Markdown.
MARKDOWN_FIELDS = {"body", "label", "help", "delta", "caption", "captions", "placeholder"}


# --------------------------------------------------------------------- the helper


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_plain_leaves_no_markdown_fragment(fragment: str) -> None:
    assert fragment in HOSTILE
    assert not UNESCAPED.search(plain(HOSTILE))
    assert UNESCAPED.search(HOSTILE)


def test_plain_keeps_ordinary_text_readable() -> None:
    assert plain("华东 East") == "华东 East"
    assert plain(None) == ""
    assert "\n" not in plain("line one\n# heading")


# --------------------------------------------------------------------- pages


@pytest.fixture
def hostile_db(app_env) -> Iterator[None]:
    """The app's demo database with every user-typed field hostile (see make_hostile)."""
    make_hostile(app_env)
    yield


def _walk(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _markdown_sources(proto, out: list[str]) -> None:
    """Collect the Markdown-rendered strings of a proto (recursively), skipping plain ones."""
    for desc, value in proto.ListFields():
        if desc.message_type is not None:
            if desc.name in PLAIN_ELEMENTS:
                continue
            items = value if desc.is_repeated else [value]
            for item in items:
                _markdown_sources(item, out)
        elif desc.name in MARKDOWN_FIELDS or (
            desc.name == "options" and proto.DESCRIPTOR.name in {"Radio", "ButtonGroup"}
        ):
            out.extend(value if desc.is_repeated else [value])


def _unsafe(at) -> list[str]:
    sources: list[str] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or getattr(node, "type", "") in PLAIN_ELEMENTS:
            continue
        if type(node).__name__ == "Table":
            # st.table renders Markdown in its cells (unlike st.dataframe).
            frame = node.value
            sources += [str(v) for v in [*frame.columns, *frame.to_numpy().ravel()]]
        elif hasattr(proto, "ListFields"):
            _markdown_sources(proto, sources)
    return [s for s in sources if isinstance(s, str) and UNESCAPED.search(s)]


ROLES = ["exec", "analyst", "hrbp", "admin", "lead_east"]


@pytest.mark.parametrize("username", ROLES)
def test_no_page_renders_user_text_as_markdown(hostile_db, username: str) -> None:
    at = login(username)
    found = {"first view": _unsafe(at)}
    user = at.session_state["user"]
    # The open cycle (negotiation), the tracked one (letters, tracking, inbox), the projector.
    for cycle_id, big in ((1, False), (2, False), (1, True)):
        at.session_state["cycle_id"] = cycle_id
        at.session_state["board_big"] = big
        for key in access.pages_for(user):
            at.switch_page(f"pages/{key}.py")
            at.run()
            assert not at.exception, (key, at.exception)
            found[f"{key} (cycle {cycle_id}{', projector' if big else ''})"] = _unsafe(at)
    assert len(found) > 1
    bad = [f"{k}: {v.replace(HOSTILE, '<HOSTILE>')}" for k, vs in found.items() for v in vs]
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------- exports


def test_backtest_predictions_csv_neutralises_formulas(tmp_path, monkeypatch, db_path) -> None:
    pred = pd.DataFrame(
        {
            "region": ["+SUM(1;1)", "@SUM(1)", '=HYPERLINK("http://evil.example")', "east"],
            "period": ["2025Q1"] * 4,
            "method": ["model"] * 4,
            "forecast": [1.0, -2.0, 3.0, 4.0],
            "lower80": [0.5] * 4,
            "upper80": [2.0] * 4,
            "actual": [1.0] * 4,
        }
    )
    monkeypatch.setattr(
        "calibration.modeling.service.run_backtest",
        lambda *a, **k: {"predictions": pred, "origins": ["2025Q1"], "methods": {}, "seconds": 0},
    )
    out = tmp_path / "pred.csv"
    assert (
        cli.main(
            ["backtest", "--db", str(db_path), "--metric", "m", "--json", "--predictions", str(out)]
        )
        == 0
    )
    got = pd.read_csv(out, encoding="utf-8-sig")
    assert got["region"].tolist() == [
        "'+SUM(1;1)",
        "'@SUM(1)",
        '\'=HYPERLINK("http://evil.example")',
        "east",
    ]
    assert got["forecast"].tolist() == [1.0, -2.0, 3.0, 4.0]  # numbers stay numbers
    assert exports.csv_bytes(pred) == out.read_bytes()


def test_grids_offer_no_builtin_csv_download() -> None:
    """The grid's own CSV export would not neutralise formulas: the app config removes it."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True


def test_board_change_toast_shows_region_name_as_text(hostile_db) -> None:
    """The toast announcing a new proposal names the region: escaped, not Markdown."""
    from calibration.negotiation import service as neg
    from ui import context as ctx

    at = login("exec")
    at.switch_page("pages/board.py")
    at.run()
    # The app's own connection: a second one to the same file is not allowed in-process.
    cur = ctx.connection().cursor()
    lead = auth.load_user(cur, "lead_south")
    state = neg.cycle_state(cur, 1)
    last = state.loc[state["region"] == "south", "last_event_id"].iloc[0]
    neg.propose(
        cur,
        lead,
        1,
        "south",
        123,
        justification="x" * 30,
        support="y",
        risk="z",
        confidence="low",
        expected_last_event=None if pd.isna(last) else int(last),
    )
    at.run()
    assert not at.exception, at.exception
    toasts = [t.value for t in at.toast]
    assert any("123" in t for t in toasts), toasts
    assert [t for t in toasts if UNESCAPED.search(t)] == []
