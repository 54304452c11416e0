"""The maker style's survivors of mutation testing, as behaviour: the prices its post-only quotes
take on a fine spot grid and on one-sided books, what each patient phase tells the user, when a
phase ends (patience kept to the tick, no wait once everything has filled), which legs a requote
re-posts, the guards at a requote (order value, turnover with what has filled), and the cancel that
ends a phase when it is refused, lost or comes during a stop.

Runs go through the real client with the simulator's handler (no HTTP) on a clock that moves only
when hlrebal sleeps, so a whole run takes milliseconds and every time below is exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hlrebal.errors import ExchangeError
from hlrebal.execution.maker import Touch, quote_price, touch_of
from hlrebal.keys import SecretStr, SigningKey
from hlrebal.planner import Trade
from hlrebal.policy import Policy
from hlrebal.sim import Simulator
from hlrebal.snapshot import AssetMarket

from execution_kit import OWNER_KEY, USER, DirectClient, btc_80, journal_entries, maker_settings, run_library
from factories import MARKET, make_snapshot

REQUOTE = D("0.25")  # a binary fraction: the clock's sums are exact


class Clock:
    """Moves only when hlrebal sleeps; ``at`` runs a hook once the clock reaches its time."""

    def __init__(self) -> None:
        # a whole second a little ahead of the wall clock, which the simulator keeps (the dead man's
        # switch must be at least 5 s ahead of it)
        self.start = self.now = float(int(time.time()) + 2)
        self.hooks: list[tuple[float, Callable[[], Any]]] = []

    def at(self, after: float, hook: Callable[[], Any]) -> None:
        self.hooks.append((self.start + after, hook))

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        due = [h for h in self.hooks if h[0] <= self.now]
        self.hooks = [h for h in self.hooks if h[0] > self.now]
        for _, hook in due:
            hook()


class Recorder(DirectClient):
    """The direct client, noting every request's time on the clock and every book it reads; ``edit``
    rewrites a coin's l2Book answer (an empty side). A run that loops without end fails."""

    def __init__(self, sim: Simulator, clock: Clock) -> None:
        super().__init__(sim)
        self.attach_signer(SigningKey(SecretStr(OWNER_KEY), "test"))
        self.at = clock
        self.requests: list[tuple[float, str]] = []
        self.books: list[tuple[float, str]] = []
        self.edit: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        endpoint = path.strip("/")
        kind = payload.get("type") if endpoint == "info" else payload.get("action", {}).get("type")
        self.requests.append((self.at.now - self.at.start, f"{endpoint}.{kind}"))
        assert len(self.requests) < 3000, "the run does not end"
        return super()._post(path, payload)

    def l2_book(self, coin: str) -> Any:
        self.books.append((self.at.now - self.at.start, coin))
        book = super().l2_book(coin)
        return self.edit[coin](book) if coin in self.edit else book

    def times(self, name: str) -> list[float]:
        return [t for t, n in self.requests if n == name]


def maker_run(
    sim: Simulator,
    tmp_path: Path,
    clock: Clock,
    client: Recorder,
    mapping: dict[str, float],
    *,
    patience: str = "1",
    **kw: Any,
) -> tuple[Any, Path, list[str]]:
    said: list[str] = []
    settings = maker_settings(patience=D(patience), requote_seconds=REQUOTE)
    report, _, journal = run_library(
        sim, tmp_path, mapping, client=client, settings=settings, clock=clock.clock, sleep=clock.sleep,
        progress=said.append, **kw,
    )  # fmt: skip
    return report, journal, said


def cash_only(**kw: Any) -> Simulator:
    return Simulator(snapshot=make_snapshot({}, cash="100000", user=USER, **kw))


def oid_of(sim: Simulator, coin: str) -> int:
    return next(o.oid for o in sim.engine.open_orders.values() if o.coin == coin)


def fill(sim: Simulator, coin: str, size: str | None = None) -> Callable[[], Any]:
    return lambda: sim.fill_resting(oid_of(sim, coin), size)


def maker_orders(report: Any, coin: str) -> list[Any]:
    return [o for o in report.orders if o.coin == coin and o.tif == "Alo"]


