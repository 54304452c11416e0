"""The execution core's decisions pinned where its mutants survived: the preflight's budget and its
refusals word for word, the cost report's figures, the read-back's re-read and its messages, the
account reader's requests, the package face, and the engine's re-plan when a transfer fails.

Every run goes through the simulator's handler (``execution_kit.direct``): no HTTP, no sleeps."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from hlrebal.errors import GuardError
from hlrebal.exchange import OrderSpec
from hlrebal.execution import preflight
from hlrebal.execution.models import CoinCost, CostReport, Fill
from hlrebal.execution.readback import AccountReader, InconsistentAccount, expect_fills, mismatches, verified_read
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.journal import Journal
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.sim import Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from execution_kit import USER, DirectClient, btc_80, direct, journal_entries, run_library
from factories import make_snapshot

SEED = Snapshot.from_raw(btc_80())
SEED_PLAN = plan(SEED, weights_from_mapping({"BTC": 0.4, "ETH": 0.3}), Policy())
MAKER = ExecutionSettings(style="maker", patience=D(120), requote_seconds=D(5))
BUDGET_HINT = "each USDC traded adds one request to the budget; --style taker needs two order requests a round"


def cash_only() -> dict[str, Any]:
    """$100,000 of perp cash and an empty spot balance: spot targets need a transfer first."""
    return make_snapshot({}, cash="100000", user=USER, spot={"USDC": "0"})


SPOT_MIX = {"BTC": 0.3, "HYPE/USDC": 0.2, "USDC": 0.5}


# --------------------------------------------------------------------------- preflight


def refusal(answer: dict[str, Any], settings: ExecutionSettings = MAKER) -> GuardError:
    with pytest.raises(GuardError) as e:
        preflight.check(SEED_PLAN, Policy(), settings, answer)
    return e.value


class ManualClock:
    """A clock that moves only when the run sleeps: timings exact, no real waits."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_budget_that_covers_only_the_fixed_part_says_nothing_fits_even_without_requotes() -> None:
    # the maker estimate of the seed plan: 13 fixed actions and 24 requotes of 4
    err = refusal({"nRequestsCap": 10_000, "nRequestsUsed": 10_000 - 13})
    assert err.message == (
        "the maker style could make up to 109 requests against the address budget, which has 13 left "
        "(userRateLimit: 9987 used of 10000): even without requotes it does not fit"
    )
    assert err.hint == BUDGET_HINT


def test_a_budget_just_over_the_fixed_part_fits_no_requote() -> None:
    err = refusal({"nRequestsCap": 10_000, "nRequestsUsed": 10_000 - 15})
    assert err.message.endswith("which has 15 left (userRateLimit: 9985 used of 10000): no requote fits")
    assert err.hint == BUDGET_HINT


def test_a_twap_over_budget_is_refused_with_the_same_hint() -> None:
    err = refusal({"nRequestsCap": 20, "nRequestsUsed": 0}, ExecutionSettings(style="twap", twap_minutes=5))
    assert err.message == (
        "the twap style could make up to 26 requests against the address budget, which has 20 left "
        "(userRateLimit: 0 used of 20): even without requotes it does not fit"
    )
    assert err.hint == BUDGET_HINT


def test_missing_budget_fields_count_as_zero() -> None:
    assert preflight.remaining({}) == 0
    assert preflight.remaining({"nRequestsCap": 100}) == 100
    assert preflight.remaining({"nRequestsUsed": 7}) == -7
    assert preflight.remaining({"nRequestsCap": 100, "nRequestsSurplus": None}) == 100
    assert preflight.remaining({"nRequestsCap": 100, "nRequestsSurplus": "3"}) == 103


def test_a_twap_estimate_counts_every_slice_later_round_and_transfer() -> None:
    snap = Snapshot.from_raw(cash_only())
    p = plan(snap, weights_from_mapping(SPOT_MIX), Policy())
    assert len(p.trades) == 2 and len(p.transfers) == 1 and not p.phase(1)
    est = preflight.estimate(p, Policy(), ExecutionSettings(style="twap", twap_minutes=5))
    # 2 legs of 10 slices, 3 later taker rounds of 2 trades, the transfer once
    assert est == preflight.Estimate(total=2 * 10 + 3 * 2 + 1, per_requote=0, requotes=0, fixed=27)
    levered = preflight.estimate(p, Policy(leverage=3), ExecutionSettings(style="twap", twap_minutes=5))
    # one leverage request for the BTC increase; the HYPE/USDC spot buy has no leverage to set
    assert levered.total == 27 + 1


# --------------------------------------------------------------------------- cost report


def test_costs_of_nothing_have_no_bps_and_round_numbers_print_without_exponents() -> None:
    nothing = CoinCost("BTC", D(100), D(0), D(0), D(0), D(0), D(0), 0)
    assert nothing.bps(D(5)) is None and nothing.maker_share is None
    coin = CoinCost("DOGE", D("0.2"), D(1000), D(200), D(-100), D(100), D(0), 3)
    doc = CostReport(coins=(coin,), estimated_fees=D(300)).as_json()
    assert (doc["notional"], doc["shortfall_usd"], doc["fees_usd"], doc["total_usd"]) == ("200", "-100", "100", "0")
    assert doc["estimated_fees"] == "300" and doc["fees_bps"] == "5000" and doc["total_bps"] == "0"
    assert doc["coins"][0]["filled_size"] == "1000" and doc["coins"][0]["arrival_price"] == "0.2"


# --------------------------------------------------------------------------- read-back


