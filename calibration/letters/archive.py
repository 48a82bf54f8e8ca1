"""Bundle rendered letters into one ZIP archive, deterministically."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

# ZIP cannot store dates before 1980; a fixed stamp keeps equal inputs byte-identical.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _safe_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise ValueError(f"unsafe file name for a letter archive: {name!r}")
    return str(path)


def zip_letters(files: dict[str, bytes]) -> bytes:
    """A ZIP of name -> bytes, sorted by name, with fixed timestamps (same input, same bytes)."""
    names = {_safe_name(name): data for name, data in files.items()}
    if len(names) != len(files):
        raise ValueError("two letter file names collide once normalised")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(names):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, names[name])
    return buffer.getvalue()
