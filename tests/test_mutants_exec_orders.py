"""The order desk, the approved plan's scope, transfers and the resting-order safety, told by what
reaches the simulator, what the journal and the report say, and what a stopped run reports (tests
written against the surviving mutants of hlrebal/execution/{orders,scope,transfers,safety}.py)."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hlrebal.errors import Interrupted
from hlrebal.execution import Executor
from hlrebal.execution.orders import EXPIRES_AFTER_MS, Placement
from hlrebal.execution.safety import end_resting
from hlrebal.execution.scope import Scope
from hlrebal.execution.transfers import make_transfers
from hlrebal.journal import Journal
from hlrebal.planner import Transfer, plan
from hlrebal.policy import Policy
from hlrebal.sim import Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import USER, DirectClient, btc_80, direct, journal_entries, run_library
from factories import make_snapshot

RUN = "ab" * 8
TARGETS = {"BTC": 0.4, "ETH": 0.3}


def strip(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in ("ts", "run")} for e in entries]


class Bench:
    """A real Executor's desk and switch on a simulator, with the journal, progress lines and sleeps
    kept for the test to read."""

    def __init__(
        self, sim: Simulator, tmp_path: Path, *, client: DirectClient | None = None, clock: Any = time.time,
        mapping: dict[str, float] | None = None, stop: dict[str, bool] | None = None,
    ) -> None:  # fmt: skip
        self.sim = sim
        self.client = client or direct(sim)
        self.path = tmp_path / "journal.jsonl"
        self.journal = Journal(self.path, RUN)
        self.lines: list[str] = []
        self.sleeps: list[float] = []
        self.stop = stop if stop is not None else {"now": False}
        self.targets = weights_from_mapping(mapping or TARGETS)
        self.executor = Executor(
            client=self.client, user=USER, targets=self.targets, policy=Policy(), journal=self.journal,
            progress=self.lines.append, should_stop=lambda: self.stop["now"], clock=clock, sleep=self.sleeps.append,
        )  # fmt: skip
        self.desk = self.executor.desk
        self.switch = self.executor.switch

    def plan(self) -> Any:
        snap = self.client.read_snapshot(USER, spot=self.targets.mentions_spot, dexes=self.targets.dexes)
        return plan(snap, self.targets, Policy())

    def entries(self, *events: str) -> list[dict[str, Any]]:
        return [e for e in strip(journal_entries(self.path)) if not events or e["event"] in events]

    def close(self) -> None:
        self.journal.close()


def open_orders(sim: Simulator) -> list[dict[str, Any]]:
    return sim.handle("info", {"type": "openOrders", "user": USER})[1]


def rest(bench: Bench, coin: str, price: str) -> Any:
    """One post-only order of the plan's ``coin`` trade at ``price`` (away from the touch: it rests)."""
    trade = next(t for t in bench.plan().trades if t.coin == coin)
    [rep] = bench.desk.send([Placement(trade, trade.size, D(price), "Alo")], 1, trade.phase, style="maker")
    assert rep.status == "resting", rep
    return rep


# --------------------------------------------------------------------------- sending and lost answers


