"""What the execution room writes down, field by field: reconciliation records, transfer records,
the dead man's switch, the end-of-run sweep, the request log of a read, and the fills it sums. The
journal is what a successor and a monitor read: every field must be the right one."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hlrebal.exchange import OrderSpec
from hlrebal.execution.reconciliation import cancel_resting, fills_by_oid, reconcile, resolve_orders
from hlrebal.journal import Journal, PendingOrder, unresolved_orders
from hlrebal.sim import Simulator

from execution_kit import USER, btc_80, direct, journal_entries

RUN = "cd" * 8


def strip(entries: list[dict[str, Any]], *drop: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in ("ts", *drop)} for e in entries]


class FillsClient:
    def __init__(self, fills: list[dict[str, Any]], statuses: dict[str, dict[str, Any]] | None = None) -> None:
        self.fills, self.statuses, self.asked = fills, statuses or {}, 0

    def user_fills(self, user: str) -> list[dict[str, Any]]:
        self.asked += 1
        return self.fills

    def order_status(self, user: str, cloid: str) -> dict[str, Any]:
        return self.statuses.get(cloid, {"status": "unknownOid"})


def test_fills_are_summed_per_order_id() -> None:
    client = FillsClient(
        [
            {"oid": 1, "sz": "2", "px": "10"},
            {"oid": "x", "sz": "9", "px": "9"},
            {"oid": 2, "sz": "1", "px": "5"},
            {"oid": 1, "sz": "1", "px": "13"},
            {"oid": 3},
        ]
    )
    assert fills_by_oid(client, USER) == {1: (D(3), D(33)), 2: (D(1), D(5)), 3: (D(0), D(0))}  # type: ignore[arg-type]


def test_lost_orders_are_asked_for_and_sized_from_the_fills() -> None:
    answer = {"status": "order", "order": {"order": {"oid": 1, "origSz": "3", "sz": "0"}, "status": "filled"}}
    client = FillsClient([{"oid": 1, "sz": "2", "px": "10"}, {"oid": 1, "sz": "1", "px": "13"}], {"0xa": answer})
    [found, missing] = resolve_orders(client, USER, ["0xa", "0xb"])  # type: ignore[arg-type]
    assert (found.cloid, found.status, found.filled_size, found.avg_px, found.oid) == ("0xa", "filled", D(3), D(11), 1)
    assert (missing.cloid, missing.status) == ("0xb", "error") and client.asked == 1
    client2 = FillsClient([], {})
    assert [o.status for o in resolve_orders(client2, USER, ["0xc"])] == ["error"] and client2.asked == 0  # type: ignore[arg-type]


def test_reconciliation_waits_for_expiry_cancels_what_may_rest_and_records_everything(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    rest, taken, ghost = "0x" + "a" * 32, "0x" + "b" * 32, "0x" + "c" * 32
    client.place_orders([OrderSpec("ETH", 1, True, D(1), D(3000), False, rest, "Alo")], expires_after=None)
    client.place_orders([OrderSpec("BTC", 0, False, D("0.1"), D(85000), True, taken)], expires_after=None)
    now = float(int(time.time()))
    pending = [
        PendingOrder("r1", rest, "ETH", USER, client.base_url, {"tif": "Alo", "asset": 1, "expires_after": 0}),
        PendingOrder("r1", taken, "BTC", USER, client.base_url, {"expires_after": int(now) * 1000 + 2000}),
        PendingOrder("r2", ghost, "SOL", USER, client.base_url, {"tif": "Gtc", "asset": "2"}),
    ]
    waits: list[float] = []
    with Journal(tmp_path / "j", RUN) as journal:
        records = reconcile(client, USER, journal, pending, clock=lambda: now, sleep=waits.append)
    assert waits == [2 + 1.5]  # until the latest expiresAfter has passed, and a margin for clocks
    assert strip(records) == [
        {"run": RUN, "event": "reconciled", "cloid": rest, "coin": "ETH", "of_run": "r1", "status": "error",
         "filled_size": "0", "avg_price": None, "error": "order canceled, nothing filled"},
        {"run": RUN, "event": "reconciled", "cloid": taken, "coin": "BTC", "of_run": "r1", "status": "filled",
         "filled_size": "0.1", "avg_price": records[1]["avg_price"], "error": None},
        {"run": RUN, "event": "reconciled", "cloid": ghost, "coin": "SOL", "of_run": "r2", "status": "error",
         "filled_size": "0", "avg_price": None, "error": "never placed (the exchange does not know it)"},
    ]  # fmt: skip
    assert D(records[1]["avg_price"]) > D(84000)
    cancels = [e for e in journal_entries(tmp_path / "j") if e["event"].startswith("cancel")]
    assert strip(cancels) == [
        {"run": RUN, "event": "cancel_sent", "cloids": [rest], "at": "reconciliation"},
        {"run": RUN, "event": "cancel_result", "cloids": [rest], "errors": [None]},
    ]
    with Journal(tmp_path / "k", RUN) as journal:
        reconcile(client, USER, journal, pending[:1], clock=lambda: now, sleep=waits.append)
    assert waits == [3.5]  # expired long ago: no wait at all


def test_a_cancel_that_fails_during_reconciliation_is_recorded_and_the_status_still_read(tmp_path: Path) -> None:
    class Refusing:
        def cancel_by_cloid(self, cancels: Any) -> Any:
            from hlrebal.errors import ExchangeError

            raise ExchangeError("the exchange refused cancelling orders by client order id: nope")

    pending = [PendingOrder("r", "0x1", "ETH", USER, "u", {"tif": "Alo", "asset": 1}),
               PendingOrder("r", "0x2", "BTC", USER, "u", {"tif": "Ioc", "asset": 0}),
               PendingOrder("r", "0x3", "SOL", USER, "u", {"asset": 2})]  # fmt: skip
    with Journal(tmp_path / "j", RUN) as journal:
        cancel_resting(Refusing(), journal, pending)  # type: ignore[arg-type]
        cancel_resting(Refusing(), journal, pending[1:])  # type: ignore[arg-type]  # nothing may rest
    assert strip(journal_entries(tmp_path / "j")) == [
        {"run": RUN, "event": "cancel_sent", "cloids": ["0x1"], "at": "reconciliation"},
        {"run": RUN, "event": "cancel_result", "cloids": ["0x1"],
         "errors": ["the exchange refused cancelling orders by client order id: nope"]},
    ]  # fmt: skip


def test_unresolved_then_reconciled_orders_are_resolved_for_good(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    path = tmp_path / "j"
    with Journal(path, "ab" * 8) as journal:
        journal.record("run_start", account=USER, base_url=client.base_url)
        journal.record("order_sent", cloid="0x" + "d" * 32, coin="BTC", expires_after=0)
    with Journal(path, RUN) as journal:
        reconcile(client, USER, journal, unresolved_orders(path, USER, client.base_url), sleep=lambda _: None)
    assert unresolved_orders(path, USER, client.base_url) == []
