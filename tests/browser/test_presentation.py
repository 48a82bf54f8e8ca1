"""Presentation mode on a meeting-room projector (1280×720), in English and Chinese.

Six regions: the headline and every row fit on one screen, set-up controls are hidden, a
toast does not cover the table. Fourteen regions: the rows page by themselves, the page
number is shown, and every region appears on some page in a stable order.

One executive signs in once per server (a new browser costs seconds of CPU); each test opens
the board again in its language through the session cookie, as a reload on the meeting
room's computer would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibration.i18n import t
from tests.browser.conftest import (
    ARTIFACTS,
    Server,
    _need_browser,
    enter_as,
    screenshot,
    wait_idle,
)
from tests.browser.load_data import region_ids, seed_workshop
from tests.browser.steps import fill_proposal, goto_my_region, submit_proposal
from tests.factories import copy_demo

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
SHOTS = ARTIFACTS / "presentation"


def _start(tmp: Path, db: Path, people: tuple[str, ...], **env: str) -> Server:
    _need_browser()
    srv = Server(db, {**os.environ, "CALIBRATE_DB": str(db), **env}, people=people)
    srv.start()
    return srv


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, demo_template: Path) -> Iterator[Server]:
    """The six-region demo workshop, shared by this module's tests."""
    tmp = tmp_path_factory.mktemp("presentation")
    db = copy_demo(demo_template, tmp / "demo.duckdb")
    srv = _start(tmp, db, ("exec", "lead_southwest"), CALIBRATE_TZ="Asia/Shanghai")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def many_server(tmp_path_factory) -> Iterator[Server]:
    """A generated workshop of fourteen regions; pages turn every second."""
    tmp = tmp_path_factory.mktemp("presentation14")
    db = tmp / "many.duckdb"
    seed_workshop(db, tmp / "data", 14)
    srv = _start(tmp, db, ("exec",), CALIBRATE_PRESENT_PAGE_SECONDS="1")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def demo_exec(demo_server, browser):
    """The executive's browser on the six-region demo, signed in once for the module."""
    yield from _signed_in(browser, demo_server, "exec")


@pytest.fixture(scope="module")
def many_exec(many_server, browser):
    """The executive's browser on the fourteen-region workshop, signed in once."""
    yield from _signed_in(browser, many_server, "exec")


def _signed_in(browser, server: Server, user: str):
    context = browser.new_context(viewport=PROJECTOR)
    try:
        page = context.new_page()
        enter_as(page, server.url, user)
        yield server, page
    finally:
        context.close()


def open_board(page, url: str, lang: str, viewport: dict) -> None:
    """The board again in lang (a new Streamlit session, resumed from the cookie)."""
    page.set_viewport_size(viewport)
    page.goto(f"{url}/?lang={lang}")
    page.get_by_role("button", name=t("app.sign_out", lang)).wait_for(timeout=30_000)
    wait_idle(page)


def present(signed_in, lang: str):
    """The signed-in executive's board at 1280×720, in presentation mode."""
    server, page = signed_in
    open_board(page, server.url, lang, PROJECTOR)
    page.get_by_text(t("board.presentation", lang)).click()
    wait_idle(page)
    page.locator("[data-testid='stTable'] tbody tr").first.wait_for(timeout=30_000)
    return page


def inside(box: dict | None) -> bool:
    """Whether a bounding box lies wholly inside the projector's viewport."""
    assert box is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= PROJECTOR["width"]
        and box["y"] + box["height"] <= PROJECTOR["height"]
    )


