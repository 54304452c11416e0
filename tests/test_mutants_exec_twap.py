"""The twap style and the reconciliation of a killed run's TWAPs, in process and field by field: what
reaches the simulator (twapOrder, twapCancel, the own slices), what the report and the journal say.
Written against the surviving mutants of hlrebal/execution/twap.py and reconciliation.py."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hlrebal.errors import GuardError
from hlrebal.execution.models import ExecutionReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.execution.reconciliation import reconcile_twaps
from hlrebal.execution.style import PhaseJob
from hlrebal.execution.twap import Twap
from hlrebal.journal import Journal, PendingTwap
from hlrebal.keys import SigningKey
from hlrebal.market import limit_price
from hlrebal.planner import Trade, plan
from hlrebal.policy import Policy
from hlrebal.sim import ManualClock, SimConfig, Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import OWNER_KEY, USER, DirectClient, btc_80, direct, journal_entries, twap_settings
from factories import make_snapshot

RUN = "ef" * 8
MISSING = "TWAP was never placed, already canceled, or filled."  # the exchange's twapCancel error


def strip(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without their time and run, their numbers as Decimals."""
    numbers = ("filled_size", "avg_price")
    return [
        {k: D(v) if k in numbers and v is not None else v for k, v in e.items() if k not in ("ts", "run")}
        for e in entries
    ]


def manual_sim(**config: Any) -> Simulator:
    return Simulator(
        snapshot=btc_80(), config=SimConfig(twap_slice_seconds=1, tick_seconds=0, **config), clock=ManualClock()
    )


def start_twap(client: Any, asset: int, coin: str, is_buy: bool, size: str, reduce_only: bool = False) -> int:
    return int(
        client.twap_order(
            asset=asset, coin=coin, is_buy=is_buy, size=D(size), reduce_only=reduce_only, minutes=5, randomize=False
        )
    )


def sim_twap(sim: Simulator, twap_id: int) -> dict[str, Any]:
    [twap] = [t for t in sim.twaps(USER) if t["twap_id"] == twap_id]
    return twap


# --------------------------------------------------------------------------- reconcile_twaps


def test_a_killed_runs_twaps_are_cancelled_when_running_and_counted_from_their_slice_fills(tmp_path: Path) -> None:
    sim = manual_sim()
    client = direct(sim)
    other = direct(sim)  # someone else (the web UI): cancels one TWAP just before the successor does
    done = start_twap(client, 1, "ETH", True, "0.5")
    sim.advance(10.5)  # its ten slices: finished
    failed = start_twap(client, 1, "ETH", True, "10000")  # its first slice lacks the margin: error
    stopped = start_twap(client, 1, "ETH", True, "1")
    sim.advance(1.5)
    client.twap_cancel(1, stopped)  # its run cancelled it, then died before writing twap_end
    raced = start_twap(client, 1, "ETH", True, "2")
    running = start_twap(client, 0, "BTC", False, "0.1", reduce_only=True)
    sent_ms = sim.clock()
    lost = start_twap(client, 0, "BTC", False, "0.2", reduce_only=True)  # its answer never came
    sim.advance(3.5)
    assert [sim_twap(sim, i)["status"] for i in (done, failed, stopped)] == ["finished", "error", "terminated"]
    client.before["exchange.twapCancel"] = [lambda: (time.sleep(0.002), other.twap_cancel(1, raced))]
    pending = [
        PendingTwap("r1", "k-raced", "ETH", 1, "buy", "2", sent_ms - 9_000, raced),
        PendingTwap("r1", "k-running", "BTC", 0, "sell", "0.1", sent_ms - 9_000, running),
        PendingTwap("r1", "k-lost", "BTC", 0, "sell", "0.2", sent_ms),
        PendingTwap("r1", "k-never", "BTC", 0, "sell", "0.3", sent_ms),
        PendingTwap("r0", "k-done", "ETH", 1, "buy", "0.5", 0, done),
        PendingTwap("r0", "k-failed", "ETH", 1, "buy", "10000", 0, failed),
        PendingTwap("r0", "k-stopped", "ETH", 1, "buy", "1", 0, stopped),
        PendingTwap("r0", "k-unknown", "ETH", 1, "buy", "1", 0, 99),  # an id the exchange does not know
    ]
    with Journal(tmp_path / "j", RUN) as journal:
        records = reconcile_twaps(client, USER, journal, pending)
    twaps = {t["twap_id"]: t for t in sim.twaps(USER)}
    assert all(t["status"] != "activated" for t in twaps.values())
    assert client.seen["exchange.twapCancel"] == 5  # the stop above, and raced, running, lost, unknown

    def counted(key: str, run: str, coin: str, twap_id: int | None, status: str) -> dict[str, Any]:
        twap = twaps.get(twap_id)
        size = twap["executed_sz"] if twap else D(0)
        avg = twap["executed_ntl"] / size if twap and size else None
        return {"event": "reconciled_twap", "key": key, "coin": coin, "of_run": run, "twap_id": twap_id,
                "status": status, "filled_size": size, "avg_price": avg}  # fmt: skip

    def cancel(key: str, twap_id: int, error: str | None) -> dict[str, Any]:
        return {"event": "twap_cancel", "key": key, "twap_id": twap_id, "at": "reconciliation", "error": error}

    expected = [
        cancel("k-raced", raced, MISSING),  # the exchange's reason, as it said it
        counted("k-raced", "r1", "ETH", raced, "terminated"),
        cancel("k-running", running, None),
        counted("k-running", "r1", "BTC", running, "terminated"),
        cancel("k-lost", lost, None),  # found in twapHistory: same coin, side and size, since it was sent
        counted("k-lost", "r1", "BTC", lost, "terminated"),
        counted("k-never", "r1", "BTC", None, "never started"),
        counted("k-done", "r0", "ETH", done, "finished"),  # ended: nothing to cancel
        counted("k-failed", "r0", "ETH", failed, "error"),
        counted("k-stopped", "r0", "ETH", stopped, "terminated"),
        cancel("k-unknown", 99, MISSING),
        counted("k-unknown", "r0", "ETH", 99, "unknown"),
    ]
    assert strip(journal_entries(tmp_path / "j")) == expected
    assert strip(records) == [e for e in expected if e["event"] == "reconciled_twap"]
    assert D(records[1]["filled_size"]) > 0 and D(records[2]["filled_size"]) > 0  # the slices so far count
    assert D(records[4]["filled_size"]) == D("0.5") and D(records[6]["filled_size"]) > 0