def test_mismatches_name_coins_without_a_market_and_print_whole_numbers_plainly() -> None:
    snap = Snapshot.from_raw(make_snapshot({"DOGE": ("200", 5)}, cash="1000"))
    assert mismatches(snap, {"NOPE": D("0.0000009")}) == []  # no market: a millionth is tolerated
    assert mismatches(snap, {"NOPE": D("0.000002")}) == ["NOPE: expected 0.000002, read 0"]
    assert mismatches(snap, {"DOGE": D(100)}) == ["DOGE: expected 100, read 200"]


def test_an_unfilled_order_adds_nothing_to_the_expected_holdings() -> None:
    from hlrebal.execution.models import OrderReport

    unfilled = OrderReport(1, 2, "0x" + "0" * 32, "SOL", "buy", "open", False, D(3), D(140), D(141))
    expected: dict[str, D] = {"BTC": D(1)}
    assert expect_fills([unfilled], expected) == 0 and expected == {"BTC": D(1)}


def test_a_lagging_read_back_is_read_once_more_after_a_pause(tmp_path: Path) -> None:
    events: list[str] = []
    lagging = Snapshot.from_raw(btc_80())
    caught_up = Snapshot.from_raw(make_snapshot({"BTC": ("0.5", 10)}, cash="1000"))
    reads = iter([lagging, caught_up])

    def read() -> Snapshot:
        events.append("read")
        return next(reads)

    with Journal(tmp_path / "j", "ab" * 8) as journal:
        found = verified_read(
            read,
            {"BTC": D("0.5")},
            journal=journal,
            progress=events.append,
            sleep=lambda s: events.append(f"sleep {s}"),
        )
    assert found is caught_up
    assert events == [
        "read", "the account read back does not show the reported fills yet; reading again", "sleep 0.5", "read",
    ]  # fmt: skip
    assert journal_entries(tmp_path / "j") == []


def test_a_read_back_that_stays_wrong_is_read_twice_then_refused(tmp_path: Path) -> None:
    events: list[str] = []

    def read() -> Snapshot:
        events.append("read")
        return SEED

    with Journal(tmp_path / "j", "ab" * 8) as journal, pytest.raises(InconsistentAccount) as e:
        verified_read(
            read, {"BTC": D(1)}, journal=journal, progress=lambda _: None, sleep=lambda s: events.append("sleep")
        )
    assert events == ["read", "sleep", "read"]
    assert e.value.message == (
        "the account read back does not match the fills the exchange reported (BTC: expected 1, read 0.93458): "
        "not trading on it"
    )
    [entry] = journal_entries(tmp_path / "j")
    assert entry["event"] == "inconsistent_read" and entry["mismatches"] == ["BTC: expected 1, read 0.93458"]


# --------------------------------------------------------------------------- the account reader


def reader_for(sim: Simulator, tmp_path: Path, dexes: tuple[str, ...] = ()) -> tuple[AccountReader, Any, list[str]]:
    client = direct(sim)
    stops: list[str] = []
    journal = Journal(tmp_path / "reader.jsonl", "ab" * 8)
    reader = AccountReader(client, USER, dexes, journal, lambda _: None, lambda _: None, stops.append)
    return reader, client, stops


def test_the_readers_full_read_skips_open_orders_and_the_known_mode(tmp_path: Path) -> None:
    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount")
    sim = Simulator(snapshot=doc)
    reader, client, stops = reader_for(sim, tmp_path)
    first = client.read_snapshot(USER, spot=True)
    reader.know(first)
    assert reader.mode == "unifiedAccount" and reader.spot
    client.seen.clear()
    snap = reader.read()
    assert stops == ["before reading the account"]
    assert "info.openOrders" not in client.seen and "info.userAbstraction" not in client.seen
    assert snap.raw["userAbstraction"] == "unifiedAccount" and snap.unified
    assert snap.network == client.network
    assert "HYPE/USDC" in snap.spot_assets  # spot markets read: the run trades spot


def test_the_reader_reads_the_dexes_the_targets_name(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({}, cash="90000", user=USER))
    sim.add_dex("xyz", [("XYZ100", 2, 20, "25000")])
    sim.fund(USER, 10_000, dex="xyz")
    reader, client, _ = reader_for(sim, tmp_path, ("xyz",))
    snap = reader.read()
    assert snap.assets["xyz:XYZ100"].dex == "xyz" and snap.equity == D(100_000)
    assert client.seen["info.perpDexs"] == 1


# --------------------------------------------------------------------------- the package face


def test_the_package_face_loads_its_names_lazily_and_refuses_others() -> None:
    import hlrebal.execution as execution
    from hlrebal.execution_settings import ExecutionSettings as Settings

    assert execution.ExecutionSettings is Settings
    assert execution.InconsistentAccount is InconsistentAccount
    with pytest.raises(AttributeError) as e:
        _ = execution.Nope
    assert str(e.value) == "module 'hlrebal.execution' has no attribute 'Nope'"


def test_a_run_id_is_sixteen_hex_digits() -> None:
    from hlrebal.execution import new_run_id

    ids = {new_run_id() for _ in range(5)}
    assert len(ids) == 5 and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


# --------------------------------------------------------------------------- whole runs