def overlaps(a: dict, b: dict) -> bool:
    """Whether two bounding boxes intersect."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def setup_controls_hidden(page, lang: str) -> None:
    """No new-cycle bar, no toggles, no sidebar; one exit control."""
    assert not page.get_by_text(t("cycle.new", lang)).is_visible()
    assert not page.get_by_text(t("board.pause", lang)).is_visible()
    assert not page.locator("[data-testid='stToggle']").first.is_visible()
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert page.get_by_role("button", name=t("board.exit_presentation", lang)).is_visible()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_six_regions_fit_one_projector_screen(demo_exec, lang) -> None:
    page = present(demo_exec, lang)
    rows = page.locator("[data-testid='stTable'] tbody tr")
    assert rows.count() == 6
    for i in range(6):
        assert inside(rows.nth(i).bounding_box()), f"row {i} is below the fold"
    label = page.locator("[data-testid='stMetricLabel']").get_by_text(t("board.kpi_target", lang))
    assert label.is_visible() and inside(label.bounding_box())
    for value in page.locator("[data-testid='stMetricValue']").all():
        assert inside(value.bounding_box())
    setup_controls_hidden(page, lang)
    # The counts line is read from the back of the room: dark, not the faint caption grey.
    counts = page.get_by_text(
        t("board.kpi_counts", lang, proposed=3, regions=6, flagged=1, agreed=0, signed=0)[:6]
    ).first
    # Its colour, and the opacity of it and every element around it (Streamlit's
    # caption is dark text at 60% opacity).
    rgb, opacity = counts.evaluate(
        """e => { let o = 1; for (let n = e; n; n = n.parentElement)
                    o *= parseFloat(getComputedStyle(n).opacity);
                  return [getComputedStyle(e).color, o]; }"""
    )
    values = [float(v) for v in re.findall(r"[\d.]+", rgb)]
    alpha = values[3] if len(values) > 3 else 1.0
    assert max(values[:3]) < 80 and alpha * opacity > 0.9, (rgb, opacity)
    # No pages when everything fits.
    assert page.get_by_text(re.compile(page_pattern(lang))).count() == 0
    # The clock says which zone it is in.
    page.get_by_text(re.compile("Asia/Shanghai")).first.wait_for(timeout=10_000)
    screenshot(page, SHOTS / f"six_regions_{lang}.png")
    # The exit control brings the normal board back.
    page.get_by_role("button", name=t("board.exit_presentation", lang)).click()
    wait_idle(page)
    page.get_by_text(t("board.presentation", lang)).wait_for(timeout=30_000)


def test_a_toast_does_not_cover_the_table(demo_server, demo_exec, browser) -> None:
    page = present(demo_exec, "en")
    lead_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        lead = lead_ctx.new_page()
        enter_as(lead, demo_server.url, "lead_southwest")
        goto_my_region(lead)
        fill_proposal(lead, 150, "Two partner deals signed.", "One more AE.", "Onboarding slip.")
        submit_proposal(lead, demo_server.log)
        toast = page.locator("[data-testid='stToast']").first
        toast.wait_for(timeout=30_000)
        box = toast.bounding_box()
        table = page.locator("[data-testid='stTable']").bounding_box()
        assert box and table
        screenshot(page, SHOTS / "toast_en.png")
        assert inside(box)
        assert not overlaps(box, table), f"toast {box} covers the table {table}"
        # Large enough to read from the back of the room.
        size = toast.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 20
    finally:
        lead_ctx.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fourteen_regions_page_by_themselves(many_exec, lang) -> None:
    page = present(many_exec, lang)
    names = {f"Region {r[1:]}" if lang == "en" else f"区域{r[1:]}" for r in region_ids(14)}
    seen: dict[int, list[str]] = {}
    pages = 3
    pattern = re.compile(page_pattern(lang))
    page.get_by_text(pattern).first.wait_for(timeout=30_000)
    for _ in range(200):
        # The indicator and the rows read in one go (a page may turn between two reads),
        # and only a reading that holds still counts (not one taken mid-redraw).
        text, shown = page.evaluate(SNAPSHOT)
        page.wait_for_timeout(100)
        if [text, shown] != page.evaluate(SNAPSHOT) or not shown:
            continue
        m = pattern.search(text)
        assert m, text
        number, pages = int(m[1]), int(m[2])
        if number in seen:
            # Rows stable in order: a page shows the same regions every time round.
            assert seen[number] == shown
        else:
            seen[number] = shown
            for box in page.evaluate(ROW_BOXES):
                assert inside(box), f"page {number}: a row at {box} is off screen"
            screenshot(page, SHOTS / f"fourteen_page{number}_{lang}.png")
        if len(seen) == pages and len(seen) > 1:
            break
        page.wait_for_timeout(250)
    assert pages == 3
    assert sorted(seen) == [1, 2, 3]
    flat = [n for k in sorted(seen) for n in seen[k]]
    assert sorted(flat) == sorted(names) and len(flat) == 14
    setup_controls_hidden(page, lang)


# The page indicator's text and the regions of the rows shown, read at one instant; an
# element Streamlit still shows while the fragment redraws is marked stale and skipped.
FRESH = "[data-testid='stElementContainer']:not([data-stale='true'])"
SNAPSHOT = f"""() => {{
  const caps = [...document.querySelectorAll("{FRESH} [data-testid='stCaptionContainer']")];
  const rows = [...document.querySelectorAll("{FRESH} [data-testid='stTable'] tbody tr")];
  return [caps.map(c => c.innerText).join("\\n"),
          rows.map(r => r.querySelectorAll("td")[1].innerText)];
}}"""
ROW_BOXES = f"""() => [...document.querySelectorAll("{FRESH} [data-testid='stTable'] tbody tr")]
  .map(r => {{
    const b = r.getBoundingClientRect();
    return {{x: b.x, y: b.y, width: b.width, height: b.height}};
  }})"""


def page_pattern(lang: str) -> str:
    """The page indicator as a regular expression with the two numbers as groups."""
    return (
        re.escape(t("board.page_of", lang, page="§", pages="¶"))
        .replace("§", r"(\d+)")
        .replace("¶", r"(\d+)")
    )


def test_normal_board_shows_every_column_at_1440(demo_exec) -> None:
    server, page = demo_exec
    open_board(page, server.url, "en", {"width": 1440, "height": 900})
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30_000)
    header = grid.locator("[role=columnheader]", has_text=t("board.col_last_change", "en"))
    header.first.wait_for(state="attached", timeout=30_000)
    # No column hidden behind a horizontal scroll: the grid's content fits its frame.
    widths = grid.locator(".dvn-scroller").first.evaluate("e => [e.scrollWidth, e.clientWidth]")
    screenshot(page, SHOTS / "normal_1440_en.png")
    assert widths[0] <= widths[1], f"the board's table scrolls sideways: {widths}"