def refuse(*_: Any) -> None:
    raise ExchangeError("the exchange refused the request (HTTP 400): cancel refused")


# --------------------------------------------------------------------------- quote prices


def trade_of(coin: str, side: str, reference: str) -> Trade:
    ref = D(reference)
    return Trade(
        coin=coin, asset_id=10_200, side=side, action="open" if side == "buy" else "reduce",
        size=D(10_000), reference_price=ref, limit_price=ref, notional=D(10_000) * ref, reduce_only=side == "sell",
        phase=1 if side == "sell" else 2, current_weight=D(0), target_weight=D(0), projected_weight=D(0),
    )  # fmt: skip


def test_spot_quotes_are_priced_on_the_spot_grid() -> None:
    # a low-priced spot pair with two size decimals: its grid (0.000001 here) is far finer than a perp's
    market = AssetMarket(coin="TINY/USDC", asset_id=10_200, kind="spot", sz_decimals=2, mid=D("0.0012345"))
    buy, sell = trade_of("TINY/USDC", "buy", "0.0012345"), trade_of("TINY/USDC", "sell", "0.0012345")
    # one spot tick inside the spread; the cap at +/-2% on the spot grid
    assert quote_price(buy, market, Touch(D("0.001234"), D("0.00124")), D("0.02")) == D("0.001235")
    assert quote_price(buy, market, Touch(D("0.0013"), D("0.0014")), D("0.02")) == D("0.001259")
    assert quote_price(sell, market, Touch(D("0.001228"), D("0.001234")), D("0.02")) == D("0.001233")
    assert quote_price(sell, market, Touch(D("0.0011"), D("0.0012")), D("0.02")) == D("0.00121")


def test_a_quote_goes_one_tick_inside_a_one_sided_book_and_joins_a_one_tick_spread() -> None:
    eth = AssetMarket(coin="ETH", asset_id=1, sz_decimals=4, mid=D("3050.4"))
    btc = AssetMarket(coin="BTC", asset_id=0, sz_decimals=5, mid=D(85600))
    buy, sell = trade_of("ETH", "buy", "3050.4"), trade_of("BTC", "sell", "85600")
    assert quote_price(buy, eth, Touch(D("3050.1"), None), D("0.02")) == D("3050.2")  # no ask: nothing to cross
    assert quote_price(sell, btc, Touch(None, D(85609)), D("0.02")) == D(85608)  # no bid
    # a spread of one tick: one tick inside would cross, so the quote joins its side
    assert quote_price(buy, eth, Touch(D("3050.1"), D("3050.2")), D("0.02")) == D("3050.1")
    assert quote_price(sell, btc, Touch(D(85608), D(85609)), D("0.02")) == D(85609)


def test_the_touch_reads_only_the_first_two_sides_and_only_level_objects() -> None:
    bid, ask = [{"px": "99", "sz": "1", "n": 1}], [{"px": "101", "sz": "1", "n": 1}]
    assert touch_of({"levels": [bid, ask, [{"px": "7", "sz": "1", "n": 1}]]}) == Touch(D(99), D(101))
    assert touch_of({"levels": [[["99", "1"]], ask]}) == Touch(None, D(101))  # not a level object: no bid


# --------------------------------------------------------------------------- what a phase says


def test_a_phase_that_fills_nothing_says_so_and_hands_everything_on(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    clock = Clock()
    report, _, said = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"BTC": 0.4, "ETH": 0.3})
    assert report.outcome == "done", report.message
    assert "round 1 phase 1: post-only orders filled 0/1 trade(s) (0 in size); the rest goes to taker rounds" in said
    assert "round 1 phase 2: post-only orders filled 0/1 trade(s) (0 in size); the rest goes to taker rounds" in said


def test_a_phase_counts_the_trades_filled_and_the_size_filled(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    clock.at(0.3, lambda: (fill(sim, "ETH")(), fill(sim, "SOL", "10.5")()))
    report, _, said = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"ETH": 0.3, "SOL": 0.1})
    assert report.outcome == "done", report.message
    assert [(o.coin, o.status) for o in report.orders if o.round == 1] == [("ETH", "filled"), ("SOL", "partial")]
    msg = "round 1 phase 2: post-only orders filled 1/2 trade(s) (20.3348 in size); the rest goes to taker rounds"
    assert msg in said