def test_a_stale_plan_is_read_again_with_the_open_orders_placed_since(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)

    def place() -> None:
        spec = OrderSpec("ETH", 1, True, D(1), D(2900), False, "0x" + "7" * 32, "Gtc")
        client.place_orders([spec], expires_after=None)

    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, before_run=place, clock=lambda: time.time() + 3600
    )
    assert report.outcome == "refused" and report.orders == []
    assert report.message.startswith("the account has 1 open order(s) on traded coins (ETH)")
    assert client.seen["info.openOrders"] == 2  # the plan's read and the fresh one


def test_a_stop_before_the_fresh_read_of_a_stale_plan_sends_nothing(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    report, _, journal = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=lambda: time.time() + 3600,
        should_stop=lambda: True,
    )  # fmt: skip
    assert (report.outcome, report.exit_code) == ("interrupted", 130)
    assert report.message == "interrupted before reading the account; nothing more was sent"
    assert next(e for e in journal_entries(journal) if e["event"] == "interrupted")["where"] == (
        "before reading the account"
    )
    assert "exchange.order" not in client.seen


def test_a_transfer_whose_answer_is_lost_sizes_phase_2_to_the_cash_each_side_has(tmp_path: Path) -> None:
    sim = Simulator(snapshot=cash_only())
    client = direct(sim)
    client.fail["exchange.usdClassTransfer"] = 1  # fails before it is processed: nothing moved
    report, _, _ = run_library(sim, tmp_path, SPOT_MIX, client=client, spot=True)
    assert report.warnings == [
        "round 1: the answer to a transfer was lost (the answer to an usdClassTransfer request was lost: "
        "HTTP 500 from the exchange); phase 2 sized to the cash each side has"
    ]
    first = [(o.coin, o.side, o.status) for o in report.orders if o.round == 1]
    assert first == [("BTC", "buy", "filled")]  # the spot buy waits: spot has no cash yet
    assert report.outcome == "done", report.message


def test_a_fresh_reader_asks_the_mode_and_reads_no_spot_markets_for_a_perp_account(tmp_path: Path) -> None:
    doc = make_snapshot({}, cash="0", user=USER, spot={"USDC": "100000"}, mode="unifiedAccount")
    reader, client, _ = reader_for(Simulator(snapshot=doc), tmp_path)
    snap = reader.read()  # nothing known yet: the mode is asked, spot markets are not read
    assert client.seen["info.userAbstraction"] == 1 and snap.unified
    assert "info.spotMetaAndAssetCtxs" not in client.seen
    perp = Snapshot.from_raw(btc_80())
    reader.know(perp)
    assert not reader.spot and reader.mode is None
    odd = btc_80()
    odd["userAbstraction"] = 7  # not a mode: asked again rather than passed on
    reader.know(Snapshot.from_raw(odd))
    assert reader.mode is None


def test_the_readers_refresh_reads_positions_only_unless_asked_for_prices(tmp_path: Path) -> None:
    reader, client, stops = reader_for(Simulator(snapshot=btc_80()), tmp_path)
    snap = client.read_snapshot(USER)
    client.seen.clear()
    reader.refresh(snap)
    assert stops == ["before reading the account"]
    assert client.seen == {"info.clearinghouseState": 1}
    reader.refresh(snap, positions=False, prices=True)
    assert client.seen == {"info.clearinghouseState": 1, "info.allMids": 1}


def test_an_inconsistent_read_back_tells_what_to_check(tmp_path: Path) -> None:
    with Journal(tmp_path / "j", "ab" * 8) as journal, pytest.raises(InconsistentAccount) as e:
        verified_read(
            lambda: SEED, {"BTC": D(1), "ETH": D(1)}, journal=journal, progress=lambda _: None, sleep=lambda _: None
        )
    assert e.value.hint == "check the account (and that the key trades the address you gave), then run again"
    assert "(BTC: expected 1, read 0.93458; ETH: expected 1, read 0): not trading on it" in e.value.message


def test_a_dust_close_under_a_dollar_compares_its_fees_with_the_estimate_scaled_to_what_traded(
    tmp_path: Path,
) -> None:
    sim = Simulator(snapshot=make_snapshot({"DOGE": ("3", 5)}, cash="1000", user=USER))
    report, _, _ = run_library(sim, tmp_path, {"USDC": 1.0}, client=direct(sim))
    [close] = report.orders
    assert (close.coin, close.filled_size, close.dust) == ("DOGE", 3, True)
    # the plan estimated $0.0002176605 on $0.48369; $0.48363 traded: the estimate to the micro-dollar
    assert report.traded_notional == D("0.48363") and report.costs.estimated_fees == D("0.000218")
    assert report.costs.as_json()["estimated_fees"] == "0.000218"


