"""Hostile import files made on the fly: xlsx decompression bombs, huge cells, wide CSVs."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pandas as pd

SHEET = "xl/worksheets/sheet1.xml"
_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_TAIL = b"</sheetData></worksheet>"
_HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>region</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>period</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>metric</t></is></c>'
    b'<c r="D1" t="inlineStr"><is><t>value</t></is></c></row>'
)
_ROW = (
    b'<row><c t="inlineStr"><is><t>east</t></is></c><c t="inlineStr"><is><t>2025Q1</t></is></c>'
    b'<c t="inlineStr"><is><t>m</t></is></c><c><v>1</v></c></row>'
)


def small_xlsx() -> bytes:
    """A genuine one-sheet workbook (history contract) to graft hostile sheets onto."""
    buf = io.BytesIO()
    frame = pd.DataFrame({"region": ["east"], "period": ["2025Q1"], "metric": ["m"], "value": [1]})
    with pd.ExcelWriter(buf, engine="xlsxwriter") as w:
        frame.to_excel(w, index=False)
    return buf.getvalue()


def _zip(members: list[tuple[str, list[tuple[bytes, int]], int | None]]) -> bytes:
    """A deflated zip written by hand: each member is (name, [(piece, repeat)], declared size).

    Each piece is compressed once after a full flush, so its output can simply be repeated:
    a gigabyte of sheet XML costs a second (its CRC) instead of twenty (deflating it).
    `declared` overrides the uncompressed size in the headers (a lying header).
    """
    out = bytearray()
    central = bytearray()
    for name, segments, declared in members:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        raw = bytearray()
        crc = size = 0
        for piece, repeat in segments:
            block = packer.compress(piece) + packer.flush(zlib.Z_FULL_FLUSH)
            raw += block * repeat
            for _ in range(repeat):
                crc = zlib.crc32(piece, crc)
            size += len(piece) * repeat
        raw += packer.flush()
        usize = size if declared is None else declared
        fname = name.encode()
        offset = len(out)
        out += (
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(raw), usize, len(fname), 0
            )
            + fname
            + raw
        )
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(raw),
                usize,
                len(fname),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + fname
        )
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0
    )
    return bytes(out + central + end)


def _graft(
    path: Path | None,
    sheet: list[tuple[bytes, int]],
    extra: dict[str, bytes] | None = None,
    declared: int | None = None,
) -> bytes | Path:
    """small_xlsx() with sheet1 replaced by the given segments (and extra parts added)."""
    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    members = [
        (i.filename, sheet, declared)
        if i.filename == SHEET
        else (i.filename, [(src.read(i.filename), 1)], None)
        for i in src.infolist()
    ]
    members += [(name, [(data, 1)], None) for name, data in (extra or {}).items()]
    data = _zip(members)
    if path is None:
        return data
    path.write_bytes(data)
    return path


def xlsx_row_bomb(path: Path | None = None, unpacked: int = 1_100_000_000) -> bytes | Path:
    """A small xlsx whose sheet XML expands to `unpacked` bytes of repeated rows."""
    block = _ROW * (1_000_000 // len(_ROW))
    return _graft(path, [(_HEAD + _HEADER_ROW, 1), (block, unpacked // len(block) + 1), (_TAIL, 1)])


def xlsx_huge_cell(path: Path | None = None, chars: int = 1_500_000_000) -> bytes | Path:
    """A ~1.5 MB xlsx with one cell of `chars` characters."""
    start = _HEAD + _HEADER_ROW + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    return _graft(
        path,
        [(start, 1), (b"A" * 1_000_000, chars // 1_000_000), (b"</t></is></c></row>" + _TAIL, 1)],
    )


def xlsx_lying_bomb(unpacked: int = 1_100_000_000) -> bytes:
    """A row bomb whose headers claim the sheet is 1 MB (a parser trusting them is fooled)."""
    block = _ROW * (1_000_000 // len(_ROW))
    return _graft(
        None,
        [(_HEAD + _HEADER_ROW, 1), (block, unpacked // len(block) + 1), (_TAIL, 1)],
        declared=1_000_000,
    )


def xlsx_sheet(xml_rows: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A workbook whose sheet holds exactly the given row XML (after the header row)."""
    return _graft(None, [(_HEAD + _HEADER_ROW + xml_rows + _TAIL, 1)], extra)


def wide_csv(columns: int = 100_000) -> bytes:
    """A CSV whose header has `columns` columns."""
    header = ",".join(["region", "period", "metric", "value"] + [f"c{i}" for i in range(columns)])
    return (header + "\neast,2025Q1,m,1" + "," * columns + "\n").encode()


def huge_cell_csv(chars: int = 5_000_000) -> bytes:
    """A history CSV with one cell of `chars` characters."""
    return b"region,period,metric,value\neast,2025Q1,m," + b"9" * chars + b"\n"
