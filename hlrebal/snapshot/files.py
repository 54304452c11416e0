"""Snapshot files: read one (refused with a message when it cannot be used), write one atomically."""

from __future__ import annotations

import json
from pathlib import Path

from hlrebal.errors import SnapshotError
from hlrebal.snapshot.models import Snapshot


def load_snapshot(path: str | Path) -> Snapshot:
    """Read a snapshot file. Raises :class:`SnapshotError` (exit 2) when it cannot be used."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SnapshotError(f"{source}: no such snapshot file") from None
    except UnicodeDecodeError:
        raise SnapshotError(f"{source}: is not UTF-8 text (a snapshot is a JSON file)") from None
    except OSError as e:
        raise SnapshotError(f"{source}: cannot be read ({e.strerror})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{source}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if not isinstance(doc, dict):
        raise SnapshotError(f"{source}: a snapshot must be a JSON object of info responses")
    return Snapshot.from_raw(doc, source)


def save_snapshot(snapshot: Snapshot, path: str | Path) -> None:
    """Write a snapshot file atomically (a temporary file, then a rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(snapshot.to_raw(), f, indent=1)
        f.write("\n")
    tmp.replace(target)