def test_the_readers_read_back_is_a_checked_refresh_of_positions(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    said: list[str] = []
    pauses: list[float] = []
    reader = AccountReader(
        client, USER, (), Journal(tmp_path / "j", "ab" * 8), said.append, pauses.append, lambda _: None
    )
    snap = client.read_snapshot(USER)
    client.seen.clear()
    back = reader.verified({"BTC": D("0.93458")}, snap)
    assert client.seen == {"info.clearinghouseState": 1} and back.positions["BTC"].szi == D("0.93458")
    with pytest.raises(InconsistentAccount):
        reader.verified({"BTC": D(2)}, snap)
    assert said == ["the account read back does not show the reported fills yet; reading again"]
    assert pauses == [0.5]
    assert [e["event"] for e in journal_entries(tmp_path / "j")] == ["inconsistent_read"]


def test_fee_tokens_named_by_the_fill_decide_the_conversion() -> None:
    from hlrebal.execution.costs import fee_in_usd, parse_fill
    from hlrebal.execution.models import OrderReport

    def spot(side: str) -> OrderReport:
        return OrderReport(1, 2, "0x" + "0" * 32, "HYPE/USDC", side, "open", False, D(1), D(40), D(41))  # type: ignore[arg-type]

    assert fee_in_usd(spot("buy"), D("0.5"), D(40), "USDC") == D("0.5")  # paid in USDC: already dollars
    assert fee_in_usd(spot("sell"), D("0.25"), D(40), "HYPE") == D(10)  # paid in the token: at the fill price
    bare = parse_fill(spot("sell"), {"oid": 3})  # a fill without numbers counts as nothing
    assert (bare.price, bare.size, bare.fee_usd, bare.time, bare.maker) == (0, 0, 0, 0, False)


def test_a_dust_close_the_exchange_refuses_is_remembered_and_not_retried(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({"DOGE": ("3", 5), "BTC": ("0.5", 10)}, cash="60000", user=USER))
    sim.reject_order(1, "Order must have minimum value of $10.")
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.5, "USDC": 0.5}, client=direct(sim))
    assert [(o.round, o.coin, o.status) for o in report.orders] == [(1, "DOGE", "error"), (1, "BTC", "filled")]
    assert report.warnings == [
        "DOGE: the exchange will not close this dust position (3.0) with a reduce-only order below $10 "
        "(Order must have minimum value of $10.); it is left as it is and not retried",
        "DOGE: the exchange refused to close this $0.48 dust position (3.0); it is reported, not retried",
    ]
    assert report.outcome == "done"


class LaggingClient(DirectClient):
    """Answers the ``stale``-th clearinghouseState reads with the first one (a read that lags)."""

    def __init__(self, sim: Simulator, stale: set[int]) -> None:
        super().__init__(sim)
        self.stale, self.reads, self.first = stale, 0, None

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        answer = super()._post(path, payload)
        if path.strip("/") == "info" and payload.get("type") == "clearinghouseState":
            self.reads += 1
            self.first = self.first or answer
            if self.reads in self.stale:
                return self.first
        return answer


def test_a_read_back_that_lags_once_is_read_again_after_half_a_second(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=LaggingClient, stale={2})  # the plan's read, then the read-back lags
    said: list[str] = []
    pauses: list[float] = []
    report, _, journal = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, progress=said.append, sleep=pauses.append
    )
    assert (report.outcome, report.message) == ("done", "the account is within its bands")
    assert said[-2:] == [
        "the account read back does not show the reported fills yet; reading again",
        "round 1: 2/2 order(s) filled, 0 trade(s) remain",
    ]
    assert pauses == [0.5] and client.reads == 3
    assert "inconsistent_read" not in [e["event"] for e in journal_entries(journal)]


def test_a_read_back_that_stays_behind_stops_the_run_as_partial(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=LaggingClient, stale={2, 3})
    said: list[str] = []
    pauses: list[float] = []
    report, _, journal = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, progress=said.append, sleep=pauses.append
    )
    assert (report.outcome, report.exit_code) == ("partial", 5)
    assert report.message == (
        "the account read back does not match the fills the exchange reported (BTC: expected 0.46729, read 0.93458; "
        "ETH: expected 9.8348, read 0): not trading on it"
    )
    assert said[-1] == "the account read back does not show the reported fills yet; reading again"
    assert pauses == [0.5]
    [entry] = [e for e in journal_entries(journal) if e["event"] == "inconsistent_read"]
    assert entry["mismatches"] == ["BTC: expected 0.46729, read 0.93458", "ETH: expected 9.8348, read 0"]


def spot_order(side: str, **kw: Any) -> Any:
    from hlrebal.execution.models import OrderReport

    base = OrderReport(1, 2, "0x" + "0" * 32, "HYPE/USDC", side, "open", False, D(1), D(40), D(41))  # type: ignore[arg-type]
    for key, value in kw.items():
        setattr(base, key, value)
    return base


def test_a_fills_own_fee_token_wins_over_the_side_and_an_odd_one_is_ignored() -> None:
    from hlrebal.execution.costs import parse_fill

    usdc = parse_fill(spot_order("buy"), {"oid": 1, "px": "40", "sz": "1", "fee": "0.5", "feeToken": "USDC"})
    assert usdc.fee_usd == D("0.5") and (usdc.oid, usdc.coin) == (1, "HYPE/USDC")
    odd = parse_fill(spot_order("buy"), {"oid": 1, "px": "40", "sz": "1", "fee": "0.5", "feeToken": 150})
    assert odd.fee_usd == D(20)  # not a token name: a buy pays in the token it receives


def test_fees_are_estimated_for_every_filled_order_whatever_comes_before_it() -> None:
    from hlrebal.execution.costs import attach_fills

    policy = Policy()
    unfilled = spot_order("buy", oid=1)
    twap_done = spot_order("sell", oid=2, filled_size=D(1), avg_price=D(40), twap_id=7)
    twap_done.fills = [Fill(0, "HYPE/USDC", "sell", D(40), D(1), D(1), False)]
    twap_done.fee = D(1)
    twap_unread = spot_order("buy", oid=3, filled_size=D(2), avg_price=D(40), twap_id=8)
    plain = spot_order("buy", oid=4, filled_size=D(1), avg_price=D(40))
    no_oid = spot_order("buy", filled_size=D(1), avg_price=D(40))  # an order whose answer never named it
    assert attach_fills([unfilled, twap_done, twap_unread, plain, no_oid], None, policy) is True
    assert no_oid.fills[0].oid == 0 and no_oid.fee == D(40) * D("0.0007")
    assert unfilled.fee is None and twap_done.fee == D(1) and not twap_done.fee_estimated
    assert twap_unread.fee == D(2) * 40 * D("0.0007") and twap_unread.fee_estimated  # its slices unread
    assert plain.fee == D(40) * D("0.0007") and plain.fills[0].oid == 4 and plain.fills[0].coin == "HYPE/USDC"


