"""Direct actions: an agent's trades ("sell 0.4 BTC", "buy $30,000 of ETH", "close DOGE") made into
a plan like any other.

Each action becomes the position (or spot balance) its coin should end at, on the lot grid, and
the planner's own steps do the rest, so that the rules are the same as for target weights: the
legs (a sell of a long or a buy of a short is a reduce-only reduction capped at the position; what
crosses zero is split like a flip, a reduce-only close then an open), reductions in phase 1, the
minimum trade value and dust closes, then margin fitting and the gross-exposure cap
(:mod:`~hlrebal.planner.fund`) and the summary. Holdings the actions do not name are kept.

What the actions cannot say on their own is said here: a size that rounding to the lot changed, a
size below one lot (not traded), a spot sale capped at the free balance, a close of nothing.
"""

from __future__ import annotations

from decimal import Decimal

from hlrebal.errors import TargetFileError
from hlrebal.market import SPOT_TAKER_FEE, Rounding, fmt_decimal, round_size
from hlrebal.planner.legs import ONE, ZERO
from hlrebal.planner.models import EmptyAccountError, Plan, Skip
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, Snapshot
from hlrebal.targets import CASH, ActionDocument, DirectAction, Targets, suggest
from hlrebal.values import Value, value_class
from hlrebal.values import field as value_field


@value_class
class ActionGoals(Value):
    """What the actions ask of each coin, in the planner's terms.

    ``targets`` holds each traded coin's goal weight and ``goals`` its goal size (both keyed as the
    planner keys holdings: perps by name, spot by "BASE/USDC"); with ``policy`` (the caller's, with
    untargeted holdings kept) they make the plan, and later execution rounds finish it.
    """

    targets: Targets
    policy: Policy
    goals: dict[str, Decimal]
    skips: tuple[Skip, ...] = ()
    warnings: tuple[str, ...] = ()
    asked: dict[str, Decimal] = value_field(default_factory=dict)
    """The signed change each action asked for, on the lot grid (spot buys as ordered)."""


def check_actions(snapshot: Snapshot, doc: ActionDocument) -> None:
    """Refuse (exit 2) actions on coins the exchange does not list, and increases of delisted coins."""
    names = set(snapshot.assets) | {k for k in snapshot.spot_aliases if "/" in k}
    for i, action in enumerate(doc.actions):
        market = snapshot.market_of(action.coin)
        where = f"{doc.source}: actions[{i}] ({action.coin})"
        if market is None:
            hint = ""
            if "/" not in action.coin and f"{action.coin}/{CASH}" in snapshot.spot_aliases:
                hint = f" (the spot token is written as a pair: {action.coin + '/' + CASH!r})"
            raise TargetFileError(f"{where}: is not traded on this exchange{hint or suggest(action.coin, names)}")
        if market.is_delisted and not market.is_spot and action.action_type != "close":
            szi = _perp_size(snapshot, action.coin)
            buying = action.action_type == "buy"
            if szi == 0 or (szi > 0) == buying or _crosses(szi, action, market):
                raise TargetFileError(f"{where}: is delisted: it can only be reduced or closed")


def _perp_size(snapshot: Snapshot, coin: str) -> Decimal:
    position = snapshot.positions.get(coin)
    return position.szi if position is not None else ZERO


def _crosses(szi: Decimal, action: DirectAction, market: AssetMarket) -> bool:
    ref = market.reference_price
    size = action.size if action.size is not None else (action.notional or ZERO) / ref if ref else ZERO
    return abs(size) > abs(szi)


def resolve_actions(snapshot: Snapshot, doc: ActionDocument, policy: Policy) -> ActionGoals:
    """The goal of every action that can trade, and what is said about the others."""
    equity = snapshot.equity
    goals: dict[str, Decimal] = {}
    weights: dict[str, Decimal] = {}
    asked: dict[str, Decimal] = {}
    skips: list[Skip] = []
    warnings: list[str] = []
    for action in doc.actions:
        market = snapshot.market_of(action.coin)
        assert market is not None  # check_actions ran first
        key = market.coin
        ref = market.reference_price
        if ref is None:
            why = f"{action.describe()}: no usable price (no mid or mark)"
            skips.append(Skip(coin=key, code="no_price", reason=why))
            continue
        outcome = _goal(snapshot, action, market, ref)
        if isinstance(outcome, Skip):
            skips.append(outcome)
            continue
        goal, change, note = outcome
        if note:
            warnings.append(note)
        goals[key], asked[key] = goal, change
        weights[key] = goal * ref / equity
    targets = Targets(
        source=doc.source,
        sha256=doc.sha256,
        weights=weights,
        cash=ONE - sum(weights.values(), ZERO),
        cash_given=False,
        policy=doc.policy,
        strategy=doc.strategy,
        reasoning=doc.reasoning,
    )
    keep = policy.model_copy(update={"untargeted": "keep", "untargeted_spot": "keep"})
    return ActionGoals(
        targets=targets, policy=keep, goals=goals, skips=tuple(skips), warnings=tuple(warnings), asked=asked
    )