def test_a_phase_whose_trades_all_fill_says_so_and_ends_at_once(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    clock.at(0.3, lambda: (fill(sim, "ETH")(), fill(sim, "SOL")()))
    report, _, said = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1}, patience="3")
    assert report.outcome == "done", report.message
    assert "round 1 phase 2: every trade filled by post-only orders" in said
    assert not any("the rest goes to taker rounds" in s for s in said)
    assert [r.style for r in report.rounds] == ["maker"]
    # the fills (at 0.3 s) are read at the 0.5 s refresh, which ends the phase: no book read after 0.25 s, no cancel
    assert client.times("exchange.cancel") == [] and max(t for t, _ in client.books) == 0.25


# --------------------------------------------------------------------------- when a phase ends


def test_patience_is_kept_to_the_tick_with_a_requote_every_interval(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    report, journal, _ = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1})
    assert report.outcome == "done", report.message
    # the dead man's switch is set before the bids, for the patience and its margin, and cleared
    switch = [(e["event"], e.get("time")) for e in journal_entries(journal) if e["event"].startswith("switch")]
    assert switch == [("switch_set", int((clock.start + 1 + 5) * 1000)), ("switch_cleared", None)]
    assert client.times("exchange.scheduleCancel") == [0.0, 1.0]
    # books read at 0, 0.25, 0.5, 0.75 and 1 s (both coins each time); the cancel at 1 s exactly
    assert sorted({t for t, _ in client.books}) == [0, 0.25, 0.5, 0.75, 1.0] and len(client.books) == 10
    assert client.times("exchange.cancel") == [1.0]
    assert [(o.coin, o.status) for o in report.orders if o.round == 1] == [("ETH", "cancelled"), ("SOL", "cancelled")]
    # each order names the style that placed it (the report's JSON shows it)
    assert [(o.style, o.tif) for o in report.orders] == [("maker", "Alo")] * 2 + [("taker", "Ioc")] * 2


def test_once_a_fill_racing_the_cancel_completes_the_phase_the_next_phase_starts_at_once(tmp_path: Path) -> None:
    sim = Simulator(snapshot=btc_80())
    clock = Clock()
    client = Recorder(sim, clock)

    def leave_the_ask() -> None:  # the touch falls away; the ask fills in full before the cancel lands
        sim.set_price("BTC", "85400")
        client.before["exchange.cancel"] = [fill(sim, "BTC")]

    clock.at(0.25, leave_the_ask)
    report, _, _ = maker_run(sim, tmp_path, clock, client, {"BTC": 0.4, "ETH": 0.3})
    btc = maker_orders(report, "BTC")
    assert [o.status for o in btc] == ["filled"]
    cancel, first_eth = client.times("exchange.cancel")[0], client.times("exchange.order")[1]
    assert cancel == first_eth == 0.25  # the ETH bid goes out when the BTC fill is read, no wait between


def test_no_patience_sends_no_post_only_order_and_reads_no_book(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    report, _, _ = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1}, patience="0")
    assert report.outcome == "done", report.message
    assert [(o.coin, o.tif) for o in report.orders] == [("ETH", "Ioc"), ("SOL", "Ioc")]
    assert client.books == [] and client.times("exchange.scheduleCancel") == []


# --------------------------------------------------------------------------- what a requote re-posts


def test_a_requote_reposts_a_later_leg_while_an_earlier_one_rests_at_the_touch(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    clock.at(0.3, lambda: sim.set_price("SOL", "143.5"))  # the SOL bid is left behind; ETH's stays the best
    report, _, _ = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"ETH": 0.3, "SOL": 0.1})
    assert [o.status for o in maker_orders(report, "ETH")] == ["cancelled"]
    sol = maker_orders(report, "SOL")
    assert [o.status for o in sol] == ["cancelled", "cancelled"] and sol[1].limit_price > sol[0].limit_price


