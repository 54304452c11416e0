"""Steps 3 and 4, order and summarise: the phases in execution order, frozen into the plan.

Phase 1 (every reduction) runs before phase 2 (every increase), each largest notional first (ties
by coin, so the order never depends on how the targets were written). Each leg is frozen into a
:class:`Trade` with its weights now, at target and projected; the asset lines get their projected
weights, cash gets its line, and the summary adds up turnover, fees, slippage, exposure and the
margin and cash phase 2 needs. The last warnings are written here: open orders, holdings kept
outside the targets, spot tokens without a price.
"""

from __future__ import annotations

from decimal import Decimal

from hlrebal.planner.decide import Decisions
from hlrebal.planner.exposure import gross_with_unpriced, net_with_unpriced, projected
from hlrebal.planner.fund import Funded, spot_cost
from hlrebal.planner.legs import ONE, ZERO, Leg, freeze, pct
from hlrebal.planner.models import PLAN_VERSION, AssetLine, Plan, Summary, Trade
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import CASH, Targets


def execution_order(legs: list[Leg]) -> list[Leg]:
    """Largest notional first; ties by coin."""
    return sorted(legs, key=lambda leg: (-leg.notional, leg.coin))


def summarise(
    snapshot: Snapshot, targets: Targets, policy: Policy, equity: Decimal, decisions: Decisions, funded: Funded
) -> Plan:
    """The plan: ordered trades, asset lines with cash, the summary and every warning."""
    ordered = execution_order(funded.phase1) + execution_order(funded.phase2)
    ref_of, current = decisions.ref_of, decisions.current
    after = projected(current, ordered)
    projected_w = {coin: size * ref_of[coin] / equity for coin, size in after.items()}
    current_w = {coin: size * ref_of[coin] / equity for coin, size in current.items()}
    trades = tuple(
        freeze(leg, current_w[leg.coin], decisions.lines[leg.coin].target_weight, projected_w[leg.coin])
        for leg in ordered
    )
    asset_lines = tuple(
        line.model_copy(update={"projected_weight": projected_w[line.coin]}) if line.coin in projected_w else line
        for line in decisions.lines.values()
    )
    cash = _cash_line(snapshot, targets, equity, decisions, after, asset_lines)
    summary = _summary(snapshot, policy, equity, decisions, funded, trades, ordered, after)
    warnings = [
        *decisions.warnings,
        *funded.warnings,
        *_closing_warnings(snapshot, targets, decisions, trades),
        *_guard_warnings(policy, summary.turnover, trades),
    ]
    return Plan(
        version=PLAN_VERSION,
        user=snapshot.user,
        network=snapshot.network,
        snapshot_time=snapshot.time,
        equity=equity,
        trades=trades,
        skipped=(*decisions.skipped, *funded.skips),
        assets=(*asset_lines, cash),
        summary=summary,
        warnings=tuple(warnings),
        policy=policy,
        transfers=tuple(funded.transfers),
        strategy=targets.strategy,
        document="targets",
    )


def _cash_line(
    snapshot: Snapshot,
    targets: Targets,
    equity: Decimal,
    decisions: Decisions,
    after: dict[str, Decimal],
    asset_lines: tuple[AssetLine, ...],
) -> AssetLine:
    """Cash: what the priced holdings and the other spot tokens leave of equity, before and after."""
    ref_of = decisions.ref_of
    # Spot tokens nobody trades or prices still count in equity: they are not cash.
    other_value = sum(
        (
            b.total * (snapshot.token_price(t) or ZERO)
            for t, b in snapshot.spot_balances.items()
            if t != CASH and f"{t}/{CASH}" not in ref_of
        ),
        ZERO,
    )
    other = other_value / equity
    kept = any(line.status in ("kept", "skipped") and line.target_weight is None for line in asset_lines)
    return AssetLine(
        coin=CASH,
        kind="cash",
        current_weight=ONE - net_with_unpriced(snapshot, decisions.current, ref_of, equity) - other,
        target_weight=targets.cash if not kept else None,
        projected_weight=ONE - net_with_unpriced(snapshot, after, ref_of, equity) - other,
        threshold=None,
        status="cash",
    )


