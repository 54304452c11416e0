"""USDC moved between the perp and spot balances before phase 2, when spot targets need it.

A transfer has no id to ask for: when its answer is lost, the balances say whether it happened, and
it is never resent blindly. When one cannot be made, phase 2 is sized to the cash each side has.
"""

from __future__ import annotations

from collections.abc import Callable

from hlrebal.errors import ExchangeError
from hlrebal.exchange import OrderAnswerLost
from hlrebal.execution.orders import OrderDesk
from hlrebal.planner import Plan, Trade
from hlrebal.snapshot import Snapshot


def blocked_note(amount: object, direction: str) -> str:
    return f"the owner must transfer ${amount:,.2f} USDC {direction} (an API wallet or vault cannot)"


def make_transfers(
    desk: OrderDesk, read: Callable[[], Snapshot], p: Plan, snap: Snapshot, n: int
) -> tuple[Snapshot, str | None]:
    """Make the plan's transfers; returns the snapshot to go on with and, when a transfer could not
    be made, why (the caller then sizes phase 2 without transfers)."""
    report = desk.report
    for t in p.transfers:
        if t.blocked:
            note = blocked_note(t.amount, t.direction)
            if note not in report.blocked_transfers:
                report.blocked_transfers.append(note)
            continue
        desk.check_stop("before a transfer")
        desk.progress(f"round {n}: moving ${t.amount:,.2f} USDC {t.direction}")
        before = snap.spot_usdc
        desk.journal.record("transfer_sent", round=n, amount=t.amount, to_perp=t.to_perp)
        try:
            desk.client.usd_class_transfer(t.amount, to_perp=t.to_perp)
            desk.journal.record("transfer_result", round=n, status="ok")
            report.transfers.append(f"{t.amount} USDC {t.direction}")
        except OrderAnswerLost as e:
            # No id to ask for: the balances say whether it happened. Never resend it blindly.
            snap = read()
            moved = abs(snap.spot_usdc - before) >= t.amount / 2
            desk.journal.record("transfer_result", round=n, status="ok" if moved else "unknown", error=e.message)
            if not moved:
                return snap, f"the answer to a transfer was lost ({e.message})"
            report.transfers.append(f"{t.amount} USDC {t.direction}")
        except ExchangeError as e:
            desk.journal.record("transfer_result", round=n, status="error", error=e.message)
            return read(), f"a transfer was refused: {e.message}"
    return snap, None


def sized_without_transfers(p: Plan) -> list[Trade]:
    """Phase 2 of a plan made without transfers, less coins whose reduction has not finished."""
    unfinished = {t.coin for t in p.phase(1)}
    return [t for t in p.phase(2) if t.coin not in unfinished]