def test_a_requote_skips_a_remainder_under_the_minimum_and_reposts_the_next_leg(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()

    def move() -> None:  # ETH fills all but $9 of dust; both bids are then left behind
        fill(sim, "ETH", "9.8318")()
        sim.set_price("ETH", "3060")
        sim.set_price("SOL", "143.5")

    clock.at(0.3, move)
    report, _, _ = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"ETH": 0.3, "SOL": 0.1})
    assert [(o.status, o.filled_size) for o in maker_orders(report, "ETH")] == [("partial", D("9.8318"))]
    sol = maker_orders(report, "SOL")
    assert len(sol) == 2 and sol[1].limit_price > sol[0].limit_price


def test_a_remainder_worth_exactly_the_minimum_is_requoted(tmp_path: Path) -> None:
    sim = cash_only(market=[*MARKET, ("TEN", 2, 10, "98.04")])
    clock = Clock()
    size: dict[str, D] = {}

    def move() -> None:  # all but 0.1 fills; the price jumps: the requote is capped at 100.00 = $10
        order = next(o for o in sim.engine.open_orders.values() if o.coin == "TEN")
        size["planned"] = order.sz
        sim.fill_resting(order.oid, order.sz - D("0.1"))
        sim.set_price("TEN", "105")

    clock.at(0.3, move)
    report, _, _ = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"TEN": 0.0981})
    ten = maker_orders(report, "TEN")
    assert [(o.status, o.size) for o in ten] == [("partial", size["planned"]), ("cancelled", D("0.1"))]
    assert ten[1].limit_price == D("100.00")


def test_only_the_books_of_coins_still_working_are_read(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    clock.at(0.3, fill(sim, "ETH"))  # seen at the refresh after 0.5 s
    report, _, _ = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1})
    assert [o.status for o in maker_orders(report, "ETH")] == ["filled"]
    assert {c for t, c in client.books if t >= 0.5} == {"SOL"}


def test_a_coin_whose_side_of_the_book_is_empty_is_left_to_the_taker_rounds(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    client.edit["ETH"] = lambda book: {**book, "levels": [[], book["levels"][1]]}  # no bids to join
    client.edit["SOL"] = lambda book: {**book, "levels": [book["levels"][0], []]}  # no asks: the mid is unknown
    report, _, _ = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1})
    assert report.outcome == "done", report.message
    assert maker_orders(report, "ETH") == []
    assert [(o.status, o.limit_price) for o in maker_orders(report, "SOL")] == [("cancelled", D("142.52"))]
    assert {(o.coin, o.tif, o.status) for o in report.orders if o.round == 2} == {
        ("ETH", "Ioc", "filled"),
        ("SOL", "Ioc", "filled"),
    }


# --------------------------------------------------------------------------- guards at a requote


def test_a_requote_over_the_max_order_value_is_refused(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    clock.at(0.3, lambda: sim.set_price("ETH", "3355.4"))  # up 10% with its oracle: the requote is capped at +2%
    policy = Policy(max_order_value=D(30_400))  # the plan's $30,150 passes; 9.8348 at 3111.4 does not
    report, _, _ = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"ETH": 0.3}, policy=policy)
    assert int(report.exit_code) == 4 and "exceeds max_order_value $30,400.00" in report.message, report.message
    assert "ETH buy of $30,600.00" in report.message
    assert [o.status for o in report.orders] == ["cancelled"]  # never re-posted


def partly_filled_then_up(sim: Simulator, clock: Clock) -> None:
    """Half the ETH bid fills, then ETH rises 10% with its oracle: the rest is requoted."""
    clock.at(0.3, lambda: (fill(sim, "ETH", "4.9174")(), sim.set_price("ETH", "3355.4")))


def test_the_turnover_at_a_requote_counts_what_the_phase_has_filled(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    partly_filled_then_up(sim, clock)
    # $15,000 filled + 4.9174 more at the mid, 3355.4: 31.5% of equity, over 31%
    policy = Policy(max_turnover=D("0.31"))
    report, _, _ = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"ETH": 0.3}, policy=policy)
    assert int(report.exit_code) == 4 and "turnover 31.5% of equity" in report.message, report.message
    assert [o.status for o in report.orders] == ["partial"]


