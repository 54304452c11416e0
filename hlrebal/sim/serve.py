"""``hlrebal sim serve``: run the simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from hlrebal.sim.config import SimConfig
from hlrebal.sim.simulator import Simulator


def serve(
    host: str = "127.0.0.1",
    port: int = 3001,
    snapshot: str | Path | dict[str, Any] | None = None,
    state: str | Path | None = None,
    config: SimConfig | None = None,
    ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    fund: Sequence[tuple[str, Decimal]] = (),
) -> None:
    """Serve /info and /exchange on host:port until Ctrl-C (or until ``stop`` is set).

    With ``state``, the sim starts from that file when it exists (else from the snapshot) and
    writes it after every state-changing request and on exit. ``ready`` receives the base URL
    once the server listens; nothing is printed here (the CLI does the talking). Ctrl-C stops
    the server, saves the state, and propagates as KeyboardInterrupt (exit code 130 is the
    caller's business).
    """
    base = config or SimConfig()
    sim = Simulator(
        snapshot=snapshot,
        config=dataclasses.replace(base, host=host, port=port),
        state=state,
        autosave=state is not None,
    )
    for address, usdc in fund:
        sim.fund(address, usdc)
    sim.start()
    try:
        if ready is not None:
            ready(sim.url)
        waiter = stop or threading.Event()
        while not waiter.wait(0.5):
            pass
    finally:
        sim.stop()
        if state is not None:
            sim.save()