def _goal(
    snapshot: Snapshot, action: DirectAction, market: AssetMarket, ref: Decimal
) -> tuple[Decimal, Decimal, str | None] | Skip:
    """(the holding the action ends at, the change it asks for, a note) or why it does not trade."""
    szd, coin = market.sz_decimals, market.coin
    lot = fmt_decimal(Decimal(1).scaleb(-szd))
    if market.is_spot:
        balance = snapshot.spot_balances.get(market.base or "")
        current, free = (balance.total, balance.free) if balance is not None else (ZERO, ZERO)
    else:
        current = free = _perp_size(snapshot, coin)
    if action.action_type == "close":
        if current == 0:
            why = f"close {action.coin}: there is no position to close"
            return Skip(coin=coin, code="nothing_to_close", reason=why)
        return ZERO, -current, None
    wanted = action.size if action.size is not None else (action.notional or ZERO) / ref
    size = round_size(wanted, szd, Rounding.NEAREST)
    if size == 0:
        reason = f"{action.describe()} is smaller than one lot ({lot} {coin})"
        return Skip(coin=coin, code="below_lot", reason=reason)
    note = None
    if action.size is not None and size != action.size:
        note = f"{action.coin}: {action.describe()} rounded to {fmt_decimal(size)} (the lot is {lot})"
    if market.is_spot:
        return _spot_goal(action, market, current, free, size, note)
    change = size if action.action_type == "buy" else -size
    return current + change, change, note


def _spot_goal(
    action: DirectAction, market: AssetMarket, total: Decimal, free: Decimal, size: Decimal, note: str | None
) -> tuple[Decimal, Decimal, str | None] | Skip:
    coin = market.coin
    if action.action_type == "buy":
        # The planner buys what makes the balance arrive at the goal (the fee is paid in the token):
        # a goal of what ``size`` delivers makes the order exactly ``size``.
        return total + size * (ONE - SPOT_TAKER_FEE), size, note
    sellable = round_size(free, market.sz_decimals, Rounding.DOWN)
    if sellable <= 0:
        return Skip(coin=coin, code="nothing_to_sell", reason=f"{action.describe()}: no free {market.base} to sell")
    if size > sellable:
        held = f" ({fmt_decimal(total - free)} on hold)" if free < total else ""
        note = f"{action.coin}: {action.describe()} capped at the {fmt_decimal(sellable)} {market.base} free{held}"
        size = sellable
    return total - size, -size, note


def plan_actions(snapshot: Snapshot, doc: ActionDocument, policy: Policy) -> Plan:
    """The plan that makes the document's actions (holdings they do not name are kept)."""
    from hlrebal.planner.pipeline import plan  # the pipeline imports this module

    if snapshot.equity <= 0:
        raise EmptyAccountError(
            f"account {snapshot.user} has no equity ({fmt_decimal(snapshot.equity)} USDC) on {snapshot.network}",
            hint="an API wallet's address holds nothing: use the account's own address (--address)",
        )
    resolved = resolve_actions(snapshot, doc, policy)
    made = plan(snapshot, resolved.targets, resolved.policy, goals=resolved.goals)
    said = {k.coin for k in resolved.skips}  # a coin whose action does not trade is said once
    kept = tuple(
        k.model_copy(update={"reason": "not named by the actions; kept"}) if k.code == "untargeted_kept" else k
        for k in made.skipped
        if k.coin not in said
    )
    return made.model_copy(
        update={
            "skipped": (*resolved.skips, *kept),
            "warnings": (*resolved.warnings, *_changed(made, resolved), *made.warnings),
            "document": "actions",
        }
    )


def _changed(made: Plan, resolved: ActionGoals) -> list[str]:
    """Where the planner's own rules made a coin's trade differ from the action (a reduction that
    would leave less than the minimum closes the position), for whoever wrote the action."""
    out = []
    for coin, asked in resolved.asked.items():
        trades = [t for t in made.trades if t.coin == coin]
        traded = sum((t.signed_size for t in trades), ZERO)
        if trades and "/" not in coin and traded != asked and any(t.action.value == "close" for t in trades):
            out.append(
                f"{coin}: the asked change of {fmt_decimal(asked)} closes the whole position "
                f"({fmt_decimal(traded)}): what it would leave is below the minimum trade value"
            )
    return out
