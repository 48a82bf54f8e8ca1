"""Render a consensus letter as a PDF (A4, English or Chinese) with fpdf2.

Every piece of text, English labels included, is set in an embedded CJK font (Noto Sans CJK
SC, or WenQuanYi Micro Hei), because names, region names and justifications may be Chinese
in either language version. The output is deterministic: the same content, signatures,
language and logo give the same bytes, so an archived file's SHA-256 can be re-derived.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import logging
import os
import re
import struct
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fontTools import subset as ft_subset
from fontTools import ttLib
from fontTools.cffLib import (
    FontDictCompiler,
    IndexedStrings,
    PrivateDictCompiler,
    TopDictCompiler,
    calcOffSize,
    encodeNumber,
)
from fpdf import FPDF, FontFace
from fpdf import fpdf as fpdf_module
from fpdf.enums import Align, TableBordersLayout, TextEmphasis, WrapMode, XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.line_break import (
    BREAKING_SPACE_SYMBOLS_STR,
    FORM_FEED,
    NBSP,
    NEWLINE,
    SOFT_HYPHEN,
    Fragment,
    MultiLineBreak,
    TextLine,
)
from fpdf.util import FloatTolerance

from calibration import numbers, settings
from calibration.i18n import catalog, t
from calibration.letters.content import LetterContent, Signature, content_sha256, utc_iso

log = logging.getLogger(__name__)

# --- fonts -----------------------------------------------------------------------------

NOTO_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/local/share/fonts"),
)
WQY_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)
NOTO_SC_FAMILY = "Noto Sans CJK SC"
# Face 2 is Simplified Chinese in the Debian/Adobe ordering (JP, KR, SC, TC, HK); the
# family name is checked first in case a packager reorders the collection.
NOTO_SC_DEFAULT_INDEX = 2
# Part of the cache key of derived fonts: bump when the base character set changes.
FONT_CACHE_VERSION = "2"


class CjkFontMissingError(RuntimeError):
    """No font able to render Chinese is installed."""


@dataclass(frozen=True)
class FontFile:
    """One face of a font file: path and index inside a collection (0 for plain files)."""

    path: Path
    index: int


@dataclass(frozen=True)
class CjkFont:
    """The regular and bold faces used for letters, and a human-readable name."""

    name: str
    regular: FontFile
    bold: FontFile


def _face_index(path: Path, family: str, default: int) -> int:
    try:
        collection = ttLib.TTCollection(str(path), lazy=True)
    except Exception:  # noqa: BLE001 - a plain .ttf/.otf is not a collection
        return 0
    for index, face in enumerate(collection.fonts):
        names = {str(rec) for rec in face["name"].names if rec.nameID in (1, 16)}
        if family in names:
            return index
    return default


@cache
def find_cjk_font() -> CjkFont:
    """The installed CJK font for letters: Noto Sans CJK SC, else WenQuanYi Micro Hei."""
    for folder in NOTO_DIRS:
        regular = folder / "NotoSansCJK-Regular.ttc"
        if regular.is_file():
            bold = folder / "NotoSansCJK-Bold.ttc"
            reg_face = FontFile(
                regular, _face_index(regular, NOTO_SC_FAMILY, NOTO_SC_DEFAULT_INDEX)
            )
            bold_face = (
                FontFile(bold, _face_index(bold, NOTO_SC_FAMILY, NOTO_SC_DEFAULT_INDEX))
                if bold.is_file()
                else reg_face
            )
            return CjkFont(NOTO_SC_FAMILY, reg_face, bold_face)
    for path in WQY_FILES:
        if path.is_file():
            # Micro Hei has no bold face; headings then rely on size and colour alone.
            face = FontFile(path, 0)
            return CjkFont("WenQuanYi Micro Hei", face, face)
    looked = ", ".join(str(p) for p in (*NOTO_DIRS, *WQY_FILES))
    raise CjkFontMissingError(
        "No Chinese-capable font found for consensus letters (looked in "
        f"{looked}). Install the Debian package fonts-noto-cjk "
        "(apt-get install fonts-noto-cjk), or fonts-wqy-microhei as a fallback."
    )


@cache
def _face_cmap(face: FontFile) -> frozenset[int]:
    font = ttLib.TTFont(str(face.path), fontNumber=face.index, lazy=True)
    return frozenset(font.getBestCmap() or ())


@cache
def _renderable(font: CjkFont) -> frozenset[int]:
    """Characters both faces draw (a set of ~65,000, built once per process)."""
    return _face_cmap(font.regular) & _face_cmap(font.bold)


@cache
def _label_chars() -> frozenset[int]:
    chars: set[int] = set()
    for key, texts in catalog().items():
        if key.startswith("letters."):
            for text in texts.values():
                chars.update(ord(c) for c in text)
    return frozenset(chars)


@cache
def _base_chars() -> frozenset[int]:
    # What nearly every letter needs: Latin, punctuation, symbols and the GB2312 set
    # (6,763 common hanzi). A letter using a character outside it gets an exact subset.
    chars: set[int] = set(range(0x20, 0x250))
    for lo, hi in (
        (0x2000, 0x206F),
        (0x20A0, 0x20CF),
        (0x2100, 0x214F),
        (0x2190, 0x21FF),
        (0x2200, 0x22FF),
        (0x2460, 0x24FF),
        (0x25A0, 0x25FF),
        (0x3000, 0x303F),
        (0xFF00, 0xFFEF),
    ):
        chars.update(range(lo, hi + 1))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.update(ord(c) for c in bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars | _label_chars())


def _subset_to_file(face: FontFile, chars: Iterable[int], target: Path) -> None:
    font = ttLib.TTFont(str(face.path), fontNumber=face.index, lazy=True, recalcTimestamp=False)
    options = ft_subset.Options()
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.layout_features = []
    # Flattened charstrings make fpdf2's per-letter subsetting ~3x cheaper (no subroutine
    # calls to interpret), for a base file only ~2% larger.
    options.desubroutinize = True
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "BASE", "JSTF", "vhea", "vmtx"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(set(chars) & _face_cmap(face)))
    subsetter.subset(font)
    # Write then rename, so a concurrent renderer (thread or process) never reads a
    # half-written font.
    handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            font.save(out)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


@cache
def _cache_dir() -> Path:
    """The font cache folder, private to this user; a fresh private one if not safe."""
    folder = settings.font_cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
        # Fonts from here are embedded in signed letters: never trust a folder another
        # user could have created or can write to (a shared /tmp, for instance).
        if info.st_uid == os.getuid() and not info.st_mode & 0o022:
            return folder
        log.warning("font cache %s is not private to this user; using a private one", folder)
    except OSError as exc:
        log.warning("font cache %s unusable (%s); using a private one", folder, exc)
    return Path(tempfile.mkdtemp(prefix="calibrate-fonts-"))


MAX_DOC_FONTS = 512  # exact subsets for unusual letters; the oldest are dropped beyond this


def _prune_doc_fonts(folder: Path) -> None:
    docs = sorted(folder.glob("*-doc-*"), key=lambda p: p.stat().st_mtime)
    for old in docs[: max(0, len(docs) - MAX_DOC_FONTS)]:
        old.unlink(missing_ok=True)


def _derived_font(face: FontFile, chars: frozenset[int], tag: str) -> Path:
    stat = face.path.stat()
    key = hashlib.sha256(
        f"{face.path}|{face.index}|{stat.st_size}|{stat.st_mtime_ns}|{FONT_CACHE_VERSION}|"
        f"{tag}|{','.join(map(str, sorted(chars)))}".encode()
    ).hexdigest()[:24]
    is_cff = "CFF " in ttLib.TTFont(str(face.path), fontNumber=face.index, lazy=True)
    folder = _cache_dir()
    target = folder / f"{face.path.stem}-{face.index}-{tag}-{key}{'.otf' if is_cff else '.ttf'}"
    if not target.is_file():
        with _building(folder):
            # Another process may have built it while this one waited for the lock.
            if not target.is_file():
                _subset_to_file(face, chars, target)
                if tag == "doc":
                    _prune_doc_fonts(folder)
    return target


@contextlib.contextmanager
def _building(folder: Path):
    """Hold the cache folder's build lock: one process builds a font, the others wait.

    A base font takes ~20 s of CPU; without the lock, every server and worker that renders
    its first letter at the same moment (a fresh machine) builds the same file.
    """
    with open(folder / ".build.lock", "a+b") as lock, _thread_build_lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# flock is per open file, not per thread: threads of one process queue here first.
_thread_build_lock = threading.Lock()


@cache
def _base_font(face: FontFile) -> Path:
    return _derived_font(face, _base_chars(), "base")


def warm_fonts() -> None:
    """Build the cached base fonts now (the first build takes seconds, later ones are free)."""
    font = find_cjk_font()
    _base_font(font.regular)
    _base_font(font.bold)


# Characters the layout itself adds (placeholders, ellipses, separators, digits).
_LAYOUT_CHARS = frozenset(range(0x20, 0x7F)) | frozenset(map(ord, "—–…·：，（）"))


def _font_files(font: CjkFont, used: frozenset[int]) -> tuple[Path, Path]:
    # Parsing and subsetting the full 20 MB collection costs about a second per face and
    # letter; a cached subset of the common characters makes a letter ~8x cheaper.
    if used <= _base_chars():
        return _base_font(font.regular), _base_font(font.bold)
    needed = frozenset(used | _label_chars() | _LAYOUT_CHARS)
    return (
        _derived_font(font.regular, needed, "doc"),
        _derived_font(font.bold, needed, "doc"),
    )


# --- per-process font objects ------------------------------------------------------------
# fpdf2 parses a font file on every add_font (cmap and widths of ~7,500 glyphs) and, on
# output, subsets it with fontTools (interpreting every used glyph's charstring twice and
# re-serialising the file twice). Both depend only on the file, so each file is parsed once
# per process and each letter gets a cheap per-document copy; for CID-keyed CFF fonts (Noto
# CJK) the embedded subset is assembled from a template compiled once per file (_CffTemplate),
# copying the used glyphs' charstrings byte for byte (the base fonts are desubroutinized, so
# each glyph's charstring stands alone). Profiled before (cProfile, 20 letters): fontTools'
# compile of each subset (every font and private dict recompiled on each layout pass) and
# its Subsetter walking all 8,000 glyphs were a quarter of a letter's CPU; fpdf2 breaking
# already wrapped lines character by character was another quarter (_PrewrappedLineBreak).

_FONT_LOCK = threading.Lock()
# The operands a subset's dictionaries point with: filled in per subset.
_OFFSET_KEYS = frozenset(("charset", "FDSelect", "CharStrings", "FDArray", "Private"))


def _cff_index(items: list[bytes]) -> bytes:
    """A CFF INDEX of items (count, offset size, offsets, data), as fontTools writes one."""
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = calcOffSize(offsets[-1])
    if size == 3:
        packed = b"".join(struct.pack(">L", offset)[1:] for offset in offsets)
    else:
        packed = struct.pack(f">{len(offsets)}{' BH L'[size]}", *offsets)
    return struct.pack(">HB", len(items), size) + packed + b"".join(items)


def _cid_charset(cids: list[int]) -> bytes:
    """The charset of the glyphs after .notdef: fontTools' smaller of format 0 and 1/2."""
    listed = b"\x00" + struct.pack(f">{len(cids)}H", *cids)
    # Ranges as fontTools' packCharset makes them (its `if end` test included).
    ranges: list[tuple[int, int]] = []
    first: int | None = None
    end = 0
    for cid in cids:
        if first is None:
            first = cid
        elif end + 1 != cid:
            ranges.append((first, end - first))
            first = cid
        end = cid
    if end:
        assert first is not None
        ranges.append((first, end - first))
    wide = any(left > 255 for _, left in ranges)
    entry = ">HH" if wide else ">HB"
    ranged = bytes((2 if wide else 1,)) + b"".join(struct.pack(entry, *r) for r in ranges)
    return ranged if len(ranged) < len(listed) else listed