def test_slice_fills_without_a_size_or_a_fill_count_nothing(tmp_path: Path) -> None:
    sim = manual_sim()

    class Odd(DirectClient):
        def user_twap_slice_fills(self, user: str) -> list[dict[str, Any]]:
            odd = [{"twapId": 1}, {"twapId": 1, "fill": None}, {"twapId": 1, "fill": {"px": "90000"}},
                   {"twapId": 1, "fill": {"sz": "0"}}]  # fmt: skip
            return [*odd, *super().user_twap_slice_fills(user)]

    client = Odd(sim)
    client.attach_signer(SigningKey(SecretStr(OWNER_KEY), "test"))
    twap_id = start_twap(client, 0, "BTC", False, "0.1", reduce_only=True)
    sim.advance(2.5)
    with Journal(tmp_path / "j", RUN) as journal:
        [record] = reconcile_twaps(client, USER, journal, [PendingTwap("r", "k", "BTC", 0, "sell", "0.1", 0, twap_id)])
    twap = sim_twap(sim, twap_id)
    assert twap["status"] == "terminated" and twap["executed_sz"] > 0
    assert (D(record["filled_size"]), D(record["avg_price"])) == (
        twap["executed_sz"],
        twap["executed_ntl"] / twap["executed_sz"],
    )


# --------------------------------------------------------------------------- one phase of the twap style


class Time:
    """The run's clock: moves (with the simulator's) only when hlrebal sleeps. A run that reads it
    a thousand times without sleeping is waiting busily (with a real clock: a core spinning)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim, self.now, self.slept, self.reads = sim, sim.clock() / 1000, 0.0, 0

    def clock(self) -> float:
        self.reads += 1
        assert self.reads < 1000, f"a busy wait {self.slept} s into the phase"
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        self.reads = 0
        self.sim.advance(seconds)


class Recording(DirectClient):
    """The direct client, keeping every book it read (coin, answer) in order."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self.attach_signer(SigningKey(SecretStr(OWNER_KEY), "test"))
        self.books: list[tuple[str, dict[str, Any]]] = []

    def l2_book(self, coin: str) -> dict[str, Any]:
        book = super().l2_book(coin)
        self.books.append((coin, book))
        return book


@dataclass
class Phase:
    """One phase worked by the twap style alone, and everything it was seen to do."""

    sim: Simulator
    client: Recording
    time: Time
    snap: Snapshot
    trades: list[Trade]
    desk: OrderDesk
    journal: Path
    said: list[str] = field(default_factory=list)
    guarded: list[tuple[list[tuple[str, D, D | None, D]], D]] = field(default_factory=list)
    refuse_at: int | None = None

    def guard(self, trades: Any, snap: Snapshot, filled: D) -> Snapshot:
        self.guarded.append(([(t.coin, t.size, t.limit_price, t.reference_price) for t in trades], filled))
        if self.refuse_at is not None and len(self.guarded) >= self.refuse_at:
            raise GuardError("refused by the test's guard")
        return snap

    def work(self, settings: Any, trades: list[Trade] | None = None, phase: int = 2, **kw: Any) -> list[Any]:
        job = PhaseJob(trades or self.trades, 1, phase, self.snap, Policy(), self.desk, guard=self.guard, **kw)
        with Journal(self.journal, RUN) as journal:
            self.desk.journal = journal
            return Twap(settings).work(job)


