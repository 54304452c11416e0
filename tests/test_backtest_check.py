"""The replay's cheap drift check agrees with the planner's own band rule, to the last digit."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hlrebal.backtest.account import Account
from hlrebal.backtest.band import EPSILON, FastBand, band_checks, outside_band
from hlrebal.backtest.universe import universe_of
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.targets import weights_from_mapping

from backtest_helpers import demo_snapshot

SNAPSHOT = demo_snapshot()
COINS = ("BTC", "ETH", "DOGE", "HYPE/USDC")


def planner_looks(account: Account, prices: dict[str, Decimal], targets: object, policy: Policy) -> bool:
    """Whether the planner took any coin out of its band (traded it, or tried and found it too small)."""
    result = plan(account.snapshot(prices, 0), targets, policy)  # type: ignore[arg-type]
    return any(line.status in ("trade", "skipped") for line in result.assets if line.kind != "cash")


def check(account: Account, prices: dict[str, Decimal], policy: Policy) -> bool:
    universe = account.universe
    equity = account.equity(prices)
    assert equity == account.snapshot(prices, 0).equity
    checks = band_checks(universe, policy)
    out, largest = outside_band(checks, account.size, prices, equity)
    # the replay's float check makes the same decision, and reports the same largest drift
    floats = ({c: float(s) for c, s in account.size.items()}, {c: float(p) for c, p in prices.items()}, float(equity))
    fast, approx = FastBand(checks).check(floats, account.size, prices, equity)
    assert fast == out and abs(approx - float(largest)) < EPSILON
    return out


weights = st.sampled_from(["0", "0.05", "0.1", "0.25", "-0.1"])


@settings(max_examples=150, deadline=None)
@given(
    w=st.tuples(weights, weights, weights, st.sampled_from(["0", "0.05", "0.3"])),
    lots=st.tuples(*(st.integers(-3000, 3000) for _ in range(3)), st.integers(0, 3000)),
    moves=st.tuples(*(st.integers(80, 125) for _ in range(4))),
    width=st.sampled_from(["0", "0.01", "0.02", "0.05"]),
    relative=st.sampled_from([None, "0.25"]),
    unified=st.booleans(),
)
def test_the_cheap_check_and_the_planner_agree(
    w: tuple[str, ...], lots: tuple[int, ...], moves: tuple[int, ...], width: str, relative: str | None, unified: bool
) -> None:
    targets = weights_from_mapping({c: Decimal(x) for c, x in zip(COINS, w, strict=True)})
    policy = Policy(band=Decimal(width), band_relative=Decimal(relative) if relative else None, max_leverage=2)
    snapshot = demo_snapshot(userAbstraction="unifiedAccount") if unified else SNAPSHOT
    account = Account(universe_of(snapshot, targets, policy), policy)
    base = {"BTC": Decimal(90_000), "ETH": Decimal(3_000), "DOGE": Decimal("0.16"), "HYPE/USDC": Decimal(30)}
    prices = {c: base[c] * m / 100 for c, m in zip(COINS, moves, strict=True)}
    lot = {"BTC": Decimal("0.001"), "ETH": Decimal("0.01"), "DOGE": Decimal(100), "HYPE/USDC": Decimal("0.1")}
    for coin, n in zip(COINS, lots, strict=True):
        account.size[coin] = n * lot[coin]
    account.perp_cash = Decimal(500_000)
    account.spot_cash = Decimal(500_000) if unified else Decimal(0)
    assert check(account, prices, policy) == planner_looks(account, prices, targets, policy)


def test_a_drift_exactly_at_the_threshold_is_within_the_band_for_both() -> None:
    # equity $100,000 (perp cash) with 0.6 BTC at 50,000: weight exactly 0.3
    targets = weights_from_mapping({"BTC": Decimal("0.25")})
    policy = Policy(band=Decimal("0.05"), band_relative=None)
    account = Account(universe_of(SNAPSHOT, targets, policy), policy)
    account.size["BTC"] = Decimal("0.6")
    account.perp_cash = Decimal(100_000)
    prices = {"BTC": Decimal(50_000)}
    assert not check(account, prices, policy) and not planner_looks(account, prices, targets, policy)
    prices = {"BTC": Decimal("50000.1")}
    assert check(account, prices, policy) and planner_looks(account, prices, targets, policy)


def test_where_floats_would_say_beyond_the_band_the_exact_rule_decides() -> None:
    # weight exactly 0.75 against a target of 0.7 and a band of 0.05: in floats 0.75 - 0.7 is
    # 0.050000000000000044, beyond the band; exactly it is 0.05, within it, as the planner says
    targets = weights_from_mapping({"BTC": Decimal("0.7")})
    policy = Policy(band=Decimal("0.05"), band_relative=None)
    account = Account(universe_of(SNAPSHOT, targets, policy), policy)
    account.size["BTC"] = Decimal("1.5")
    account.perp_cash = Decimal(100_000)
    prices = {"BTC": Decimal(50_000)}
    assert 0.75 - 0.7 > 0.05
    assert not check(account, prices, policy) and not planner_looks(account, prices, targets, policy)
