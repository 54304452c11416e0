"""Executing an approved plan exactly (``execute --plan FILE``): its own orders, nothing else.

A :class:`Scope` made from the approved plan restricts every plan the engine makes during the run to
the approved plan's coins, on the approved side, and never beyond the approved size of a coin
(counting what the run has already filled). Round 1 sends the approved trades as they are (their
limit prices bound what they can cost; they are not re-made for fresher prices); phase 2 is still
re-planned against the margin phase 1 actually freed, then cut to the approved sizes; later rounds
finish only the approved trades.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from hlrebal.execution.models import OrderReport
from hlrebal.market import MIN_ORDER_VALUE
from hlrebal.planner import Plan, Trade

_ZERO = Decimal(0)


@dataclass(frozen=True)
class Scope:
    """Per coin: the side and the total size the approved plan trades (a flip's two halves add up)."""

    allowance: Mapping[str, tuple[Literal["buy", "sell"], Decimal]] = field(default_factory=dict)

    @classmethod
    def of(cls, approved: Plan) -> Scope:
        allowance: dict[str, tuple[Literal["buy", "sell"], Decimal]] = {}
        for t in approved.trades:
            side, size = allowance.get(t.coin, (t.side, _ZERO))
            allowance[t.coin] = (t.side, size + t.size) if side == t.side else (side, size)
        return cls(allowance)

    @property
    def coins(self) -> frozenset[str]:
        return frozenset(self.allowance)

    def left(self, coin: str, filled: Mapping[str, Decimal]) -> Decimal:
        """What the approved plan still allows on ``coin`` after ``filled``."""
        _, size = self.allowance[coin]
        return max(size - filled.get(coin, _ZERO), _ZERO)

    def restrict(self, p: Plan, filled: Mapping[str, Decimal]) -> Plan:
        """``p`` with only the approved coins, on the approved side, each cut to what is left of its
        approved size (a cut below the exchange's minimum order value is dropped)."""
        used: dict[str, Decimal] = dict(filled)
        keep: list[Trade] = []
        for t in p.trades:
            if t.coin not in self.allowance or self.allowance[t.coin][0] != t.side:
                continue
            size = min(t.size, self.left(t.coin, used))
            if size <= 0 or (size * t.limit_price < MIN_ORDER_VALUE and not t.dust):
                continue
            used[t.coin] = used.get(t.coin, _ZERO) + size
            keep.append(t if size == t.size else t.model_copy(update={"size": size, "notional": size * t.limit_price}))
        return p if keep == list(p.trades) else p.model_copy(update={"trades": tuple(keep)})


def filled_by_coin(orders: Iterable[OrderReport]) -> dict[str, Decimal]:
    """Filled size per coin over ``orders``."""
    out: dict[str, Decimal] = {}
    for o in orders:
        out[o.coin] = out.get(o.coin, _ZERO) + o.filled_size
    return out
