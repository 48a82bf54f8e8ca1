"""Every page, every role, both languages, in a real browser: only the user's words on screen.

Fails on raw keys (`new_customers`), None/nan/null/NaT, numbers with three or more decimals,
English words on a Chinese page (outside product names and units), and any request to a
host other than the app's own (company networks often block the internet: icons, fonts and
the favicon are served by the app). Table cells are read from the grid's accessible cells
(the data grid draws on a canvas). Each person signs in once, reads every page in English,
switches the sidebar's language to Chinese and reads them again, then the pages that follow
the sidebar's cycle on each other cycle (in Chinese only: the stricter reading). The roles
are split over this file and test_every_screen_zh.py so that pytest-xdist (--dist loadfile)
runs them on two workers. Screenshots (`make screenshots`): test-artifacts/screenshots/every_screen/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from calibration.access import ROLE_PAGES
from calibration.demo.workshop import DEMO_ACCOUNTS, DEMO_PASSWORD
from calibration.i18n import LANGS, language_name, t
from calibration.negotiation.service import cycle_choices
from tests.browser.conftest import (
    ARTIFACTS,
    Server,
    _need_browser,
    enter_as,
    screenshots_wanted,
    wait_idle,
)
from tests.browser.screen_checks import context_of, offences, typed_texts, without
from tests.factories import copy_demo

pytestmark = pytest.mark.browser

ROLES = {"executive": "exec", "lead": "lead_east", "analyst": "analyst", "hrbp": "hrbp"}
ROLES["admin"] = "admin"
# The administrator's board, Model Lab, tracking and data pages are the executive's and the
# analyst's, drawn by the same code for the union of their rights (read above, in both
# languages); what only the administrator sees: Admin, letters they may correct but not
# sign, their own inbox.
PAGES = {**ROLE_PAGES, "admin": ("admin", "letters", "inbox")}
# The roles of this file and of test_every_screen_zh.py (each role's test is one sign-in).
HERE = ("executive", "hrbp", "admin")
THERE = ("lead", "analyst")
# Usernames belong on the Accounts page only; the Data page's file contract names the
# columns a file must have, which are typed into files as they are.
USERNAMES = sorted((u for u, *_ in DEMO_ACCOUNTS), key=len, reverse=True)
FILE_COLUMNS = frozenset(
    {"region", "period", "metric", "value", "signal", "dimension", "name", "parent", "lead"}
    | {"name_zh", "date"}
)
ALLOWED = {"admin": (USERNAMES, frozenset()), "data": ([], FILE_COLUMNS)}
# The demo's sign-in page lists its accounts and their password, to be typed as they are.
SIGN_IN_TYPED = sorted([*USERNAMES, DEMO_PASSWORD], key=len, reverse=True)
SHOTS = ARTIFACTS / "every_screen"
VIEWPORT = {"width": 1440, "height": 900}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

# Everything a person reads: the main area and the sidebar (icons are drawn from a font by
# their names, "edit_note": not words), text our CSS draws, the grids' accessible cells (the
# canvas shows the same text; checkbox cells read "true"), and placeholders.
READ_TEXT = """() => {
  // Commands and links in code blocks are typed as they are: not words to translate.
  const icons = [...document.querySelectorAll('span, i, code')].filter(
    el => el.tagName === 'CODE' || getComputedStyle(el).fontFamily.includes('Material Symbols'));
  for (const el of icons) el.style.setProperty('display', 'none', 'important');
  const parts = [];
  for (const sel of ['[data-testid="stMain"]', '[data-testid="stSidebar"]']) {
    const el = document.querySelector(sel);
    if (el) parts.push(el.innerText);
  }
  for (const el of icons) el.style.removeProperty('display');
  // Text drawn by our own CSS (the uploader's button label) is read from the style.
  for (const b of document.querySelectorAll('[data-testid="stFileUploaderDropzone"] button'))
    parts.push(getComputedStyle(b, '::after').content.replace(/^"|"$/g, ''));
  const cells = document.querySelectorAll(
    '[data-testid="stDataFrame"] [role=columnheader], [data-testid="stDataFrame"] [role=gridcell],'
    + ' [data-testid="stTable"] th, [data-testid="stTable"] td');
  for (const c of cells) {
    const text = c.textContent;
    if (text !== 'true' && text !== 'false') parts.push(text);  // a ticked box, not a word
  }
  // A select keeps its placeholder attribute when an option is chosen: the placeholder
  // shows only in free fields and in a multiselect with nothing chosen.
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    const multi = el.closest('[data-testid="stMultiSelect"]');
    if (multi ? !multi.querySelector('[data-baseweb="tag"]') : el.getAttribute('role') !== 'combobox')
      parts.push(el.placeholder);
  }
  return parts.join('\\n');
}"""
GRID_CELLS = """() => document.querySelectorAll(
  '[data-testid="stDataFrame"] [role=gridcell]').length"""


# Pages that show another cycle's state when the sidebar's cycle changes (the demo's
# finished cycle has the letters, tracking, value added and escalations; its board is the
# same table as the open cycle's and costs the most to draw).
CYCLE_PAGES = ("my_region", "review", "letters", "tracking")
OTHER_CYCLES_LANG = "zh"


@pytest.fixture(scope="module")
def screen_server(
    tmp_path_factory, demo_template: Path
) -> Iterator[tuple[Server, list[str], dict]]:
    """One app server on a copy of the demo, the texts people typed into that demo, and the
    sidebar's cycle labels per language."""
    _need_browser()
    db = copy_demo(demo_template, tmp_path_factory.mktemp("every") / "every.duckdb")
    typed = typed_texts(db)  # before the server opens the file (one process per file)
    con = duckdb.connect(str(db), read_only=True)
    try:
        cycles = {lang: [c["label"] for c in cycle_choices(con.cursor(), lang)] for lang in LANGS}
    finally:
        con.close()
    srv = Server(db, {**os.environ, "CALIBRATE_DB": str(db)}, people=ROLES.values())
    srv.start()
    yield srv, typed, cycles
    srv.stop()


