"""What a plan is made of: trades, skipped assets, weight lines, the summary, transfers, the plan.

These are the planner's output types (frozen value classes, :mod:`hlrebal.values`); everything else in the package is
the working that produces them. The JSON documents in :mod:`hlrebal.render` are built from here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from hlrebal.errors import BadInputError
from hlrebal.policy import Policy
from hlrebal.values import Value, value_class

PLAN_VERSION = 1


class Action(StrEnum):
    """What a trade does to its position."""

    CLOSE = "close"  # reduce-only, the whole position
    REDUCE = "reduce"  # reduce-only, part of the position
    FLIP_CLOSE = "flip_close"  # reduce-only close ahead of an opposite open
    OPEN = "open"  # from no position
    INCREASE = "increase"  # same side, larger
    FLIP_OPEN = "flip_open"  # the opposite side, after the flip close


REDUCING = frozenset({Action.CLOSE, Action.REDUCE, Action.FLIP_CLOSE})


@value_class
class Trade(Value):
    """One order of the plan."""

    coin: str
    asset_id: int
    phase: Literal[1, 2]
    action: Action
    side: Literal["buy", "sell"]
    size: Decimal
    reference_price: Decimal
    limit_price: Decimal
    notional: Decimal
    """size x limit price: the value the exchange checks against its minimum."""
    reduce_only: bool
    dust: bool = False
    """A whole-position close below the exchange's $10 minimum (accepted or reported, never retried)."""
    current_weight: Decimal
    target_weight: Decimal
    projected_weight: Decimal
    leverage: int | None = None
    """Leverage the increase is margined at (phase 2), or None for reductions."""
    is_cross: bool = True
    sz_decimals: int = 0
    kind: Literal["perp", "spot"] = "perp"

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.side == "buy" else -self.size


@value_class
class Skip(Value):
    """An asset the plan does not trade, and why."""

    coin: str
    code: str
    reason: str


AssetStatus = Literal["trade", "within_band", "skipped", "kept", "flat", "cash"]


@value_class
class AssetLine(Value):
    """Weights of one asset (or cash) before, at target and after the plan."""

    coin: str
    kind: Literal["perp", "spot", "cash"] = "perp"
    current_weight: Decimal
    target_weight: Decimal | None
    """None for an untargeted position that is kept."""
    projected_weight: Decimal
    threshold: Decimal | None = None
    status: AssetStatus = "trade"
    goal: Decimal | None = None
    """The weight a traded asset aims at (the target, or the band edge in edge mode)."""

    @property
    def drift(self) -> Decimal | None:
        """Current minus target weight."""
        return None if self.target_weight is None else self.current_weight - self.target_weight

    @property
    def residual(self) -> Decimal | None:
        """Projected minus target weight: what the plan leaves."""
        return None if self.target_weight is None else self.projected_weight - self.target_weight


@value_class
class Summary(Value):
    """Totals of a plan."""

    equity: Decimal
    turnover: Decimal
    """Traded notional at reference prices / equity."""
    traded_notional: Decimal
    estimated_fees: Decimal
    worst_case_slippage: Decimal
    """What the trades cost if every one fills at its limit price, against the reference."""
    gross_before: Decimal
    gross_after: Decimal
    net_before: Decimal
    net_after: Decimal
    margin_available: Decimal
    """Equity, less estimated fees, less the margin positions hold after phase 1."""
    margin_required: Decimal
    """Initial margin phase 2 needs: size x mark (or the limit, when higher) / each trade's leverage."""
    scale_factor: Decimal
    """1 when phase 2 fits; below 1 when it was scaled down."""
    margin_scaled: bool
    gross_capped: bool
    account_mode: str = "standard"
    spot_cash_available: Decimal = Decimal(0)
    """Standard accounts: spot USDC free for spot buys after phase 1 (before any transfer)."""
    spot_cash_required: Decimal = Decimal(0)
    """What phase 2's spot buys cost at their limits, with fees."""


@value_class
class Transfer(Value):
    """A move of USDC between the perp and the spot balances (standard accounts), between the phases."""

    amount: Decimal
    to_perp: bool
    reason: str
    blocked: bool = False
    """The signer may not move cash (an API wallet, or a vault): the account's owner must do it."""

    @property
    def direction(self) -> str:
        return "spot -> perp" if self.to_perp else "perp -> spot"


EmptyReason = Literal["no_action", "untradable", "at_targets", "within_bands", "below_minimum", "below_lot"]


@value_class
class Plan(Value):
    """The ordered trades that bring the account to its targets, and everything said about them."""

    version: int = PLAN_VERSION
    user: str
    network: str
    snapshot_time: int
    equity: Decimal
    trades: tuple[Trade, ...]
    skipped: tuple[Skip, ...]
    assets: tuple[AssetLine, ...]
    summary: Summary
    warnings: tuple[str, ...] = ()
    policy: Policy
    transfers: tuple[Transfer, ...] = ()
    strategy: str | None = None
    """The document's ``selected_strategy`` (an agent's name for its choice), shown in the header."""
    document: Literal["targets", "actions"] = "targets"
    """What the plan was made from: target weights, or an agent's direct actions."""

    @property
    def is_empty(self) -> bool:
        return not self.trades

    def phase(self, n: int) -> tuple[Trade, ...]:
        """The trades of phase ``n`` in execution order."""
        return tuple(t for t in self.trades if t.phase == n)

    def empty_reason(self) -> tuple[EmptyReason, str]:
        """Why a plan without trades has none, as a code and a phrase (for "Nothing to do: ..." and a
        run's last words): the account at its targets, within its bands, the minimum trade value,
        the lot size, or assets that cannot be traded (each named in the plan's skips)."""
        lines = [a for a in self.assets if a.kind != "cash" and a.status not in ("flat", "kept")]
        codes = {k.code for k in self.skipped}
        if self.document == "actions":
            if not codes - {"untargeted_kept"}:
                return "no_action", "the document asks for no action"
            return "untradable", "none of the actions can be traded as asked"
        if not lines:
            return "at_targets", "the account is at its targets"
        if all(a.status == "within_band" for a in lines):
            return "within_bands", "every asset is within its band"
        if codes & {"below_minimum", "scaled_below_minimum"}:
            minimum = f"${self.policy.min_trade_value:,.2f}"
            return "below_minimum", f"what is left to trade is below the minimum trade value ({minimum})"
        if "below_lot" in codes:
            return "below_lot", "what is left to trade is smaller than one lot"
        return "untradable", "no asset that is off its target can be traded"


class EmptyAccountError(BadInputError):
    """The account has no equity: usually the address is an API wallet's, not the account's."""

    kind = "empty_account"