def _summary(
    snapshot: Snapshot,
    policy: Policy,
    equity: Decimal,
    decisions: Decisions,
    funded: Funded,
    trades: tuple[Trade, ...],
    ordered: list[Leg],
    after: dict[str, Decimal],
) -> Summary:
    ref_of = decisions.ref_of
    traded = sum((t.size * t.reference_price for t in trades), ZERO)
    phase2 = [leg for leg in ordered if leg.phase == 2]
    return Summary(
        equity=equity,
        turnover=traded / equity,
        traded_notional=traded,
        estimated_fees=sum((leg.fee(policy) for leg in ordered), ZERO),
        worst_case_slippage=sum((t.size * abs(t.limit_price - t.reference_price) for t in trades), ZERO),
        gross_before=gross_with_unpriced(snapshot, decisions.current, ref_of, equity),
        gross_after=gross_with_unpriced(snapshot, after, ref_of, equity),
        net_before=net_with_unpriced(snapshot, decisions.current, ref_of, equity),
        net_after=net_with_unpriced(snapshot, after, ref_of, equity),
        margin_available=funded.pools.perp_before_transfers,
        margin_required=sum((leg.margin for leg in phase2), ZERO),
        scale_factor=funded.scale,
        margin_scaled=funded.margin_scaled,
        gross_capped=funded.gross_capped,
        account_mode=snapshot.account_mode,
        spot_cash_available=funded.pools.spot_before_transfers,
        spot_cash_required=spot_cost(phase2),
    )


def _guard_warnings(policy: Policy, turnover: Decimal, trades: tuple[Trade, ...]) -> list[str]:
    """What execution's guards will refuse, said at planning time, so that whoever proposes a plan
    (an agent, a review step) learns it before the run does."""
    out: list[str] = []
    if turnover > policy.max_turnover:
        out.append(
            f"execute will refuse this plan: turnover {turnover * 100:.1f}% of equity exceeds max_turnover "
            f"{policy.max_turnover * 100:.1f}% (raise --max-turnover if this much trading is intended)"
        )
    cap = policy.max_order_value
    over = [t for t in trades if cap is not None and t.notional > cap]
    if over and cap is not None:
        listed = ", ".join(f"{t.coin} {t.side} ${t.notional:,.2f}" for t in over)
        out.append(
            f"execute will refuse orders above max_order_value ${cap:,.2f} ({listed}) in the taker and maker "
            "styles; --style twap caps its slices instead"
        )
    return out


def _closing_warnings(
    snapshot: Snapshot, targets: Targets, decisions: Decisions, trades: tuple[Trade, ...]
) -> list[str]:
    """Open orders, holdings kept outside the targets, spot tokens without a USDC price."""
    out: list[str] = []
    if snapshot.open_orders:
        coins_traded = {t.coin for t in trades}
        busy = sorted({snapshot.spot_aliases.get(o.coin, o.coin) for o in snapshot.open_orders})
        clash = [c for c in busy if c in coins_traded]
        out.append(
            f"the account has {len(snapshot.open_orders)} open order(s) on {', '.join(busy)}: they hold "
            "margin and can fill during a rebalance"
            + (f" (traded coins among them: {', '.join(clash)})" if clash else "")
        )
    kept = [line for line in decisions.lines.values() if line.status == "kept" and line.current_weight != 0]
    if kept and targets.cash_given:
        kept_weight = sum((line.current_weight for line in kept), ZERO)
        listed = ", ".join(f"{line.coin} {pct(line.current_weight)}" for line in kept)
        out.append(
            f"holdings absent from the targets are kept ({listed}): "
            f"cash will end near {pct(targets.cash - kept_weight)}, not the {pct(targets.cash)} the "
            "targets name; add them to the targets or use untargeted=close / untargeted_spot=close"
        )
    if snapshot.unpriced_tokens:
        out.append(f"spot tokens without a USDC price are not counted in equity: {', '.join(snapshot.unpriced_tokens)}")
    return out