def _fd_select(fds: list[int]) -> bytes:
    """FDSelect of the glyphs: fontTools' smaller of format 0 and format 3."""
    listed = b"\x00" + bytes(fds)
    starts = [(gid, fd) for gid, fd in enumerate(fds) if gid == 0 or fds[gid - 1] != fd]
    ranged = b"".join(
        (
            struct.pack(">BH", 3, len(starts)),
            b"".join(struct.pack(">HB", gid, fd) for gid, fd in starts),
            struct.pack(">H", len(fds)),
        )
    )
    return listed if len(listed) < len(ranged) else ranged


def _dict_entries(compiler: Any) -> tuple[tuple[str, bytes], ...]:
    """A fontTools dict compiler's entries in file order, each compiled alone (operands, op).

    Compiling them in order allocates the string ids (SIDs) as a whole compile would.
    """
    raw = compiler.rawDict
    entries = []
    for name in compiler.dictObj.order:
        if name in raw:
            compiler.rawDict = {name: raw[name]}
            entries.append((name, compiler.compile("entry")))
    compiler.rawDict = raw
    return tuple(entries)


def _dict_bytes(
    entries: tuple[tuple[str, bytes], ...], ops: dict[str, bytes], values: dict[str, Any]
) -> bytes:
    """A dict from precompiled entries, with the offsets (and Private's size) of values."""
    out = []
    for name, data in entries:
        if name in values:
            value = values[name]
            args = value if isinstance(value, tuple) else (value,)
            out.append(b"".join(encodeNumber(arg) for arg in args) + ops[name])
        else:
            out.append(data)
    return b"".join(out)