def test_a_runs_report_carries_its_run_id_and_each_orders_own_fills(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=direct(sim))
    assert report.run_id == "ab" * 8
    assert report.orders and all(o.fills for o in report.orders)
    assert all((f.oid, f.coin, f.side) == (o.oid, o.coin, o.side) for o in report.orders for f in o.fills)
    unread = Simulator(snapshot=btc_80())
    client = direct(unread, delays=(0, 0, 0))
    client.fail["info.userFills"] = 4
    estimated, _, _ = run_library(unread, tmp_path / "unread", {"BTC": 0.4, "ETH": 0.3}, client=client)
    assert estimated.costs.fees_estimated
    assert all([(f.oid, f.coin, f.side) for f in o.fills] == [(o.oid, o.coin, o.side)] for o in estimated.orders)


def test_a_stop_during_a_long_maker_wait_is_honoured_within_a_step(tmp_path: Path) -> None:
    from execution_kit import maker_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    start = time.time()
    now = [start]
    stop = [False]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        stop[0] = stop[0] or now[0] - start >= 0.5

    client.clock = lambda: now[0]
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=lambda: now[0], sleep=sleep,
        settings=maker_settings(requote_seconds=D(5), patience=D(30)), should_stop=lambda: stop[0],
    )  # fmt: skip
    assert report.outcome == "interrupted"
    assert now[0] - start < 1  # not the 5 s to the next requote


class SwitchStuckClient(DirectClient):
    """Refuses the request that clears the dead man's switch (a scheduleCancel without a time)."""

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        from hlrebal.errors import ExchangeError

        action = payload.get("action", {})
        if action.get("type") == "scheduleCancel" and "time" not in action:
            raise ExchangeError("the exchange refused the request (HTTP 400): busy")
        return super()._post(path, payload)


def test_a_switch_that_cannot_be_cleared_is_said_to_fire_at_its_time(tmp_path: Path) -> None:
    from execution_kit import maker_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=SwitchStuckClient)
    clock = ManualClock()
    client.clock = clock
    said: list[str] = []
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=clock, sleep=clock.sleep,
        settings=maker_settings(patience=D(1), switch_margin=D(10)), progress=said.append,
    )  # fmt: skip
    assert report.outcome == "done", report.message
    stuck = [s for s in said if "dead man's switch" in s]
    assert stuck == [
        "could not clear the dead man's switch (the exchange refused the request (HTTP 400): busy); "
        "it fires at its time"
    ]


def sell_half_the_btc(client: Any) -> None:
    """Half the BTC long sold behind the plan's back: the confirmed plan's turnover is stale."""
    spec = OrderSpec("BTC", 0, False, D("0.5"), D(80000), True, "0x" + "7" * 32, "Ioc")
    client.place_orders([spec], expires_after=None)


@pytest.mark.parametrize("again", [False, True, None], ids=["declined", "confirmed", "no-prompt"])
def test_a_stale_plan_that_changed_is_confirmed_again_or_refused(tmp_path: Path, again: bool | None) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    asked: list[str] = []
    said: list[str] = []
    kw: dict[str, Any] = {} if again is None else {"reconfirm": lambda _p, why: asked.append(why) or again}
    report, _, journal = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, before_run=lambda: sell_half_the_btc(client),
        clock=lambda: time.time() + 3600, progress=said.append, **kw,
    )  # fmt: skip
    why = "turnover moved from 70.00% to 30.00%"
    assert said[0] == "prices are 3600 s old: reading the account again before sending"
    assert [e["reason"] for e in journal_entries(journal) if e["event"] == "replanned"] == [why]
    assert asked == ([] if again is None else [why])
    if again is False:
        assert (report.outcome, report.exit_code, report.orders) == ("refused", 4, [])
        assert report.message == f"the plan changed after confirmation ({why}) and was not confirmed again"
    else:
        assert report.outcome == "done" and report.warnings == [f"the plan was re-made before sending: {why}"]
        assert [(o.coin, o.side) for o in report.orders] == [("ETH", "buy")]  # the fresh plan, not the stale one


def test_a_flip_whose_reduction_falls_short_holds_its_increase_back(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    sim = Simulator(snapshot=btc_80(), config=SimConfig(refill="never"))
    sim.set_book("BTC", level_notional=8000, levels=3)  # about $24k of the $80k close can fill
    policy = Policy(max_rounds=1, max_turnover=D(3))
    said: list[str] = []
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": -0.4, "ETH": 0.3}, client=direct(sim), policy=policy, progress=said.append
    )
    assert [(o.coin, o.side, o.phase) for o in report.orders] == [("BTC", "sell", 1), ("ETH", "buy", 2)]
    assert report.rounds[0].note == "increases held back until reductions finish: BTC. "
    assert (report.outcome, report.exit_code) == ("partial", 5)
    assert report.message.startswith("trades remain after 1 round(s): BTC sell ")
    assert said[-1] == "round 1: 2/2 order(s) filled (1 partly), 2 trade(s) remain"  # BTC: 0.28 of 0.93


