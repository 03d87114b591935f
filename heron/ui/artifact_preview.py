"""What the run page shows for an artifact file: text, pretty-printed JSON, a CSV table or an image,
within size caps (nothing larger than :data:`MAX_PREVIEW_BYTES` is read for a preview).

Everything returned is plain text for the templates to escape; nothing here is marked safe.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from dataclasses import dataclass, field

from heron.tracking.artifacts import ArtifactRepository
from heron.tracking.entities import FileInfo

__all__ = ["IMAGE_TYPES", "MAX_IMAGE_BYTES", "MAX_PREVIEW_BYTES", "Preview", "preview", "size_text"]

MAX_PREVIEW_BYTES = 2 * 1024 * 1024  # files above this are not read for a preview
MAX_TEXT_CHARS = 200_000  # shown of a text or JSON file
MAX_CSV_ROWS = 200
MAX_CSV_COLUMNS = 50
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # served by the page route
# Raster images only: an SVG can carry script, so it is previewed as text.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_JSON = {".json"}
_CSV = {".csv": ",", ".tsv": "\t"}


@dataclass(frozen=True)
class Preview:
    path: str
    kind: str  # "text" | "json" | "csv" | "image" | "binary" | "too-large"
    size: int | None
    text: str = ""
    truncated: bool = False
    rows: list[list[str]] = field(default_factory=list)  # CSV: header first
    note: str = ""


def size_text(size: int | None) -> str:
    """``812 B``, ``4.2 KB``, ``3.1 MB``; an empty string when unknown."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def preview(repo: ArtifactRepository, info: FileInfo) -> Preview:
    """The preview of the file ``info`` in ``repo``; reads it only when it is within the caps."""
    ext = posixpath.splitext(info.path)[1].lower()
    size = info.file_size
    if ext in IMAGE_TYPES:
        if size is not None and size > MAX_IMAGE_BYTES:
            return Preview(info.path, "too-large", size, note=f"Images above {size_text(MAX_IMAGE_BYTES)} are not shown.")
        return Preview(info.path, "image", size)
    if size is not None and size > MAX_PREVIEW_BYTES:
        return Preview(info.path, "too-large", size,
                       note=f"Files above {size_text(MAX_PREVIEW_BYTES)} are not previewed: download it.")
    data = repo.read_bytes(info.path)
    if b"\x00" in data[:8192]:
        return Preview(info.path, "binary", size if size is not None else len(data), note="Binary file: download it.")
    text = data.decode("utf-8", errors="replace")
    size = len(data)
    if ext in _JSON:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            kind = "json"
        except ValueError as exc:
            return _text(info.path, size, text, f"Not valid JSON ({exc}): shown as text.")
        return _text(info.path, size, text, kind=kind)
    if ext in _CSV:
        return _table(info.path, size, text, _CSV[ext])
    return _text(info.path, size, text)


def _text(path: str, size: int, text: str, note: str = "", kind: str = "text") -> Preview:
    truncated = len(text) > MAX_TEXT_CHARS
    if truncated:
        note = (note + " " if note else "") + f"Showing the first {MAX_TEXT_CHARS:,} characters."
    return Preview(path, kind, size, text=text[:MAX_TEXT_CHARS], truncated=truncated, note=note)


def _table(path: str, size: int, text: str, delimiter: str) -> Preview:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    truncated = False
    wide = False
    try:
        for row in reader:
            if len(rows) > MAX_CSV_ROWS:  # the header plus MAX_CSV_ROWS rows
                truncated = True
                break
            wide = wide or len(row) > MAX_CSV_COLUMNS
            rows.append(row[:MAX_CSV_COLUMNS])
    except csv.Error as exc:
        return _text(path, size, text, f"Not a readable CSV file ({exc}): shown as text.")
    notes = []
    if truncated:
        notes.append(f"Showing the first {MAX_CSV_ROWS} rows.")
    if wide:
        notes.append(f"Showing the first {MAX_CSV_COLUMNS} columns.")
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return Preview(path, "csv", size, rows=rows, truncated=truncated or wide, note=" ".join(notes))
