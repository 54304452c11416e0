"""Where the legs leave the account: projected holdings, and gross and net exposure as weights.

Positions the plan cannot price (no mid and no mark) still count, at the value the clearinghouse
reports for them, so that a cap on gross exposure is never judged without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from hlrebal.planner.legs import ZERO, Leg
from hlrebal.snapshot import Snapshot


def projected(current: Mapping[str, Decimal], legs: Iterable[Leg]) -> dict[str, Decimal]:
    """Holdings after ``legs`` fill at their sizes (a spot buy arrives less its fee)."""
    out = dict(current)
    for leg in legs:
        out[leg.coin] += leg.received
    return out


def gross(sizes: Mapping[str, Decimal], ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return sum((abs(size) * ref_of[coin] for coin, size in sizes.items()), ZERO) / equity


def net(sizes: Mapping[str, Decimal], ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return sum((size * ref_of[coin] for coin, size in sizes.items()), ZERO) / equity


def unpriced_gross(snapshot: Snapshot, ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    return sum((p.position_value for c, p in snapshot.positions.items() if c not in ref_of), ZERO) / equity


def unpriced_net(snapshot: Snapshot, ref_of: Mapping[str, Decimal], equity: Decimal) -> Decimal:
    values = (
        p.position_value if p.szi > 0 else -p.position_value for c, p in snapshot.positions.items() if c not in ref_of
    )
    return sum(values, ZERO) / equity


def gross_with_unpriced(
    snapshot: Snapshot, sizes: Mapping[str, Decimal], ref_of: Mapping[str, Decimal], equity: Decimal
) -> Decimal:
    """Gross exposure of ``sizes`` plus the positions the plan cannot price."""
    return gross(sizes, ref_of, equity) + unpriced_gross(snapshot, ref_of, equity)


def net_with_unpriced(
    snapshot: Snapshot, sizes: Mapping[str, Decimal], ref_of: Mapping[str, Decimal], equity: Decimal
) -> Decimal:
    """Net exposure of ``sizes`` plus the positions the plan cannot price."""
    return net(sizes, ref_of, equity) + unpriced_net(snapshot, ref_of, equity)