class NoBudgetClient(DirectClient):
    """An endpoint that does not answer userRateLimit, or answers with a small budget."""

    def __init__(self, sim: Simulator, answer: dict[str, Any] | None) -> None:
        super().__init__(sim)
        self.answer = answer

    def user_rate_limit(self, user: str) -> dict[str, Any] | None:
        return self.answer


def test_a_patient_run_checks_the_budget_first_or_says_it_could_not(tmp_path: Path) -> None:
    from execution_kit import twap_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=NoBudgetClient, answer={"nRequestsCap": 20, "nRequestsUsed": 0})
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, settings=twap_settings())
    assert (report.outcome, report.exit_code, report.orders) == ("refused", 4, [])
    assert report.message == (
        "the twap style could make up to 26 requests against the address budget, which has 20 left "
        f"(userRateLimit: 0 used of 20): even without requotes it does not fit ({BUDGET_HINT})"
    )
    unanswered = Simulator(snapshot=btc_80())
    client = direct(unanswered, kind=NoBudgetClient, answer=None)
    settings = ExecutionSettings(style="maker", requote_seconds=D("0.2"), patience=D(0), switch_margin=D(5))
    report, _, _ = run_library(unanswered, tmp_path / "2", {"BTC": 0.4, "ETH": 0.3}, client=client, settings=settings)
    assert report.warnings[0] == "the endpoint does not answer userRateLimit: the request budget is unchecked"
    assert report.outcome == "done", report.message


def test_the_request_log_names_the_stage_of_every_request(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    client.place_orders([OrderSpec("ETH", 1, True, D(1), D(2900), False, "0x" + "7" * 32, "Gtc")], expires_after=None)
    client.log.by_stage.clear()
    run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, cancel_open_orders=True)
    stages = client.log.by_stage
    assert {k: v for k, v in stages.items() if k} == {
        "phase 1": {"exchange.order": 1},
        "between phases": {"info.allMids": 1},
        "phase 2": {"exchange.order": 1},
        "read-back": {"info.clearinghouseState": 1},
        "costs": {"info.userFills": 1},
    }
    assert stages[""]["exchange.cancel"] == 1  # the clashing order, cancelled before round 1
    assert client.log.stage == ""  # the run hands the log back unstaged


def test_a_maker_runs_requests_by_stage(tmp_path: Path) -> None:
    from execution_kit import maker_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    clock = ManualClock()
    client.clock = clock
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=clock, sleep=clock.sleep,
        settings=maker_settings(patience=D(1), switch_margin=D(10)),
    )  # fmt: skip
    assert report.outcome == "done", report.message
    stages = client.log.by_stage
    assert list(stages) == [
        "", "preflight", "phase 1", "between phases", "phase 2", "read-back", "next round", "end", "costs",
    ]  # fmt: skip
    assert stages["preflight"] == {"info.userRateLimit": 1} and stages["next round"] == {"info.allMids": 1}
    assert stages["end"] == {"info.openOrders": 1, "exchange.scheduleCancel": 1}
    assert stages["read-back"] == {"info.clearinghouseState": 2} and stages["costs"] == {"info.userFills": 1}


def test_phase_2_is_scaled_to_the_margin_a_short_reduction_actually_freed(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    # $171,200 of BTC at 5x on $50,000 of equity, to become 300% ETH: the increase needs the
    # margin the BTC sale frees, and only $60k of that sale can fill
    doc = make_snapshot({"BTC": ("2", 5)}, cash="-121200", user=USER)
    sim = Simulator(snapshot=doc, config=SimConfig(refill="never"))
    sim.set_book("BTC", level_notional=20000, levels=3)
    policy = Policy(max_rounds=1, max_turnover=D(20), max_leverage=D(5))
    report, _, _ = run_library(sim, tmp_path, {"ETH": 3.0}, client=direct(sim), policy=policy)
    btc, eth = report.orders
    assert (btc.coin, btc.size, btc.filled_size) == ("BTC", D(2), D("0.70134"))
    assert (eth.coin, eth.phase, eth.size) == ("ETH", 2, D("9.0132"))  # not the 16 ETH confirmed
    assert report.rounds[0].note == "phase 2 scaled down to the margin and cash actually free after phase 1. "
    assert report.warnings == ["round 1: phase 2 scaled down to the margin and cash actually free after phase 1"]
    assert report.outcome == "partial"


def test_a_native_twap_is_reported_at_its_trades_limit(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    from execution_kit import twap_settings

    sim = Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=0.05))
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=direct(sim), settings=twap_settings(), sleep=time.sleep
    )
    assert report.outcome == "done", report.message
    limits = {o.coin: (o.tif, o.limit_price) for o in report.orders}
    assert limits == {"BTC": ("Twap", D(85172)), "ETH": ("Twap", D("3065.6"))}  # the plan's limits


