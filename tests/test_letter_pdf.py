"""Consensus letters: content hash, PDF rendering in both languages, hostile text, ZIP."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from calibration.letters.archive import zip_letters
from calibration.letters.content import (
    LetterContent,
    Signature,
    SupportItem,
    canonical_json,
    content_sha256,
    signature_matches,
)
from calibration.letters.pdf import render as letter_pdf
from calibration.letters.pdf.render import (
    CjkFontMissingError,
    clean_text,
    embedded_content_sha256,
    file_sha256,
    format_number,
    letter_filename,
    render_letter,
    wrap_text,
)

ROOT = Path(__file__).resolve().parent.parent
POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


def east(**changes: object) -> LetterContent:
    """The East region example from the seeds: agreed 220 against a suggestion of 218."""
    content = LetterContent(
        company="Calibrate Demo SaaS Co.",
        cycle_id=3,
        cycle_name="2026 Q1 targets",
        metric="New customers",
        metric_unit="new customers",
        period="2026Q1",
        region="EAST",
        region_name_en="East",
        region_name_zh="华东区",
        lead_name="Li Wei 李伟",
        executive_name="Zhang Min 张敏",
        suggestion=218.0,
        lower80=196.0,
        upper80=241.0,
        model_run_id=12,
        model_reason_en="Search interest fell 12% in the East, so the baseline is 218, not 240.",
        model_reason_zh="华东区搜索热度下降 12%，因此基线为 218 而不是 240。",
        agreed=220.0,
        justification="两家重点客户的续约已进入最后阶段。We take the model's number plus two.",
        support=[
            SupportItem("headcount", "1 additional AE for Shanghai", 1, "HR"),
            SupportItem("budget", "Two trade shows and a webinar series", 50_000, "Marketing"),
        ],
        risks="一家关键客户的续约存在不确定性。",
        company_target=1200.0,
        version=1,
        previous_sha256=None,
        issued_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )
    return dataclasses.replace(content, **changes)


def signed(content: LetterContent, *roles: str) -> list[Signature]:
    """Valid signatures of content for the given roles."""
    sha = content_sha256(content)
    people = {"lead": ("Li Wei 李伟", "liwei"), "executive": ("Zhang Min 张敏", "zhangmin")}
    return [
        Signature(role, *people[role], datetime(2026, 11, 20, 9, 14, 3, tzinfo=UTC), sha)
        for role in roles
    ]


def pdf_text(data: bytes, tmp_path: Path, name: str = "letter.pdf") -> str:
    """Text of a PDF as pdftotext extracts it."""
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return out.stdout.decode("utf-8")


def page_count(data: bytes) -> int:
    """Number of pages in a PDF."""
    return len(PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(autouse=True)
def _no_logo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALIBRATE_LOGO", raising=False)


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    content = east()
    sigs = signed(content, "lead")
    return {lang: render_letter(content, sigs, lang) for lang in ("en", "zh")}


# --- content hash ----------------------------------------------------------------------


def test_hash_is_stable_and_hex() -> None:
    first, second = content_sha256(east()), content_sha256(east())
    assert first == second
    assert len(first) == 64 and int(first, 16) >= 0
    assert first == hashlib.sha256(canonical_json(east())).hexdigest()


def test_canonical_json_is_sorted_with_fixed_floats_and_utc_times() -> None:
    text = canonical_json(east()).decode("ascii")
    assert '"agreed":"220.000000"' in text
    assert '"issued_at":"2026-11-20T09:00:00.000000Z"' in text
    assert text.index('"agreed"') < text.index('"company"') < text.index('"version"')


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if value is None:
        return "a" * 64
    if isinstance(value, list):
        return value[:-1]
    raise AssertionError(f"no change rule for {type(value)}")


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(LetterContent)])
def test_hash_changes_when_any_field_changes(name: str) -> None:
    base = east()
    changed = dataclasses.replace(base, **{name: _changed(getattr(base, name))})
    assert content_sha256(changed) != content_sha256(base)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(SupportItem)])
def test_hash_changes_when_a_support_item_changes(name: str) -> None:
    base = east()
    item = base.support[1]
    new_value = "other" if name == "kind" else _changed(getattr(item, name))
    support = [base.support[0], dataclasses.replace(item, **{name: new_value})]
    assert content_sha256(dataclasses.replace(base, support=support)) != content_sha256(base)


def test_hash_ignores_how_numbers_and_times_are_typed() -> None:
    base = east()
    as_ints = dataclasses.replace(base, agreed=220, suggestion=218, company_target=1200)
    naive = dataclasses.replace(base, issued_at=datetime(2026, 11, 20, 9, 0))
    shifted = dataclasses.replace(
        base, issued_at=datetime(2026, 11, 20, 17, 0, tzinfo=timezone_plus(8))
    )
    assert content_sha256(as_ints) == content_sha256(base)
    assert content_sha256(naive) == content_sha256(base)
    assert content_sha256(shifted) == content_sha256(base)


def timezone_plus(hours: int) -> object:
    """A fixed UTC offset."""
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def test_hash_rejects_non_finite_figures_and_bad_kinds() -> None:
    with pytest.raises(ValueError):
        content_sha256(east(agreed=float("nan")))
    with pytest.raises(ValueError):
        SupportItem("car", "a car", 1, "Fleet")
    with pytest.raises(ValueError):
        Signature("hrbp", "A", "a", datetime(2026, 1, 1, tzinfo=UTC), "0" * 64)


def test_signature_matches_only_its_content() -> None:
    content = east()
    (sig,) = signed(content, "lead")
    assert signature_matches(sig, content)
    assert not signature_matches(sig, east(agreed=221))


# --- rendering -------------------------------------------------------------------------


def test_render_produces_a4_pdf_in_both_languages(rendered: dict[str, bytes]) -> None:
    for data in rendered.values():
        assert data.startswith(b"%PDF-")
        box = PdfReader(io.BytesIO(data)).pages[0].mediabox
        assert round(float(box.width)) == 595 and round(float(box.height)) == 842


@needs_poppler
def test_text_shows_agreed_number_region_and_title(
    rendered: dict[str, bytes], tmp_path: Path
) -> None:
    zh = pdf_text(rendered["zh"], tmp_path, "zh.pdf")
    en = pdf_text(rendered["en"], tmp_path, "en.pdf")
    assert "目标共识确认函" in zh
    assert "Target Consensus Letter" in en
    for text in (zh, en):
        assert "220" in text and "218" in text
        assert "华东区" in text
        assert "196 – 241" in text
        assert "#12" in text
        assert "+0.9%" in text
        assert "1,200" in text and "50,000" in text and "Marketing" in text
        assert content_sha256(east()) in text
        assert "python -m calibration letters verify FILE.pdf" in text
        assert "Signature / 签字" in text  # the executive has not signed yet
    assert "支持承诺" in zh and "风险说明" in zh and "Support commitments" in en
    assert "Page 1 of 2" in en or "Page 1 of 1" in en


@needs_poppler
def test_cjk_font_is_embedded(rendered: dict[str, bytes], tmp_path: Path) -> None:
    for lang, data in rendered.items():
        path = tmp_path / f"{lang}.pdf"
        path.write_bytes(data)
        out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
        rows = out.stdout.splitlines()[2:]
        assert rows, out.stdout
        cjk = [r for r in rows if "NotoSansCJK" in r or "WenQuanYi" in r.replace(" ", "")]
        assert cjk, out.stdout
        for row in rows:  # name type encoding emb sub uni id gen: every font embedded
            assert row.split()[-5] == "yes", row


def test_rendering_is_deterministic(rendered: dict[str, bytes]) -> None:
    content = east()
    assert render_letter(content, signed(content, "lead"), "zh") == rendered["zh"]
    assert render_letter(content, signed(content, "lead"), "en") == rendered["en"]


def test_rendering_is_deterministic_across_processes(rendered: dict[str, bytes]) -> None:
    script = (
        "import hashlib, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from test_letter_pdf import east, signed\n"
        "from calibration.letters.pdf.render import render_letter\n"
        "c = east(); print(hashlib.sha256(render_letter(c, signed(c, 'lead'), 'zh')).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == file_sha256(rendered["zh"])


def test_metadata_carries_title_date_and_content_hash(rendered: dict[str, bytes]) -> None:
    meta = PdfReader(io.BytesIO(rendered["zh"])).metadata
    assert meta is not None
    assert "目标共识确认函" in str(meta.title)
    assert meta.author == "Calibrate Demo SaaS Co."
    assert meta.creation_date is not None
    assert meta.creation_date.astimezone(UTC) == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert embedded_content_sha256(rendered["zh"]) == content_sha256(east())
    assert embedded_content_sha256(b"not a pdf") is None


def test_check_letter_reports_file_and_content_hashes(rendered: dict[str, bytes]) -> None:
    check = letter_pdf.check_letter(rendered["en"], east())
    assert check.file_sha256 == hashlib.sha256(rendered["en"]).hexdigest()
    assert check.declared_content_sha256 == content_sha256(east())
    assert check.content_matches is True
    assert letter_pdf.check_letter(rendered["en"], east(agreed=1.0)).content_matches is False
    assert letter_pdf.check_letter(rendered["en"]).content_matches is None
    assert letter_pdf.check_letter(b"junk").declared_content_sha256 is None


def test_different_content_gives_different_bytes(rendered: dict[str, bytes]) -> None:
    other = east(agreed=221.0)
    assert render_letter(other, [], "zh") != rendered["zh"]


@needs_poppler
def test_signatures_appear_with_time_and_hash(tmp_path: Path) -> None:
    content = east()
    text = pdf_text(render_letter(content, signed(content, "lead", "executive"), "en"), tmp_path)
    sha = content_sha256(content)
    assert "liwei" in text and "zhangmin" in text
    assert "Zhang Min 张敏" in text
    assert "2026-11-20 09:14:03" in text
    assert text.count("Signed electronically") == 2
    assert sha[:32] in text and sha[32:] in text
    assert "Signature / 签字" not in text


@needs_poppler
def test_signature_for_other_content_is_flagged(tmp_path: Path) -> None:
    stale = signed(east(agreed=200.0), "lead")
    text = pdf_text(render_letter(east(), stale, "en"), tmp_path)
    assert "does not confirm this version" in text.replace("\n", " ")


@needs_poppler
def test_long_justification_runs_over_several_pages(tmp_path: Path) -> None:
    long_text = "\n".join(
        f"第 {i} 段：华东区的客户续约与新客户拓展情况说明，包含行业、渠道和季节性因素。"
        f" Paragraph {i} explains renewals, new logos and seasonality in plain words."
        for i in range(150)
    )
    data = render_letter(east(justification=long_text), [], "zh")
    assert page_count(data) >= 4
    text = pdf_text(data, tmp_path)
    assert "第 149 段" in text
    assert "目标共识确认函" in text


HOSTILE = (
    "<script>alert('x')</script><b>bold?</b> {nb} **not markdown** "
    "emoji 😀👍🏽👨‍👩‍👧 flags 🇨🇳 arabic مرحبا بالعالم hebrew שלום "
    "nul\x00byte bell\x07 bidi\u202eoverride\u202c zero\u200bwidth lone\ud800surrogate "
    "tab\tend\r\nwindows line"
)


@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_text_renders_without_crash(
    lang: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    huge = "长" * 10_000 + "x" * 10_000
    content = east(
        company="ACME <img src=x onerror=alert(1)> 😀 " + "C" * 400,
        region_name_en="East 🌏 " + "E" * 300,
        region_name_zh="华东区 مرحبا",
        lead_name="Li\x00 Wei 👍 " + "L" * 500,
        justification=HOSTILE + "\n" + huge,
        risks=HOSTILE * 50,
        model_reason_en=HOSTILE,
        model_reason_zh=HOSTILE,
        metric_unit="个 😀",
        support=[
            SupportItem("other", HOSTILE + "y" * 20_000, None, "Owner 😀 " + "O" * 400),
            SupportItem("budget", "", 1e12 + 0.25, ""),
        ],
        previous_sha256="<b>not-a-hash</b>",
    )
    sigs = [
        Signature("lead", "Li\x00 Wei 👍", "li<script>", datetime(2026, 1, 1), "f" * 64),
        Signature("executive", "x" * 1000, "u" * 1000, datetime(2026, 1, 2, tzinfo=UTC), "zz"),
    ]
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        data = render_letter(content, sigs, lang)
    assert "missing the following glyphs" not in caplog.text  # no tofu boxes
    assert page_count(data) >= 5
    text = pdf_text(data, tmp_path)
    assert "\x00" not in text
    assert "<script>alert('x')</script>" in text  # shown literally, never interpreted
    assert "**not markdown**" in text
    assert "{nb}" in text  # user text cannot reach the page-count alias
    assert "长长长长" in text and "xxxx" in text
    assert "?" in text  # emoji and Arabic replaced by the fallback glyph
    assert "😀" not in text and "مرحبا" not in text


@needs_poppler
def test_characters_outside_the_common_set_still_render(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 喆 and 堃 are common in names but not in GB2312: they take the exact-subset path.
    content = east(lead_name="王喆", executive_name="李堃", region_name_zh="华东区·𠀀")
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        data = render_letter(content, [], "zh")
    assert "missing the following glyphs" not in caplog.text
    text = pdf_text(data, tmp_path)
    assert "王喆" in text and "李堃" in text
    assert data == render_letter(content, [], "zh")


def test_clean_text_rules() -> None:
    renderable = frozenset(range(0x20, 0x7F)) | {ord("华")}
    assert clean_text("a\x00b\x07c", renderable) == "abc"
    assert clean_text("x😀👍🏽y", renderable) == "x?y"
    assert clean_text("a\tb\r\nc", renderable) == "a    b\nc"
    assert clean_text("lone\ud800", renderable) == "lone"
    assert clean_text("华" * 10, renderable, limit=5) == "华华华华…"
    assert clean_text(None, renderable) == ""


def test_wrap_keeps_english_words_and_breaks_chinese_anywhere() -> None:
    def measure(token: str) -> float:
        return float(len(token))

    lines = wrap_text("the quick brown fox jumps", 10, measure)
    assert lines == ["the quick", "brown fox", "jumps"]
    assert wrap_text("一二三四五六七八九十一二", 5, measure) == ["一二三四五", "六七八九十", "一二"]
    # Closing punctuation stays with the character before it.
    assert wrap_text("一二三四五。六", 5, measure) == ["一二三四", "五。六"]
    assert wrap_text("一二三四（五六", 5, measure) == ["一二三四", "（五六"]
    assert wrap_text("x" * 12, 5, measure) == ["xxxxx", "xxxxx", "xx"]
    assert wrap_text("a\n\nb", 5, measure) == ["a", "", "b"]


def test_format_number() -> None:
    assert format_number(1200) == "1,200"
    assert format_number(218.0) == "218"
    # A count metric's suggestion is a whole number (the letter said "124.09", issue 15).
    assert format_number(124.09) == "124"
    assert format_number(124.09, "count") == "124"
    assert format_number(12.5, "CNY") == "12.5"
    assert format_number(98.57, "%") == "98.6%"


def test_letter_filename_is_safe() -> None:
    assert letter_filename(east(region="../east/西"), "zh") == "letter-c3-east-v1-zh.pdf"


def test_logo_is_drawn_and_a_broken_logo_falls_back(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (240, 80), (31, 58, 95)).save(logo)
    content = east()
    with_logo = render_letter(content, [], "en", logo_path=str(logo))
    without = render_letter(content, [], "en")
    assert with_logo != without
    assert b"/Subtype /Image" in with_logo
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert render_letter(content, [], "en", logo_path=str(broken)) == without


def test_logo_setting_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    logo = tmp_path / "logo.jpg"
    Image.new("RGB", (100, 100), (200, 30, 30)).save(logo)
    monkeypatch.setenv("CALIBRATE_LOGO", str(logo))
    assert b"/Subtype /Image" in render_letter(east(), [], "zh")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        render_letter(east(), [], "fr")


def test_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letter_pdf, "NOTO_DIRS", (Path("/nonexistent/noto"),))
    monkeypatch.setattr(letter_pdf, "WQY_FILES", (Path("/nonexistent/wqy.ttc"),))
    letter_pdf.find_cjk_font.cache_clear()
    try:
        with pytest.raises(CjkFontMissingError, match="fonts-noto-cjk"):
            letter_pdf.find_cjk_font()
    finally:
        letter_pdf.find_cjk_font.cache_clear()


@needs_poppler
@pytest.mark.skipif(
    not letter_pdf.WQY_FILES[0].is_file(), reason="fonts-wqy-microhei not installed"
)
def test_wenquanyi_is_the_fallback_font(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(letter_pdf, "NOTO_DIRS", (Path("/nonexistent/noto"),))
    letter_pdf.find_cjk_font.cache_clear()
    try:
        assert letter_pdf.find_cjk_font().name == "WenQuanYi Micro Hei"
        data = render_letter(east(), [], "zh")
    finally:
        letter_pdf.find_cjk_font.cache_clear()
    path = tmp_path / "wqy.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "WenQuanYi" in fonts.stdout.replace(" ", "") and " yes " in fonts.stdout
    text = pdf_text(data, tmp_path)
    assert "目标共识确认函" in text and "华东区" in text


def test_font_cache_refuses_a_folder_others_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("CALIBRATE_FONT_CACHE", str(shared))
    letter_pdf._cache_dir.cache_clear()
    chosen = shared
    try:
        chosen = letter_pdf._cache_dir()
        assert chosen != shared
        assert chosen.stat().st_mode & 0o077 == 0
        private = tmp_path / "private"
        monkeypatch.setenv("CALIBRATE_FONT_CACHE", str(private))
        letter_pdf._cache_dir.cache_clear()
        assert letter_pdf._cache_dir() == private
    finally:
        letter_pdf._cache_dir.cache_clear()
        shutil.rmtree(chosen, ignore_errors=True)


def test_old_per_letter_fonts_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(letter_pdf, "MAX_DOC_FONTS", 2)
    for i in range(4):
        path = tmp_path / f"Noto-2-doc-{i}.otf"
        path.write_bytes(b"x")
        os.utime(path, (1000 + i, 1000 + i))
    (tmp_path / "Noto-2-base-x.otf").write_bytes(b"x")
    letter_pdf._prune_doc_fonts(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Noto-2-base-x.otf",
        "Noto-2-doc-2.otf",
        "Noto-2-doc-3.otf",
    ]


def test_font_resolution_picks_simplified_chinese() -> None:
    font = letter_pdf.find_cjk_font()
    if "Noto" in font.name:
        assert font.regular.index == 2 and font.bold.index == 2
        assert font.regular.path.name == "NotoSansCJK-Regular.ttc"


# --- zip -------------------------------------------------------------------------------


def test_zip_letters_is_deterministic_and_complete(rendered: dict[str, bytes]) -> None:
    files = {
        letter_filename(east(), "zh"): rendered["zh"],
        letter_filename(east(), "en"): rendered["en"],
    }
    first = zip_letters(files)
    assert first == zip_letters(dict(reversed(list(files.items()))))
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == sorted(files)
        for name, data in files.items():
            assert archive.read(name) == data
            assert archive.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)


@pytest.mark.parametrize("name", ["../evil.pdf", "/etc/passwd", "", "a/../b.pdf"])
def test_zip_letters_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError):
        zip_letters({name: b"x"})


def test_a_font_is_built_once_however_many_ask_at_the_same_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a fresh machine every server thread and process rendering its first letter asks
    for the same base font (~20 s of CPU): one builds it, the others wait and reuse it."""
    import threading

    monkeypatch.setenv("CALIBRATE_FONT_CACHE", str(tmp_path / "fonts"))
    letter_pdf._cache_dir.cache_clear()
    builds: list[Path] = []
    real = letter_pdf._subset_to_file
    gate = threading.Barrier(4)

    def counted(face, chars, target):
        builds.append(target)
        real(face, chars, target)

    monkeypatch.setattr(letter_pdf, "_subset_to_file", counted)
    face = letter_pdf.find_cjk_font().regular
    chars = frozenset(map(ord, "东区目标"))
    found: list[Path] = []

    def ask() -> None:
        gate.wait()
        found.append(letter_pdf._derived_font(face, chars, "doc"))

    try:
        threads = [threading.Thread(target=ask) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        # Another process holding the folder's lock keeps this one from building.
        import fcntl

        again = frozenset(map(ord, "南区"))
        with open(tmp_path / "fonts" / ".build.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            waiter = threading.Thread(
                target=lambda: found.append(letter_pdf._derived_font(face, again, "doc"))
            )
            waiter.start()
            waiter.join(timeout=1.0)
            assert waiter.is_alive(), "built while another process held the lock"
            fcntl.flock(lock, fcntl.LOCK_UN)
        waiter.join()
    finally:
        letter_pdf._cache_dir.cache_clear()
    assert len(builds) == 2 and len(set(found)) == 2 and len(found) == 5
    assert all(p.is_file() for p in found)
