"""Fixtures for the simulator's tests: a started sim, funded keys, SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hlrebal.sim import SimConfig, Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A started simulator on the default market (BTC, ETH, SOL, HYPE; PURR/USDC, @107)."""
    with Simulator() as s:
        yield s


@pytest.fixture
def make_sim() -> Iterator[Any]:
    """Factory for simulators with a snapshot or config; all are stopped at teardown."""
    made: list[Simulator] = []

    def factory(snapshot: Any = None, **config: Any) -> Simulator:
        s = Simulator(snapshot=snapshot, config=SimConfig(**config)).start()
        made.append(s)
        return s

    yield factory
    for s in made:
        s.stop()