def test_two_flips_short_of_their_reductions_are_both_held_back_and_the_rest_scaled(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    doc = make_snapshot({"BTC": ("1", 5), "ETH": ("28", 5)}, cash="-121011", user=USER)
    sim = Simulator(snapshot=doc, config=SimConfig(refill="never"))
    sim.set_book("BTC", level_notional=20000, levels=2)
    sim.set_book("ETH", level_notional=20000, levels=2)
    policy = Policy(max_rounds=1, max_turnover=D(20), max_leverage=D(5))
    report, _, _ = run_library(sim, tmp_path, {"BTC": -0.5, "ETH": -0.5, "SOL": 1.0}, client=direct(sim), policy=policy)
    assert [(o.coin, o.side, o.phase) for o in report.orders] == [
        ("BTC", "sell", 1),
        ("ETH", "sell", 1),
        ("SOL", "buy", 2),
    ]
    assert report.rounds[0].note == (
        "increases held back until reductions finish: BTC, ETH. "
        "phase 2 scaled down to the margin and cash actually free after phase 1. "
    )


def test_the_turnover_cap_is_a_share_of_the_equity_the_run_started_with(tmp_path: Path) -> None:
    # BTC falls 6.5% after the plan was made: the fresh plan trades 65.3% of the starting equity
    # (69% of what is left), under a cap of 67%
    sim = Simulator(snapshot=btc_80())
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=direct(sim), policy=Policy(max_turnover=D("0.67")),
        before_run=lambda: sim.set_price("BTC", "80000"), clock=lambda: time.time() + 3600,
    )  # fmt: skip
    assert report.outcome == "done", report.message
    assert [o.coin for o in report.orders] == ["BTC", "ETH"]


def test_a_plan_exactly_as_old_as_allowed_is_not_read_again(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    made = float(int(time.time()))
    client.clock = lambda: made
    said: list[str] = []
    age = float(Policy().max_snapshot_age)
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=lambda: made + age, progress=said.append
    )
    assert report.outcome == "done", report.message
    assert not [s for s in said if s.startswith("prices are")] and client.seen["info.openOrders"] == 1


def test_the_fresh_plan_is_the_one_offered_for_confirmation(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    offered: list[Any] = []
    run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, before_run=lambda: sell_half_the_btc(client),
        clock=lambda: time.time() + 3600, reconfirm=lambda p, _why: offered.append(p) or False,
    )  # fmt: skip
    [fresh] = offered
    assert [(t.coin, t.side) for t in fresh.trades] == [("ETH", "buy")]  # the half sold: BTC is at its band
    assert fresh.summary.turnover < D("0.31")  # not the 70% confirmed


def test_an_exchange_that_fails_before_any_order_is_an_error_not_a_partial_run(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim, delays=(0, 0, 0))

    def break_the_market() -> None:
        client.fail["info.metaAndAssetCtxs"] = 10

    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, before_run=break_the_market,
        clock=lambda: time.time() + 3600,
    )  # fmt: skip
    assert (report.outcome, report.exit_code, report.orders) == ("error", 3, [])
    assert report.message == (
        "could not read metaAndAssetCtxs from http://direct.sim after 4 attempts: HTTP 500 from the exchange"
    )


def test_a_dust_close_refused_by_an_earlier_run_is_not_sent_again(tmp_path: Path) -> None:
    sim = Simulator(snapshot=make_snapshot({"DOGE": ("3", 5), "BTC": ("0.5", 10)}, cash="60000", user=USER))
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.5, "USDC": 0.5}, client=direct(sim), refused_dust={"DOGE": "3.0"}
    )
    assert [o.coin for o in report.orders] == ["BTC"]
    assert report.warnings == [
        "DOGE: the exchange refused to close this $0.48 dust position (3.0); it is reported, not retried"
    ]


def test_a_patient_first_round_is_not_counted_among_the_taker_rounds(tmp_path: Path) -> None:
    from execution_kit import maker_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    clock = ManualClock()
    client.clock = clock
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=clock, sleep=clock.sleep,
        settings=maker_settings(patience=D(1), switch_margin=D(10)), policy=Policy(max_rounds=1),
    )  # fmt: skip
    assert [(r.number, r.style) for r in report.rounds] == [(1, "maker"), (2, "taker")]
    assert report.outcome == "done", report.message