@dataclass(frozen=True)
class _CffTemplate:
    """A CID-keyed CFF compiled once, less what a subset changes (charset, FDSelect, glyphs).

    A subset keeps every font dict and private dict of the file (so FDSelect values stay
    valid), and copies the used glyphs' charstrings byte for byte: the base fonts are
    desubroutinized, so each glyph's charstring stands alone. `subset` lays the parts out
    as fontTools' CFFFontSet.compile does, to the byte (tests compare the two).
    """

    head: bytes  # major, minor, header size (the offset size byte follows)
    names: bytes  # Name INDEX
    strings: bytes  # String INDEX
    global_subrs: bytes  # Global Subr INDEX (empty)
    top: tuple[tuple[str, bytes], ...]
    top_ops: dict[str, bytes]
    font_dicts: tuple[tuple[tuple[str, bytes], ...], ...]
    font_dict_ops: dict[str, bytes]
    privates: tuple[bytes, ...]
    charstrings: tuple[bytes, ...]  # by glyph id in the file
    fd_select: tuple[int, ...]  # by glyph id in the file
    glyph_names: tuple[str, ...]  # by glyph id in the file

    @classmethod
    def build(cls, cff: Any) -> _CffTemplate:
        """The template of a parsed CID-keyed CFF font set with no subroutines."""
        top = cff.topDictIndex[0]
        strings = IndexedStrings()
        top_compiler = TopDictCompiler(top, strings, None, isCFF2=False)
        top_entries = _dict_entries(top_compiler)
        fd_compilers = [FontDictCompiler(fd, strings, None, isCFF2=False) for fd in top.FDArray]
        font_dicts = tuple(_dict_entries(compiler) for compiler in fd_compilers)
        privates = tuple(
            PrivateDictCompiler(fd.Private, strings, None, isCFF2=False).compile("template")
            for fd in top.FDArray
        )
        index = top.CharStrings.charStringsIndex
        charstrings = []
        for gid in range(len(index)):
            charstring = index[gid]
            charstring.compile()  # a no-op on a charstring read from the file
            charstrings.append(bytes(charstring.bytecode))
        return cls(
            head=struct.pack(">BBB", cff.major, cff.minor, 4),
            names=_cff_index([name.encode("latin1") for name in cff.fontNames]),
            strings=_cff_index([s.encode("latin1") for s in strings.strings]),
            global_subrs=_cff_index([]),
            top=top_entries,
            top_ops={
                name: top_compiler.opcodes[name][0]
                for name in _OFFSET_KEYS & set(top_compiler.opcodes)
            },
            font_dicts=font_dicts,
            font_dict_ops={"Private": fd_compilers[0].opcodes["Private"][0]}
            if fd_compilers
            else {},
            privates=privates,
            charstrings=tuple(charstrings),
            fd_select=tuple(top.FDSelect[gid] for gid in range(len(index))),
            glyph_names=tuple(top.charset),
        )

    def subset(self, gids: list[int]) -> bytes:
        """The CFF of the glyphs gids (ascending, starting with 0 for .notdef)."""
        charset = _cid_charset([int(self.glyph_names[gid][3:]) for gid in gids[1:]])
        fd_select = _fd_select([self.fd_select[gid] for gid in gids])
        glyphs = _cff_index([self.charstrings[gid] for gid in gids])
        # Offsets start as fontTools' placeholders and settle as its CFFWriter's do: each
        # pass lays out with the previous pass's offsets until no position moves.
        offsets: dict[str, Any] = dict.fromkeys(
            ("charset", "FDSelect", "CharStrings", "FDArray"), 0
        )
        privates: list[tuple[int, int]] = [(0, 0)] * len(self.privates)
        last: list[int] | None = None
        while True:
            top = _dict_bytes(self.top, self.top_ops, offsets)
            fds = [
                _dict_bytes(entries, self.font_dict_ops, {"Private": private})
                for entries, private in zip(self.font_dicts, privates, strict=True)
            ]
            pos = len(self.head) + 1 + len(self.names)
            positions = [pos]
            pos += len(_cff_index([top]))
            positions.append(pos)
            pos += len(self.strings) + len(self.global_subrs)
            positions.append(pos)
            for key, part in (
                ("charset", charset),
                ("FDSelect", fd_select),
                ("CharStrings", glyphs),
            ):
                offsets[key] = pos
                pos += len(part)
            offsets["FDArray"] = pos
            pos += len(_cff_index(fds))
            positions.append(pos)
            for i, private in enumerate(self.privates):
                privates[i] = (len(private), pos)
                pos += len(private)
            positions.append(pos)
            if positions == last:
                break
            last = positions
        return b"".join(
            (
                self.head,
                bytes((calcOffSize(pos),)),
                self.names,
                _cff_index([top]),
                self.strings,
                self.global_subrs,
                charset,
                fd_select,
                glyphs,
                _cff_index(fds),
                *self.privates,
            )
        )


@dataclass
class _ParsedFont:
    """A font file parsed once: fpdf2's metrics, and a CFF template for fast subsets."""

    proto: TTFFont
    cff: _CffTemplate | None  # None when not a CID-keyed CFF font without subroutines
    gid: dict[str, int]  # glyph name -> glyph id in the file


@cache
def _parsed_font(path: Path) -> _ParsedFont:
    """Parse a (cached, derived) font file once per process."""
    with _FONT_LOCK:
        proto = TTFFont(FPDF(), path, "cjk", "")
        template = None
        if proto.is_cff and proto.is_cid_keyed and "CFF " in proto.ttfont:
            cff = proto.ttfont["CFF "].cff
            top = cff.topDictIndex[0]
            # Every glyph flattened (no subroutines): only then is a byte copy a whole glyph.
            no_subrs = not len(cff.GlobalSubrs) and all(
                not getattr(fd.Private, "Subrs", None) for fd in top.FDArray
            )
            if no_subrs and hasattr(top, "FDSelect") and len(cff.topDictIndex) == 1:
                template = _CffTemplate.build(cff)
        order = proto.ttfont.getGlyphOrder()
        return _ParsedFont(proto, template, {name: i for i, name in enumerate(order)})


class _LetterTTFFont(TTFFont):
    """fpdf2's TTFFont with a cheaper text width (line breaking measures every prefix)."""

    __slots__ = ()

    def get_text_width(
        self, text: str, font_size_pt: float, text_shaping_params: dict[str, Any] | None
    ) -> tuple[int, float]:
        """Same result as TTFFont.get_text_width, summed without a generator."""
        if text_shaping_params or self.is_symbol:
            return super().get_text_width(text, font_size_pt, text_shaping_params)
        if font_size_pt > self.biggest_size_pt:
            self.biggest_size_pt = font_size_pt
        # cw is a defaultdict: __getitem__ gives the default width to unknown characters.
        return len(text), sum(map(self.cw.__getitem__, map(ord, text))) * font_size_pt * 0.001


# Characters after which fpdf2's line breaker does more than append (break hints, NBSP
# turned into a space, soft hyphens, form feeds): a line holding one takes its full path.
_BREAK_SPECIALS = frozenset(BREAKING_SPACE_SYMBOLS_STR + NBSP + SOFT_HYPHEN + FORM_FEED) - {" "}
# Headroom below the line's width limit for the short cut: far above float noise, far
# below the 0.3 mm our own wrapping leaves.
_FIT_MARGIN = 1e-6


class _PrewrappedLineBreak(MultiLineBreak):
    """fpdf2's line breaker, with a short cut for a letter's text, which arrives wrapped.

    multi_cell (and each table cell, twice) breaks text character by character, measuring
    the growing line at every character. A letter's text is already broken into lines
    that fit (`wrap`), so for one plain fragment in a letter font the next line is the text
    up to the next newline: the same TextLine the full path builds (fragments, width,
    spaces, height, alignment), checked to fit first. Anything else takes the full path.
    """

    def get_line(self) -> TextLine | None:
        """The next line: by the short cut when it surely applies, else fpdf2's way."""
        line = self._prewrapped_line()
        return super().get_line() if line is None else line

    def _prewrapped_line(self) -> TextLine | None:
        if (
            self.fragment_index != 0
            or len(self.fragments) != 1
            or self.skip_leading_spaces
            or self.first_line_indent
        ):
            return None
        fragment = self.fragments[0]
        if (
            type(fragment) is not Fragment
            or not isinstance(fragment.font, _LetterTTFFont)
            or fragment.char_spacing
            or fragment.font_stretching != 100
            or fragment.text_shaping_parameters
            or not FloatTolerance.greater_than(fragment.font_size, 0)
        ):
            return None
        chars = fragment.characters
        start = self.character_index
        if start >= len(chars):
            return None
        try:
            end = chars.index(NEWLINE, start)
        except ValueError:
            end = len(chars)
        text = chars[start:end]
        if not _BREAK_SPECIALS.isdisjoint(text):
            return None
        font_height = fragment.font_size
        max_width = self.get_width(font_height)
        room = max_width
        for margin in self.margins:
            room -= float(margin)
        content = fragment.clone(characters=text, link=fragment.link) if text else None
        width = content.get_width(initial_cs=False) if content is not None else 0
        if width + _FIT_MARGIN >= room or (end == len(chars) and not width):
            return None
        self.idx_last_forced_break = None
        self._is_first_line = False
        if end < len(chars):
            self.character_index = end + 1
        else:
            self.fragment_index, self.character_index = 1, 0
        return TextLine(
            fragments=[content] if content is not None else [],
            text_width=width,
            number_of_spaces=text.count(" "),
            align=Align.L if self.align == Align.J else self.align,
            height=font_height * self.line_height,
            max_width=max_width,
            trailing_nl=end < len(chars),
        )


