"""What a run reports: every order as asked and as filled, every round, the run's cost and outcome.

These are the execution room's output types. They are plain (mutable) dataclasses because a run
fills them in as it goes; the renderers in :mod:`hlrebal.render` read them and print nothing back.
Every money figure is a ``Decimal`` in USD (a spot fee paid in the bought token is converted at the
fill price where the fill is read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from hlrebal.errors import ExitCode
from hlrebal.exchange import RequestLog
from hlrebal.planner import Plan, Trade
from hlrebal.snapshot import Snapshot

_ZERO = Decimal(0)

#: the five outcomes a run ends with (journal ``run_end``, ``--json``, the last line of the report)
Outcome = Literal["done", "partial", "refused", "interrupted", "error"]


_OUTCOMES: dict[int, Outcome] = {
    ExitCode.OK: "done",
    ExitCode.GUARD: "refused",
    ExitCode.PARTIAL: "partial",
    ExitCode.INTERRUPTED: "interrupted",
}


def outcome_of(code: ExitCode | int) -> Outcome:
    """The outcome an exit code stands for: 0 done, 4 refused, 5 partial, 130 interrupted, else error."""
    return _OUTCOMES.get(int(code), "error")


@dataclass(frozen=True)
class Fill:
    """One fill of one of the run's orders, as the exchange's ``userFills`` reports it, fee in USD."""

    oid: int
    coin: str
    side: Literal["buy", "sell"]
    price: Decimal
    size: Decimal
    fee_usd: Decimal
    maker: bool
    time: int = 0

    @property
    def notional(self) -> Decimal:
        return self.price * self.size


@dataclass
class OrderReport:
    """One order as asked and as filled."""

    round: int
    phase: int
    cloid: str
    coin: str
    side: Literal["buy", "sell"]
    action: str
    reduce_only: bool
    size: Decimal
    reference_price: Decimal
    limit_price: Decimal
    status: str = "sent"
    filled_size: Decimal = _ZERO
    avg_price: Decimal | None = None
    fee: Decimal | None = None
    """USD, from the account's fills (a spot fee in the bought token at the fill price), else estimated."""
    oid: int | None = None
    error: str | None = None
    dust: bool = False
    tif: str = "Ioc"
    style: str = "taker"
    asset: int = -1
    twap_id: int | None = None
    """A native TWAP's id (``tif`` "Twap"): its fills are its slices'."""
    fee_estimated: bool = False
    """True when the fee could not be read from the account's fills and was estimated from fee rates."""
    fills: list[Fill] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        t: Trade,
        *,
        round: int,
        phase: int,
        cloid: str,
        tif: str,
        style: str,
        size: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> OrderReport:
        """The report of an order that works ``t`` (the whole trade unless ``size`` is given; at the
        trade's limit unless ``limit_price`` is), before anything is known of its fate."""
        return cls(
            round=round,
            phase=phase,
            cloid=cloid,
            coin=t.coin,
            side=t.side,
            action=t.action.value,
            reduce_only=t.reduce_only,
            size=t.size if size is None else size,
            reference_price=t.reference_price,
            limit_price=t.limit_price if limit_price is None else limit_price,
            dust=t.dust,
            tif=tif,
            style=style,
            asset=t.asset_id,
        )

    @property
    def slippage_bps(self) -> Decimal | None:
        """Fill price against the reference, in basis points (positive = paid away)."""
        if self.avg_price is None or self.filled_size == 0:
            return None
        signed = (self.avg_price - self.reference_price) / self.reference_price
        return (signed if self.side == "buy" else -signed) * 10_000

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled_size

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"