class BlindAtTheEndClient(DirectClient):
    """Cannot read open orders once the run is ending (stage "end")."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim, delays=(0, 0, 0))

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        from hlrebal.exchange import Retryable

        if self.log.stage == "end" and payload.get("type") == "openOrders":
            raise Retryable("HTTP 500 from the exchange")
        return super()._post(path, payload)


def test_a_run_that_cannot_confirm_its_orders_are_gone_says_so(tmp_path: Path) -> None:
    from execution_kit import maker_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim, kind=BlindAtTheEndClient)
    clock = ManualClock()
    client.clock = clock
    report, _, journal = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=clock, sleep=clock.sleep,
        settings=maker_settings(patience=D(1), switch_margin=D(10)),
    )  # fmt: skip
    assert report.warnings[-1] == (
        "could not confirm that none of this run's orders still rest: check the account's open orders "
        "(the dead man's switch cancels them at its time)"
    )
    assert "end_check_failed" in [e["event"] for e in journal_entries(journal)]


def test_the_turnover_cap_counts_every_fill_of_earlier_rounds(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    sim = Simulator(snapshot=btc_80(), config=SimConfig(refill="per_request"))
    sim.set_book("ETH", level_notional=4000, levels=4)  # round 1 buys about half the ETH
    sim.move_price_after(8, "ETH", "3200")  # then ETH rises: the rest costs more than planned
    policy = Policy(max_turnover=D("0.705"), max_price_deviation=D("0.1"))
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=direct(sim), policy=policy)
    # round 1 filled $56.0k (BTC sold, part of the ETH), the $14.7k left would make 70.7%
    assert [r.number for r in report.rounds] == [1] and report.rounds[0].filled == 2
    assert (report.outcome, report.exit_code) == ("refused", 4)
    assert report.message == (
        "stopped by a guard after orders were placed: turnover 70.7% of equity over this run would exceed "
        "max_turnover 70.5% (raise --max-turnover if this much trading is intended)"
    )


def test_an_account_at_its_targets_makes_no_round_and_reads_nothing_more(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.8}, client=client)
    assert report.orders == [] and report.rounds == []
    assert report.outcome == "done" and report.message.startswith("nothing to do: ")
    assert "info.allMids" not in client.seen and "info.userFills" not in client.seen


def test_the_turnover_cap_counts_the_fills_of_every_round_not_only_the_last(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    sim = Simulator(snapshot=btc_80(), config=SimConfig(refill="per_request"))
    sim.set_book("ETH", level_notional=2500, levels=4)  # $10k of ETH a round
    sim.move_price_after(11, "ETH", "3200")  # after round 2: the last $10k of ETH costs more
    policy = Policy(max_rounds=5, max_turnover=D("0.703"), max_price_deviation=D("0.1"))
    report, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=direct(sim), policy=policy)
    assert [(r.number, r.filled) for r in report.rounds] == [(1, 2), (2, 1)]  # round 3 refused before it sent
    assert report.message.startswith(
        "stopped by a guard after orders were placed: turnover 70.5% of equity over this run would exceed "
        "max_turnover 70.3%"
    )


def test_a_maker_run_on_a_builder_dex_checks_that_dexs_open_orders_at_the_end(tmp_path: Path) -> None:
    from hlrebal.execution import Executor

    from execution_kit import maker_settings

    sim = Simulator(snapshot=make_snapshot({}, cash="90000", user=USER))
    sim.add_dex("xyz", [("XYZ100", 2, 20, "25000")])
    sim.fund(USER, 10_000, dex="xyz")
    client = direct(sim)
    clock = ManualClock()
    client.clock = clock
    targets = weights_from_mapping({"xyz:XYZ100": 0.08, "USDC": 0.92})
    snap = client.read_snapshot(USER, dexes=targets.dexes)
    confirmed = plan(snap, targets, Policy())
    with Journal(tmp_path / "j.jsonl", "ab" * 8) as journal:
        executor = Executor(
            client=client, user=USER, targets=targets, policy=Policy(), journal=journal, clock=lambda: clock.now,
            sleep=clock.sleep, settings=maker_settings(patience=D(1), switch_margin=D(10)),
        )  # fmt: skip
        report = executor.run(confirmed, snap)
    assert report.outcome == "done", report.message
    assert [(o.coin, o.tif) for o in report.orders] == [("xyz:XYZ100", "Alo"), ("xyz:XYZ100", "Ioc")]
    # the main dex and xyz, where the quote rested
    assert client.log.by_stage["end"] == {"info.openOrders": 2, "exchange.scheduleCancel": 1}


def test_a_maker_run_stopped_between_arming_the_switch_and_quoting_clears_the_switch(tmp_path: Path) -> None:
    from execution_kit import maker_settings

    sim = Simulator(snapshot=btc_80())
    client = direct(sim)
    now = [time.time()]
    stop = [False]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client.clock = lambda: now[0]
    client.before["exchange.scheduleCancel"] = [lambda: stop.__setitem__(0, True)]  # Ctrl-C as it is armed
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, clock=lambda: now[0], sleep=sleep,
        settings=maker_settings(patience=D(1), switch_margin=D(10)), should_stop=lambda: stop[0],
    )  # fmt: skip
    assert report.outcome == "interrupted" and report.orders == []
    assert client.seen["exchange.scheduleCancel"] == 2  # armed, then cleared at the end
    assert client.log.by_stage["end"] == {"info.openOrders": 1, "exchange.scheduleCancel": 1}


def test_a_twap_phase_2_off_a_stale_oracle_is_checked_again_at_slice_size(tmp_path: Path) -> None:
    from hlrebal.sim import SimConfig

    from execution_kit import twap_settings

    sim = Simulator(snapshot=btc_80(), config=SimConfig(twap_slice_seconds=0.05))
    client = direct(sim)
    # ETH moves 3.3% while the BTC TWAP runs: phase 2's fresh mid is off the oracle read before
    client.before["exchange.twapOrder"] = [lambda: sim.set_price("ETH", "3150")]
    report, _, _ = run_library(
        sim, tmp_path, {"BTC": 0.4, "ETH": 0.3}, client=client, settings=twap_settings(), sleep=time.sleep,
        policy=Policy(max_order_value=D(15000)),  # a $30k ETH leg: allowed in TWAP slices
    )  # fmt: skip
    assert report.outcome == "done", report.message
    assert [(o.coin, o.tif, o.reference_price) for o in report.orders] == [
        ("BTC", "Twap", D(85600)), ("ETH", "Twap", D(3150)),
    ]  # fmt: skip
    assert client.log.by_stage["between phases"] == {"info.allMids": 1, "info.metaAndAssetCtxs": 1}


def test_a_flip_whose_reduction_finds_no_bid_holds_back_its_increase_and_stops(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    sim.set_book("BTC", spread=0.05)  # the best bid is 2.5% under the mid: out of the slippage's reach
    report, _, _ = run_library(sim, tmp_path, {"BTC": -0.4}, client=direct(sim), policy=Policy(max_turnover=D(3)))
    assert [(o.coin, o.side, o.phase, o.filled_size) for o in report.orders] == [("BTC", "sell", 1, 0)]
    assert [(r.number, r.note) for r in report.rounds] == [
        (1, "increases held back until reductions finish: BTC. nothing filled: stopping. ")
    ]
    assert report.message == "orders were sent and nothing filled; remaining: BTC sell 0.93458, BTC sell 0.46729"
