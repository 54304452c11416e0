"""Exchange rules: the lot grid, the price grid, limit prices and number formatting.

Expected values are worked out by hand from the rules in shared/HYPERLIQUID.md on the exchange's real
szDecimals (BTC 5, ETH 4, SOL 2, DOGE 0, kPEPE 0); the properties compare against an independent
reading of the same rules: validity by counting a price's digits, and the valid prices next to any
price found by search over candidates (itself checked against plain enumeration on small grids),
never by the step formula the code uses.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hlrebal.market import (
    MIN_ORDER_VALUE,
    PERP_MAKER_FEE,
    PERP_TAKER_FEE,
    SPOT_MAKER_FEE,
    SPOT_TAKER_FEE,
    Rounding,
    fmt_decimal,
    is_valid_price,
    is_valid_size,
    limit_price,
    lot_size,
    max_price_decimals,
    order_value,
    pow10,
    price_step,
    round_price,
    round_size,
)

D = Decimal
SZD = {"BTC": 5, "ETH": 4, "SOL": 2, "DOGE": 0, "kPEPE": 0}


# --------------------------------------------------------------------------- an independent oracle


def reference_is_valid_price(price: Decimal, sz_decimals: int, spot: bool = False) -> bool:
    """The rule as written: integers always; else <= 5 significant figures and <= N - szd decimals."""
    if price <= 0:
        return False
    if price == price.to_integral_value():
        return True
    _sign, digits, exponent = price.normalize().as_tuple()
    assert isinstance(exponent, int)
    significant = len(digits)
    decimals = -exponent if exponent < 0 else 0
    return significant <= 5 and decimals <= max_decimals(sz_decimals, spot)


def max_decimals(sz_decimals: int, spot: bool) -> int:
    """At most 6 (perps) or 8 (spot) decimals, less szDecimals, never below 0."""
    return max((8 if spot else 6) - sz_decimals, 0)


def valid_neighbours(price: Decimal, sz_decimals: int, spot: bool = False) -> tuple[Decimal, Decimal]:
    """The largest valid price at or below ``price`` (0 when none) and the smallest at or above it.

    Every valid price is an integer or has at most the allowed decimals; among the prices with ``d``
    decimals, the ones next to ``price`` are its floor and ceiling at ``d`` decimals. So the answer is
    among those candidates for every ``d`` up to the limit, kept when the rule as written accepts them.
    """
    if reference_is_valid_price(price, sz_decimals, spot):
        return price, price
    below, above = Decimal(0), price.to_integral_value(rounding="ROUND_CEILING")
    for d in range(max_decimals(sz_decimals, spot) + 1):
        unit = Decimal(1).scaleb(-d)
        floor, ceiling = price.quantize(unit, "ROUND_FLOOR"), price.quantize(unit, "ROUND_CEILING")
        if reference_is_valid_price(floor, sz_decimals, spot):
            below = max(below, floor)
        if reference_is_valid_price(ceiling, sz_decimals, spot):
            above = min(above, ceiling)
    return below, above


def enumerated_neighbours(price: Decimal, sz_decimals: int, spot: bool = False) -> tuple[Decimal, Decimal]:
    """The same by plain enumeration: every multiple of the finest unit within 1 of ``price`` (an
    integer, always valid, lies within 1 on each side). Affordable for coarse grids only."""
    unit = Decimal(1).scaleb(-max_decimals(sz_decimals, spot))
    lo = max(int((price - 1) / unit), 1)
    hi = int((price + 1) / unit) + 1
    valid = [k * unit for k in range(lo, hi + 1) if reference_is_valid_price(k * unit, sz_decimals, spot)]
    return max((v for v in valid if v <= price), default=Decimal(0)), min(v for v in valid if v >= price)


def expected_round(price: Decimal, sz_decimals: int, rounding: Rounding, spot: bool) -> set[Decimal]:
    """What ``round_price`` may return: the neighbour in its direction (both on an exact tie)."""
    below, above = valid_neighbours(price, sz_decimals, spot)
    if rounding in (Rounding.DOWN, Rounding.FLOOR):
        return {below}
    if rounding in (Rounding.UP, Rounding.CEILING):
        return {above}
    if price - below == above - price:
        return {below, above}
    return {below if price - below < above - price else above}


@st.composite
def prices(draw: st.DrawFn) -> Decimal:
    """Positive prices from 1e-6 to 1e6 (log-uniform), with 1 to 9 significant digits."""
    digits = draw(st.integers(1, 9))
    mantissa = draw(st.integers(10 ** (digits - 1), 10**digits - 1))
    leading = draw(st.integers(-6, 5))  # exponent of the first digit
    return D(mantissa).scaleb(leading - digits + 1)


sz_decimals = st.integers(0, 5)
slippages = st.decimals(min_value=D("0.0001"), max_value=D("0.05"), places=4)


# --------------------------------------------------------------------------- constants


def test_exchange_constants() -> None:
    constants = (MIN_ORDER_VALUE, PERP_TAKER_FEE, PERP_MAKER_FEE, SPOT_TAKER_FEE, SPOT_MAKER_FEE)
    assert constants == (D(10), D("0.00045"), D("0.00015"), D("0.0007"), D("0.0004"))
    assert all(isinstance(x, Decimal) for x in (MIN_ORDER_VALUE, PERP_TAKER_FEE, SPOT_TAKER_FEE))


def test_order_value_is_size_times_limit_price() -> None:
    assert order_value(D("0.00012"), D("85600")) == D("10.272")
    assert order_value(D("0.0001"), D("85600")) == D("8.56")  # below the $10 minimum
    assert order_value(D("1634"), D("0.006123")) == D("10.004982")


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("exponent", [-45, -31, -30, -8, -1, 0, 1, 6, 30, 31, 45])
def test_powers_of_ten_are_exact_at_any_exponent(exponent: int) -> None:
    assert pow10(exponent) == Decimal(10) ** exponent
    assert pow10(exponent).as_tuple().digits == (1,)


class TestSizes:
    @pytest.mark.parametrize(
        ("coin", "lot"),
        [("BTC", "0.00001"), ("ETH", "0.0001"), ("SOL", "0.01"), ("DOGE", "1"), ("kPEPE", "1")],
    )
    def test_lot_size(self, coin: str, lot: str) -> None:
        assert lot_size(SZD[coin]) == D(lot)

    @pytest.mark.parametrize(
        ("coin", "size", "rounding", "expected"),
        [
            ("BTC", "0.123456", Rounding.DOWN, "0.12345"),
            ("BTC", "0.123456", Rounding.UP, "0.12346"),
            ("BTC", "0.123456", Rounding.NEAREST, "0.12346"),
            ("BTC", "0.123454", Rounding.NEAREST, "0.12345"),
            ("BTC", "0.000015", Rounding.NEAREST, "0.00002"),  # half-even
            ("BTC", "0.000025", Rounding.NEAREST, "0.00002"),  # half-even
            ("BTC", "0.93458", Rounding.DOWN, "0.93458"),  # already on the grid
            ("BTC", "0.000009", Rounding.DOWN, "0"),
            ("BTC", "0.000009", Rounding.UP, "0.00001"),
            ("ETH", "1.23456", Rounding.DOWN, "1.2345"),
            ("ETH", "1.23451", Rounding.UP, "1.2346"),
            ("ETH", "-1.23456", Rounding.DOWN, "-1.2345"),
            ("ETH", "-1.23456", Rounding.UP, "-1.2346"),
            ("ETH", "-1.23456", Rounding.FLOOR, "-1.2346"),
            ("ETH", "-1.23456", Rounding.CEILING, "-1.2345"),
            ("SOL", "12.345", Rounding.NEAREST, "12.34"),  # half-even
            ("SOL", "12.355", Rounding.NEAREST, "12.36"),  # half-even
            ("SOL", "12.341", Rounding.CEILING, "12.35"),
            ("SOL", "12.349", Rounding.FLOOR, "12.34"),
            ("DOGE", "123.7", Rounding.DOWN, "123"),
            ("DOGE", "123.7", Rounding.NEAREST, "124"),
            ("DOGE", "123.2", Rounding.UP, "124"),
            ("DOGE", "-0.5", Rounding.FLOOR, "-1"),
            ("DOGE", "-0.5", Rounding.CEILING, "0"),
            ("DOGE", "0.4", Rounding.NEAREST, "0"),
            ("kPEPE", "1000000.9", Rounding.DOWN, "1000000"),
            ("kPEPE", "1633.1", Rounding.UP, "1634"),
            ("kPEPE", "1633.5", Rounding.NEAREST, "1634"),
        ],
    )
    def test_round_size(self, coin: str, size: str, rounding: Rounding, expected: str) -> None:
        result = round_size(D(size), SZD[coin], rounding)
        assert result == D(expected)
        assert isinstance(result, Decimal)

    def test_round_size_defaults_to_nearest(self) -> None:
        assert round_size(D("0.123456"), 5) == D("0.12346")
        assert round_size(D("0.123454"), 5) == D("0.12345")

    def test_zero_result_is_a_plain_zero(self) -> None:
        assert fmt_decimal(round_size(D("0.000001"), 5, Rounding.DOWN)) == "0"
        assert fmt_decimal(round_size(D("-0.4"), 0, Rounding.CEILING)) == "0"
        # never a negative zero, whatever prints it
        assert str(round_size(D("-0.4"), 0, Rounding.CEILING)) == "0"
        assert str(round_size(D("-0.000004"), 5, Rounding.NEAREST)) == "0"

    @pytest.mark.parametrize(
        ("coin", "size", "valid"),
        [
            ("BTC", "0.00001", True),
            ("BTC", "0.93458", True),
            ("BTC", "0.000010", True),
            ("BTC", "0.000001", False),
            ("BTC", "0.934581", False),
            ("ETH", "0.0001", True),
            ("ETH", "2.50000", True),
            ("ETH", "0.00005", False),
            ("SOL", "12.34", True),
            ("SOL", "12.345", False),
            ("DOGE", "1", True),
            ("DOGE", "1E+3", True),
            ("DOGE", "62", True),
            ("DOGE", "1.5", False),
            ("kPEPE", "1634", True),
            ("kPEPE", "1634.0", True),
            ("kPEPE", "0.5", False),
            ("BTC", "0", False),
            ("DOGE", "0", False),
            ("ETH", "-1", False),
            ("BTC", "-0.00001", False),
        ],
    )
    def test_is_valid_size(self, coin: str, size: str, valid: bool) -> None:
        assert is_valid_size(D(size), SZD[coin]) is valid

    @given(
        st.decimals(min_value=D("-1e7"), max_value=D("1e7"), places=9, allow_nan=False),
        sz_decimals,
        st.sampled_from(list(Rounding)),
    )
    @settings(max_examples=300, deadline=None)
    def test_round_size_properties(self, size: Decimal, szd: int, rounding: Rounding) -> None:
        lot = D(1).scaleb(-szd)
        result = round_size(size, szd, rounding)
        assert result % lot == 0
        assert abs(result - size) < lot
        if result != 0:
            assert is_valid_size(abs(result), szd)
        if rounding is Rounding.DOWN:
            assert abs(result) <= abs(size)
        elif rounding is Rounding.UP:
            assert abs(result) >= abs(size)
        elif rounding is Rounding.FLOOR:
            assert result <= size
        elif rounding is Rounding.CEILING:
            assert result >= size
        else:
            assert abs(result - size) * 2 <= lot
        # never flips the sign of a position
        assert result == 0 or (result > 0) == (size > 0)


# --------------------------------------------------------------------------- price validity


class TestPriceValidity:
    @pytest.mark.parametrize(
        ("coin", "price", "valid"),
        [
            # BTC: szDecimals 5 -> at most 1 decimal, and 5 significant figures
            ("BTC", "85600", True),
            ("BTC", "123456", True),  # integer: always valid, even with 6 digits
            ("BTC", "1234567", True),
            ("BTC", "85600.5", False),  # 6 significant figures
            ("BTC", "8560.5", True),
            ("BTC", "8560.55", False),  # 2 decimals
            ("BTC", "0.1", True),
            ("BTC", "0.15", False),
            # ETH: szDecimals 4 -> at most 2 decimals
            ("ETH", "3050.4", True),
            ("ETH", "3050.45", False),  # 6 significant figures
            ("ETH", "305.04", True),
            ("ETH", "305.045", False),
            ("ETH", "3050", True),
            # SOL: szDecimals 2 -> at most 4 decimals
            ("SOL", "142.53", True),
            ("SOL", "142.535", False),
            ("SOL", "1.4253", True),
            ("SOL", "1.42535", False),
            ("SOL", "0.1425", True),
            ("SOL", "0.14253", False),  # 5 decimals
            # DOGE, kPEPE: szDecimals 0 -> at most 6 decimals
            ("DOGE", "0.16123", True),
            ("DOGE", "0.161234", False),  # 6 significant figures
            ("DOGE", "1.6123", True),
            ("kPEPE", "0.006123", True),
            ("kPEPE", "0.0061234", False),
            ("kPEPE", "0.000001", True),
            ("kPEPE", "0.0000001", False),  # 7 decimals
            ("kPEPE", "0.00612300", True),  # trailing zeros do not count
        ],
    )
    def test_perp_prices(self, coin: str, price: str, valid: bool) -> None:
        assert is_valid_price(D(price), SZD[coin]) is valid

    @pytest.mark.parametrize("price", ["0", "-1", "-85600", "-0.5"])
    def test_non_positive_prices_invalid(self, price: str) -> None:
        assert is_valid_price(D(price), 0) is False
        assert is_valid_price(D(price), 5) is False

    @pytest.mark.parametrize(
        ("szd", "price", "perp", "spot"),
        [
            (0, "0.00012345", False, True),  # 8 decimals on spot, 6 on perps
            (0, "0.0001234", False, True),
            (0, "0.000001", True, True),
            (0, "0.00000001", False, True),
            (0, "0.000000001", False, False),
            (2, "0.012345", False, True),  # spot szd 2: 6 decimals
            (2, "0.0012345", False, False),
            (2, "0.123456", False, False),  # 6 significant figures
            (4, "1.2345", False, True),
            (4, "1.23", True, True),
        ],
    )
    def test_spot_allows_two_more_decimals(self, szd: int, price: str, perp: bool, spot: bool) -> None:
        assert is_valid_price(D(price), szd) is perp
        assert is_valid_price(D(price), szd, spot=True) is spot

    @pytest.mark.parametrize(
        ("szd", "spot", "expected"),
        [(0, False, 6), (5, False, 1), (6, False, 0), (7, False, 0), (0, True, 8), (5, True, 3), (9, True, 0)],
    )
    def test_max_price_decimals(self, szd: int, spot: bool, expected: int) -> None:
        assert max_price_decimals(szd, spot=spot) == expected
        if not spot:
            assert max_price_decimals(szd) == expected  # perps unless told otherwise

    def test_large_szdecimals_only_integers(self) -> None:
        assert is_valid_price(D("12"), 7)
        assert not is_valid_price(D("1.5"), 7)

    @pytest.mark.parametrize(
        ("coin", "price", "step"),
        [
            ("BTC", "85600", "1"),
            ("BTC", "123456", "1"),
            ("BTC", "8560.1", "0.1"),
            ("ETH", "3050.4", "0.1"),
            ("ETH", "305.04", "0.01"),
            ("SOL", "142.53", "0.01"),
            ("SOL", "0.5", "0.0001"),
            ("kPEPE", "0.006123", "0.000001"),
            ("DOGE", "0.16123", "0.00001"),
        ],
    )
    def test_price_step(self, coin: str, price: str, step: str) -> None:
        assert price_step(D(price), SZD[coin]) == D(step)

    @given(prices(), sz_decimals, st.booleans())
    @settings(max_examples=400, deadline=None)
    @example(D("123456"), 5, False)
    @example(D("85600.5"), 5, False)
    @example(D("0.0061234"), 0, False)
    def test_matches_the_rule_as_written(self, price: Decimal, szd: int, spot: bool) -> None:
        assert is_valid_price(price, szd, spot=spot) is reference_is_valid_price(price, szd, spot)


# --------------------------------------------------------------------------- price rounding


class TestRoundPrice:
    @pytest.mark.parametrize(
        ("coin", "price", "rounding", "expected"),
        [
            ("BTC", "85600.5", Rounding.FLOOR, "85600"),
            ("BTC", "85600.5", Rounding.CEILING, "85601"),
            ("BTC", "85600.5", Rounding.NEAREST, "85600"),  # half-even
            ("BTC", "85601.5", Rounding.NEAREST, "85602"),  # half-even
            ("BTC", "8560.55", Rounding.DOWN, "8560.5"),
            ("BTC", "8560.55", Rounding.UP, "8560.6"),
            ("ETH", "3050.45", Rounding.FLOOR, "3050.4"),
            ("ETH", "3050.45", Rounding.CEILING, "3050.5"),
            ("ETH", "3050.46", Rounding.NEAREST, "3050.5"),
            ("SOL", "142.536", Rounding.DOWN, "142.53"),
            ("SOL", "142.531", Rounding.UP, "142.54"),
            ("kPEPE", "0.0061234", Rounding.FLOOR, "0.006123"),
            ("kPEPE", "0.0061234", Rounding.CEILING, "0.006124"),
            ("DOGE", "0.161239", Rounding.NEAREST, "0.16124"),
            ("BTC", "85600", Rounding.UP, "85600"),  # already valid: unchanged
            ("BTC", "123456", Rounding.FLOOR, "123456"),
            ("BTC", "123456.7", Rounding.FLOOR, "123456"),
            ("BTC", "123456.2", Rounding.CEILING, "123457"),
        ],
    )
    def test_directions(self, coin: str, price: str, rounding: Rounding, expected: str) -> None:
        result = round_price(D(price), SZD[coin], rounding)
        assert result == D(expected)
        assert is_valid_price(result, SZD[coin])

    @pytest.mark.parametrize(
        ("price", "szd", "rounding", "expected"),
        [
            ("9.99996", 0, Rounding.UP, "10"),
            ("9.99996", 0, Rounding.CEILING, "10"),
            ("9.99996", 0, Rounding.NEAREST, "10"),
            ("9.99996", 0, Rounding.DOWN, "9.9999"),
            ("0.999996", 0, Rounding.CEILING, "1"),
            ("99999.5", 0, Rounding.CEILING, "100000"),
            ("0.0999996", 0, Rounding.UP, "0.1"),
            ("999.996", 2, Rounding.CEILING, "1000"),
        ],
    )
    def test_crossing_a_power_of_ten(self, price: str, szd: int, rounding: Rounding, expected: str) -> None:
        result = round_price(D(price), szd, rounding)
        assert result == D(expected)
        assert is_valid_price(result, szd)

    def test_below_the_smallest_tick(self) -> None:
        assert round_price(D("0.0000004"), 0, Rounding.FLOOR) == 0
        assert round_price(D("0.0000004"), 0, Rounding.CEILING) == D("0.000001")
        assert round_price(D("0.04"), 5, Rounding.DOWN) == 0  # BTC: one decimal at most

    @pytest.mark.parametrize("price", ["0", "-5"])
    def test_non_positive_gives_zero(self, price: str) -> None:
        assert round_price(D(price), 2, Rounding.CEILING) == 0

    @given(prices(), sz_decimals, st.sampled_from(list(Rounding)), st.booleans())
    @settings(max_examples=400, deadline=None)
    @example(D("9.99996"), 0, Rounding.UP, False)
    @example(D("99999.99"), 0, Rounding.CEILING, False)
    @example(D("0.00000099"), 0, Rounding.FLOOR, False)
    def test_is_the_valid_price_next_to_it_in_its_direction(
        self, price: Decimal, szd: int, rounding: Rounding, spot: bool
    ) -> None:
        # 0 only when no positive valid price lies on that side (or, nearest, 0 is nearer)
        assert round_price(price, szd, rounding, spot=spot) in expected_round(price, szd, rounding, spot)

    @given(st.integers(1, 10**7), st.integers(-3, 3), st.integers(0, 7), st.booleans())
    @settings(max_examples=150, deadline=None)
    @example(999996, -5, 5, False)
    @example(99999, -3, 3, False)
    def test_the_oracle_agrees_with_plain_enumeration(self, digits: int, shift: int, szd: int, spot: bool) -> None:
        assume(max_decimals(szd, spot) <= 3)  # coarse grids: a few thousand candidates
        price = D(digits).scaleb(shift - 4)
        assert valid_neighbours(price, szd, spot) == enumerated_neighbours(price, szd, spot)


# --------------------------------------------------------------------------- limit prices


class TestLimitPrice:
    @pytest.mark.parametrize(
        ("coin", "ref", "slippage", "buy", "sell"),
        [
            ("BTC", "85600", "0.005", "86028", "85172"),
            ("ETH", "3050.4", "0.005", "3065.6", "3035.2"),
            ("SOL", "142.53", "0.005", "143.24", "141.82"),
            ("DOGE", "0.16123", "0.005", "0.16203", "0.16043"),
            ("kPEPE", "0.006123", "0.01", "0.006184", "0.006062"),
        ],
    )
    def test_real_assets(self, coin: str, ref: str, slippage: str, buy: str, sell: str) -> None:
        szd = SZD[coin]
        b = limit_price(D(ref), True, D(slippage), szd)
        s = limit_price(D(ref), False, D(slippage), szd)
        assert b == D(buy)
        assert s == D(sell)
        assert is_valid_price(b, szd) and is_valid_price(s, szd)

    def test_buy_with_no_valid_price_below_the_bound_is_zero(self) -> None:
        assert limit_price(D("0.0000004"), True, D("0.005"), 0) == 0

    @given(prices(), sz_decimals, slippages, st.booleans())
    @settings(max_examples=500, deadline=None)
    @example(D("85600"), 5, D("0.005"), False)
    @example(D("9.9999"), 0, D("0.0001"), False)
    @example(D("0.000001"), 0, D("0.05"), False)
    @example(D("1000000"), 0, D("0.0001"), False)
    @example(D("100000"), 5, D("0.0001"), False)
    def test_is_the_best_valid_price_within_the_slippage_bound(
        self, ref: Decimal, szd: int, slippage: Decimal, spot: bool
    ) -> None:
        buy = limit_price(ref, True, slippage, szd, spot=spot)
        sell = limit_price(ref, False, slippage, szd, spot=spot)
        # a buy pays at most ref x (1 + slippage), a sell gets at least ref x (1 - slippage), and
        # each is the valid price nearest its bound on the allowed side (0: none below the bound)
        assert buy == valid_neighbours(ref * (1 + slippage), szd, spot)[0]
        assert sell == valid_neighbours(ref * (1 - slippage), szd, spot)[1]
        assert sell > 0  # a valid price at or above any positive bound always exists

    @given(prices(), sz_decimals, slippages)
    @settings(max_examples=300, deadline=None)
    def test_on_the_right_side_of_a_valid_reference(self, ref: Decimal, szd: int, slippage: Decimal) -> None:
        ref = round_price(ref, szd, Rounding.NEAREST)
        assume(ref > 0)
        assert limit_price(ref, True, slippage, szd) >= ref
        assert limit_price(ref, False, slippage, szd) <= ref


# --------------------------------------------------------------------------- formatting


class TestFmtDecimal:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            ("0", "0"),
            ("0.000", "0"),
            ("-0", "0"),
            ("-0.00", "0"),
            ("0.001", "0.001"),
            ("0.00100", "0.001"),
            ("85600", "85600"),
            ("85600.000", "85600"),
            ("8.56E+4", "85600"),
            ("1E+1", "10"),
            ("1E-7", "0.0000001"),
            ("-1.5", "-1.5"),
            ("-1.50", "-1.5"),
            ("0.1", "0.1"),
            ("123456789.123456789", "123456789.123456789"),
        ],
    )
    def test_plain_strings(self, value: str, text: str) -> None:
        assert fmt_decimal(D(value)) == text

    @given(st.decimals(min_value=D("-1e12"), max_value=D("1e12"), allow_nan=False, places=12))
    @settings(max_examples=200, deadline=None)
    def test_round_trips_without_exponent(self, value: Decimal) -> None:
        text = fmt_decimal(value)
        assert "E" not in text and "e" not in text
        assert D(text) == value
        if "." in text:
            assert not text.endswith("0") and not text.endswith(".")

    def test_grid_results_format_cleanly(self) -> None:
        assert fmt_decimal(round_size(D("85600.2"), 0)) == "85600"
        assert fmt_decimal(round_price(D("9.99996"), 0, Rounding.UP)) == "10"
        assert fmt_decimal(limit_price(D("85600"), True, D("0.005"), 5)) == "86028"
