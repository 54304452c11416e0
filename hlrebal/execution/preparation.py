"""The engine's smaller steps: what a round does before its orders (refused dust, clashing open
orders, leverage), whether phase 1 went as planned, and the run's closing outcome."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from hlrebal.errors import ExitCode, GuardError
from hlrebal.execution.models import ExecutionReport, OrderReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.execution.transfers import blocked_note
from hlrebal.planner import Plan, Trade
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot

#: share of the margin a plan counts as free that phase 2 may need for the light re-plan between
#: the phases (the rest covers what phase 1's fills cost in slippage and fees beyond the estimate)
MARGIN_HEADROOM = Decimal("0.9")


def drop_refused_dust(p: Plan, refused: dict[str, str], warnings: list[str]) -> Plan:
    """A dust close the exchange refused before (same coin, same size) is reported, not retried."""
    if not refused:
        return p
    keep: list[Trade] = []
    for t in p.trades:
        size = refused.get(t.coin)
        if t.dust and size is not None and Decimal(size) == t.size:
            message = (
                f"{t.coin}: the exchange refused to close this ${t.notional:.2f} dust position "
                f"({t.size}); it is reported, not retried"
            )
            if message not in warnings:
                warnings.append(message)
            continue
        keep.append(t)
    return p.model_copy(update={"trades": tuple(keep)}) if len(keep) != len(p.trades) else p


def cancel_clashing(desk: OrderDesk, p: Plan, snap: Snapshot, *, allowed: bool) -> bool:
    """Open orders on coins the plan trades hold margin and could fill mid-run: refuse (exit 4), or
    with ``allowed`` cancel them in one request. True when orders were cancelled (read again)."""
    traded = {t.coin for t in p.trades}
    clashing = [o for o in snap.open_orders if snap.spot_aliases.get(o.coin, o.coin) in traded]
    if not clashing:
        return False
    coins = ", ".join(sorted({o.coin for o in clashing}))
    if not allowed:
        raise GuardError(
            f"the account has {len(clashing)} open order(s) on traded coins ({coins}): they hold margin and "
            "could fill during the rebalance",
            hint="cancel them, or pass --cancel-open-orders to have hlrebal cancel them first",
        )
    desk.check_stop("before cancelling open orders")
    desk.progress(f"cancelling {len(clashing)} open order(s) on {coins}")
    cancels = [(m.asset_id, o.oid) for o in clashing if (m := snap.market_of(o.coin)) is not None]
    errors = desk.idempotent(partial(desk.client.cancel, cancels), "cancelling open orders")
    desk.journal.record("cancelled", orders=[{"coin": o.coin, "oid": o.oid} for o in clashing], errors=errors)
    return True


def set_leverage(desk: OrderDesk, trades: Sequence[Trade], snap: Snapshot, policy: Policy) -> None:
    """Set the leverage the policy names on every increased coin whose setting differs."""
    if policy.leverage is None:
        return
    done: set[str] = set()
    for t in trades:
        if t.leverage is None or t.coin in done:
            continue
        position = snap.positions.get(t.coin)
        if position is not None and position.leverage == t.leverage and position.is_cross == t.is_cross:
            continue
        desk.check_stop("before setting leverage")
        mode = "cross" if t.is_cross else "isolated"
        desk.progress(f"setting {t.coin} leverage to {t.leverage}x {mode}")
        action = partial(desk.client.update_leverage, t.asset_id, t.leverage, is_cross=t.is_cross, coin=t.coin)
        desk.idempotent(action, f"setting {t.coin} leverage")
        desk.journal.record("leverage", coin=t.coin, leverage=t.leverage, margin=mode)
        desk.report.leverage_set.append(f"{t.coin} {t.leverage}x {mode}")
        done.add(t.coin)


def phase1_done_as_planned(current: Plan, sent1: Sequence[OrderReport], snap: Snapshot) -> bool:
    """Every reduction filled in full on a perp-only standard account whose phase 2 fits its margin
    with room to spare: then the margin phase 1 freed is the margin the plan counted on."""
    if len(sent1) != len(current.phase(1)) or any(o.filled_size != o.size for o in sent1):
        return False
    if current.transfers or snap.unified or any(t.kind == "spot" or ":" in t.coin for t in current.trades):
        return False
    s = current.summary
    return not s.margin_scaled and s.margin_required <= s.margin_available * MARGIN_HEADROOM


def conclude(report: ExecutionReport) -> None:
    """The outcome of a run that ended without an error: done, or partial with what remains."""
    final = report.final_plan
    blocked = [t for t in final.transfers if t.blocked] if final is not None else []
    if blocked:  # the latest amounts: what is still missing now, not what was missing mid-run
        report.blocked_transfers = [blocked_note(t.amount, t.direction) for t in blocked]
    if (final is None or final.is_empty) and not blocked:
        report.exit_code, report.outcome = ExitCode.OK, "done"
        report.message = _done_message(final, traded=bool(report.orders))
        return
    remaining = ", ".join(f"{t.coin} {t.side} {t.size}" for t in final.trades) if final is not None else ""
    if report.blocked_transfers:
        remaining = "; ".join([*filter(None, [remaining]), *report.blocked_transfers]) + ", then run again"
    report.exit_code, report.outcome = ExitCode.PARTIAL, "partial"
    if report.orders and not report.any_filled:
        report.message = f"orders were sent and nothing filled; remaining: {remaining}"
    else:
        report.message = f"trades remain after {len(report.rounds)} round(s): {remaining}"


def _done_message(final: Plan | None, *, traded: bool) -> str:
    """A done run's last words: at its targets only when it is; within its bands when that is all
    the read-back shows; else why nothing is left to trade."""
    if final is None:
        return "the orders are done (the account was not read back)" if traded else "nothing to do"
    code, reason = final.empty_reason()
    if code == "within_bands":
        reason = "the account is within its bands"
    if not traded:
        return f"nothing to do: {reason}"
    return reason  # "what is left to trade is below the minimum trade value ($10.00)", ...


def trade_doc(t: Trade) -> dict[str, Any]:
    """A trade as the journal's ``plan`` record lists it."""
    return {
        "coin": t.coin,
        "phase": t.phase,
        "action": t.action.value,
        "side": t.side,
        "size": t.size,
        "limit_price": t.limit_price,
        "reference_price": t.reference_price,
        "reduce_only": t.reduce_only,
        "dust": t.dust,
    }