def _choose_cycle(page, lang: str, label: str) -> bool:
    """Pick a cycle in the sidebar; False when it is already the chosen one."""
    picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text=t("app.cycle", lang)
    )
    if label in picker.inner_text():
        return False
    picker.get_by_label(t("app.cycle", lang), exact=True).first.click()
    page.get_by_role("option", name=label, exact=True).click()
    wait_idle(page)
    return True


OPEN_EXPANDERS = """() => {
  let opened = 0;
  for (const s of document.querySelectorAll('[data-testid="stMain"] details:not([open]) > summary'))
    if (s.offsetParent !== null) { s.click(); opened++; }
  return opened;
}"""


def _open_everything(page) -> None:
    """Open every visible closed expander so its text is on screen (tabs are read in turn)."""
    if page.evaluate(OPEN_EXPANDERS):
        page.wait_for_timeout(250)


def _read_page(page) -> str:
    """The page's text, tab by tab."""
    _open_everything(page)
    texts = [page.evaluate(READ_TEXT)]
    tabs = page.locator("[data-testid='stMain'] [role='tab']")
    for i in range(1, tabs.count()):
        tabs.nth(i).click()
        page.wait_for_timeout(200)
        _open_everything(page)
        texts.append(page.evaluate(READ_TEXT))
    return "\n".join(texts)


def _screenshot(page, path: Path) -> None:
    if not screenshots_wanted():
        return
    """The whole page at 1440 px wide: Streamlit scrolls inside its main area, so the window
    is made as tall as the content for the picture, then put back."""
    # The content's own height (the scrolling element differs between pages).
    height = page.evaluate(
        "() => { const b = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return Math.max(b ? b.getBoundingClientRect().height + 120 : 0, 900); }"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)


def _visit(page, lang: str, key: str) -> None:
    """Open a page from the sidebar navigation (its title may carry a count: "Inbox (3)")."""
    title = t(f"page.{key}", lang)
    link = page.get_by_role("link", name=re.compile(rf"^{re.escape(title)}( \(\d+\))?$"))
    if link.count():
        link.first.click()
        wait_idle(page)
    # Grids draw their accessible cells a moment after the script has finished.
    if page.locator("[data-testid='stDataFrame']").count():
        page.wait_for_function(f"({GRID_CELLS})() > 0", timeout=10_000)


