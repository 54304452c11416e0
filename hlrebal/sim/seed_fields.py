"""Reading a snapshot's fields for seeding: the document, its numbers, its dex data, the account mode
names; every bad value is a :class:`SnapshotError`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hlrebal.sim.numbers import parse_wire

MODE_FROM_WIRE = {
    "disabled": "standard",
    "unifiedAccount": "unified",
    "portfolioMargin": "portfolio",
    "default": "default",
    "dexAbstraction": "standard",
}


class SnapshotError(ValueError):
    """The snapshot cannot seed the sim (missing universe, unknown coin, bad numbers)."""


def load(snapshot: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """The snapshot as a dict (read from a path, or given), comments dropped."""
    if snapshot is None:
        return None
    if isinstance(snapshot, dict):
        data = snapshot
    else:
        with open(snapshot, encoding="utf-8") as handle:
            data = json.load(handle)
    if not isinstance(data, dict):
        raise SnapshotError("a snapshot is a JSON object")
    return {k: v for k, v in data.items() if not k.startswith("_")}


def num(value: Any, what: str) -> Decimal:
    parsed = parse_wire(value)
    if parsed is None:
        raise SnapshotError(f"{what}: not a number: {value!r}")
    return parsed


def opt(value: Any) -> Decimal | None:
    return parse_wire(value) if value is not None else None


def dex_data(snap: dict[str, Any]) -> dict[str, Any]:
    data = snap.get("dexes") or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SnapshotError('"dexes" must map each dex name to an object')
    return data
