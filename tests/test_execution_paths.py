"""The execution room's other paths, fast, against the simulator's handler (no HTTP): lost answers,
reconciliation, transfers, leverage, clashing open orders, stale prices, the maker's requotes, races
and stops, and the twap style's. Faults are the direct client's (``lose``, ``fail``, ``before``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hlrebal.exchange import OrderSpec
from hlrebal.execution.reconciliation import reconcile
from hlrebal.journal import Journal, unresolved_orders
from hlrebal.policy import Policy
from hlrebal.sim import Simulator

from execution_kit import (
    USER,
    btc_80,
    direct,
    journal_entries,
    maker_settings,
    run_library,
    sim_has,
    twap_settings,
    unresolved,
)
from factories import make_snapshot

TARGETS = {"BTC": 0.4, "ETH": 0.3}


class Time:
    """A clock that moves only when hlrebal sleeps; ``at`` runs hooks once the time passes them."""

    def __init__(self, sim: Simulator | None = None) -> None:
        self.now = time.time()
        self.sim = sim
        self.hooks: list[tuple[float, Callable[[], Any]]] = []

    def at(self, after: float, hook: Callable[[], Any]) -> None:
        self.hooks.append((self.now + after, hook))

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.sim is not None and hasattr(self.sim, "advance"):
            self.sim.advance(seconds)
        due = [h for h in self.hooks if h[0] <= self.now]
        self.hooks = [h for h in self.hooks if h[0] > self.now]
        for _, hook in due:
            hook()


def resting(sim: Simulator) -> list[Any]:
    return sim.handle("info", {"type": "openOrders", "user": USER})[1]


def run(sim: Simulator, tmp_path: Path, client: Any = None, mapping: dict[str, float] | None = None, **kw: Any) -> Any:
    client = client or direct(sim)
    return run_library(sim, tmp_path, mapping or TARGETS, client=client, **kw)


# --------------------------------------------------------------------------- taker paths


def test_a_lost_order_answer_is_resolved_by_cloid_and_never_resent(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.lose["exchange.order"] = 1  # the phase-1 request is processed; its answer never comes
    report, _, journal = run(sim, tmp_path, client)
    assert report.outcome == "done", report.message
    assert client.seen["exchange.order"] == 2 and client.seen["info.orderStatus"] == 1
    assert [(o.coin, o.status) for o in report.orders] == [("BTC", "filled"), ("ETH", "filled")]
    events = [e["event"] for e in journal_entries(journal)]
    assert events.index("answer_lost") < events.index("order_result") and unresolved(journal) == []


def test_leverage_is_set_once_per_coin_and_a_lost_answer_is_simply_retried(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.lose["exchange.updateLeverage"] = 1
    report, _, journal = run(sim, tmp_path, client, policy=Policy(leverage=3))
    assert report.outcome == "done" and report.leverage_set == ["ETH 3x cross"]
    assert client.seen["exchange.updateLeverage"] == 2 and sim.leverage(USER, "ETH") == (3, True)
    assert [e["coin"] for e in journal_entries(journal) if e["event"] == "leverage"] == ["ETH"]


def test_leverage_already_set_is_not_set_again(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({"BTC": ("0.93458", 10), "ETH": ("1", 3)}, cash="16949.552", user=USER))
    client = direct(sim)
    report, _, _ = run(sim, tmp_path, client, policy=Policy(leverage=3))
    assert report.leverage_set == [] and "exchange.updateLeverage" not in client.seen


def test_open_orders_on_traded_coins_refuse_or_are_cancelled_first(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.place_orders([OrderSpec("ETH", 1, True, D(1), D(2900), False, "0x" + "7" * 32, "Gtc")], expires_after=None)
    refused, _, _ = run(sim, tmp_path / "a", client)
    assert refused.outcome == "refused" and "1 open order(s) on traded coins (ETH)" in refused.message
    assert "exchange.cancel" not in client.seen
    done, _, journal = run(sim, tmp_path / "b", client, cancel_open_orders=True)
    assert done.outcome == "done" and client.seen["exchange.cancel"] == 1
    [cancelled] = [e for e in journal_entries(journal) if e["event"] == "cancelled"]
    assert [o["coin"] for o in cancelled["orders"]] == ["ETH"] and resting(sim) == []


@pytest.mark.parametrize("accept", [True, False])
def test_stale_prices_are_read_again_and_a_changed_plan_asked_again(tmp_path: Path, accept: bool) -> None:
    sim = Simulator(snapshot=btc_80())
    asked: list[str] = []

    def reconfirm(plan: Any, why: str) -> bool:
        asked.append(why)
        return accept

    report, _, journal = run(
        sim, tmp_path, before_run=lambda: sim.set_price("BTC", "51360"), clock=lambda: time.time() + 60,
        reconfirm=reconfirm,
    )  # fmt: skip
    assert len(asked) == 1 and asked[0].startswith("turnover moved from")
    assert any(e["event"] == "replanned" for e in journal_entries(journal))
    if accept:
        assert report.outcome == "done" and report.warnings[0].startswith("the plan was re-made before sending")
    else:
        assert report.outcome == "refused" and report.orders == [] and "not confirmed again" in report.message


def test_fresh_prices_that_do_not_change_the_plan_go_on_without_asking(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    asked: list[str] = []
    report, _, _ = run(sim, tmp_path, clock=lambda: time.time() + 60, reconfirm=lambda p, w: asked.append(w))
    assert asked == [] and report.outcome == "done" and report.warnings == []


def test_a_perp_only_whole_account_moves_cash_to_spot_before_phase_2(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"}))
    client = direct(sim)
    report, _, journal = run(sim, tmp_path, client, {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}, spot=True)
    assert report.outcome == "done", report.message
    assert len(report.transfers) == 1 and report.transfers[0].endswith("USDC perp -> spot")
    results = [e["status"] for e in journal_entries(journal) if e["event"] == "transfer_result"]
    assert results == ["ok"] and client.seen["exchange.usdClassTransfer"] == 1


def test_a_lost_transfer_answer_is_judged_by_the_balances_never_resent(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"}))
    client = direct(sim)
    client.lose["exchange.usdClassTransfer"] = 1
    report, _, journal = run(sim, tmp_path, client, {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}, spot=True)
    assert client.seen["exchange.usdClassTransfer"] == 1 and report.outcome == "done", report.message
    [result] = [e for e in journal_entries(journal) if e["event"] == "transfer_result"]
    assert result["status"] == "ok" and "lost" in result["error"]


def test_a_signer_that_cannot_transfer_is_told_what_the_owner_must_move(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"}))
    client = direct(sim)
    report, _, _ = run(
        sim, tmp_path, client, {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}, spot=True, can_transfer=False
    )
    assert report.outcome == "partial" and report.blocked_transfers
    assert (
        report.blocked_transfers[0].startswith("the owner must transfer $")
        and "perp -> spot" in report.blocked_transfers[0]
    )
    assert "exchange.usdClassTransfer" not in client.seen and report.message.endswith(", then run again")


def test_reconciliation_cancels_a_killed_runs_resting_order_and_counts_its_fill(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    path = tmp_path / "j"
    rest, taken = "0x" + "a" * 32, "0x" + "b" * 32
    with Journal(path, "cd" * 8) as journal:
        journal.record("run_start", account=USER, base_url=client.base_url)
        for cloid, coin, tif, asset in ((rest, "ETH", "Alo", 1), (taken, "BTC", "Ioc", 0)):
            journal.record("order_sent", cloid=cloid, coin=coin, tif=tif, asset=asset, expires_after=0)
        journal.record("order_result", cloid=rest, status="resting", oid=1)
    client.place_orders([OrderSpec("ETH", 1, True, D(1), D(3000), False, rest, "Alo")], expires_after=None)
    client.place_orders([OrderSpec("BTC", 0, False, D("0.1"), D(85000), True, taken)], expires_after=None)
    waits: list[float] = []
    with Journal(path, "ef" * 8) as journal:
        records = reconcile(client, USER, journal, unresolved_orders(path, USER, client.base_url), sleep=waits.append)
    assert [(r["cloid"], r["status"], r["filled_size"]) for r in records] == [
        (rest, "error", "0"),
        (taken, "filled", "0.1"),
    ]
    assert resting(sim) == [] and client.seen["exchange.cancelByCloid"] == 1
    assert waits == [] or waits[0] <= 1.5  # expired long ago: no wait beyond the clock margin
    assert unresolved_orders(path, USER, client.base_url) == []


# --------------------------------------------------------------------------- maker paths


def maker_run(sim: Simulator, tmp_path: Path, clock: Time, client: Any = None, **kw: Any) -> Any:
    settings = kw.pop("settings", maker_settings())
    return run(sim, tmp_path, client, settings=settings, clock=clock.clock, sleep=clock.sleep, **kw)


def test_a_maker_order_left_by_the_touch_is_requoted_and_filled(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    clock = Time()
    clock.at(0.3, lambda: sim.set_price("BTC", "85400"))  # the ask is left behind
    clock.at(0.7, lambda: sim.set_price("BTC", "85500"))  # the new ask fills
    clock.at(0.9, lambda: sim.set_price("ETH", "3040"))
    report, _, journal = maker_run(sim, tmp_path, clock)
    btc = [o for o in report.orders if o.coin == "BTC"]
    assert [(o.status, o.limit_price) for o in btc] == [("cancelled", D(85608)), ("filled", D(85408))]
    assert report.outcome == "done" and resting(sim) == [] and unresolved(journal) == []


def test_a_fill_racing_the_cancel_leaves_no_replacement(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    clock = Time()
    clock.at(0.3, lambda: (sim.set_price("BTC", "85400"), client.before.setdefault("exchange.cancel", []).append(
        lambda: sim.set_price("BTC", "85700"))))  # fmt: skip
    clock.at(0.9, lambda: sim.set_price("ETH", "3040"))
    report, _, _ = maker_run(sim, tmp_path, clock, client)
    assert [o.status for o in report.orders if o.coin == "BTC"] == ["filled"]
    assert sum((o.filled_size for o in report.orders if o.coin == "BTC"), D(0)) == D("0.46729")


def test_a_post_only_order_that_crosses_on_arrival_is_quoted_again(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.before["exchange.order"] = [lambda: sim.set_price("BTC", "85700")]  # the book moves onto the ask
    clock = Time()
    clock.at(0.5, lambda: sim.set_price("BTC", "85800"))
    clock.at(0.9, lambda: sim.set_price("ETH", "3040"))
    report, _, _ = maker_run(sim, tmp_path, clock, client)
    btc = [o for o in report.orders if o.coin == "BTC"]
    assert btc[0].status == "requoted" and "Post only order would have immediately matched" in str(btc[0].error)
    assert btc[-1].status == "filled"
    assert report.outcome == "done"


def test_a_stop_during_the_maker_wait_cancels_what_rests(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    clock = Time()
    stop = {"now": False}
    clock.at(0.5, lambda: stop.update(now=True))
    report, _, journal = maker_run(sim, tmp_path, clock, should_stop=lambda: stop["now"])
    assert report.outcome == "interrupted" and "during the maker wait" in report.message
    assert [o.status for o in report.orders] == ["cancelled"] and resting(sim) == []
    assert unresolved(journal) == [] and sim.engine.account(USER).scheduled_cancel is None


def test_patience_out_hands_the_rest_to_taker_rounds(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    report, _, _ = maker_run(sim, tmp_path, Time(), settings=maker_settings(patience=D(1)))
    assert [(r.number, r.style, r.slippage) for r in report.rounds] == [
        (1, "maker", D("0.005")),
        (2, "taker", D("0.005")),
    ]
    assert [o.tif for o in report.orders] == ["Alo", "Alo", "Ioc", "Ioc"] and report.outcome == "done"


def test_no_patience_means_taker_rounds_at_once(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    report, _, _ = maker_run(sim, tmp_path, Time(), settings=maker_settings(patience=D(0)))
    assert [o.tif for o in report.orders] == ["Ioc", "Ioc"] and report.outcome == "done"


def test_the_oracle_guard_at_a_requote_reads_the_oracle_again_before_refusing(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    clock = Time()
    clock.at(0.3, lambda: sim.set_price("BTC", "83700", oracle="83700"))  # price and oracle fall together
    clock.at(0.6, lambda: sim.set_price("BTC", "83800", oracle="83800"))
    clock.at(0.9, lambda: sim.set_price("ETH", "3040"))
    report, _, _ = maker_run(sim, tmp_path, clock, client)
    assert report.outcome == "done", report.message  # the -2.2% move was the oracle's too: not refused
    btc = [o.status for o in report.orders if o.coin == "BTC"]
    assert btc[0] == "cancelled" and btc[-1] == "filled"
    assert client.seen["info.metaAndAssetCtxs"] == 2  # the first read, and the oracle read again once


# --------------------------------------------------------------------------- twap paths


@sim_has("twaps", "advance")
def test_twap_paths_without_http(tmp_path: Path) -> None:
    from hlrebal.sim import ManualClock, SimConfig

    sim = Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=1, tick_seconds=0), clock=ManualClock())
    client = direct(sim)
    client.lose["exchange.twapOrder"] = 1  # the BTC TWAP starts; its answer is lost: found in twapHistory
    clock = Time(sim)
    clock.now = sim.clock() / 1000
    report, _, journal = run(
        sim, tmp_path, client, settings=twap_settings(poll_seconds=D(1)), clock=clock.clock, sleep=clock.sleep
    )
    assert report.outcome == "done", report.message
    assert [(o.coin, o.status) for o in report.orders[:2]] == [("BTC", "filled"), ("ETH", "filled")]
    assert client.seen["exchange.twapOrder"] == 2 and report.orders[0].twap_id is not None
    assert [e["status"] for e in journal_entries(journal) if e["event"] == "twap_end"] == ["finished", "finished"]


def test_an_account_at_its_targets_sends_nothing_and_says_so(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({"BTC": ("0.46729", 10), "ETH": ("9.8348", 10)}, cash="29999.86", user=USER))
    client = direct(sim)
    report, _, journal = run(sim, tmp_path, client)
    said = "nothing to do: the account is within its bands"
    assert (report.outcome, report.message, report.rounds, report.orders) == ("done", said, [], [])
    assert not any(k.startswith("exchange.") for k in client.seen) and "info.userFills" not in client.seen
    assert [e["event"] for e in journal_entries(journal)] == ["run_start"]


def test_a_first_round_re_made_to_nothing_ends_without_orders(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())

    # while the user looked at the plan, someone else sold the BTC and bought the ETH
    def trade_elsewhere() -> None:
        other = direct(sim)
        other.place_orders(
            [OrderSpec("BTC", 0, False, D("0.46729"), D(85000), True, "0x" + "1" * 32)], expires_after=None
        )
        other.place_orders(
            [OrderSpec("ETH", 1, True, D("9.8348"), D(3070), False, "0x" + "2" * 32)], expires_after=None
        )

    report, _, _ = run(sim, tmp_path, before_run=trade_elsewhere, clock=lambda: time.time() + 60)
    assert report.orders == [] and report.outcome == "done" and report.rounds == []
    assert report.warnings[0].startswith("the plan was re-made before sending: turnover moved from 70.00% to")