class WorkedTrade:
    """A trade and the orders that have worked it so far (a style's bookkeeping per leg): what has
    filled and what remains. Not a dataclass itself: its subclasses are, and give ``trade`` and
    ``orders`` as their fields, in their own order."""

    trade: Trade
    orders: list[OrderReport]

    @property
    def filled(self) -> Decimal:
        return sum((o.filled_size for o in self.orders), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return self.trade.size - self.filled


@dataclass
class RoundReport:
    number: int
    slippage: Decimal
    planned: int
    sent: int = 0
    filled: int = 0
    notional_filled: Decimal = _ZERO
    note: str = ""
    style: str = "taker"


@dataclass(frozen=True)
class CoinCost:
    """What trading one coin cost against its arrival price (the mid the plan was made from).

    ``shortfall_usd`` is the price part, sum over fills of side x (fill price - arrival mid) x size
    (positive = paid away); ``total_usd`` adds the fees. ``bps`` figures are of ``notional``.
    """

    coin: str
    arrival_price: Decimal
    filled_size: Decimal
    notional: Decimal
    shortfall_usd: Decimal
    fees_usd: Decimal
    maker_notional: Decimal
    fills: int

    @property
    def total_usd(self) -> Decimal:
        return self.shortfall_usd + self.fees_usd

    @property
    def maker_share(self) -> Decimal | None:
        return self.maker_notional / self.notional if self.notional else None

    def bps(self, usd: Decimal) -> Decimal | None:
        return usd / self.notional * 10_000 if self.notional else None


@dataclass(frozen=True)
class CostReport:
    """The run's implementation shortfall per coin and in total (USD, and bps of traded notional)."""

    coins: tuple[CoinCost, ...] = ()
    estimated_fees: Decimal | None = None
    """What the confirmed plan estimated for fees (USD), scaled to the notional the run traded, for
    the fees-versus-estimate comparison."""
    fees_estimated: bool = False
    """True when some fee could not be read from the account's fills and was estimated."""

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(c, name) for c in self.coins), _ZERO)

    @property
    def notional(self) -> Decimal:
        return self._sum("notional")

    @property
    def shortfall_usd(self) -> Decimal:
        return self._sum("shortfall_usd")

    @property
    def fees_usd(self) -> Decimal:
        return self._sum("fees_usd")

    @property
    def total_usd(self) -> Decimal:
        return self.shortfall_usd + self.fees_usd

    @property
    def maker_notional(self) -> Decimal:
        return self._sum("maker_notional")

    @property
    def maker_share(self) -> Decimal | None:
        notional = self.notional
        return self.maker_notional / notional if notional else None

    def bps(self, usd: Decimal) -> Decimal | None:
        notional = self.notional
        return usd / notional * 10_000 if notional else None

    def as_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready document (decimal strings), for ``--json`` and the journal."""

        def num(value: Decimal | None, places: str = "0.000001") -> str | None:
            return None if value is None else format(value.quantize(Decimal(places)).normalize(), "f")

        def figures(item: CoinCost | CostReport) -> dict[str, Any]:
            return {
                "notional": num(item.notional, "0.01"),
                "shortfall_usd": num(item.shortfall_usd),
                "fees_usd": num(item.fees_usd),
                "total_usd": num(item.total_usd),
                "shortfall_bps": num(item.bps(item.shortfall_usd), "0.01"),
                "fees_bps": num(item.bps(item.fees_usd), "0.01"),
                "total_bps": num(item.bps(item.total_usd), "0.01"),
                "maker_share": num(item.maker_share, "0.0001"),
            }

        return {
            **figures(self),
            "estimated_fees": num(self.estimated_fees),
            "fees_estimated": self.fees_estimated,
            "coins": [
                {
                    "coin": c.coin,
                    "arrival_price": format(c.arrival_price.normalize(), "f"),
                    "filled_size": format(c.filled_size.normalize(), "f"),
                    "fills": c.fills,
                    **figures(c),
                }
                for c in self.coins
            ],
        }


@dataclass
class ExecutionReport:
    """What a run did and where it left the account."""

    run_id: str
    exit_code: ExitCode = ExitCode.OK
    outcome: Outcome = "done"
    message: str = ""
    orders: list[OrderReport] = field(default_factory=list)
    rounds: list[RoundReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    final_plan: Plan | None = None
    final_snapshot: Snapshot | None = None
    leverage_set: list[str] = field(default_factory=list)
    reconciled: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    blocked_transfers: list[str] = field(default_factory=list)
    style: str = "taker"
    costs: CostReport = field(default_factory=CostReport)
    requests: dict[str, int] = field(default_factory=dict)
    """Requests this run made, by kind ("info.l2Book", "exchange.order"), from the client's log."""
    request_weight: int = 0
    """Their weight against the exchange's per-IP limit (info 2 or 20 each, exchange 1 + orders/40)."""
    request_actions: int = 0
    """What they count against the address budget (each order of a batch is one action)."""

    def count_requests(self, log: RequestLog) -> None:
        """Record the requests of ``log`` (what the run made) in the report."""
        self.requests = dict(log.counts)
        self.request_weight = log.weight
        self.request_actions = log.actions

    @property
    def info_requests(self) -> int:
        return sum(n for k, n in self.requests.items() if k.startswith("info."))

    @property
    def exchange_requests(self) -> int:
        return sum(n for k, n in self.requests.items() if k.startswith("exchange."))

    @property
    def fees(self) -> Decimal:
        """Every fee the run paid, in USD."""
        return sum((o.fee or _ZERO for o in self.orders), _ZERO)

    @property
    def traded_notional(self) -> Decimal:
        return sum((o.filled_size * (o.avg_price or _ZERO) for o in self.orders), _ZERO)

    @property
    def any_filled(self) -> bool:
        return any(o.filled_size > 0 for o in self.orders)