def test_the_turnover_at_a_requote_counts_the_remainder_only(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    partly_filled_then_up(sim, clock)
    policy = Policy(max_turnover=D("0.33"))  # 31.5% passes (the whole size again would be 48%)
    report, _, _ = maker_run(sim, tmp_path, clock, Recorder(sim, clock), {"ETH": 0.3}, policy=policy)
    assert report.outcome == "done", report.message
    eth = maker_orders(report, "ETH")
    assert [(o.status, o.size, o.limit_price) for o in eth] == [
        ("partial", D("9.8348"), D("3050.1")),
        ("cancelled", D("4.9174"), D("3111.4")),
    ]


# --------------------------------------------------------------------------- the cancel that ends a phase


def stopped_run(tmp_path: Path, prepare: Callable[[Simulator, Recorder], None]) -> tuple[Any, Path, Recorder]:
    """Stop asked 0.3 s into the ETH and SOL bids; ``prepare`` sets what the stop's cancel meets."""
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    stop = {"now": False}

    def ask_to_stop() -> None:
        stop["now"] = True
        prepare(sim, client)

    clock.at(0.3, ask_to_stop)
    mapping = {"ETH": 0.3, "SOL": 0.1}
    report, journal, _ = maker_run(sim, tmp_path, clock, client, mapping, should_stop=lambda: stop["now"])
    assert sim.handle("info", {"type": "openOrders", "user": USER})[1] == []  # the run's end cancelled all
    return report, journal, client


def test_a_stop_whose_cancel_answer_is_lost_asks_again_though_stopping(tmp_path: Path) -> None:
    report, journal, client = stopped_run(tmp_path, lambda sim, c: c.lose.update({"exchange.cancel": 1}))
    assert report.outcome == "interrupted" and "during the maker wait" in report.message
    assert not any(e["event"] == "cancel_failed" for e in journal_entries(journal))
    first, second = client.times("exchange.cancel")[:2]
    assert (first, second) == (0.5, 1.0)  # asked again after its half-second pause, while stopping
    assert [o.status for o in report.orders] == ["cancelled", "cancelled"]


def test_a_stop_whose_cancel_is_refused_is_journaled_and_the_stop_reported(tmp_path: Path) -> None:
    report, journal, _ = stopped_run(tmp_path, lambda sim, c: c.before.update({"exchange.cancel": [refuse]}))
    assert report.outcome == "interrupted" and "during the maker wait" in report.message, report.message
    failed = [e for e in journal_entries(journal) if e["event"] == "cancel_failed"]
    assert [e["error"] for e in failed] == ["the exchange refused the request (HTTP 400): cancel refused"]


def test_a_stop_whose_cancel_never_answers_still_reports_the_stop(tmp_path: Path) -> None:
    report, _, _ = stopped_run(tmp_path, lambda sim, c: c.fail.update({"exchange.cancel": 3}))
    assert report.outcome == "interrupted" and "during the maker wait" in report.message, report.message
    assert int(report.exit_code) != 4


def test_orders_that_cannot_be_cancelled_at_patience_stop_the_run_with_their_coins(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    client.fail["exchange.cancel"] = 3  # the cancel at patience's end never answers, three times
    report, _, _ = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1})
    assert int(report.exit_code) == 4 and report.outcome == "refused"
    assert report.message == (
        "stopped by a guard after orders were placed: 2 post-only order(s) could not be cancelled (ETH, SOL) "
        "(check the account's open orders; the dead man's switch cancels them at its time)"
    )
    assert not [o for o in report.orders if o.round == 2]  # no taker round while they may rest


def test_a_refused_cancel_at_patience_stops_the_run(tmp_path: Path) -> None:
    sim = cash_only()
    clock = Clock()
    client = Recorder(sim, clock)
    client.before["exchange.cancel"] = [refuse]
    report, journal, _ = maker_run(sim, tmp_path, clock, client, {"ETH": 0.3, "SOL": 0.1})
    assert report.outcome == "partial" and report.message.endswith("cancel refused"), report.message
    assert not [o for o in report.orders if o.round == 2]
    assert not any(e["event"] == "cancel_failed" for e in journal_entries(journal))
