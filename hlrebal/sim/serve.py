"""``hlrebal sim serve``: run the simulator in the foreground until Ctrl-C, and say what it serves.

The CLI stays thin: it turns flags into ``serve(...)`` arguments and prints the lines that
``describe`` builds (the address, the accounts and the key of the demo account).
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

from hlrebal.sim.config import SimConfig
from hlrebal.sim.datarecord import field, record
from hlrebal.sim.simulator import Simulator


@record(frozen=True)
class Served:
    """What a served sim offers: its URL, its accounts (address, what it holds) and, for the
    demo account, the key file that signs for it."""

    url: str
    accounts: list[tuple[str, str]] = field(default_factory=list)
    demo_address: str | None = None
    key_file: Path | None = None


def describe(served: Served) -> list[str]:
    """The lines ``sim serve`` prints on start (to stderr)."""
    lines = [f"hlrebal sim on {served.url} (Ctrl-C to stop)"]
    for address, what in served.accounts:
        lines.append(f"  account {address}: {what}")
    if served.demo_address is not None and served.key_file is not None:
        lines.append(
            f"  the demo account {served.demo_address} signs with the key in {served.key_file} "
            "(a throwaway key made for this simulator: never send it real funds)"
        )
        lines.append(f"  try: hlrebal plan TARGETS --api-url {served.url} --key-file {served.key_file}")
    else:
        lines.append(f"  try: hlrebal plan TARGETS --api-url {served.url} --address 0x…")
    lines.append("  other clients (ccxt, the TypeScript SDK): testnet signing, API url as above (docs/simulator.md)")
    return lines


def demo_snapshot() -> dict[str, Any]:
    """The bundled demo snapshot (the same document the in-process demo starts from)."""
    doc: dict[str, Any] = json.loads(files("hlrebal").joinpath("data/demo_snapshot.json").read_text(encoding="utf-8"))
    return doc


def demo_key(path: Path) -> tuple[str, str]:
    """(private key, address) of the demo account's key: read from ``path``, or made there
    (mode 0600) when the file does not exist."""
    from eth_account import Account

    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
    else:
        key = "0x" + Account.create().key.hex().removeprefix("0x")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
    return key, str(Account.from_key(key).address).lower()


def _accounts(sim: Simulator, fund: Sequence[tuple[str, Decimal]], demo_address: str | None) -> list[tuple[str, str]]:
    out = []
    funded = {address.lower(): amount for address, amount in fund}
    for address in sorted(sim.engine.accounts):
        view = sim.account(address)
        what = f"perp account value {view['account_value']:,.2f} USD, {len(view['positions'])} position(s)"
        usdc = Decimal(str(view.get("spot", {}).get("USDC", 0)))
        if usdc:
            what += f", {usdc:,.2f} USDC on spot"
        others = sorted(t for t in view.get("spot", {}) if t != "USDC")
        if others:
            what += f", spot {', '.join(others)}"
        if address in funded:
            what += f", funded {funded[address]} USDC"
        if address == demo_address:
            what += " (the demo account)"
        out.append((address, what))
    return out


def serve(
    host: str = "127.0.0.1",
    port: int = 3001,
    snapshot: str | Path | dict[str, Any] | None = None,
    state: str | Path | None = None,
    config: SimConfig | None = None,
    ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    fund: Sequence[tuple[str, Decimal]] = (),
    key_file: str | Path | None = None,
    announce: Callable[[list[str]], None] | None = None,
) -> None:
    """Serve /info and /exchange on host:port until Ctrl-C (or until ``stop`` is set).

    ``config`` defaults to ``SimConfig(funding=True)`` (funding paid hourly, books fixed).
    With ``key_file``, the sim serves the demo account: the bundled demo snapshot (unless
    ``snapshot`` names another) owned by the key in that file, made (mode 0600) if missing.
    With ``state``, the sim starts from that file when it exists (else from the snapshot) and
    writes it after every state-changing request and on exit. ``ready`` receives the base URL
    once the server listens; ``announce`` the lines describing what is served (see
    ``describe``); nothing is printed here. Ctrl-C stops the server, saves the state, and
    propagates as KeyboardInterrupt (exit code 130 is the caller's business).
    """
    base = config or SimConfig(funding=True)
    demo_address = None
    if key_file is not None:
        if isinstance(snapshot, dict):
            doc = dict(snapshot)
        elif snapshot is None:
            doc = demo_snapshot()
        else:
            doc = json.loads(Path(snapshot).read_text(encoding="utf-8"))
        _, demo_address = demo_key(Path(key_file))
        doc["user"] = demo_address
        snapshot = doc
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
        if announce is not None:
            key_path = Path(key_file) if key_file is not None else None
            announce(describe(Served(sim.url, _accounts(sim, fund, demo_address), demo_address, key_path)))
        waiter = stop or threading.Event()
        while not waiter.wait(0.5):
            pass
    finally:
        sim.stop()
        if state is not None:
            sim.save()
