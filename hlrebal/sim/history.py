"""Placeholder: filled in by a later step."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine


def next_due(engine: Engine) -> int | None:
    return None


def run(engine: Engine, t: int) -> None:
    return None


def dump(engine: Engine) -> object:
    return None


def restore(engine: Engine, data: object) -> None:
    return None


class Replay:
    """Placeholder."""
