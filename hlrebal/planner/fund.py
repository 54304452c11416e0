"""Step 2, fund: make the increases fit the margin and cash the account has, and the gross cap.

Each margin or cash pool is fitted on its own:

* every builder-deployed dex (HIP-3) has its own clearinghouse, never helped by the main account;
* a unified (or portfolio-margin) account has one balance for perp margin and spot buys alike;
* a standard account keeps perp USDC and spot USDC apart: one ``usdClassTransfer`` between the
  phases moves what one side lacks from what the other can spare (blocked, for the owner to make,
  when the signer may not move cash), then perp increases and spot buys are fitted to their side.

A pool that is short scales its increases down in proportion (sizes rounded down, legs that fall
below the minimum dropped) and the plan says so. Then the increases are scaled so that gross
exposure stays within ``max_leverage``, and the transfer is trimmed to what the final increases
still need.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hlrebal.market import SPOT_TAKER_FEE, Rounding, fmt_decimal, round_size, round_to_step
from hlrebal.planner.decide import Decisions
from hlrebal.planner.exposure import gross_with_unpriced, projected
from hlrebal.planner.legs import ONE, ZERO, Leg, pct, usd, w4
from hlrebal.planner.models import Skip, Transfer
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, PerpPosition, Snapshot
from hlrebal.targets import CASH
from hlrebal.values import Value, value_class
from hlrebal.values import field as value_field


@value_class
class Pools(Value):
    """USDC each side has for phase 2 (perp margin, spot buys, each dex) and what phase 2 needs."""

    perp_pool: Decimal
    spot_pool: Decimal
    perp_need: Decimal
    spot_need: Decimal
    dex_pools: dict[str, Decimal] = value_field(default_factory=dict)
    dex_needs: dict[str, Decimal] = value_field(default_factory=dict)
    perp_before_transfers: Decimal = ZERO
    spot_before_transfers: Decimal = ZERO


class Funded:
    """The fitted phases and what fitting them did (a plain class: a dataclass costs every start
    about 0.5 ms to build)."""

    def __init__(self, *, phase1: list[Leg], phase2: list[Leg], transfers: list[Transfer], pools: Pools) -> None:
        self.phase1 = phase1
        self.phase2 = phase2
        self.transfers = transfers
        self.pools = pools
        self.scale: Decimal = ONE
        self.margin_scaled = False
        self.gross_capped = False
        self.skips: list[Skip] = []
        self.warnings: list[str] = []


def fund(
    snapshot: Snapshot,
    policy: Policy,
    decisions: Decisions,
    equity: Decimal,
    *,
    count_phase1_margin: bool,
    allow_transfers: bool,
) -> Funded:
    """Fit phase 2 to every pool, then to the gross cap; trim the transfer to what is still needed."""
    phase1 = [leg for leg in decisions.legs if leg.phase == 1]
    phase2 = [leg for leg in decisions.legs if leg.phase == 2]
    pools = pools_for(snapshot, policy, decisions, phase1, phase2, count_phase1_margin)
    out = Funded(phase1=phase1, phase2=[], transfers=[], pools=pools)
    factors = _fit_pools(out, snapshot, phase2, policy.min_trade_value, allow_transfers)
    if factors:
        out.margin_scaled = True
        out.scale = min(factors)
    # Re-planning phase 2 after phase 1 ran (count_phase1_margin=False), reductions still in the
    # plan did not fill and will not before these increases: they cannot make room under the cap.
    reducing = phase1 if count_phase1_margin else []
    _cap_gross(out, snapshot, decisions, reducing, policy, equity)
    if out.transfers and allow_transfers:
        out.transfers = trim_transfers(out.transfers, out.phase2, pools)
    for t in out.transfers:
        if t.blocked:
            out.warnings.append(
                f"the signer cannot move cash: the account's owner must transfer ${usd(t.amount)} USDC "
                f"{t.direction} (usdClassTransfer) for the rest of the plan to fit"
            )
    return out


def pools_for(
    snapshot: Snapshot,
    policy: Policy,
    decisions: Decisions,
    phase1: Sequence[Leg],
    phase2: Sequence[Leg],
    count_phase1: bool,
) -> Pools:
    """The USDC each side has for phase 2 and what phase 2 needs of it.

    ``count_phase1`` counts phase 1 as done (its margin freed, its spot sales' proceeds in hand);
    without it the pools are what is free now, for re-planning increases after phase 1 ran.
    """
    after1 = {c: s for c, s in decisions.current.items() if decisions.kind_of.get(c) == "perp"}
    spot_proceeds = ZERO
    if count_phase1:
        for leg in phase1:
            if leg.market.is_spot:
                spot_proceeds += leg.notional * (ONE - SPOT_TAKER_FEE)
            else:
                after1[leg.coin] += leg.signed
    margin_by_dex = _margin_by_dex(snapshot, policy, decisions, after1, phase2)
    fees_by_dex: dict[str, Decimal] = {}
    need_by_dex: dict[str, Decimal] = {}
    for leg in [*phase1, *phase2]:
        if not leg.market.is_spot:
            dex = leg.market.dex
            fees_by_dex[dex] = fees_by_dex.get(dex, ZERO) + leg.fee(policy)
            if leg.leverage and leg.phase == 2:
                need_by_dex[dex] = need_by_dex.get(dex, ZERO) + leg.margin
    margin_used = margin_by_dex.get("", ZERO)
    perp_fees = fees_by_dex.get("", ZERO)
    perp_need = need_by_dex.get("", ZERO)
    spot_need = spot_cost(phase2)
    dex_pools = {
        name: account.account_value - fees_by_dex.get(name, ZERO) - margin_by_dex.get(name, ZERO)
        for name, account in snapshot.dexes.items()
    }
    dex_needs = {k: v for k, v in need_by_dex.items() if k}
    usdc = snapshot.spot_balances.get(CASH)
    spot_free = usdc.free if usdc is not None else ZERO
    if snapshot.unified:
        # One balance: the spot USDC total already holds the perp side's value.
        pool = snapshot.spot_usdc - margin_used - perp_fees + spot_proceeds
        return Pools(
            perp_pool=pool,
            spot_pool=ZERO,
            perp_need=perp_need,
            spot_need=spot_need,
            dex_pools=dex_pools,
            dex_needs=dex_needs,
            perp_before_transfers=pool,
            spot_before_transfers=ZERO,
        )
    perp_pool = snapshot.account_value - perp_fees - margin_used
    spot_pool = spot_free + spot_proceeds
    return Pools(
        perp_pool=perp_pool,
        spot_pool=spot_pool,
        perp_need=perp_need,
        spot_need=spot_need,
        dex_pools=dex_pools,
        dex_needs=dex_needs,
        perp_before_transfers=perp_pool,
        spot_before_transfers=spot_pool,
    )


def _margin_by_dex(
    snapshot: Snapshot,
    policy: Policy,
    decisions: Decisions,
    after1: dict[str, Decimal],
    phase2: Sequence[Leg],
) -> dict[str, Decimal]:
    """Margin the positions hold after phase 1, per dex ("" is the main one)."""
    # The executor sets the policy leverage on coins phase 2 trades before sending them: their
    # whole position is margined at that leverage from then on, not only the increase. A higher
    # leverage is not counted as freeing margin: the increase may yet be scaled away, and then
    # the leverage is never set.
    relevered = {leg.coin: Decimal(leg.leverage) for leg in phase2 if leg.leverage and policy.leverage is not None}
    out: dict[str, Decimal] = {}
    for coin, size in after1.items():
        if size != 0:
            market = snapshot.assets[coin]
            position = snapshot.positions.get(coin)
            if position is not None and not position.is_cross:
                # An isolated position holds the margin put into it (after a reduction, its share
                # of it): setting another leverage releases none of it.
                margin = position.margin_used * abs(size) / abs(position.szi)
            else:
                leverage = min(position_leverage(position), relevered.get(coin, position_leverage(position)))
                margin = abs(size) * margin_price(market, decisions.ref_of[coin]) / leverage
            out[market.dex] = out.get(market.dex, ZERO) + margin
    for coin, position in snapshot.positions.items():
        if coin not in after1:  # positions the plan does not look at (no price) still hold margin
            dex = coin.split(":", 1)[0] if ":" in coin else ""
            out[dex] = out.get(dex, ZERO) + position.margin_used
    return out


def _fit_pools(out: Funded, snapshot: Snapshot, phase2: list[Leg], min_value: Decimal, allow: bool) -> list[Decimal]:
    """Fit phase 2 to each pool in turn (dexes, then the main account); returns the scale factors."""
    factors: list[Decimal] = []

    def fit(legs: list[Leg], need: Decimal, pool: Decimal, what: str) -> None:
        fitted = fit_pool(legs, need, pool, what, min_value)
        out.phase2.extend(fitted.legs)
        out.skips.extend(fitted.skips)
        if fitted.factor is not None:
            factors.append(fitted.factor)
            out.warnings.append(fitted.warning)

    pools = out.pools
    for name in sorted({leg.market.dex for leg in phase2 if leg.market.dex}):
        fit(
            [leg for leg in phase2 if leg.market.dex == name],
            pools.dex_needs.get(name, ZERO),
            pools.dex_pools.get(name, ZERO),
            f"dex {name} increases (its own margin; hlrebal does not move collateral between dexes)",
        )
    for name, account in sorted(snapshot.dexes.items()):
        if account.collateral_token != 0:
            out.warnings.append(f"dex {name} is collateralised in token {account.collateral_token}, not USDC")
    main = [leg for leg in phase2 if not leg.market.dex]
    if snapshot.unified:
        fit(main, pools.perp_need + pools.spot_need, pools.perp_pool + pools.spot_pool, "increases (margin and cash)")
        return factors
    transfer, pools = balancing_transfer(pools, allow)
    if transfer is not None:
        out.transfers.append(transfer)
    fit([leg for leg in main if not leg.market.is_spot], pools.perp_need, pools.perp_pool, "perp increases (margin)")
    fit([leg for leg in main if leg.market.is_spot], pools.spot_need, pools.spot_pool, "spot buys (spot USDC)")
    return factors


@value_class
class Fitted(Value):
    """Legs fitted to one pool; ``factor`` and ``warning`` are set when they had to be scaled."""

    legs: list[Leg]
    skips: list[Skip]
    factor: Decimal | None = None
    warning: str = ""


def fit_pool(legs: list[Leg], need: Decimal, pool: Decimal, what: str, min_value: Decimal) -> Fitted:
    """Keep ``legs`` whole when ``need`` fits ``pool``; else scale them down to it and say so."""
    if not legs or need <= pool:
        return Fitted(legs=legs, skips=[])
    factor = max(pool, ZERO) / need
    kept, dropped = scale_legs(legs, factor, min_value)
    warning = (
        f"{what} need ${usd(need)} but about ${usd(max(pool, ZERO))} is free after phase 1 and "
        f"fees: scaled to {pct(factor)} of plan"
    )
    return Fitted(legs=kept, skips=dropped, factor=factor, warning=warning)


def _cap_gross(
    out: Funded, snapshot: Snapshot, decisions: Decisions, reducing: list[Leg], policy: Policy, equity: Decimal
) -> None:
    """Scale phase 2 so that gross exposure after the plan stays within ``max_leverage``."""
    ref_of = decisions.ref_of
    after = gross_with_unpriced(snapshot, projected(decisions.current, [*reducing, *out.phase2]), ref_of, equity)
    if not out.phase2 or after <= policy.max_leverage:
        return
    # what phase 2 adds, as projected: a spot buy adds what arrives (its size less the fee)
    without_p2 = after - sum((abs(leg.received) * leg.ref for leg in out.phase2), ZERO) / equity
    room = policy.max_leverage - without_p2
    added = after - without_p2
    factor = max(room, ZERO) / added if added > 0 else ZERO
    out.gross_capped = True
    out.phase2, dropped = scale_legs(out.phase2, factor, policy.min_trade_value)
    out.skips.extend(dropped)
    out.scale = out.scale * factor
    out.warnings.append(
        f"gross exposure after the plan would be {w4(after)}, above max_leverage "
        f"{fmt_decimal(policy.max_leverage)}: increases scaled to {pct(factor)}"
    )


def scale_legs(legs: list[Leg], factor: Decimal, min_value: Decimal) -> tuple[list[Leg], list[Skip]]:
    """Scale increasing legs down by ``factor`` (sizes rounded down), dropping those below the minimum."""
    kept: list[Leg] = []
    dropped: list[Skip] = []
    for leg in legs:
        size = round_size(leg.size * factor, leg.market.sz_decimals, Rounding.DOWN)
        if size <= 0 or size * leg.limit < min_value:
            dropped.append(
                Skip(
                    coin=leg.coin,
                    code="scaled_below_minimum",
                    reason=f"{leg.action.value} scaled down to ${usd(size * leg.limit)}, below the minimum "
                    f"trade value ${usd(min_value)}",
                )
            )
            continue
        kept.append(leg.resized(size))
    return kept, dropped


def balancing_transfer(pools: Pools, allow: bool) -> tuple[Transfer | None, Pools]:
    """The usdClassTransfer that covers one side's shortfall from the other side's surplus.

    Rounded up to the cent, but never more than the surplus. When ``allow`` is false the transfer is
    returned as blocked (for the owner to make) and the pools are left as they are.
    """
    perp_short = pools.perp_need - pools.perp_pool
    spot_short = pools.spot_need - pools.spot_pool
    if spot_short > 0 and perp_short < 0:
        to_perp, short, surplus = False, spot_short, -perp_short
        reason = "spot buys need USDC the perp side can spare"
    elif perp_short > 0 and spot_short < 0:
        to_perp, short, surplus = True, perp_short, -spot_short
        reason = "perp margin needs USDC the spot side can spare"
    else:
        return None, pools
    amount = cents_up(min(short, surplus))
    if amount > surplus:
        amount = cents_down(surplus)
    if amount <= 0:
        return None, pools
    if allow:
        moved = amount if to_perp else -amount
        pools = pools.model_copy(update={"perp_pool": pools.perp_pool + moved, "spot_pool": pools.spot_pool - moved})
    return Transfer(amount=amount, to_perp=to_perp, reason=reason, blocked=not allow), pools


def trim_transfers(transfers: list[Transfer], phase2: list[Leg], pools: Pools) -> list[Transfer]:
    """Shrink (or drop) a transfer to what the final, possibly scaled, phase 2 still needs."""
    spot_need = spot_cost(phase2)
    perp_need = sum((leg.margin for leg in phase2 if not leg.market.dex), ZERO)
    kept = []
    for t in transfers:
        short = perp_need - pools.perp_before_transfers if t.to_perp else spot_need - pools.spot_before_transfers
        if short <= 0:
            continue
        amount = min(t.amount, cents_up(short))
        kept.append(t if amount == t.amount else t.model_copy(update={"amount": amount}))
    return kept


def spot_cost(legs: Sequence[Leg]) -> Decimal:
    """What the spot buys among ``legs`` cost at their limits, with fees."""
    return sum((leg.notional * (ONE + SPOT_TAKER_FEE) for leg in legs if leg.market.is_spot and leg.phase == 2), ZERO)


def position_leverage(position: PerpPosition | None) -> Decimal:
    if position is not None and position.leverage > 0:
        return Decimal(position.leverage)
    return ONE


def margin_price(market: AssetMarket, ref: Decimal) -> Decimal:
    return market.mark if market.mark is not None and market.mark > 0 else ref


def cents_up(value: Decimal) -> Decimal:
    return round_to_step(value, Decimal("0.01"), Rounding.CEILING)


def cents_down(value: Decimal) -> Decimal:
    return round_to_step(value, Decimal("0.01"), Rounding.FLOOR)
