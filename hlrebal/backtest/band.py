"""The band check the replay makes at every close: the planner's own rule, made cheap.

:func:`outside_band` is the planner's rule in Decimal, operation for operation (planner
``decide``): an explicit target of 0 with a position always trades; otherwise a coin trades when
``|size x price / equity - target|`` is strictly beyond its threshold. :class:`FastBand` makes the
same decision in floats, several times faster, and hands any coin whose drift is within
:data:`EPSILON` of its threshold to the exact rule, so the two never disagree (floats are off by
about 1e-15 here). The largest drift it returns is a float: it is reported, never decided on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from hlrebal.backtest.universe import Universe
from hlrebal.policy import Policy

EPSILON = 1e-9
_ZERO = Decimal(0)

Check = tuple[str, Decimal, Decimal]
"""(coin, target weight, threshold) for one coin of the band check."""


def band_checks(universe: Universe, policy: Policy) -> tuple[Check, ...]:
    """Each coin with its target and its band threshold, the planner's ``policy.threshold(target)``."""
    return tuple((coin, universe.weights[coin], policy.threshold(universe.weights[coin])) for coin in universe.coins)


def outside_band(
    checks: Sequence[Check], sizes: Mapping[str, Decimal], prices: Mapping[str, Decimal], equity: Decimal
) -> tuple[bool, Decimal]:
    """Whether the planner would look at trading any coin, and the largest |weight - target|.

    The planner's rule (planner ``_decide``): an explicit target of 0 with a position always
    trades; otherwise a coin trades when ``|size x price / equity - target|`` is strictly beyond
    its threshold. Same operations, same order, so the Decimal results are identical.
    """
    out = False
    largest = _ZERO
    for coin, target, threshold in checks:
        size = sizes[coin]
        drift = abs(size * prices[coin] / equity - target)
        if drift > largest:
            largest = drift
        if target == 0:
            if size != 0:
                out = True
        elif drift > threshold:
            out = True
    return out, largest


class FastBand:
    """The band check in floats, exact where floats could be wrong."""

    def __init__(self, checks: Sequence[Check]) -> None:
        self.checks = tuple(checks)
        self.floats = tuple((coin, float(target), float(threshold), target == 0) for coin, target, threshold in checks)

    def check(
        self,
        floats: tuple[Mapping[str, float], Mapping[str, float], float],
        sizes: Mapping[str, Decimal],
        prices: Mapping[str, Decimal],
        equity: Decimal,
    ) -> tuple[bool, float]:
        """(sizes, prices, equity) as floats first, then as Decimals for the exact rule if needed."""
        fsizes, fprices, fequity = floats
        out = unsure = False
        largest = 0.0
        for coin, target, threshold, zero in self.floats:
            size = fsizes[coin]
            drift = abs(size * fprices[coin] / fequity - target)
            if drift > largest:
                largest = drift
            if zero:
                if size:
                    out = True
            elif drift > threshold + EPSILON:
                out = True
            elif drift > threshold - EPSILON:
                unsure = True
        if unsure and not out:
            out = outside_band(self.checks, sizes, prices, equity)[0]
        return out, largest
