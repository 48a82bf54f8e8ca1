"""Letter fonts parsed once per process: no state leaks between letters, glyphs intact,
and the fast paths (assembled CFF subsets, widths) give the libraries' bytes and floats."""

from __future__ import annotations

import copy
import io
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from fontTools import ttLib
from fontTools.cffLib import (
    CFFFontSet,
    FDSelect,
    IndexCompiler,
    packCharset,
    packCharset0,
    packFDSelect0,
    packFDSelect3,
)
from fpdf import FPDF
from fpdf import fpdf as fpdf_module
from fpdf.enums import Align, WrapMode
from fpdf.line_break import MultiLineBreak
from pypdf import PdfReader

from calibration.letters.pdf import render as letter_pdf
from calibration.letters.pdf.render import render_letter
from tests.test_letter_pdf import east, signed


def _letter(text: str, lang: str = "zh") -> bytes:
    content = east(justification=text)
    return render_letter(content, signed(content, "lead"), lang)


def _embedded_cffs(data: bytes) -> list[CFFFontSet]:
    """Every CFF font program (FontFile3) embedded in a PDF, parsed by fontTools."""
    fonts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            descendant = ref.get_object()["/DescendantFonts"][0].get_object()
            stream = descendant["/FontDescriptor"]["/FontFile3"].get_object()
            cff = CFFFontSet()
            cff.decompile(io.BytesIO(stream.get_data()), None)
            fonts.append(cff)
    return fonts


def test_a_letter_is_the_same_whatever_was_rendered_before() -> None:
    letter_pdf._parsed_font.cache_clear()
    fresh = _letter("只有这一段。")
    render_letter(east(justification="瀑布彗星，完全不同的字。"), [], "zh")
    render_letter(east(justification="Other words entirely."), [], "en")
    assert _letter("只有这一段。") == fresh


def test_embedded_subset_holds_only_used_glyphs_with_the_base_outlines() -> None:
    if (
        letter_pdf._parsed_font(letter_pdf._base_font(letter_pdf.find_cjk_font().regular)).cff
        is None
    ):
        pytest.skip("the installed CJK font is not a CID-keyed CFF font (no fast subset)")
    data = _letter("瀑布彗星")
    cffs = _embedded_cffs(data)
    assert cffs
    base = letter_pdf._parsed_font(letter_pdf._base_font(letter_pdf.find_cjk_font().regular))
    base_top = base.proto.ttfont["CFF "].cff.topDictIndex[0]
    regular = max(cffs, key=lambda c: len(c.topDictIndex[0].charset))
    top = regular.topDictIndex[0]
    # A letter's worth of glyphs, not the 7,000+ of the base font.
    assert 50 < len(top.charset) < 1000
    for name in top.charset:
        ours = top.CharStrings[name]
        ours.compile()
        theirs = base_top.CharStrings[name]
        theirs.compile()
        assert ours.bytecode == theirs.bytecode, name
        gid = base.gid[name]
        assert top.FDSelect[top.charset.index(name)] == base_top.FDSelect[gid], name
    # The rare characters typed are in the subset (their glyphs through the cmap).
    cmap = base.proto.cmap
    for char in "瀑布彗星":
        assert cmap[ord(char)] in top.charset, char