def phase_of(
    tmp_path: Path,
    doc: dict[str, Any],
    mapping: dict[str, float],
    phase: int = 2,
    *,
    spot: bool = False,
    sim: Simulator | None = None,
) -> Phase:
    sim = sim or Simulator(
        snapshot=doc, config=SimConfig(twap_slice_seconds=1, tick_seconds=0, refill="never"), clock=ManualClock()
    )
    client = Recording(sim)
    t = Time(sim)
    snap = client.read_snapshot(USER, spot=spot)
    trades = [tr for tr in plan(snap, weights_from_mapping(mapping), Policy()).trades if tr.phase == phase]
    said: list[str] = []
    desk = OrderDesk(
        client=client,
        user=USER,
        journal=None,
        report=ExecutionReport(run_id=RUN, style="twap"),  # type: ignore[arg-type]
        run_id=RUN,
        progress=said.append,
        check_stop=lambda where: None,
        refused_dust={},
        clock=t.clock,
        sleep=t.sleep,
    )
    return Phase(sim, client, t, snap, trades, desk, tmp_path / "journal.jsonl", said)


def schedule(size: D, slices: int, lot: D) -> list[D]:
    """The own slices of a leg that fills as sent: slice k brings it to k/slices of its size."""
    out: list[D] = []
    for k in range(1, slices + 1):
        out.append((size * k / slices - sum(out, D(0))).quantize(lot, rounding=ROUND_DOWN))
    return out


def mid_of(book: dict[str, Any]) -> D:
    bids, asks = book["levels"]
    return (D(bids[0]["px"]) + D(asks[0]["px"])) / 2


SPOT = make_snapshot(
    {}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount", spot_prices={"PURR/USDC": "0.0012345"}
)


def test_own_slices_go_on_schedule_at_the_books_mid_and_each_request_is_guarded(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, SPOT, {"HYPE/USDC": 0.1, "PURR/USDC": 0.01}, spot=True)
    hype, purr = ph.trades
    ph.sim.set_price("@107", "38.6")  # the book moved after the plan: slices are priced off the book
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)))
    assert [(o.coin, o.tif, o.style, o.status) for o in reports] == [(t.coin, "Ioc", "twap", "filled") for t in
                                                                      (hype, purr) for _ in range(10)]  # fmt: skip
    for t, lot in ((hype, D("0.01")), (purr, D(1))):
        mine = [o for o in reports if o.coin == t.coin]
        assert [o.size for o in mine] == schedule(t.size, 10, lot)  # ten slices, the first a normal one
        market = ph.snap.market_of(t.coin)
        assert market is not None
        books = [b for coin, b in ph.client.books if coin == (market.wire or market.coin)]
        assert [o.limit_price for o in mine] == [
            limit_price(mid_of(b), True, Policy().slippage, market.sz_decimals, spot=True) for b in books
        ]
    assert reports[0].limit_price > hype.limit_price and reports[10].limit_price == D("0.0012406")  # spot decimals
    assert ph.time.slept == 9  # one slice every slice_seconds
    # every request of slices was guarded first: the slices as sent, and what the phase had filled
    filled = D(0)
    assert len(ph.guarded) == 10
    for k, (trades, done) in enumerate(ph.guarded):
        sent = [reports[k], reports[10 + k]]
        assert trades == [
            (o.coin, o.size, o.limit_price, t.reference_price) for o, t in zip(sent, (hype, purr), strict=True)
        ]
        assert done == filled
        filled += sum((o.filled_size * t.reference_price for o, t in zip(sent, (hype, purr), strict=True)), D(0))


def slow_twaps(doc: dict[str, Any]) -> Simulator:
    """A simulator whose TWAPs send a slice every 2 s: a 5-minute TWAP takes about 20 s of its clock."""
    config = SimConfig(twap_slice_seconds=2, tick_seconds=0, refill="never")
    return Simulator(snapshot=doc, config=config, clock=ManualClock())


BTC_ETH = make_snapshot({"BTC": ("0.93458", 10), "ETH": ("0.02", 10)}, cash="19938.944", user=USER)


def test_a_phase_waits_calmly_for_its_twap_once_its_own_slices_are_done(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, BTC_ETH, {"BTC": 0.4}, phase=1, sim=slow_twaps(BTC_ETH))
    btc, eth = ph.trades  # the BTC sale a native TWAP, the $61 ETH close under its minimum: sliced here
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)), phase=1)
    assert [(o.coin, o.tif, o.status) for o in reports][:2] == [("BTC", "Twap", "filled"), ("ETH", "Ioc", "filled")]
    assert reports[0].filled_size == btc.size and sum(o.filled_size for o in reports[1:]) > eth.size - D("0.004")
    assert ph.time.slept >= 18  # the TWAP's 10 slices, every 2 s, polled every second
