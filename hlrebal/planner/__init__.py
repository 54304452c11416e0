"""The planner: ``plan(snapshot, targets, policy) -> Plan``, pure and deterministic.

No network, no clock, no randomness: the same snapshot, targets and policy always give the same plan.
The plan is an ordered list of trades the exchange will accept:

* sizes on the lot grid, never a reduce-only order larger than the position;
* limit prices on the price grid, rounded toward the reference so the slippage bound holds;
* no order below the minimum value, except reduce-only closes of whole positions (dust closes);
* phase 1 holds every reducing trade (they free margin), phase 2 every increasing trade, each phase
  largest notional first; phase 2 is scaled down when it would not fit the margin left after phase 1
  or would take gross exposure above ``max_leverage``.

Weights are measured at the reference price (mid, else mark) against the whole account's equity
(perps and spot, see :attr:`Snapshot.equity`); the projected weights assume fills at the reference
price (fees and slippage are reported separately).

The story, one module a step (:func:`plan` in :mod:`~hlrebal.planner.pipeline` runs them in order):

1. **decide** (:mod:`~hlrebal.planner.decide`): per asset, the band, the target or the band's edge,
   the size on the lot grid, and the legs (open, increase, reduce, close, flip), with dust and
   untargeted holdings handled and every asset that does not trade explained;
2. **fund** (:mod:`~hlrebal.planner.fund`): phase 2 fitted to each margin and cash pool (main perps,
   spot, a unified balance, each builder dex), the ``usdClassTransfer`` between the phases of a
   standard account, proportional scaling, the gross-exposure cap;
3. **order** and 4. **summarise** (:mod:`~hlrebal.planner.summary`): the phases in execution order,
   frozen into trades, the asset and cash lines, the summary and the last warnings.

Direct actions (an agent's "sell 0.4 BTC") are a plan like any other: :mod:`~hlrebal.planner.actions`
turns each into the size its coin should end at and runs the same steps (:func:`plan_document`
takes either kind of document).

The working trade the steps pass along is :class:`~hlrebal.planner.legs.Leg`; the plan's own types
are in :mod:`~hlrebal.planner.models`; exposure arithmetic is in :mod:`~hlrebal.planner.exposure`.
"""

from hlrebal.planner.models import (
    PLAN_VERSION,
    REDUCING,
    Action,
    AssetLine,
    EmptyAccountError,
    Plan,
    Skip,
    Summary,
    Trade,
    Transfer,
)
from hlrebal.planner.pipeline import check_document, check_targets, plan, plan_document, planning_basis

__all__ = [
    "PLAN_VERSION",
    "REDUCING",
    "Action",
    "AssetLine",
    "EmptyAccountError",
    "Plan",
    "Skip",
    "Summary",
    "Trade",
    "Transfer",
    "check_document",
    "check_targets",
    "plan",
    "plan_document",
    "planning_basis",
]