def test_every_order_is_journaled_before_it_goes_and_its_result_after(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    now = float(int(time.time()))
    bench = Bench(sim, tmp_path, clock=lambda: now)
    trades = bench.plan().phase(1)
    [rep] = bench.desk.send_trades(trades, 1, 1)
    bench.close()
    [btc] = trades
    cloid = f"0x{RUN}0101{1:012x}"
    assert rep.cloid == cloid and rep.style == "taker" and rep.tif == "Ioc"
    sent, result = bench.entries("order_sent", "order_result")
    assert sent == {
        "event": "order_sent", "cloid": cloid, "round": 1, "phase": 1, "coin": "BTC", "asset": btc.asset_id,
        "side": "sell", "action": rep.action, "size": format(btc.size, "f"),
        "limit_price": format(btc.limit_price, "f"),
        "reference_price": sent["reference_price"], "reduce_only": btc.reduce_only, "dust": False,
        "tif": "Ioc", "expires_after": int(now) * 1000 + EXPIRES_AFTER_MS,
    }  # fmt: skip
    assert result == {
        "event": "order_result", "cloid": cloid, "coin": "BTC", "status": "filled",
        "filled_size": format(btc.size, "f"),
        "avg_price": result["avg_price"], "oid": rep.oid, "error": None,
    }  # fmt: skip
    assert rep.oid is not None and rep.avg_price is not None and D(sent["reference_price"]) == btc.reference_price
    assert D(result["avg_price"]) == rep.avg_price
    assert bench.lines == ["round 1 phase 1: sending 1 order(s) in one request"]
    [order] = sim.orders
    assert (order["coin"], D(str(order["sz"])), order["cloid"]) == ("BTC", btc.size, cloid)


def test_client_order_ids_count_up_within_the_run(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    bench = Bench(sim, tmp_path)
    p = bench.plan()
    first = bench.desk.send_trades(p.phase(1), 2, 1)
    second = bench.desk.send_trades(p.phase(2), 2, 2)
    bench.close()
    assert [r.cloid for r in first + second] == [f"0x{RUN}0201{1:012x}", f"0x{RUN}0202{2:012x}"]
    assert [o["cloid"] for o in sim.orders] == [r.cloid for r in first + second]


@pytest.mark.parametrize(("later", "waits"), [(0.0, [6.5]), (6.0, [0.5]), (6.5, [])])
def test_a_lost_order_answer_waits_for_the_request_to_expire_then_asks(
    tmp_path: Path, later: float, waits: list[float]
) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.lose["exchange.order"] = 1
    now = float(int(time.time()))
    times = iter([now, now + later])
    bench = Bench(sim, tmp_path, client=client, clock=lambda: next(times, now + later))
    [rep] = bench.desk.send_trades(bench.plan().phase(1), 1, 1)
    bench.close()
    assert bench.sleeps == waits  # expiresAfter (5 s) and a margin (1.5 s) for clocks that disagree
    assert rep.status == "filled" and client.seen["exchange.order"] == 1 and client.seen["info.orderStatus"] == 1
    [lost] = bench.entries("answer_lost")
    said = "the answer to an order request was lost: the connection failed or was dropped"
    assert lost == {"event": "answer_lost", "round": 1, "phase": 1, "error": said}
    assert bench.lines[1] == (
        "round 1 phase 1: the answer to an order request was lost: the connection failed or was dropped; "
        "asking for each order by client id"
    )


# --------------------------------------------------------------------------- idempotent actions and cancels


def test_a_cancel_whose_answer_is_lost_twice_is_sent_a_third_time_with_growing_pauses(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client)
    rep = rest(bench, "BTC", "95000")
    client.lose["exchange.cancel"] = 2
    left = bench.desk.cancel([rep])
    bench.close()
    assert left == [] and rep.status == "cancelled" and open_orders(sim) == []
    assert client.seen["exchange.cancel"] == 3 and bench.sleeps == [0.5, 1.0]
    lost = "the answer to a cancel request was lost: the connection failed or was dropped"
    assert bench.lines[-2:] == [f"cancelling resting orders: {lost}; trying again (it is safe to repeat)"] * 2
    # the first was processed (its answer lost): the third finds nothing left to cancel
    gone = "Order was never placed, already canceled, or filled. asset=0"
    assert bench.entries("cancel_sent", "cancel_result") == [
        {"event": "cancel_sent", "cloids": [rep.cloid]},
        {"event": "cancel_result", "cloids": [rep.cloid], "errors": [gone]},
    ]


def test_a_cancel_lost_three_times_is_given_up_and_the_order_reported_still_resting(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client)
    rep = rest(bench, "BTC", "95000")
    client.lose["exchange.cancel"] = 3
    client.before["exchange.cancel"] = [lambda: client.lose.__setitem__("exchange.cancel", 3)]
    left = bench.desk.cancel([rep])
    bench.close()
    # the third lost answer is the last try; the status read after it says the order was cancelled
    assert client.seen["exchange.cancel"] == 3 and bench.sleeps == [0.5, 1.0]
    lost = "the answer to a cancel request was lost: the connection failed or was dropped"
    [result] = bench.entries("cancel_result")
    assert result == {"event": "cancel_result", "cloids": [rep.cloid], "errors": [lost]}
    assert left == [] and rep.status == "cancelled"


def test_a_stop_while_a_cancel_is_retried_still_sends_it_when_the_run_ends(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client)
    rep = rest(bench, "BTC", "95000")
    client.lose["exchange.cancel"] = 1
    bench.stop["now"] = True
    with pytest.raises(Interrupted, match=r"^interrupted before retrying cancelling resting orders; nothing more"):
        bench.desk.cancel([rep])  # an ordinary requote's cancel is interrupted ...
    assert open_orders(sim) == [] or client.seen["exchange.cancel"] == 1
    rep2 = rest_again(bench, sim)
    client.lose["exchange.cancel"] = 1
    left = bench.desk.cancel([rep2], interruptible=False)  # ... the one that ends a stopped run is not
    bench.close()
    assert left == [] and rep2.status == "cancelled" and open_orders(sim) == []
    where = "before retrying cancelling resting orders"
    assert bench.entries("interrupted") == [{"event": "interrupted", "where": where}]


def rest_again(bench: Bench, sim: Simulator) -> Any:
    stop, bench.stop["now"] = bench.stop["now"], False
    try:
        return rest(bench, "ETH", "2000")
    finally:
        bench.stop["now"] = stop


def test_a_lost_leverage_answer_during_a_stop_ends_the_run_before_the_retry(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    stop = {"now": False}
    client.lose["exchange.updateLeverage"] = 1
    client.before["exchange.updateLeverage"] = [lambda: stop.update(now=True)]
    report, _, _ = run_library(sim, tmp_path, TARGETS, client=client, policy=Policy(leverage=3),
                                     should_stop=lambda: stop["now"])  # fmt: skip
    assert report.outcome == "interrupted"
    assert report.message == "interrupted before retrying setting ETH leverage; nothing more was sent"
    assert client.seen["exchange.updateLeverage"] == 1 and [o.coin for o in report.orders] == ["BTC"]


# --------------------------------------------------------------------------- the dead man's switch


def test_the_switch_covers_the_patience_and_margin_and_at_least_six_seconds(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    now = float(int(time.time()))
    bench = Bench(sim, tmp_path, clock=lambda: now)
    switch = bench.switch  # margin 5 s (the default settings' switch_margin)
    margin = switch.margin
    at = switch.arm(now + 30)
    assert at == int((now + 30 + margin) * 1000) and sim.engine.account(USER).scheduled_cancel == at
    soon = switch.arm(now - 100)  # patience already spent: still at least 6 s ahead
    assert soon == int((now + 6) * 1000) and sim.engine.account(USER).scheduled_cancel == soon
    switch.clear()
    switch.clear()  # cleared once: nothing more is sent
    bench.close()
    assert sim.engine.account(USER).scheduled_cancel is None and switch.armed_until is None
    assert bench.entries() == [
        {"event": "switch_set", "time": at},
        {"event": "switch_set", "time": soon},
        {"event": "switch_cleared"},
    ]
    assert bench.client.seen["exchange.scheduleCancel"] == 3


def test_a_switch_that_cannot_be_cleared_is_journaled_and_left_to_fire(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client)
    at = bench.switch.arm(time.time() + 10)
    client.lose["exchange.scheduleCancel"] = 1
    bench.switch.clear()
    bench.close()
    lost = "the answer to a scheduleCancel request was lost: the connection failed or was dropped"
    assert bench.entries("switch_clear_failed", "switch_cleared") == [{"event": "switch_clear_failed", "error": lost}]
    assert bench.lines == [f"could not clear the dead man's switch ({lost}); it fires at its time"]
    assert bench.switch.armed_until == at


# --------------------------------------------------------------------------- the end-of-run sweep


def test_the_end_of_run_sweep_cancels_only_the_runs_own_orders_and_clears_the_switch(tmp_path: Path) -> None:
    from hlrebal.exchange import OrderSpec

    from factories import add_dex

    sim = Simulator(snapshot=add_dex(btc_80(), "xyz", [("XYZ100", 2, 20, "25000")], cash="10000"))
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client, mapping={"BTC": 0.4, "ETH": 0.3, "xyz:XYZ100": 0.05})
    other = direct(sim)  # the account's own order, placed outside the run
    other.place_orders([OrderSpec("SOL", 2, True, D(1), D(50), False, "0x" + "7" * 32, "Gtc")], expires_after=None)
    bench.switch.arm(time.time() + 10)
    mine = [rest(bench, "BTC", "95000"), rest(bench, "xyz:XYZ100", "20000")]
    gone = bench.desk.send_trades([], 1, 1)  # nothing to send: no request
    assert gone == [] and client.seen["exchange.order"] == 2
    assert end_resting(bench.desk, mine, bench.switch, ["", "xyz"]) is True
    bench.close()
    assert [o["coin"] for o in open_orders(sim)] == ["SOL"]
    assert sim.handle("info", {"type": "openOrders", "user": USER, "dex": "xyz"})[1] == []
    assert [r.status for r in mine] == ["cancelled", "cancelled"]
    assert sim.engine.account(USER).scheduled_cancel is None
    swept = bench.entries("cancel_sent", "order_result", "switch_cleared")[-4:]
    assert swept[0]["at"] == "end of run" and sorted(swept[0]["oids"]) == sorted(r.oid for r in mine)
    assert [e["event"] for e in swept[1:]] == ["order_result", "order_result", "switch_cleared"]
    assert client.seen["exchange.cancel"] == 1


class Unmoved(DirectClient):
    """An exchange that answers every cancel with a refusal and cancels nothing."""

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        if payload.get("action", {}).get("type") == "cancel":
            self.seen["exchange.cancel"] = self.seen.get("exchange.cancel", 0) + 1
            refusal = {"error": "Order was never placed, already canceled, or filled."}
            errors = [refusal] * len(payload["action"]["cancels"])
            return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": errors}}}
        return super()._post(path, payload)


def test_an_order_the_exchange_will_not_cancel_is_tried_three_times_and_the_switch_kept(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=Unmoved)
    bench = Bench(sim, tmp_path, client=client)
    bench.switch.arm(time.time() + 10)
    rep = rest(bench, "BTC", "95000")
    assert end_resting(bench.desk, [rep], bench.switch, [""]) is False
    bench.close()
    assert client.seen["exchange.cancel"] == 3 and len(open_orders(sim)) == 1
    assert len(bench.entries("cancel_sent")) == 3 and bench.entries("switch_cleared") == []
    assert sim.engine.account(USER).scheduled_cancel is not None and rep.status == "resting"


def test_a_failing_end_check_is_journaled_and_reported_unconfirmed(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client)
    rep = rest(bench, "BTC", "95000")
    client.lose["exchange.cancel"] = 3
    bench.stop["now"] = True  # a stopped run: the sweep's cancels are still sent and retried
    assert end_resting(bench.desk, [rep], bench.switch, [""]) is False
    bench.close()
    lost = "the answer to a cancel request was lost: the connection failed or was dropped"
    assert client.seen["exchange.cancel"] == 3 and bench.sleeps == [0.5, 1.0]
    assert bench.lines[-1] == f"cancelling the run's resting orders: {lost}; trying again (it is safe to repeat)"
    assert bench.entries("end_check_failed") == [{"event": "end_check_failed", "error": lost}]


# --------------------------------------------------------------------------- transfers


def spot_account(cash: str = "100000", spot: str = "0") -> dict[str, Any]:
    return make_snapshot({}, cash=cash, user=USER, spot={"USDC": spot})


def move_to_spot(sim: Simulator, amount: D) -> None:
    """The owner moves USDC from perp to spot outside the run."""
    assert sim.engine.usd_class_transfer(sim.engine.account(USER), amount, False) is None


SPOT_TARGETS = {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}


def transfer_plan(cash: str = "100000") -> Any:
    p = plan(Snapshot.from_raw(spot_account(cash)), weights_from_mapping(SPOT_TARGETS), Policy())
    [t] = p.transfers
    assert not t.to_perp
    return p


def test_a_transfer_refused_mid_run_leaves_phase_2_sized_to_each_sides_cash(tmp_path: Path) -> None:
    sim = Simulator(snapshot=spot_account())
    client = direct(sim)
    # just before the transfer, the owner moves most of the perp cash to spot elsewhere
    client.before["exchange.usdClassTransfer"] = [lambda: move_to_spot(sim, D(95000))]
    report, _, journal = run_library(sim, tmp_path, SPOT_TARGETS, client=client, spot=True)
    [result] = [e for e in strip(journal_entries(journal)) if e["event"] == "transfer_result"]
    refusal = result["error"]
    assert result == {"event": "transfer_result", "round": 1, "status": "error", "error": refusal}
    assert "Insufficient balance" in refusal and report.transfers == []
    assert report.warnings[0] == f"round 1: a transfer was refused: {refusal}; phase 2 sized to the cash each side has"
    assert {o.coin for o in report.orders if o.round == 1} >= {"BTC"}  # phase 2 still went out


@pytest.mark.parametrize(("moved", "made"), [("0.5", True), ("0.4", False)])
def test_a_lost_transfer_counts_as_made_when_the_balance_moved_by_half_its_amount(
    tmp_path: Path, moved: str, made: bool
) -> None:
    p = transfer_plan()
    [t] = p.transfers
    sim = Simulator(snapshot=spot_account(cash=format(t.amount * D("0.75"), "f"), spot="8000"))
    client = direct(sim)
    # someone else moves part of the amount; ours is refused, and its answer is lost
    client.before["exchange.usdClassTransfer"] = [lambda: move_to_spot(sim, t.amount * D(moved))]
    client.lose["exchange.usdClassTransfer"] = 1
    bench = Bench(sim, tmp_path, client=client, mapping=SPOT_TARGETS)
    start = client.read_snapshot(USER, spot=True)
    snap, why = make_transfers(bench.desk, lambda: client.read_snapshot(USER, spot=True), p, start, 1)
    bench.close()
    lost = "the answer to an usdClassTransfer request was lost: the connection failed or was dropped"
    [sent, result] = bench.entries("transfer_sent", "transfer_result")
    assert sent == {"event": "transfer_sent", "round": 1, "amount": format(t.amount, "f"), "to_perp": False}
    assert result == {"event": "transfer_result", "round": 1, "status": "ok" if made else "unknown", "error": lost}
    assert snap.spot_usdc == D(8000) + t.amount * D(moved)
    if made:
        assert why is None and bench.desk.report.transfers == [f"{t.amount} USDC perp -> spot"]
    else:
        assert why == f"the answer to a transfer was lost ({lost})" and bench.desk.report.transfers == []
    assert client.seen["exchange.usdClassTransfer"] == 1  # never resent


def test_blocked_transfers_are_told_to_the_owner_once_each_and_never_sent(tmp_path: Path) -> None:
    sim = Simulator(snapshot=spot_account())
    bench = Bench(sim, tmp_path, mapping=SPOT_TARGETS)
    out = Transfer(amount=D("1234.5"), to_perp=False, reason="spot buys", blocked=True)
    back = Transfer(amount=D(99), to_perp=True, reason="perp margin", blocked=True)
    p = transfer_plan().model_copy(update={"transfers": (out, back, out)})
    start = bench.client.read_snapshot(USER, spot=True)
    snap, why = make_transfers(bench.desk, lambda: pytest.fail("no read"), p, start, 1)
    bench.close()
    assert snap is start and why is None
    assert bench.desk.report.blocked_transfers == [
        "the owner must transfer $1,234.50 USDC perp -> spot (an API wallet or vault cannot)",
        "the owner must transfer $99.00 USDC spot -> perp (an API wallet or vault cannot)",
    ]
    assert "exchange.usdClassTransfer" not in bench.client.seen and bench.entries() == []


def test_a_stop_before_a_transfer_sends_nothing_and_says_where(tmp_path: Path) -> None:
    sim = Simulator(snapshot=spot_account())
    bench = Bench(sim, tmp_path, mapping=SPOT_TARGETS, stop={"now": True})
    start = bench.client.read_snapshot(USER, spot=True)
    with pytest.raises(Interrupted) as stopped:
        make_transfers(bench.desk, lambda: start, transfer_plan(), start, 1)
    bench.close()
    assert stopped.value.message == "interrupted before a transfer; nothing more was sent"
    assert bench.entries() == [{"event": "interrupted", "where": "before a transfer"}]
    assert "exchange.usdClassTransfer" not in bench.client.seen


# --------------------------------------------------------------------------- an approved plan's scope


def btc_plan(**positions: Any) -> Any:
    snap = Snapshot.from_raw(make_snapshot(positions or {"BTC": ("0.93458", 10)}, cash="19999.952"))
    return plan(snap, weights_from_mapping(TARGETS), Policy())


def test_scope_keeps_an_uncut_plan_as_it_is() -> None:
    p = btc_plan()
    assert Scope.of(p).restrict(p, {}) is p


def test_scope_cut_trades_carry_their_cut_notional_and_later_trades_still_come() -> None:
    p = btc_plan()
    btc, eth = (next(t for t in p.trades if t.coin == c) for c in ("BTC", "ETH"))
    scope = Scope.of(p)
    cut = scope.restrict(p, {"BTC": btc.size - D("0.0001")})  # $8 of BTC left: below $10, dropped
    assert [t.coin for t in cut.trades] == ["ETH"] and cut.trades[0] == eth
    half = scope.restrict(p, {"BTC": D("0.2")})
    new = next(t for t in half.trades if t.coin == "BTC")
    assert new.size == btc.size - D("0.2") and new.notional == new.size * new.limit_price
    assert [t.coin for t in half.trades] == [t.coin for t in p.trades]


def test_scope_keeps_a_cut_of_exactly_the_minimum_order_value() -> None:
    p = btc_plan()
    btc = next(t for t in p.trades if t.coin == "BTC").model_copy(update={"limit_price": D(100000)})
    p = p.model_copy(update={"trades": (btc,)})
    size = D("0.0001")  # $10 at the limit price
    cut = Scope.of(p).restrict(p, {"BTC": btc.size - size})
    assert [(t.coin, t.size) for t in cut.trades if t.coin == "BTC"] == [("BTC", size)]


def test_scope_of_a_flip_counts_both_halves_and_what_each_has_used() -> None:
    p = plan(Snapshot.from_raw(make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952")),
             weights_from_mapping({"BTC": -0.4, "ETH": 0.3}), Policy())  # fmt: skip
    halves = [t for t in p.trades if t.coin == "BTC"]
    assert len(halves) == 2 and {t.side for t in halves} == {"sell"}
    total = sum((t.size for t in halves), D(0))
    scope = Scope.of(p)
    assert scope.left("BTC", {}) == total
    assert scope.restrict(p, {}) is p
    first = halves[0].size
    cut = scope.restrict(p, {"BTC": first})  # the close filled: only the open remains, at its size
    assert [(t.coin, t.size) for t in cut.trades if t.coin == "BTC"] == [("BTC", min(first, total - first))]
    later = scope.restrict(p, {"BTC": total - D("0.2")})
    assert sum((t.size for t in later.trades if t.coin == "BTC"), D(0)) == D("0.2")


def test_scope_drops_a_dust_close_once_it_has_been_filled() -> None:
    snap = Snapshot.from_raw(make_snapshot({"BTC": ("0.93458", 10), "SOL": ("0.05", 10)}, cash="19999.952"))
    p = plan(snap, weights_from_mapping(TARGETS), Policy())
    [dust] = [t for t in p.trades if t.dust]
    scope = Scope.of(p)
    assert [t.coin for t in scope.restrict(p, {}).trades] == [t.coin for t in p.trades]  # dust is kept below $10
    after = scope.restrict(p, {"SOL": dust.size})  # the close filled: nothing of it is left to send
    assert [t.coin for t in after.trades] == [t.coin for t in p.trades if not t.dust]


def test_after_a_refused_transfer_an_unfinished_reduction_holds_back_its_coins_increase(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=USER, spot={"USDC": "0"})
    sim = Simulator(snapshot=doc, config=SimConfig(refill="per_request"))
    sim.set_book("BTC", level_notional=10_000, levels=3)  # the long's close fills only in part
    client = direct(sim)
    client.before["exchange.usdClassTransfer"] = [lambda: move_to_spot(sim, D(90000))]  # ours is then refused
    mapping = {"BTC": -0.3, "HYPE/USDC": 0.2}  # a flip: close the long (phase 1), open the short (phase 2)
    report, _, _ = run_library(sim, tmp_path, mapping, client=client, spot=True, policy=Policy(max_turnover=3))
    assert report.warnings[0].startswith("round 1: a transfer was refused: ")
    first = [(o.phase, o.coin, o.side) for o in report.orders if o.round == 1]
    assert first == [(1, "BTC", "sell"), (2, "HYPE/USDC", "buy")]  # no short opened while the close is unfinished
    assert report.orders[0].status == "partial"


# --------------------------------------------------------------------------- waits, stops, resting orders read


class Steps:
    """A clock moved only by the desk's sleeps (and a guard against a wait that never ends)."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []  # type: ignore[var-annotated]

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        assert len(self.slept) < 50, "the wait never ends"
        self.now += seconds


@pytest.mark.parametrize(("seconds", "slept"), [(1.0, [0.25] * 4), (0.6, [0.25, 0.25, 0.1]), (0.0, [])])
def test_a_wait_sleeps_in_short_steps_until_its_time(tmp_path: Path, seconds: float, slept: list[float]) -> None:
    sim = Simulator(snapshot=btc_80())
    bench = Bench(sim, tmp_path)
    steps = Steps()
    bench.desk.clock, bench.desk.sleep = steps.clock, steps.sleep
    bench.desk.wait(seconds)
    bench.close()
    assert steps.slept == slept and steps.now == 1000.0 + seconds


def test_a_wait_ends_at_once_when_the_run_is_stopping(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    bench = Bench(sim, tmp_path, stop={"now": True})
    steps = Steps()
    bench.desk.clock, bench.desk.sleep = steps.clock, steps.sleep
    bench.desk.wait(5.0)
    bench.close()
    assert steps.slept == []


def test_a_stop_before_sending_sends_nothing_and_says_which_orders(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client, stop={"now": True})
    with pytest.raises(Interrupted) as stopped:
        bench.desk.send_trades(bench.plan().phase(2), 3, 2)
    bench.close()
    assert stopped.value.message == "interrupted before the phase 2 orders of round 3; nothing more was sent"
    assert "exchange.order" not in client.seen and bench.desk.report.orders == []
    assert bench.entries() == [{"event": "interrupted", "where": "before the phase 2 orders of round 3"}]


def test_what_reaches_the_exchange_is_the_placement_of_each_trade(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    bench = Bench(sim, tmp_path)
    p = bench.plan()
    btc, eth = p.phase(1)[0], p.phase(2)[0]
    placements = [Placement(btc, D("0.1"), D(95000), "Alo"), Placement(eth, D("2.5"), D(2000), "Gtc")]
    reps = bench.desk.send(placements, 1, 1, style="maker")
    bench.close()
    sent = [(o["coin"], o["asset"], o["is_buy"], o["sz"], o["px"], o["reduce_only"], o["tif"]) for o in sim.orders]
    assert sent == [
        ("BTC", btc.asset_id, False, D("0.1"), D(95000), btc.reduce_only, "Alo"),
        ("ETH", eth.asset_id, True, D("2.5"), D(2000), False, "Gtc"),
    ]
    got = [(r.coin, r.side, r.size, r.limit_price, r.tif, r.style, r.round, r.phase, r.status) for r in reps]
    assert got == [
        ("BTC", "sell", D("0.1"), D(95000), "Alo", "maker", 1, 1, "resting"),
        ("ETH", "buy", D("2.5"), D(2000), "Gtc", "maker", 1, 1, "resting"),
    ]
    assert bench.desk.report.orders == reps
    assert bench.lines == ["round 1 phase 1: sending 2 order(s) in one request"]
    assert [e["tif"] for e in bench.entries("order_sent")] == ["Alo", "Gtc"]
    assert [(e["status"], e["oid"]) for e in bench.entries("order_result")] == [("resting", r.oid) for r in reps]


def test_reading_resting_orders_records_each_once_it_is_final(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    bench = Bench(sim, tmp_path, client=client)
    whole, part, still = rest(bench, "BTC", "95000"), rest(bench, "ETH", "2000"), rest(bench, "ETH", "1900")
    sim.fill_resting(whole.oid)
    sim.fill_resting(part.oid, "1")
    bench.desk.refresh([whole, part, still])
    assert (whole.status, whole.filled_size, whole.avg_price) == ("filled", whole.size, D(95000))
    assert (part.status, part.filled_size, part.avg_price) == ("resting", D(1), D(2000))
    asked = client.seen["info.orderStatus"]
    bench.desk.refresh([whole])  # final: not asked again
    assert client.seen["info.orderStatus"] == asked
    late = rest(bench, "ETH", "1800")
    sim.fill_resting(late.oid)
    bench.desk.refresh([whole, late])  # a final order before it does not stop the reading
    assert late.status == "filled" and client.seen["info.orderStatus"] == asked + 1
    left = bench.desk.cancel([whole, part, still])
    bench.close()
    assert left == [] and (part.status, part.filled_size, part.avg_price) == ("partial", D(1), D(2000))
    assert (still.status, still.filled_size, still.avg_price, still.error) == ("cancelled", D(0), None, None)
    results = [e for e in bench.entries("order_result") if e["status"] != "resting"]
    assert [(e["cloid"], e["status"], e["filled_size"]) for e in results] == [
        (whole.cloid, "filled", format(whole.size, "f")),
        (late.cloid, "filled", format(late.size, "f")),
        (part.cloid, "partial", "1"),
        (still.cloid, "cancelled", "0"),
    ]
    [sent] = bench.entries("cancel_sent")
    assert sent == {"event": "cancel_sent", "cloids": [part.cloid, still.cloid]}


def test_an_order_the_switch_cancelled_reads_as_cancelled(tmp_path: Path) -> None:
    from hlrebal.sim import ManualClock

    sim = Simulator(snapshot=btc_80(), clock=ManualClock())
    bench = Bench(sim, tmp_path, clock=lambda: sim.clock() / 1000)
    rep = rest(bench, "BTC", "95000")
    bench.switch.clear()  # not armed: nothing to clear
    assert "exchange.scheduleCancel" not in bench.client.seen
    bench.switch.arm(sim.clock() / 1000)
    sim.advance(bench.switch.margin + 1)
    assert open_orders(sim) == []
    bench.desk.refresh([rep])
    bench.close()
    assert (rep.status, rep.filled_size) == ("cancelled", D(0))
    assert bench.entries("order_result")[-1]["status"] == "cancelled"


def test_a_refused_dust_close_is_warned_of_with_its_size_and_not_retried(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    doc = make_snapshot({"ATOM": ("-1.5", 5), "BTC": ("0.93458", 10)}, cash="19999.952", user=USER)
    sim = Simulator(snapshot=doc, config=SimConfig(allow_dust_close=False))
    report, _, journal = run_library(sim, tmp_path, TARGETS, client=direct(sim))
    [atom] = [o for o in report.orders if o.coin == "ATOM"]
    assert atom.dust and atom.status == "error" and atom.error
    warning = (
        f"ATOM: the exchange will not close this dust position (1.5) with a reduce-only order below $10 "
        f"({atom.error}); it is left as it is and not retried"
    )
    assert warning in report.warnings
    [result] = [e for e in journal_entries(journal) if e["event"] == "order_result" and e["coin"] == "ATOM"]
    assert (result["status"], result["error"]) == ("error", atom.error)


class Forgetful(DirectClient):
    """An exchange whose orderStatus no longer knows the account's orders (``unknownOid``)."""

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        if payload.get("type") == "orderStatus":
            return {"status": "unknownOid"}
        return super()._post(path, payload)


def test_a_resting_order_the_exchange_no_longer_knows_is_an_error_with_the_reason(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=Forgetful)
    bench = Bench(sim, tmp_path, client=client)
    rep = rest(bench, "BTC", "95000")
    bench.desk.refresh([rep])
    bench.close()
    said = "never placed (the exchange does not know it)"
    assert (rep.status, rep.filled_size, rep.error) == ("error", D(0), said)
    assert bench.entries("order_result")[-1] == {
        "event": "order_result", "cloid": rep.cloid, "coin": "BTC", "status": "error", "filled_size": "0",
        "avg_price": None, "oid": rep.oid, "error": said,
    }  # fmt: skip


def test_an_ordinary_order_below_the_minimum_value_is_an_error_not_refused_dust(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    bench = Bench(sim, tmp_path)
    eth = bench.plan().phase(2)[0]
    [rep] = bench.desk.send([Placement(eth, D("0.001"), eth.limit_price)], 1, 2)  # about $3
    bench.close()
    assert rep.status == "error" and "minimum value" in str(rep.error)
    assert bench.desk.report.warnings == [] and bench.desk.refused_dust == {}


class Recording(DirectClient):
    """The direct client, keeping every signed /exchange request it sends."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self.sent: list[dict[str, Any]] = []

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        if path.strip("/") == "exchange":
            self.sent.append(payload)
        return super()._post(path, payload)


def test_an_order_request_carries_the_expiry_the_journal_recorded(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=Recording)
    bench = Bench(sim, tmp_path, client=client)
    bench.desk.send_trades(bench.plan().phase(1), 1, 1)
    bench.close()
    [request] = [p for p in client.sent if p["action"]["type"] == "order"]
    [sent] = bench.entries("order_sent")
    assert request["expiresAfter"] == sent["expires_after"]  # a late request cannot be placed after it


def test_a_long_run_id_still_gives_client_order_ids_of_16_bytes(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    bench = Bench(sim, tmp_path)
    bench.desk.run_id = "f" * 32  # a caller's own run id: only its first 16 digits go into the cloid
    [rep] = bench.desk.send_trades(bench.plan().phase(1), 1, 1)
    bench.close()
    assert rep.cloid == "0x" + "f" * 16 + "0101" + f"{1:012x}" and len(rep.cloid) == 34
    assert rep.status == "filled" and sim.orders[0]["cloid"] == rep.cloid


def test_a_cancel_the_exchange_refuses_hands_back_the_order_still_resting(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=Unmoved)
    bench = Bench(sim, tmp_path, client=client)
    rep = rest(bench, "BTC", "95000")
    assert bench.desk.cancel([rep]) == [rep]  # refused: the order still rests, and the caller is told
    bench.close()
    assert rep.status == "resting" and len(open_orders(sim)) == 1
