"""Letter fonts parsed once per process: no state leaks between letters, glyphs intact."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from fontTools.cffLib import CFFFontSet
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
