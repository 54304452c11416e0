"""Snapshot files: read one (refused with a message when it cannot be used), write one atomically."""

from __future__ import annotations

import json
from pathlib import Path

from hlrebal.errors import SnapshotError
from hlrebal.inputs import DOCUMENT_LIMIT, decode_text, loads, read_limited
from hlrebal.snapshot.models import Snapshot


def load_snapshot(path: str | Path) -> Snapshot:
    """Read a snapshot file. Raises :class:`SnapshotError` (exit 2) when it cannot be used.

    Only regular files of at most 64 MiB are read; numbers are parsed as exact decimals where the
    exchange sends them as JSON numbers, within the limits of :mod:`hlrebal.inputs`.
    """
    source = str(path)
    raw = read_limited(path, what="snapshot file", limit=DOCUMENT_LIMIT, error=SnapshotError)
    text = decode_text(raw, source, SnapshotError)
    doc = loads(text, source, SnapshotError, floats=_in_range_float)
    if not isinstance(doc, dict):
        raise SnapshotError(f"{source}: a snapshot must be a JSON object of info responses")
    return Snapshot.from_raw(doc, source)


def _in_range_float(text: str) -> float:
    """Snapshots keep JSON numbers as the exchange sent them (floats), once they are in range."""
    from hlrebal.inputs import parse_float

    parse_float(text)  # refuses absurd exponents before any arithmetic
    return float(text)


def save_snapshot(snapshot: Snapshot, path: str | Path) -> None:
    """Write a snapshot file atomically (a temporary file, then a rename); a missing folder is
    bad input (exit 2), never a traceback."""
    target = Path(path)
    if not target.parent.is_dir():
        raise SnapshotError(
            f"{path}: the folder {target.parent} does not exist",
            hint="create it first, or write the snapshot somewhere else with -o",
        )
    if target.is_dir():
        raise SnapshotError(f"{path}: is a directory; give a file name with -o")
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        f = tmp.open("w", encoding="utf-8")
    except OSError as e:
        raise SnapshotError(f"{path}: cannot be written ({e.strerror})") from None
    with f:
        json.dump(snapshot.to_raw(), f, indent=1)
        f.write("\n")
    tmp.replace(target)
