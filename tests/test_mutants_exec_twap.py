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

import pytest

from hlrebal.errors import GuardError
from hlrebal.execution.models import ExecutionReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.execution.reconciliation import reconcile_twaps
from hlrebal.execution.style import PhaseJob
from hlrebal.execution.twap import Twap
from hlrebal.journal import Journal, PendingTwap
from hlrebal.keys import SecretStr, SigningKey
from hlrebal.market import limit_price
from hlrebal.planner import Trade, plan
from hlrebal.policy import Policy
from hlrebal.sim import ManualClock, SimConfig, Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import OWNER_KEY, USER, DirectClient, btc_80, direct, journal_entries, twap_settings
from factories import make_snapshot

RUN = "ef" * 8
TARGETS = {"BTC": 0.4, "ETH": 0.3}
FILLS = {"type": "userFills", "user": USER}
MISSING = "TWAP was never placed, already canceled, or filled."  # the exchange's twapCancel error


def strip(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without their time and run, their numbers as Decimals."""
    numbers = ("filled_size", "avg_price")
    return [
        {k: D(v) if k in numbers and v is not None else v for k, v in e.items() if k not in ("ts", "run")}
        for e in entries
    ]


def manual_sim(**config: Any) -> Simulator:
    config = {"twap_slice_seconds": 1, "tick_seconds": 0, **config}
    return Simulator(snapshot=btc_80(), config=SimConfig(**config), clock=ManualClock())


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
    bought = start_twap(client, 1, "ETH", True, "3")  # nor this one's
    sim.advance(3.5)
    assert [sim_twap(sim, i)["status"] for i in (done, failed, stopped)] == ["finished", "error", "terminated"]
    client.before["exchange.twapCancel"] = [lambda: (time.sleep(0.002), other.twap_cancel(1, raced))]
    pending = [
        PendingTwap("r1", "k-raced", "ETH", 1, "buy", "2", sent_ms - 9_000, raced),
        PendingTwap("r1", "k-running", "BTC", 0, "sell", "0.1", sent_ms - 9_000, running),
        PendingTwap("r1", "k-lost", "BTC", 0, "sell", "0.2", sent_ms),
        PendingTwap("r1", "k-bought", "ETH", 1, "buy", "3", sent_ms),
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
    assert client.seen["exchange.twapCancel"] == 6  # the stop above, and raced, running, lost, bought, unknown

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
        cancel("k-bought", bought, None),
        counted("k-bought", "r1", "ETH", bought, "terminated"),
        counted("k-never", "r1", "BTC", None, "never started"),
        counted("k-done", "r0", "ETH", done, "finished"),  # ended: nothing to cancel
        counted("k-failed", "r0", "ETH", failed, "error"),
        counted("k-stopped", "r0", "ETH", stopped, "terminated"),
        cancel("k-unknown", 99, MISSING),
        counted("k-unknown", "r0", "ETH", 99, "unknown"),
    ]
    assert strip(journal_entries(tmp_path / "j")) == expected
    assert strip(records) == [e for e in expected if e["event"] == "reconciled_twap"]
    assert all(D(records[i]["filled_size"]) > 0 for i in (1, 2, 3))  # the slices so far count
    assert D(records[5]["filled_size"]) == D("0.5") and D(records[7]["filled_size"]) > 0


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
        self.read_at: list[float] = []  # the simulator's clock (s) at each book read
        #: the books as the exchange shows them, one per read (None: the simulator's own)
        self.shapes: list[dict[str, Any] | None] = []

    def l2_book(self, coin: str) -> dict[str, Any]:
        book = super().l2_book(coin)
        shape = self.shapes.pop(0) if self.shapes else None
        book = shape if shape is not None else book
        self.books.append((coin, book))
        self.read_at.append(self.sim.clock() / 1000)
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
    stops: list[str] = field(default_factory=list)
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
    stops: list[str] = []
    desk = OrderDesk(
        client=client,
        user=USER,
        journal=None,
        report=ExecutionReport(run_id=RUN, style="twap"),  # type: ignore[arg-type]
        run_id=RUN,
        progress=said.append,
        check_stop=stops.append,
        refused_dust={},
        clock=t.clock,
        sleep=t.sleep,
    )
    return Phase(sim, client, t, snap, trades, desk, tmp_path / "journal.jsonl", said, stops)


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
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D("0.5")))
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
    assert ph.time.slept == D("4.5")  # one slice every slice_seconds
    assert "info.twapHistory" not in ph.client.seen  # no native TWAP: nothing to poll
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
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(2)), phase=1)
    assert [(o.coin, o.tif, o.status) for o in reports][:2] == [("BTC", "Twap", "filled"), ("ETH", "Ioc", "filled")]
    assert reports[0].filled_size == btc.size and sum(o.filled_size for o in reports[1:]) > eth.size - D("0.004")
    assert ph.time.slept == 18  # the TWAP ends with its 10th slice, 18 s in: the phase with it
    assert ph.client.seen["info.twapHistory"] == 18 + 1  # a poll a second, and the final read
    start = ph.client.read_at[0]
    assert [at - start for at in ph.client.read_at] == [2 * k for k in range(10)]  # a slice every 2 s, no more


def test_a_native_twap_is_sent_as_asked_journaled_followed_and_ended(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1, sim=slow_twaps(btc_80()))
    [btc] = ph.trades
    ph.sim.set_price("BTC", "85500")  # after the plan: the guard is asked at the fresh mid
    [rep] = ph.work(twap_settings(poll_seconds=D(2), slice_seconds=D(1), twap_randomize=True), phase=1)
    twap = vars(ph.sim.engine.twaps[1])
    assert {k: twap[k] for k in ("asset", "coin", "is_buy", "sz", "reduce_only", "minutes", "randomize", "status")} == {
        "asset": 0, "coin": "BTC", "is_buy": False, "sz": btc.size, "reduce_only": True, "minutes": 5,
        "randomize": True, "status": "finished",
    }  # fmt: skip
    key = "0x" + RUN[:16] + "0101" + "1".zfill(12)  # the run, round 1, phase 1, the first of the run
    assert (rep.cloid, rep.round, rep.phase, rep.tif, rep.style, rep.twap_id) == (key, 1, 1, "Twap", "twap", 1)
    avg = twap["executed_ntl"] / twap["executed_sz"]
    assert (rep.status, rep.filled_size, rep.avg_price, len(rep.fills)) == ("filled", btc.size, avg, 10)
    assert [f.oid for f in rep.fills] == [f["oid"] for f in reversed(ph.sim.handle("info", FILLS)[1])]
    assert ph.desk.report.orders == [rep]
    assert strip(journal_entries(ph.journal)) == [
        {"event": "twap_sent", "key": key, "round": 1, "phase": 1, "coin": "BTC", "asset": 0, "side": "sell",
         "size": "0.46729", "reduce_only": True, "minutes": 5, "randomize": True},
        {"event": "twap_result", "key": key, "twap_id": 1, "status": "running", "error": None},
        {"event": "twap_end", "key": key, "twap_id": 1, "status": "finished", "filled_size": btc.size,
         "avg_price": avg},
    ]  # fmt: skip
    # polled every 2 s from the first second: a slice every 2 s, each 10%; the last poll sees it finished
    assert ph.said == ["round 1 phase 1: BTC sell 0.46729 as a TWAP over 5 min"] + [
        f"round 1 phase 1: TWAPs {p}% done" for p in range(10, 101, 10)
    ]
    assert ph.time.slept == 19 and ph.client.seen["info.twapHistory"] == 11  # ten polls, and the final read
    assert ph.stops[0] == "before the TWAPs of round 1 phase 1"  # where a stop would say it came
    assert set(ph.stops[1:]) == {"during the TWAPs of round 1 phase 1"}
    done = [sum((f.size for f in rep.fills[:k]), D(0)) for k in range(1, 10)]
    assert ph.guarded == [
        ([("BTC", btc.size - sold, btc.limit_price, D(85500))], sold * btc.reference_price) for sold in done
    ]  # every poll of a running TWAP: what is left at the fresh mid, what it filled at the planned price


def test_a_lost_twap_answer_is_found_in_the_history_by_coin_side_size_and_time(tmp_path: Path) -> None:
    sim = manual_sim()
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=2, sim=sim)
    [eth] = ph.trades
    old = start_twap(ph.client, 1, "ETH", True, str(eth.size))  # the same TWAP, a minute before the run
    sim.advance(60)
    ph.time.now = sim.clock() / 1000
    ph.client.lose["exchange.twapOrder"] = 1  # started; its answer never comes
    [rep] = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)))
    assert ph.client.seen["exchange.twapOrder"] == 2  # the old one, and this run's: never sent again
    assert (rep.twap_id, rep.status, rep.error, rep.filled_size) == (old + 1, "filled", None, eth.size)
    [result] = [e for e in journal_entries(ph.journal) if e["event"] == "twap_result"]
    assert strip([result]) == [{"event": "twap_result", "key": rep.cloid, "twap_id": old + 1, "status": "running",
                                "error": None}]  # fmt: skip


def test_a_refused_twap_and_a_lost_one_that_never_started_are_errors_and_never_followed(tmp_path: Path) -> None:
    lost = "the answer to a twapOrder request was lost: the connection failed or was dropped"
    for lose, why in ((0, "the exchange refused a ETH TWAP: Invalid TWAP duration: 5 min(s)"), (1, lost)):
        sim = manual_sim(twap_min_minutes=10)  # a 5-minute TWAP is refused
        ph = phase_of(tmp_path / str(lose), btc_80(), TARGETS, phase=2, sim=sim)
        ph.client.lose["exchange.twapOrder"] = lose
        [rep] = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)))
        assert (rep.twap_id, rep.status, rep.filled_size) == (None, "error", 0)
        assert rep.error == why
        assert strip(journal_entries(ph.journal))[1:] == [
            {"event": "twap_result", "key": rep.cloid, "twap_id": None, "status": "error", "error": rep.error}
        ]
        assert ph.time.slept == 0 and "info.userTwapSliceFills" not in ph.client.seen  # nothing to follow
        assert "exchange.twapCancel" not in ph.client.seen and ph.sim.twaps(USER) == []


def test_a_twap_still_running_at_its_deadline_is_cancelled_and_counted(tmp_path: Path) -> None:
    sim = manual_sim(twap_slice_seconds=60)  # the exchange is slow: 10 slices take 10 minutes
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1, sim=sim)
    [rep] = ph.work(twap_settings(poll_seconds=D(10), slice_seconds=D(1)), phase=1)
    assert ph.time.slept == 5 * 60 + 5  # twap_minutes, and switch_margin for the exchange's last slice
    twap = vars(sim.engine.twaps[1])
    assert twap["status"] == "terminated" and 0 < twap["executed_sz"] < rep.size
    assert (rep.status, rep.filled_size) == ("partial", twap["executed_sz"])
    events = strip(journal_entries(ph.journal))[2:]
    assert events == [
        {"event": "twap_cancel", "key": rep.cloid, "twap_id": 1},
        {"event": "twap_end", "key": rep.cloid, "twap_id": 1, "status": "terminated",
         "filled_size": twap["executed_sz"], "avg_price": twap["executed_ntl"] / twap["executed_sz"]},
    ]  # fmt: skip


def test_a_guard_during_a_twap_cancels_it_and_a_cancel_that_fails_is_journaled(tmp_path: Path) -> None:
    for fail in (0, 9):
        ph = phase_of(tmp_path / str(fail), btc_80(), TARGETS, phase=1, sim=slow_twaps(btc_80()))
        ph.refuse_at = 3  # the third poll's guard refuses
        ph.client.fail["exchange.twapCancel"] = fail  # every attempt fails: the answer is lost each time
        with pytest.raises(GuardError, match="refused by the test's guard"):
            ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)), phase=1)
        twap = vars(ph.sim.engine.twaps[1])
        events = [e["event"] for e in journal_entries(ph.journal)]
        if not fail:
            assert twap["status"] == "terminated" and events[2:] == ["twap_cancel", "twap_end"]
        else:
            assert twap["status"] == "activated"  # left running: the next run reconciles it
            [failed] = [e for e in journal_entries(ph.journal) if e["event"] == "cancel_failed"]
            assert events[2:] == ["twap_cancel", "cancel_failed"] and "twapCancel" in failed["error"]
            assert not [w for w in ph.stops if "retrying" in w]  # a stopping run's cancel is not interrupted
            retry = "cancelling the BTC TWAP: the answer to a twapCancel request was lost: HTTP 500 from the exchange"
            assert ph.said.count(f"{retry}; trying again (it is safe to repeat)") == 2  # three attempts in all


def test_a_trade_without_a_market_is_left_out_and_the_others_go(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1)
    [btc] = ph.trades
    ghost = btc.model_copy(update={"coin": "NOPE"})
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)), trades=[ghost, btc], phase=1)
    assert [(o.coin, o.status) for o in reports] == [("BTC", "filled")]


def test_a_leg_done_early_is_neither_read_nor_sliced_again_and_the_next_legs_go_on(tmp_path: Path) -> None:
    doc = make_snapshot({"BTC": ("0.93458", 10), "ETH": ("0.02", 10), "SOL": ("0.7", 10)}, cash="19839", user=USER)
    ph = phase_of(tmp_path, doc, {"BTC": 0.8}, phase=1)
    eth, sol = sorted(ph.trades, key=lambda t: t.coin)
    eth = eth.model_copy(update={"size": D("0.0099")})  # three slices at the $10 minimum: done after three
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)), trades=[eth, sol], phase=1)
    assert [o.size for o in reports if o.coin == "ETH"] == [D("0.0033")] * 3
    assert [coin for coin, _ in ph.client.books] == ["ETH", "SOL"] * 3 + ["SOL"] * 7
    assert [o.size for o in reports if o.coin == "SOL"] == [D("0.08")] * 8  # the last $8.5 is no valid order
    assert ph.time.slept == 9  # SOL's tenth slice: the phase is done (ETH was done at its third)


def test_slice_sizes_round_down_to_the_lot_and_up_to_the_minimum() -> None:
    from hlrebal.execution.models import OrderReport
    from hlrebal.execution.twap import _OwnLeg, slice_size, visible_depth

    snap = Snapshot.from_raw(btc_80())
    eth = plan(snap, weights_from_mapping(TARGETS), Policy()).trades[1]
    market = snap.assets["ETH"]
    leg = _OwnLeg(eth.model_copy(update={"size": D(2)}), market, slices=3)
    assert slice_size(leg, D(100), D(1), D(3000)) == D("0.6666")  # 2/3 rounded down, never up
    small = _OwnLeg(eth.model_copy(update={"size": D("0.02")}), market, slices=10)
    assert slice_size(small, D(100), D(1), D(3000)) == D("0.0034")  # $10 / $3000 rounded up: the minimum
    assert slice_size(small, D(100), D(1), D(0)) == D("0.002")  # no valid price: no minimum to reach
    on_time = _OwnLeg(eth.model_copy(update={"size": D(10)}), market, slices=10, done=1)
    filled = OrderReport.of(on_time.trade, round=1, phase=2, cloid="0x1", tif="Ioc", style="twap")
    filled.filled_size = D(1)
    on_time.orders.append(filled)
    assert slice_size(on_time, D(100), D(1), D(3000)) == D(1)  # on schedule: 2 of 10 due, 1 filled
    assert visible_depth({"levels": [None, None]}, True, D(1)) == 0  # a side that is not a list shows nothing


def test_find_twap_allows_five_seconds_of_skew_and_skips_incomplete_entries() -> None:
    from hlrebal.execution.twap import find_twap

    history = [
        {"twapId": 1, "state": {"coin": "BTC", "side": "A", "timestamp": 10_000}},  # no size
        {"twapId": 2, "state": {"coin": "BTC", "side": "A", "sz": "0.5", "timestamp": 10_000}},
    ]
    assert find_twap(history, "BTC", "sell", D("0.5"), 15_000) == 2  # sent 5 s after it started: the clocks
    assert find_twap(history, "BTC", "sell", D("0.5"), 15_001) is None


def test_a_twap_the_exchange_ends_in_error_is_an_error_with_nothing_filled(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=2)
    [eth] = ph.trades
    huge = eth.model_copy(update={"size": D(10000)})  # its first slice lacks the margin: the TWAP errors
    [rep] = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D(1)), trades=[huge])
    assert (rep.status, rep.filled_size, rep.avg_price, rep.twap_id) == ("error", 0, None, 1)
    assert ph.time.slept == 1 and "exchange.twapCancel" not in ph.client.seen  # seen ended at the first poll
    assert strip(journal_entries(ph.journal))[-1] == {
        "event": "twap_end", "key": rep.cloid, "twap_id": 1, "status": "error", "filled_size": D(0), "avg_price": None
    }  # fmt: skip


def test_status_to_outcome_edges() -> None:
    from hlrebal.exchange import OrderOutcome
    from hlrebal.execution.reconciliation import status_to_outcome

    def answer(status: str, orig: str = "2", left: str = "0", **extra: Any) -> dict[str, Any]:
        inner = {"oid": 9, "origSz": orig, "sz": left, "limitPx": "10", **extra}
        return {"status": "order", "order": {"order": inner, "status": status}}

    no_oid = status_to_outcome("c", answer("filled", oid="9"), {})  # an oid that is no number: sized from the order
    assert (no_oid.status, no_oid.filled_size, no_oid.avg_px, no_oid.oid) == ("filled", D(2), D(10), None)
    odd = status_to_outcome("c", answer("open", orig="1", left="2"))  # more left than asked: nothing filled
    assert (odd.status, odd.filled_size, odd.avg_px) == ("resting", D(0), None)
    bare = status_to_outcome("c", answer("filled", limitPx=None))  # no price at all: no average
    assert status_to_outcome("c", {"status": "order"}).error == "order rejected"  # an order without its order
    assert status_to_outcome("c", {"status": "order", "order": {"status": "canceled"}}).error == (
        "order canceled, nothing filled"
    )  # no order inside: nothing known filled
    assert status_to_outcome("c", {"status": "order", "order": {"order": {"oid": 3}}}).error == "order rejected"
    rejected = status_to_outcome("c", answer("perpMarginRejected"))
    assert (rejected.cloid, rejected.oid, rejected.status) == ("c", 9, "error")  # which order, even refused
    no_left = {"status": "order", "order": {"order": {"oid": 9, "origSz": "2", "limitPx": "10"}, "status": "canceled"}}
    assert status_to_outcome("c", no_left) == OrderOutcome("c", "filled", D(2), D(10), 9)  # nothing said left
    part = status_to_outcome("c", answer("open", left="1"))
    assert (part.status, part.filled_size, part.oid) == ("resting", D(1), 9)  # resting, half filled
    nothing = status_to_outcome("c", answer("canceled", left="2"))
    assert (nothing.cloid, nothing.oid, nothing.filled_size) == ("c", 9, 0)
    assert (bare.status, bare.filled_size, bare.avg_px) == ("filled", D(2), None)


def test_slice_fills_without_an_order_id_count_as_order_zero() -> None:
    from hlrebal.execution.models import OrderReport
    from hlrebal.execution.twap import apply_slice_fills

    snap = Snapshot.from_raw(btc_80())
    btc = plan(snap, weights_from_mapping(TARGETS), Policy()).trades[0]
    rep = OrderReport.of(btc, round=1, phase=1, cloid="0x1", tif="Twap", style="twap")
    rep.twap_id = 2
    apply_slice_fills(rep, [{"twapId": 2, "fill": {"px": "100", "sz": "0.1", "fee": "0"}}, {"twapId": 2}])
    assert [(f.oid, f.size) for f in rep.fills] == [(0, D("0.1"))]
    empty = OrderReport.of(btc, round=1, phase=1, cloid="0x2", tif="Twap", style="twap")
    empty.twap_id = 3
    apply_slice_fills(empty, [{"twapId": 3, "fill": {"px": "100", "sz": "0", "fee": "0", "oid": 4}}])
    assert (empty.filled_size, empty.avg_price) == (0, None)  # a fill of nothing: no average price


def test_reconciliation_of_nothing_asks_nothing_and_a_recent_order_is_waited_for(tmp_path: Path) -> None:
    from hlrebal.execution.reconciliation import reconcile
    from hlrebal.journal import PendingOrder

    sim = manual_sim()
    client = direct(sim)
    waits: list[float] = []
    with Journal(tmp_path / "j", RUN) as journal:
        assert reconcile(client, USER, journal, [], clock=lambda: 1e9, sleep=waits.append) == []
        assert waits == [] and client.seen == {}
        recent = PendingOrder("r", "0x" + "e" * 32, "BTC", USER, client.base_url, {"expires_after": 10**12 - 1000})
        [record] = reconcile(client, USER, journal, [recent], clock=lambda: 1e9, sleep=waits.append)
    assert waits == [0.5]  # its expiry passed a second ago: the margin for the clocks is 1.5 s
    assert record["status"] == "error" and record["cloid"] == recent.cloid


def test_a_refused_twap_does_not_hold_up_the_progress_of_the_others(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1, sim=slow_twaps(btc_80()))
    [btc] = ph.trades
    eth = plan(ph.snap, weights_from_mapping(TARGETS), Policy()).trades[1]
    refused = eth.model_copy(update={"reduce_only": True})  # reduce-only, with no ETH to reduce: refused
    bad, good = ph.work(twap_settings(poll_seconds=D(2), slice_seconds=D(1)), trades=[refused, btc], phase=1)
    assert (bad.status, bad.twap_id, good.status) == ("error", None, "filled")
    assert bad.error == "the exchange refused a ETH TWAP: Reduce-only TWAP order would increase position."
    assert [filled for _, filled in ph.guarded][-1] == sum((f.size for f in good.fills[:9]), D(0)) * btc.reference_price
    assert ph.said[-1] == "round 1 phase 1: TWAPs 57% done"  # all of the BTC TWAP, none of the ETH one


def test_a_slice_is_priced_off_the_best_levels_and_off_the_plan_when_a_side_is_empty(tmp_path: Path) -> None:
    ph = phase_of(tmp_path, SPOT, {"HYPE/USDC": 0.1}, spot=True)
    [hype] = ph.trades

    def level(px: str) -> dict[str, Any]:
        return {"px": px, "sz": "100000", "n": 1}

    lopsided = {"coin": "@107", "levels": [[level("38.50"), level("37")], [level("38.52"), level("45")]]}
    no_bids = {"coin": "@107", "levels": [[], [level("38.42"), level("45")]]}
    ph.client.shapes = [lopsided, no_bids]
    reports = ph.work(twap_settings(poll_seconds=D(1), slice_seconds=D("0.5")))
    slippage = Policy().slippage
    assert [o.limit_price for o in reports[:2]] == [
        limit_price(D("38.51"), True, slippage, 2, spot=True),  # the mid of the best bid and ask
        limit_price(hype.reference_price, True, slippage, 2, spot=True),  # no bid: the planned price
    ]


def test_a_twap_that_finishes_as_it_is_cancelled_is_recorded_finished(tmp_path: Path) -> None:
    sim = manual_sim(twap_slice_seconds=60)  # still running at the phase's deadline
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1, sim=sim)
    ph.client.before["exchange.twapCancel"] = [lambda: sim.advance(600)]  # its last slices go first
    [rep] = ph.work(twap_settings(poll_seconds=D(10), slice_seconds=D(1)), phase=1)
    assert vars(sim.engine.twaps[1])["status"] == "finished" and rep.status == "filled"
    [end] = [e for e in journal_entries(ph.journal) if e["event"] == "twap_end"]
    assert end["status"] == "finished"  # as the exchange says, not as it was last polled


class OddMids(Recording):
    """allMids answered without BTC, then as something that is not a mapping at all."""

    def info(self, payload: dict[str, Any]) -> Any:
        answer = super().info(payload)
        if payload.get("type") == "allMids":
            self.mids_asked = getattr(self, "mids_asked", 0) + 1
            return [] if self.mids_asked > 1 else {k: v for k, v in answer.items() if k != "BTC"}
        return answer


def test_the_guard_of_a_twap_without_a_fresh_mid_uses_the_planned_price(tmp_path: Path) -> None:
    sim = slow_twaps(btc_80())
    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1, sim=sim)
    ph.client = ph.desk.client = odd = OddMids(sim)  # type: ignore[assignment]
    [btc] = ph.trades
    [rep] = ph.work(twap_settings(poll_seconds=D(2), slice_seconds=D(1)), phase=1)
    assert rep.status == "filled" and odd.mids_asked == 9
    assert {price for trades, _ in ph.guarded for _, _, _, price in trades} == {btc.reference_price}


def test_a_cancel_that_fails_at_the_deadline_stops_the_run(tmp_path: Path) -> None:
    from hlrebal.errors import HlrebalError

    ph = phase_of(tmp_path, btc_80(), TARGETS, phase=1, sim=manual_sim(twap_slice_seconds=60))
    ph.client.fail["exchange.twapCancel"] = 9
    with pytest.raises(HlrebalError, match="twapCancel"):
        ph.work(twap_settings(poll_seconds=D(10), slice_seconds=D(1)), phase=1)
    assert [e["event"] for e in journal_entries(ph.journal)][2:] == ["twap_cancel"]  # no end: the next run's


def test_a_twap_worth_exactly_the_exchanges_minimums_is_a_native_twap() -> None:
    from hlrebal.execution.twap import twap_able

    snap = Snapshot.from_raw(btc_80())
    btc = plan(snap, weights_from_mapping(TARGETS), Policy()).trades[0]
    hundred = btc.model_copy(update={"size": D("0.001"), "reference_price": D(100_000)})  # $100.00
    assert twap_able(hundred, snap.assets["BTC"], 5) and twap_able(hundred, snap.assets["BTC"], 10)
    assert not twap_able(hundred, snap.assets["BTC"], 11)  # $10 a minute: $110