def _with_other_cycles(page, lang: str, role: str, labels: list[str], visits: list):
    """Every page on the cycle the person lands on, then, in Chinese, the cycle pages on each
    other cycle (chosen in the sidebar between the visits)."""
    yield from visits
    # Chinese is the stricter reading (an English word is an offence there too; raw keys,
    # None/nan and long decimals are offences in both), and the other cycles' pages are the
    # same page code on other data: read once, not once per language (the two files:
    # 130 → 108 s of machine CPU).
    if lang != OTHER_CYCLES_LANG:
        return
    for n, label in enumerate(labels, 1):
        if _choose_cycle(page, lang, label):
            for key in (k for k in CYCLE_PAGES if k in PAGES[role]):
                yield key, f"_cycle{n}"


def test_the_two_files_read_every_role() -> None:
    assert sorted(HERE + THERE) == sorted(ROLES) == sorted(ROLE_PAGES)


@pytest.mark.parametrize("role", HERE)
def test_every_page_speaks_the_users_words(screen_server, browser, role: str) -> None:
    """In English, then in Chinese (the lead and the analyst: test_every_screen_zh.py)."""
    check_every_page(screen_server, browser, role)


def test_the_sign_in_page_speaks_the_users_words(screen_server, browser) -> None:
    """The first screen anyone sees, in both languages, asks no other host either."""
    server, typed, _ = screen_server
    context, outside = _watched_context(browser)
    problems: list[str] = []
    try:
        page = context.new_page()
        for lang in LANGS:
            page.goto(f"{server.url}/?lang={lang}")
            page.get_by_label(t("login.username", lang)).wait_for(timeout=30_000)
            wait_idle(page)
            text = without(without(_read_page(page), typed), SIGN_IN_TYPED)
            _screenshot(page, SHOTS / f"{lang}_sign_in.png")
            problems += [f"sign-in: {found}" for found in dict.fromkeys(offences(text, lang))]
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    problems += [f"request to another host: {url}" for url in sorted(set(outside))]
    assert not problems, "\n".join(problems)


def _watched_context(browser):
    """A new browser context and the list of its requests to any host but the app's own."""
    # A Chinese browser: the Chinese pages are read as a person in China sees them (the
    # English ones do not depend on it: the app's language is its own setting).
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    outside: list[str] = []
    context.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(r.url).hostname not in LOOPBACK
            else None
        ),
    )
    return context, outside


def _switch_language(page, lang: str, was: str) -> None:
    """Choose lang in the sidebar's language picker (labelled in the language shown)."""
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_label(t("app.language", was), exact=True).first.click()
    page.get_by_role("option", name=language_name(lang), exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name=t("app.sign_out", lang)).wait_for(timeout=30_000)


def check_every_page(screen_server, browser, role: str) -> None:
    """Every page role may open, in English then Chinese: no offence, no outside request."""
    server, typed, cycles = screen_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, outside = _watched_context(browser)
    problems: list[str] = []
    try:
        page = context.new_page()
        enter_as(page, server.url, ROLES[role], lang="en")
        for n, lang in enumerate(LANGS):
            if n:
                _switch_language(page, lang, LANGS[n - 1])
            visits = [(key, "") for key in PAGES[role]]
            for key, suffix in _with_other_cycles(page, lang, role, cycles[lang], visits):
                _visit(page, lang, key)
                snippets, words = ALLOWED.get(key, ([], frozenset()))
                text = without(without(_read_page(page), typed), snippets)
                _screenshot(page, SHOTS / f"{lang}_{role}_{key}{suffix}.png")
                for found in dict.fromkeys(offences(text, lang, words)):
                    problems.append(f"{lang} {key}{suffix}: {found}  «{context_of(text, found)}»")
        # Icons, fonts and the favicon may load after the last script run.
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    problems += [f"request to another host: {url}" for url in sorted(set(outside))]
    assert not problems, f"{role}: {len(problems)} offences\n" + "\n".join(problems)
