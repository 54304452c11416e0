"""``plan()``: decide, fund, order and summarise, in that order; and the target checks that need
the market."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from hlrebal.market import fmt_decimal
from hlrebal.planner.actions import check_actions, plan_actions, resolve_actions
from hlrebal.planner.decide import decide
from hlrebal.planner.fund import fund
from hlrebal.planner.models import EmptyAccountError, Plan
from hlrebal.planner.summary import summarise
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import ActionDocument, Document, Targets, check_gross, check_universe


def check_targets(snapshot: Snapshot, targets: Targets, policy: Policy) -> None:
    """The checks of a target file that need the market: names, delisted coins, spot rules, gross."""
    check_universe(
        targets,
        snapshot.assets,
        (c for c, a in snapshot.assets.items() if a.is_delisted),
        snapshot.spot_aliases,
    )
    check_gross(targets, policy.max_leverage)


def plan(
    snapshot: Snapshot,
    targets: Targets,
    policy: Policy,
    *,
    goals: Mapping[str, Decimal] | None = None,
    count_phase1_margin: bool = True,
    allow_transfers: bool = True,
) -> Plan:
    """Turn the difference between the account and its targets into an ordered list of trades.

    ``goals`` pins assets to a position size (on the lot grid) whatever the band: later execution
    rounds finish what the first round started. ``count_phase1_margin=False`` sizes phase 2 against
    the margin and cash free *now*, for re-planning increases after phase 1 has run.
    ``allow_transfers=False`` (an API wallet or a vault signs) sizes phase 2 to the cash each side
    already has; the transfers that would have helped are listed as blocked, for the owner to make.
    """
    equity = snapshot.equity
    if equity <= 0:
        raise EmptyAccountError(
            f"account {snapshot.user} has no equity ({fmt_decimal(equity)} USDC) on {snapshot.network}",
            hint="an API wallet's address holds nothing: use the account's own address (--address)",
        )
    decisions = decide(snapshot, targets, policy, goals or {}, equity)
    funded = fund(
        snapshot,
        policy,
        decisions,
        equity,
        count_phase1_margin=count_phase1_margin,
        allow_transfers=allow_transfers,
    )
    return summarise(snapshot, targets, policy, equity, decisions, funded)


def check_document(snapshot: Snapshot, document: Document, policy: Policy) -> None:
    """The market checks of a target or direct-action document (exit 2 when they fail)."""
    if isinstance(document, ActionDocument):
        check_actions(snapshot, document)
    else:
        check_targets(snapshot, document, policy)


def plan_document(snapshot: Snapshot, document: Document, policy: Policy) -> Plan:
    """The plan for a target or direct-action document: :func:`plan` or
    :func:`~hlrebal.planner.actions.plan_actions`."""
    if isinstance(document, ActionDocument):
        return plan_actions(snapshot, document, policy)
    return plan(snapshot, document, policy)


def planning_basis(snapshot: Snapshot, document: Document, policy: Policy) -> tuple[Targets, Policy]:
    """The targets and policy that re-plan what is left of a document's plan (later execution
    rounds): the document's own for weights; for direct actions, each traded coin's goal weight with
    every other holding kept."""
    if isinstance(document, ActionDocument):
        resolved = resolve_actions(snapshot, document, policy)
        return resolved.targets, resolved.policy
    return document, policy
