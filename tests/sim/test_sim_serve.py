"""`serve` as `hlrebal sim serve` runs it: what it says it serves, and the demo account whose
key it makes."""

from __future__ import annotations

import stat
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_account

from hlrebal.sim.serve import Served, describe, serve

from sim_helpers import limit, new_key, statuses


def _serving(**kwargs: Any) -> tuple[threading.Thread, threading.Event, list[list[str]]]:
    said: list[list[str]] = []
    ready, stop = threading.Event(), threading.Event()

    def announce(lines: list[str]) -> None:
        said.append(lines)
        ready.set()

    thread = threading.Thread(target=serve, kwargs={"port": 0, "stop": stop, "announce": announce, **kwargs})
    thread.start()
    assert ready.wait(10)
    return thread, stop, said


def test_serve_tells_the_address_the_accounts_and_the_demo_key(tmp_path: Path) -> None:
    from hyperliquid.exchange import Exchange

    key_file = tmp_path / "demo.key"
    other = new_key().address.lower()
    thread, stop, said = _serving(key_file=key_file, fund=[(other, Decimal(5000))])
    try:
        [lines] = said
        url = lines[0].split(" on ")[1].split(" ")[0]
        assert lines[0] == f"hlrebal sim on {url} (Ctrl-C to stop)"
        key = key_file.read_text().strip()
        address = eth_account.Account.from_key(key).address.lower()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        text = "\n".join(lines)
        assert f"account {other}: perp account value 5,000.00 USD, 0 position(s), funded 5000 USDC" in text
        assert f"account {address}: perp account value " in text and "(the demo account)" in text
        assert f"the demo account {address} signs with the key in {key_file}" in text
        assert f"--api-url {url} --key-file {key_file}" in text
        ex = Exchange(eth_account.Account.from_key(key), url, timeout=10)
        statuses(ex.order("BTC", True, 0.01, 90_000, limit("Ioc")))  # the key owns the demo account
    finally:
        stop.set()
        thread.join(10)
    thread, stop, said = _serving(key_file=key_file)  # the same key file: the same account
    try:
        assert f"the demo account {address} signs" in "\n".join(said[0])
    finally:
        stop.set()
        thread.join(10)


def test_describe_without_a_demo_account() -> None:
    lines = describe(Served("http://127.0.0.1:3001", [("0xabc", "account value 1.00 USD, 0 position(s)")]))
    assert lines[1] == "  account 0xabc: account value 1.00 USD, 0 position(s)"
    assert "--api-url http://127.0.0.1:3001 --address 0x…" in lines[2]