# multi_cell looks its line breaker up in its module at each call; only fragments in a
# letter font take the short cut, so other documents keep fpdf2's behaviour.
fpdf_module.MultiLineBreak = _PrewrappedLineBreak


def _add_cached_font(pdf: FPDF, family: str, style: str, path: Path) -> None:
    """FPDF.add_font from the per-process parse: the same TTFFont, with per-document state."""
    parsed = _parsed_font(path)
    fontkey = f"{family.lower()}{style}"
    font = copy.copy(parsed.proto)
    font.__class__ = _LetterTTFFont
    font.i = len(pdf.fonts) + 1
    font.fontkey = fontkey
    font.emphasis = TextEmphasis.coerce(style)
    # fpdf2 numbers the descriptor and attaches the font file to it at output.
    font.desc = copy.copy(parsed.proto.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None  # noqa: SLF001 - per document, like TTFFont.__init__
    # Output subsets (mutates) the fontTools object: each document opens its own, lazily.
    font.subset = SubsetMap(font)
    font.ttfont = (
        _FastSubsetFont(parsed, font.subset.get_all_glyph_names)
        if parsed.cff is not None
        else ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    )
    pdf.fonts[fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        pdf._set_min_pdf_version("1.6")  # noqa: SLF001 - what FPDF.add_font does


def _cff_subset(parsed: _ParsedFont, names: list[str]) -> tuple[bytes, dict[str, int]]:
    """A CFF table with .notdef and the named glyphs (file order), and their new glyph ids."""
    assert parsed.cff is not None
    gids = sorted({0, *(parsed.gid[name] for name in names if name in parsed.gid)})
    kept = [parsed.cff.glyph_names[gid] for gid in gids]
    return parsed.cff.subset(gids), {name: i for i, name in enumerate(kept)}


class _FastSubsetFont(ttLib.TTFont):
    """The fontTools object fpdf2's output subsets, for a CID-keyed CFF font parsed once.

    fpdf2 (2.8.x, OutputProducer._add_fonts) runs fontTools' Subsetter on it, asks the
    subset's glyph ids, saves it (a result it then discards for CID CFF fonts) and embeds
    `font["CFF "].compile(font)`. Here the Subsetter sees a font with no tables (nothing
    to do), and the CFF table is a precompiled subset of the glyphs fpdf2 asked for.
    """

    def __init__(self, parsed: _ParsedFont, wanted: Callable[[], Iterable[str]]) -> None:
        super().__init__()
        self._parsed = parsed
        self._wanted = wanted
        self._names: list[str] = []
        self._subset: tuple[bytes, dict[str, int]] | None = None

    def setGlyphOrder(self, glyphOrder: list[str]) -> None:  # noqa: N802, N803 - fontTools API
        """The Subsetter's result: the glyphs to keep."""
        self._names = list(glyphOrder)
        self._subset = None

    def getGlyphOrder(self) -> list[str]:  # noqa: N802 - fontTools API
        """Before subsetting, the glyphs the document uses in file order; after it, the kept ones.

        The Subsetter keeps the requested glyphs that the order lists, in its order: the
        same result as from the whole file's 8,000 glyphs, without walking them per letter.
        """
        if self._names:
            return self._names
        gid = self._parsed.gid
        return sorted({name for name in self._wanted() if name in gid}, key=gid.__getitem__)

    def getReverseGlyphMap(self, rebuild: bool = False) -> dict[str, int]:  # noqa: N802, FBT001, FBT002 - fontTools API
        """Glyph name -> position in getGlyphOrder (what the Subsetter indexes it with)."""
        return {name: i for i, name in enumerate(self.getGlyphOrder())}

    def _built(self) -> tuple[bytes, dict[str, int]]:
        if self._subset is None:
            self._subset = _cff_subset(self._parsed, self._names)
        return self._subset

    def getGlyphID(self, glyphName: str) -> int:  # noqa: N802, N803 - fontTools API
        """Glyph id of a kept glyph in the embedded subset."""
        return self._built()[1][glyphName]

    def __contains__(self, tag: object) -> bool:
        # Only once the glyphs are chosen: the Subsetter must not see a CFF table to subset.
        return tag == "CFF " and bool(self._names)

    def __getitem__(self, tag: str) -> Any:
        if tag == "CFF " and self._names:
            return _PrecompiledCff(self._built()[0])
        raise KeyError(tag)

    def save(self, file: Any, reorderTables: bool | None = True) -> None:  # noqa: N803
        """Nothing: fpdf2 embeds only the CFF table of a CID-keyed CFF font."""

    def close(self) -> None:
        """Nothing to close: no file was opened."""


@dataclass
class _PrecompiledCff:
    """Stands in for the CFF table: compile() returns the prepared bytes."""

    data: bytes

    def compile(self, font: Any) -> bytes:
        """The subset CFF, already compiled."""
        return self.data


# --- text hygiene ----------------------------------------------------------------------

FALLBACK_GLYPH = "?"
# Invisible formatting characters: bidi overrides could visually reorder a signed
# number, zero-width characters and variation selectors only hide content.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufe00-\ufe0f\U000e0000-\U000e007f]"
)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)


def clean_text(text: object, renderable: frozenset[int], limit: int | None = None) -> str:
    """User text made printable: controls and NULs dropped, unknown glyphs replaced."""
    value = "" if text is None else str(text)
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    value = "".join(c for c in value if not 0xD800 <= ord(c) <= 0xDFFF)
    value = _CONTROL.sub("", _INVISIBLE.sub("", unicodedata.normalize("NFC", value)))
    out: list[str] = []
    for char in value:
        if char == "\n" or ord(char) in renderable:
            out.append(char)
        elif not out or out[-1] != FALLBACK_GLYPH:
            # One marker per run: an emoji sequence or an Arabic word becomes a single "?".
            out.append(FALLBACK_GLYPH)
    result = "".join(out).strip()
    if limit is not None and len(result) > limit:
        result = result[: limit - 1].rstrip() + "…"
    return result


# Punctuation that must not start a line, and openers that must not end one (the usual
# Chinese/Japanese line-breaking rules, plus their ASCII counterparts).
_NO_START = set("，。、；：？！）」』】》〉…”’·%,.;:!?)]}")
_NO_END = set("（「『【《〈“‘([{")


def _is_cjk(char: str) -> bool:
    return bool(_CJK.match(char)) or "\u3000" <= char <= "\u303f"