def test_letters_rendered_in_threads_match_sequential_ones() -> None:
    texts = [f"第{i}段：客户续约。Paragraph {i}." for i in range(6)]
    sequential = [_letter(text, "zh" if i % 2 else "en") for i, text in enumerate(texts)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(
            pool.map(lambda it: _letter(it[1], "zh" if it[0] % 2 else "en"), enumerate(texts))
        )
    assert threaded == sequential


# --- fast paths: the same bytes as the libraries' slow ones -----------------------------


def _base_parsed(bold: bool = False) -> letter_pdf._ParsedFont:
    font = letter_pdf.find_cjk_font()
    return letter_pdf._parsed_font(letter_pdf._base_font(font.bold if bold else font.regular))


def _needs_fast_cff() -> None:
    if _base_parsed().cff is None:
        pytest.skip("the installed CJK font is not a CID-keyed CFF font (no fast subset)")


def _fonttools_subset(path: Path, gids: list[int]) -> bytes:
    """The subset CFF as fontTools' CFFFontSet.compile writes it (the oracle)."""
    font = ttLib.TTFont(str(path), lazy=True, recalcTimestamp=False)
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    _ = (top.charset, top.CharStrings, top.FDArray)  # decoded before the copy shares them
    order = font.getGlyphOrder()
    sub_top = copy.copy(top)
    sub_top.rawDict = dict(top.rawDict)
    sub_top.charset = [order[gid] for gid in gids]
    select = FDSelect()
    select.gidArray = [top.FDSelect[gid] for gid in gids]
    sub_top.FDSelect = select
    sub_set = copy.copy(cff)
    sub_set.topDictIndex = copy.copy(cff.topDictIndex)
    sub_set.topDictIndex.items = [sub_top]
    out = io.BytesIO()
    sub_set.compile(out, SimpleNamespace(recalcBBoxes=False), isCFF2=False)
    return out.getvalue()


@pytest.mark.parametrize("bold", [False, True])
def test_assembled_cff_subset_is_byte_identical_to_fonttools(bold: bool) -> None:
    _needs_fast_cff()
    parsed = _base_parsed(bold)
    face = letter_pdf.find_cjk_font().bold if bold else letter_pdf.find_cjk_font().regular
    path = letter_pdf._base_font(face)
    count = len(parsed.gid)
    rng = random.Random(19)
    # Only .notdef; a run (charset ranges); scattered picks (format 0); many; every glyph.
    cases = [[0], list(range(0, 40)), [0, count - 1]]
    cases += [sorted({0, *rng.sample(range(1, count), n)}) for n in (1, 7, 150, 900)]
    cases.append(list(range(count)))
    for gids in cases:
        assert parsed.cff.subset(gids) == _fonttools_subset(path, gids), len(gids)


def test_a_letter_with_the_assembled_subset_equals_one_with_fonttools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _needs_fast_cff()
    fast = {lang: _letter("瀑布彗星，续约客户。Renewals 𠀋.", lang) for lang in ("en", "zh")}
    assembled = letter_pdf._cff_subset
    calls: list[int] = []

    def through_fonttools(
        parsed: letter_pdf._ParsedFont, names: list[str]
    ) -> tuple[bytes, dict[str, int]]:
        _, ids = assembled(parsed, names)
        calls.append(len(ids))
        gids = sorted(parsed.gid[name] for name in ids)
        return _fonttools_subset(Path(parsed.proto.ttffile), gids), ids

    # Both the cached base fonts and a per-letter exact subset (𠀋 is outside the base set).
    monkeypatch.setattr(letter_pdf, "_cff_subset", through_fonttools)
    slow = {lang: _letter("瀑布彗星，续约客户。Renewals 𠀋.", lang) for lang in ("en", "zh")}
    assert calls  # the oracle really ran
    assert slow == fast


def test_a_letter_compiles_no_cff_and_walks_no_full_glyph_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _needs_fast_cff()
    _letter("预热。")  # parse the fonts (once per process) before counting

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("per-letter work that the per-process parse should have done")

    # fontTools' whole-font compile and the 8,000-glyph reverse map were the costly steps.
    monkeypatch.setattr(CFFFontSet, "compile", refuse)
    monkeypatch.setattr(ttLib.TTFont, "_buildReverseGlyphOrderDict", refuse)
    data = _letter("瀑布彗星。")
    regular = max(_embedded_cffs(data), key=lambda c: len(c.topDictIndex[0].charset))
    assert 50 < len(regular.topDictIndex[0].charset) < 1000


@pytest.mark.parametrize(("style", "size"), [("", 9.0), ("B", 8.5), ("", 10.5), ("B", 21.0)])
def test_wrap_measures_text_as_fpdf_does(style: str, size: float) -> None:
    pdf = FPDF(unit="mm", format="A4")
    for font_style in ("", "B"):
        letter_pdf._add_cached_font(
            pdf,
            "cjk",
            font_style,
            _base_font_path(font_style),
        )
    pdf.set_font("cjk", style, size)
    measure = letter_pdf._measurer(pdf)
    texts = ["a", "W", "华东区", "Region 000", "—", "…", "（", " ", "    ", "x" * 300]
    texts += ["瀑布𠀋", "\ue000", "１２３", "Zhang Min 张敏", "·", "1,200", "−6.7%"]
    for text in texts:
        assert measure(text) == pdf.get_string_width(text), text
        assert measure(text) == pdf.get_string_width(text), text  # cached: still the same


def _base_font_path(style: str) -> Path:
    font = letter_pdf.find_cjk_font()
    return letter_pdf._base_font(font.bold if style == "B" else font.regular)


def _letter_pdf_with_fonts() -> FPDF:
    pdf = FPDF(unit="mm", format="A4")
    for style in ("", "B"):
        letter_pdf._add_cached_font(pdf, "cjk", style, _base_font_path(style))
    pdf.add_page()
    return pdf


def _all_lines(breaker: MultiLineBreak) -> list[tuple[object, ...]]:
    lines = []
    while (line := breaker.get_line()) is not None:
        # Fragments compare by characters, graphics state and k; links separately.
        lines.append((*line, [fragment.link for fragment in line.fragments]))
    return lines


@pytest.mark.parametrize(
    "text",
    [
        "华东000区（Region 000）\n2026Q1\nNew customers",
        "one line",
        "trailing newline\n",
        "\n\nblank lines first\n\n",
        "",
        "  leading and trailing spaces  \nx",
        "a line far too long for the width, so fpdf2 breaks it itself " * 3,
        "non\u00a0breaking space\nsoft\u00adhyphen\nzero\u200bwidth\fform feed",
        "续约客户。" * 40,
    ],
)
@pytest.mark.parametrize(
    ("align", "line_height"), [(Align.L, 1.0), (Align.R, 1.25), (Align.J, 1.0), (Align.C, 1.0)]
)
def test_prewrapped_line_break_gives_fpdf2s_lines(
    text: str, align: Align, line_height: float
) -> None:
    pdf = _letter_pdf_with_fonts()
    pdf.set_font("cjk", "", 9)
    results = []
    for breaker_class in (MultiLineBreak, letter_pdf._PrewrappedLineBreak):
        fragments = pdf._preload_font_styles(text, markdown=False)
        breaker = breaker_class(
            fragments,
            60.0,
            [pdf.c_margin, pdf.c_margin],
            align=align,
            wrapmode=WrapMode.CHAR,
            line_height=line_height,
        )
        results.append(_all_lines(breaker))
    assert results[1] == results[0]


def test_prewrapped_short_cut_is_taken_for_letter_text_only() -> None:
    pdf = _letter_pdf_with_fonts()
    pdf.set_font("cjk", "", 9)
    fragments = pdf._preload_font_styles("华东区\nEast", markdown=False)
    breaker = letter_pdf._PrewrappedLineBreak(fragments, 60.0, [1.0, 1.0])
    assert breaker._prewrapped_line() is not None
    other = FPDF()
    other.set_font("helvetica", "", 9)
    fragments = other._preload_font_styles("East\nWest", markdown=False)
    assert letter_pdf._PrewrappedLineBreak(fragments, 60.0, [1.0])._prewrapped_line() is None
    # multi_cell of any document breaks with it (one lookup in fpdf2's module).
    assert fpdf_module.MultiLineBreak is letter_pdf._PrewrappedLineBreak


@pytest.mark.parametrize(
    "cids",
    [
        [],
        [5],
        [1, 2, 3, 10, 11, 40],
        list(range(1, 300)),  # a run longer than 255: format 2
        list(range(100, 400, 2)),
        [*range(1, 50), *range(60, 400), 65000],
    ],
)
def test_charset_and_fd_select_pack_as_fonttools(cids: list[int]) -> None:
    names = [".notdef", *(f"cid{cid:05d}" for cid in cids)]
    listed, ranged = packCharset0(names, True, None), packCharset(names, True, None)
    assert letter_pdf._cid_charset(cids) == (ranged if len(ranged) < len(listed) else listed)
    fds = [cid % 3 if cid % 7 else 0 for cid in [0, *cids]]
    for selects in (fds, [0] * len(fds), sorted(fds)):
        listed, ranged = packFDSelect0(selects), packFDSelect3(selects)
        assert letter_pdf._fd_select(selects) == (listed if len(listed) < len(ranged) else ranged)


@pytest.mark.parametrize("sizes", [[], [0], [3, 200], [300, 5], [40_000, 40_000]])
def test_cff_index_packs_as_fonttools(sizes: list[int]) -> None:
    items = [bytes([i % 251]) * size for i, size in enumerate(sizes)]
    out = io.BytesIO()
    IndexCompiler(items, None, None, isCFF2=False).toFile(out)
    assert letter_pdf._cff_index(items) == out.getvalue()