def _tokens(paragraph: str) -> list[str]:
    """Break opportunities: each CJK character, each Latin word, each run of spaces."""
    tokens: list[str] = []
    word = ""
    for char in paragraph:
        if char == " " or _is_cjk(char):
            if word:
                tokens.append(word)
                word = ""
            if char == " " and tokens and tokens[-1].isspace():
                tokens[-1] += char
            else:
                tokens.append(char)
        else:
            word += char
    if word:
        tokens.append(word)
    merged: list[str] = []
    for token in tokens:
        if merged and not token.isspace() and not merged[-1].isspace():
            if token[0] in _NO_START or merged[-1][-1] in _NO_END:
                merged[-1] += token
                continue
        merged.append(token)
    return merged


def wrap_text(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Lines of text no wider than width: CJK breaks anywhere, Latin only between words."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_w = "", 0.0
        for token in _tokens(paragraph):
            token_w = measure(token)
            if line_w + token_w <= width:
                line, line_w = line + token, line_w + token_w
                continue
            if token.isspace():
                lines.append(line.rstrip())
                line, line_w = "", 0.0
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, line_w = "", 0.0
            if token_w <= width:
                line, line_w = token, token_w
                continue
            # A word longer than the line (a URL, a hash, 20,000 x's): break it anywhere.
            for char in token:
                char_w = measure(char)
                if line_w + char_w > width and line:
                    lines.append(line)
                    line, line_w = "", 0.0
                line, line_w = line + char, line_w + char_w
        lines.append(line.rstrip())
    return lines


# --- formatting ------------------------------------------------------------------------


def format_number(value: float, unit: str | None = None) -> str:
    """A figure as people write it for the metric's unit (numbers.number: a count whole)."""
    return numbers.number(value, unit or None)


def _signed(value: float, unit: str | None = None) -> str:
    return numbers.delta(value, unit or None)


def _when(value: datetime) -> str:
    return utc_iso(value)[:19].replace("T", " ")


# --- layout ----------------------------------------------------------------------------

INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (31, 58, 95)
ACCENT_SOFT = (233, 239, 247)
RULE = (206, 212, 218)
ZEBRA = (247, 248, 250)
WARN = (176, 42, 55)
OK = (25, 111, 61)

PAGE_W = 210.0
MARGIN_X = 20.0
MARGIN_TOP = 16.0
FOOTER_H = 22.0
BODY_W = PAGE_W - 2 * MARGIN_X
NB_ALIAS = "\ue000nb\ue000"  # private-use: clean_text turns these into "?" in user text

SHORT = 160  # identifiers and names; the hash covers the full value
CELL = 400  # longest text put in a table cell; longer text is printed in full below


@dataclass(frozen=True)
class _Texts:
    """All user text of a letter, cleaned once."""

    company: str
    cycle_name: str
    metric: str
    metric_unit: str
    period: str
    region: str
    region_name_en: str
    region_name_zh: str
    lead_name: str
    executive_name: str
    model_reason: str
    justification: str
    risks: str
    hr_override: str


class _LetterPDF(FPDF):
    """An FPDF with the letter's running header and footer."""

    def __init__(self, *, lang: str, running: str, sha: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        # Not `lang`: FPDF.set_lang stores the document language tag under that name.
        self.letter_lang = lang
        self.running = running
        self.sha = sha

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(10)
        self.set_font("cjk", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(BODY_W, 4, fit_text(self, self.running, BODY_W - 2), align="L")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN_X, 15, PAGE_W - MARGIN_X, 15)
        self.set_y(20)

    def footer(self) -> None:
        self.set_y(-FOOTER_H + 4)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN_X, self.get_y(), PAGE_W - MARGIN_X, self.get_y())
        self.ln(1.6)
        self.set_text_color(*MUTED)
        self.set_font("cjk", "", 7)
        page = t("letters.footer.page", self.letter_lang, page=self.page_no(), pages=NB_ALIAS)
        self.cell(BODY_W - 32, 3.6, fit_text(self, self.running, BODY_W - 36), align="L")
        self.cell(32, 3.6, page, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(
            BODY_W,
            3.6,
            t("letters.footer.hash", self.letter_lang, sha=self.sha),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.cell(
            BODY_W,
            3.6,
            t("letters.footer.verify", self.letter_lang),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def fit_text(pdf: FPDF, text: str, width: float) -> str:
    """Text shortened with an ellipsis to fit width at the PDF's current font."""
    if pdf.get_string_width(text) <= width:
        return text
    # Bisect on length: running headers repeat on every page of a 20-page letter.
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pdf.get_string_width(text[:mid] + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _measurer(pdf: FPDF) -> Callable[[str], float]:
    """Widths of text at the PDF's current font, each string measured once.

    The same floats as pdf.get_string_width for text without markdown, shaping or
    spacing (the same operations in the same order), without the fragments and graphics
    states it builds for every call: line breaking measures every token of a letter.
    """
    advance = pdf.current_font.cw.__getitem__  # a defaultdict: unknown -> default width
    size_pt, k = pdf.font_size_pt, pdf.k
    widths: dict[str, float] = {}

    def measure(text: str) -> float:
        width = widths.get(text)
        if width is None:
            width = sum(map(advance, map(ord, text))) * size_pt * 0.001 / k
            widths[text] = width
        return width

    return measure


def _initials(company: str) -> str:
    words = [w for w in re.split(r"[\s\-_.,&/]+", company) if w]
    if not words:
        return "?"
    if _CJK.match(words[0]):
        return words[0][:2]
    letters = [w[0] for w in words if w[0].isalnum()][:2]
    return "".join(letters).upper() or "?"


class _Renderer:
    """Lays out one letter onto a fresh _LetterPDF."""

    def __init__(
        self,
        content: LetterContent,
        signatures: list[Signature],
        lang: str,
        logo_path: str | None,
    ) -> None:
        self.c = content
        self.lang = lang
        self.logo_path = logo_path
        self.logo_w = 0.0
        self.sha = content_sha256(content)
        self.font = find_cjk_font()
        self.renderable = _renderable(self.font)
        reason = content.model_reason_zh if lang == "zh" else content.model_reason_en
        reason = reason or content.model_reason_en or content.model_reason_zh
        self.x = _Texts(
            company=self._clean(content.company, SHORT),
            cycle_name=self._clean(content.cycle_name, SHORT),
            metric=self._clean(content.metric, SHORT),
            metric_unit=self._clean(content.metric_unit, 60),
            period=self._clean(content.period, 40),
            region=self._clean(content.region, 60),
            region_name_en=self._clean(content.region_name_en, SHORT),
            region_name_zh=self._clean(content.region_name_zh, SHORT),
            lead_name=self._clean(content.lead_name, SHORT),
            executive_name=self._clean(content.executive_name, SHORT),
            model_reason=self._clean(reason),
            justification=self._clean(content.justification),
            risks=self._clean(content.risks),
            hr_override=self._clean(content.hr_override),
        )
        self.support = [
            (item.kind, self._clean(item.description), item.amount, self._clean(item.owner, SHORT))
            for item in content.support
        ]
        self.sigs = [
            (s, self._clean(s.name, SHORT), self._clean(s.username, 60)) for s in signatures
        ]
        self.pdf = _LetterPDF(lang=lang, running="", sha=self.sha)

    def _clean(self, text: object, limit: int | None = None) -> str:
        return clean_text(text, self.renderable, limit)

    def _used_chars(self) -> frozenset[int]:
        pieces: list[str] = list(vars(self.x).values())
        pieces += [desc + owner for _, desc, _, owner in self.support]
        pieces += [name + user for _, name, user in self.sigs]
        return frozenset(ord(c) for text in pieces for c in text)

    def tr(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def region_display(self) -> str:
        """Region name in the letter's language, the other language in brackets."""
        en = self.x.region_name_en or self.x.region
        zh = self.x.region_name_zh
        first, second = (zh or en, en) if self.lang == "zh" else (en, zh)
        if not second or second == first:
            return first
        return f"{first}（{second}）" if self.lang == "zh" else f"{first} ({second})"

    # -- text primitives -------------------------------------------------------------

    def wrap(self, text: str, width: float, size: float, style: str = "") -> list[str]:
        """Lines of text for a cell of width at the given font; sets that font."""
        pdf = self.pdf
        pdf.set_font("cjk", style, size)
        measure = _measurer(pdf)
        # multi_cell keeps a cell margin on each side; stay a hair inside it so its own
        # (character-level) wrapping never has to re-break a line we already broke.
        return wrap_text(text, width - 2 * pdf.c_margin - 0.3, measure)

    def flow(
        self,
        text: str,
        width: float,
        line_h: float,
        size: float,
        style: str = "",
        colour: tuple[int, int, int] = INK,
        x: float | None = None,
    ) -> None:
        """Write wrapped text at the cursor (or at x), continuing onto new pages."""
        pdf = self.pdf
        lines = self.wrap(text, width, size, style)
        pdf.set_text_color(*colour)
        if x is not None:
            pdf.set_x(x)
        # One cell per line we already broke: multi_cell would break each line again,
        # measuring every growing prefix (quadratic in the line's length).
        left = pdf.get_x()
        for line in lines:
            pdf.set_x(left)
            pdf.cell(width, line_h, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # -- document --------------------------------------------------------------------

    def separator(self) -> str:
        """A middle dot between items, spaced only when the font draws it narrow."""
        # Noto CJK draws it full-width (already spaced); WenQuanYi draws it Latin-narrow.
        self.pdf.set_font("cjk", "", 10)
        wide = self.pdf.get_string_width("·") >= 0.8 * self.pdf.get_string_width("中")
        return "·" if wide else " · "

    def render(self) -> bytes:
        regular, bold = _font_files(self.font, self._used_chars())
        pdf = self.pdf
        title = self.tr("letters.title")
        _add_cached_font(pdf, "cjk", "", regular)
        _add_cached_font(pdf, "cjk", "B", bold)
        self.sep = self.separator()
        pdf.running = self.sep.join(
            (self.x.company, title, self.region_display(), f"v{self.c.version}")
        )
        pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
        pdf.set_auto_page_break(True, margin=FOOTER_H + 4)
        pdf.alias_nb_pages(NB_ALIAS)
        pdf.set_title(f"{title} - {self.region_display()} - {self.x.period}")
        pdf.set_author(self.x.company)
        pdf.set_subject(
            self.tr(
                "letters.meta.subject",
                region=self.region_display(),
                period=self.x.period,
                cycle=self.x.cycle_name,
                sha=self.sha,
            )
        )
        anchor = (
            f" chain-head:{self.c.chain_events}:{self.c.chain_head}" if self.c.chain_head else ""
        )
        pdf.set_keywords(f"calibrate-letter content-sha256:{self.sha}{anchor}")  # audit anchor
        pdf.set_creator("Calibrate")
        pdf.set_lang("zh-CN" if self.lang == "zh" else "en")
        issued = self.c.issued_at
        pdf.set_creation_date(issued if issued.tzinfo else issued.replace(tzinfo=UTC))
        pdf.add_page()
        self.letterhead()
        self.title_block()
        self.meta_block()
        intro = self.tr(
            "letters.intro",
            region=self.region_display(),
            period=self.x.period,
            cycle=self.x.cycle_name,
        )
        self.paragraph(intro, size=9.5)
        self.section(1, "letters.section.figures")
        self.figures_table()
        self.section(2, "letters.section.justification")
        self.paragraph(self.x.justification or self.tr("letters.empty"))
        self.section(3, "letters.section.support")
        self.support_table()
        self.section(4, "letters.section.risks")
        self.paragraph(self.x.risks or self.tr("letters.empty"))
        if self.x.hr_override:
            # The region skipped HR's review of a flagged proposal; both signers see it.
            self.paragraph(self.tr("letters.hr_override", reason=self.x.hr_override))
        self.section(5, "letters.section.model")
        self.paragraph(self.x.model_reason or self.tr("letters.empty"))
        self.signature_section(6)
        for font in pdf.fonts.values():
            # fontTools would re-derive every glyph's bounds when fpdf2 saves the subset,
            # the largest single cost of a letter; the PDF uses only the font-wide box.
            if hasattr(font, "ttfont"):
                font.ttfont.recalcBBoxes = False
        return bytes(pdf.output())

    def letterhead(self) -> None:
        pdf = self.pdf
        top = MARGIN_TOP
        mark = 13.0
        if not self.draw_logo(top, mark):
            initials = _initials(self.x.company)
            pdf.set_fill_color(*ACCENT)
            pdf.rect(MARGIN_X, top, mark, mark, style="F", round_corners=True, corner_radius=2)
            pdf.set_text_color(255, 255, 255)
            pdf.set_font("cjk", "B", 12 if len(initials) > 1 else 14)
            pdf.set_xy(MARGIN_X, top)
            pdf.cell(mark, mark, initials, align="C")
            self.logo_w = mark
        left = MARGIN_X + self.logo_w + 4
        right_w = 60.0
        company_w = PAGE_W - MARGIN_X - right_w - left - 2
        pdf.set_xy(left, top + 0.6)
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "B", 12.5)
        pdf.cell(company_w, 6.5, fit_text(pdf, self.x.company, company_w - 2))
        pdf.set_xy(left, top + 7.4)
        pdf.set_font("cjk", "", 8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(company_w, 4.5, self.tr("letters.tagline"))
        ref = self.tr("letters.ref", ref=f"C{self.c.cycle_id}-{self.x.region}-v{self.c.version}")
        pdf.set_font("cjk", "", 8)
        pdf.set_xy(PAGE_W - MARGIN_X - right_w, top + 1.6)
        pdf.cell(right_w, 4.2, fit_text(pdf, ref, right_w - 2), align="R")
        pdf.set_xy(PAGE_W - MARGIN_X - right_w, top + 6.4)
        pdf.cell(right_w, 4.2, self.tr("letters.issued", when=_when(self.c.issued_at)), align="R")
        rule_y = top + mark + 3.5
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.6)
        pdf.line(MARGIN_X, rule_y, PAGE_W - MARGIN_X, rule_y)
        pdf.set_line_width(0.2)
        pdf.set_xy(MARGIN_X, rule_y + 7)

    def draw_logo(self, top: float, height: float) -> bool:
        if not self.logo_path:
            return False
        try:
            info = self.pdf.image(self.logo_path, x=MARGIN_X, y=top, h=height)
        except Exception as exc:  # noqa: BLE001 - a bad logo must not block a letter
            log.warning("letter logo %s not usable (%s); using the text mark", self.logo_path, exc)
            return False
        self.logo_w = min(float(info.rendered_width), 60.0)
        return True

    def title_block(self) -> None:
        pdf = self.pdf
        pdf.set_text_color(*ACCENT)
        pdf.set_font("cjk", "B", 21)
        pdf.cell(BODY_W, 10, self.tr("letters.title"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.5)
        subtitle = self.tr(
            "letters.subtitle",
            sep=self.sep,
            region=self.region_display(),
            metric=self.x.metric,
            period=self.x.period,
        )
        self.flow(subtitle, BODY_W, 5.6, 10.5, colour=MUTED)
        pdf.ln(4)

    def meta_block(self) -> None:
        pdf = self.pdf
        c = self.c
        if c.previous_sha256:
            prev = self._clean(c.previous_sha256, 80)[:12]
            version = self.tr("letters.version.supersedes", version=c.version, previous=prev)
        else:
            version = self.tr("letters.version.first", version=c.version)
        rows = [
            ("letters.field.region", f"{self.region_display()}{self.sep}{self.x.region}"),
            ("letters.field.cycle", f"{self.x.cycle_name} (#{c.cycle_id})"),
            ("letters.field.period", self.x.period),
            ("letters.field.metric", self.x.metric),
            ("letters.field.lead", self.x.lead_name),
            ("letters.field.executive", self.x.executive_name),
            ("letters.field.version", version),
        ]
        label_w, pad, line_h, size = 32.0, 4.0, 4.9, 9.0
        value_w = BODY_W - label_w - 2 * pad
        wrapped = [self.wrap(value or "—", value_w, size) for _, value in rows]
        height = 2 * 2.2 + sum(line_h * len(lines) for lines in wrapped)
        top = pdf.get_y()
        if top + height > pdf.page_break_trigger:
            pdf.add_page()
            top = pdf.get_y()
        pdf.set_fill_color(*ZEBRA)
        pdf.rect(MARGIN_X, top, BODY_W, height, style="F")
        pdf.set_fill_color(*ACCENT)
        pdf.rect(MARGIN_X, top, 0.9, height, style="F")
        y = top + 2.2
        for (key, _), lines in zip(rows, wrapped, strict=True):
            pdf.set_xy(MARGIN_X + pad, y)
            pdf.set_font("cjk", "", 8.5)
            pdf.set_text_color(*MUTED)
            pdf.cell(label_w, line_h, self.tr(key))
            pdf.set_xy(MARGIN_X + pad + label_w, y)
            pdf.set_font("cjk", "", size)
            pdf.set_text_color(*INK)
            pdf.multi_cell(value_w, line_h, "\n".join(lines), wrapmode=WrapMode.CHAR)
            y += line_h * len(lines)
        pdf.set_xy(MARGIN_X, top + height + 5)

    def section(self, number: int, key: str) -> None:
        pdf = self.pdf
        # Keep a heading with at least a few lines of its body.
        if pdf.get_y() + 24 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(3.5)
        pdf.set_font("cjk", "B", 11.5)
        pdf.set_text_color(*ACCENT)
        pdf.cell(BODY_W, 6.5, f"{number}   {self.tr(key)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        pdf.line(MARGIN_X, pdf.get_y() + 0.6, PAGE_W - MARGIN_X, pdf.get_y() + 0.6)
        pdf.ln(3.2)

    def paragraph(self, text: str, size: float = 10) -> None:
        self.flow(text, BODY_W, size * 0.56, size)
        self.pdf.ln(1.5)

    PAD_V, PAD_H = 1.8, 2.4

    def cell_text(self, text: str, width: float, size: float, style: str = "") -> str:
        """Pre-wrapped text for a table cell of width."""
        return "\n".join(self.wrap(text, width - 2 * self.PAD_H - 0.4, size, style))

    def table(self, col_widths: tuple[float, ...], align: tuple[str, ...]) -> Any:
        pdf = self.pdf
        pdf.set_font("cjk", "", 9)
        pdf.set_text_color(*INK)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        # Table cells inherit the current fill colour; start from white, not the accent.
        pdf.set_fill_color(255, 255, 255)
        return pdf.table(
            col_widths=col_widths,
            text_align=align,
            width=BODY_W,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(
                emphasis="BOLD", color=ACCENT, fill_color=ACCENT_SOFT, size_pt=8.5
            ),
            line_height=4.8,
            padding=(self.PAD_V, self.PAD_H),
            wrapmode=WrapMode.CHAR,
            v_align="MIDDLE",
        )

    def figures_table(self) -> None:
        c = self.c
        code = self.x.metric_unit or None
        # Money says its currency; a count needs no word, a rate carries its own "%".
        unit = f" {code}" if numbers.kind(code) == "money" else ""
        diff = c.agreed - c.suggestion
        pct = numbers.percent(diff / c.suggestion, signed=True) if c.suggestion else "—"
        diff_note = self.tr("letters.fig.diff_note", pct=pct)
        if not c.lower80 <= c.agreed <= c.upper80:
            diff_note += self.tr("letters.fig.outside")
        suggestion_note = self.tr(
            "letters.fig.suggestion_note",
            lower=format_number(c.lower80, code),
            upper=format_number(c.upper80, code),
            run=c.model_run_id,
        )
        rows = [
            ("letters.fig.suggestion", format_number(c.suggestion, code), suggestion_note, False),
            (
                "letters.fig.agreed",
                format_number(c.agreed, code),
                self.tr("letters.fig.agreed_note"),
                True,
            ),
            ("letters.fig.diff", _signed(diff, code), diff_note, False),
            (
                "letters.fig.company",
                format_number(c.company_target, code),
                self.tr("letters.fig.company_note"),
                False,
            ),
        ]
        widths = (52.0, 44.0, 74.0)
        heads = ("letters.fig.col_figure", "letters.fig.col_value", "letters.fig.col_note")
        with self.table(widths, ("LEFT", "RIGHT", "LEFT")) as table:
            head = table.row()
            for key, width in zip(heads, widths, strict=True):
                head.cell(self.cell_text(self.tr(key), width, 8.5, "B"))
            for key, value, note, strong in rows:
                row = table.row()
                size, style = (10.0, "B") if strong else (9.0, "")
                face = (
                    FontFace(emphasis="BOLD", color=ACCENT, fill_color=ACCENT_SOFT, size_pt=size)
                    if strong
                    else None
                )
                soft = FontFace(fill_color=ACCENT_SOFT) if strong else None
                row.cell(self.cell_text(self.tr(key), widths[0], size, style), style=face)
                row.cell(self.cell_text(value + unit, widths[1], size, style), style=face)
                row.cell(self.cell_text(note, widths[2], 9.0), style=soft)
        self.pdf.ln(2)

    def support_table(self) -> None:
        pdf = self.pdf
        if not self.support:
            self.paragraph(self.tr("letters.support.none"))
            return
        overflow: list[tuple[int, str]] = []
        widths = (100.0, 30.0, 40.0)
        heads = (
            "letters.support.col_item",
            "letters.support.col_amount",
            "letters.support.col_owner",
        )
        with self.table(widths, ("LEFT", "RIGHT", "LEFT")) as table:
            head = table.row()
            for key, width in zip(heads, widths, strict=True):
                head.cell(self.cell_text(self.tr(key), width, 8.5, "B"))
            for number, (kind, description, amount, owner) in enumerate(self.support, 1):
                shown = description
                if len(description) > CELL:
                    # A table row cannot span pages: show the start here, the rest below.
                    shown = description[: CELL - 1].rstrip() + "…"
                    overflow.append((number, description))
                label = self.tr(f"letters.support.kind.{kind}")
                sep = "：" if self.lang == "zh" else ": "
                item = f"{number}. {label}{sep}{shown}" if shown else f"{number}. {label}"
                row = table.row()
                row.cell(self.cell_text(item, widths[0], 9))
                row.cell("—" if amount is None else format_number(amount))
                row.cell(self.cell_text(owner or "—", widths[2], 9))
        pdf.ln(2)
        for number, description in overflow:
            pdf.set_font("cjk", "B", 9)
            pdf.set_text_color(*MUTED)
            label = self.tr("letters.support.full_text", number=number)
            pdf.cell(BODY_W, 5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.paragraph(description, size=9)

    # -- signatures ------------------------------------------------------------------

    def signature_section(self, number: int) -> None:
        pdf = self.pdf
        gap = 8.0
        width = (BODY_W - gap) / 2
        blocks = [
            ("lead", "letters.sig.lead", self.x.lead_name),
            ("executive", "letters.sig.executive", self.x.executive_name),
        ]
        plans = [self.signature_lines(role, key, name, width) for role, key, name in blocks]
        height = max(plan[1] for plan in plans)
        # Heading and both blocks stay together on one page.
        if pdf.get_y() + 16 + height > pdf.page_break_trigger:
            pdf.add_page()
        self.section(number, "letters.section.signatures")
        top = pdf.get_y()
        for i, (role, _, _) in enumerate(blocks):
            lines, _ = plans[i]
            self.draw_signature(role, lines, MARGIN_X + i * (width + gap), top, width, height)
        pdf.set_xy(MARGIN_X, top + height + 2)

    def _signature_for(self, role: str) -> tuple[Signature, str, str] | None:
        # The latest signature of a role counts; earlier ones belong to older versions.
        found = [s for s in self.sigs if s[0].role == role]
        return max(found, key=lambda s: utc_iso(s[0].signed_at)) if found else None

    def signature_lines(
        self, role: str, key: str, name: str, width: float
    ) -> tuple[list[tuple[list[str], float, str, tuple[int, int, int], float]], float]:
        """The wrapped lines of one signature block and the block's height."""
        label = self.tr(key).upper() if self.lang == "en" else self.tr(key)
        spec: list[tuple[str, float, str, tuple[int, int, int], float]] = [
            (label, 7.5, "B", MUTED, 4.2),
            (name or "—", 11.0, "B", INK, 5.8),
        ]
        sig = self._signature_for(role)
        if sig is not None:
            signature, signer, username = sig
            sha = self._clean(signature.content_sha256, 64)
            spec += [
                ("", 0, "", INK, 1.6),
                (self.tr("letters.sig.signed"), 9.0, "B", OK, 4.8),
                (
                    self.tr("letters.sig.signed_by", name=signer, username=username),
                    8.5,
                    "",
                    INK,
                    4.4,
                ),
                (self.tr("letters.sig.time", when=_when(signature.signed_at)), 8.5, "", INK, 4.4),
                ("", 0, "", INK, 1.2),
                (self.tr("letters.sig.hash"), 7.5, "", MUTED, 3.8),
                (f"{sha[:32]}\n{sha[32:]}" if len(sha) > 32 else sha, 7.5, "", MUTED, 3.6),
            ]
            if signature.content_sha256.lower() != self.sha:
                spec.append((self.tr("letters.sig.mismatch"), 8.0, "B", WARN, 4.2))
        else:
            spec.append((self.tr("letters.sig.pending"), 8.5, "", MUTED, 4.4))
        lines = [
            (self.wrap(text, width - 8, size, style) if text else [], size, style, colour, lh)
            for text, size, style, colour, lh in spec
        ]
        body = sum(lh * max(1, len(wrapped)) for wrapped, _, _, _, lh in lines)
        blank = 24.0 if sig is None else 0.0
        return lines, 3.5 + body + blank + 3.5

    def draw_signature(
        self,
        role: str,
        lines: list[tuple[list[str], float, str, tuple[int, int, int], float]],
        x: float,
        y: float,
        width: float,
        height: float,
    ) -> None:
        """Draw one signature block: signed details, or an empty line to sign on."""
        pdf = self.pdf
        signed = self._signature_for(role) is not None
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.3)
        pdf.set_fill_color(*((243, 248, 245) if signed else ZEBRA))
        pdf.rect(x, y, width, height, style="DF", round_corners=True, corner_radius=1.5)
        cy = y + 3.5
        for wrapped, size, style, colour, lh in lines:
            if wrapped:
                pdf.set_font("cjk", style, size)
                pdf.set_text_color(*colour)
                pdf.set_xy(x + 4, cy)
                pdf.multi_cell(width - 8, lh, "\n".join(wrapped), wrapmode=WrapMode.CHAR)
            cy += lh * max(1, len(wrapped))
        if not signed:
            line_y = y + height - 8.5
            pdf.set_draw_color(*INK)
            pdf.set_line_width(0.25)
            pdf.line(x + 4, line_y, x + width - 4, line_y)
            pdf.set_font("cjk", "", 7.5)
            pdf.set_text_color(*MUTED)
            pdf.set_xy(x + 4, line_y + 0.8)
            pdf.cell((width - 8) / 2, 4, self.tr("letters.sig.line"))
            pdf.cell((width - 8) / 2, 4, self.tr("letters.sig.date_line"), align="R")


def render_letter(
    content: LetterContent,
    signatures: list[Signature],
    lang: str,
    logo_path: str | None = None,
) -> bytes:
    """The letter as PDF bytes in lang ("en" or "zh"); logo from CALIBRATE_LOGO when None."""
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    logo = logo_path if logo_path is not None else settings.logo_path()
    return _Renderer(content, list(signatures), lang, logo).render()


def letter_filename(content: LetterContent, lang: str) -> str:
    """A safe file name for a letter, e.g. letter-c3-EAST-v1-zh.pdf."""
    region = re.sub(r"[^A-Za-z0-9_-]+", "_", content.region).strip("_") or "region"
    return f"letter-c{content.cycle_id}-{region[:40]}-v{content.version}-{lang}.pdf"


def embedded_content_sha256(pdf_bytes: bytes) -> str | None:
    """The content SHA-256 a rendered letter declares in its metadata, if any."""
    from io import BytesIO

    from pypdf import PdfReader

    try:
        meta = PdfReader(BytesIO(pdf_bytes)).metadata
    except Exception:  # noqa: BLE001 - not a readable PDF means no declared hash
        return None
    keywords = str((meta or {}).get("/Keywords", ""))
    match = re.search(r"content-sha256:([0-9a-f]{64})", keywords)
    return match.group(1) if match else None


def file_sha256(data: bytes) -> str:
    """SHA-256 of a file's bytes: what the archive stores to verify a letter later."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class LetterCheck:
    """What a letter file is and declares, for `letters verify` to compare with the archive."""

    file_sha256: str
    declared_content_sha256: str | None
    expected_content_sha256: str | None

    @property
    def content_matches(self) -> bool | None:
        """Whether the declared content hash is the expected one (None: nothing expected)."""
        if self.expected_content_sha256 is None:
            return None
        return self.declared_content_sha256 == self.expected_content_sha256


def check_letter(pdf_bytes: bytes, content: LetterContent | None = None) -> LetterCheck:
    """Hash a letter file and read its declared content hash; compare with content if given."""
    return LetterCheck(
        file_sha256=file_sha256(pdf_bytes),
        declared_content_sha256=embedded_content_sha256(pdf_bytes),
        expected_content_sha256=None if content is None else content_sha256(content),
    )


__all__ = [
    "LetterCheck",
    "check_letter",
    "CjkFont",
    "CjkFontMissingError",
    "clean_text",
    "embedded_content_sha256",
    "file_sha256",
    "find_cjk_font",
    "format_number",
    "letter_filename",
    "render_letter",
    "warm_fonts",
]
