"""The rate-limit preflight of the patient styles: will the address budget last the run?

Hyperliquid counts every action of an address against a budget of 10,000 requests plus one per USDC
ever traded (each order or cancel of a batch counts one); once spent, one request per 10 s goes
through, and a patient run would stall with orders resting. The maker and twap styles make a number
of requests that grows with their patience, so before the first order hlrebal estimates the most
the run can use and compares it with ``userRateLimit``; a run over budget is refused (exit 4) with
what would fit. The taker style keeps its fixed budget (two order requests a round) and skips this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hlrebal.errors import GuardError
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.planner import Plan
from hlrebal.policy import Policy

#: the dead man's switch per phase (set, pushed) and its clearing at the end
SWITCH_ACTIONS_PER_PHASE = 1
SWITCH_CLEAR = 1


@dataclass(frozen=True)
class Estimate:
    """The most address-budget actions a run can use, and how they split."""

    total: int
    per_requote: int
    """What each maker requote may cost (a cancel and a replacement per resting order)."""
    requotes: int
    """Requotes per phase."""
    fixed: int
    """Everything that does not grow with the requotes."""


def _taker_rounds(p: Plan, policy: Policy) -> int:
    """The later taker rounds: every trade in each of them, leverage and transfers once."""
    # leverage is set on perp increases only (a spot trade has none): see preparation.set_leverage
    leverage = len({t.coin for t in p.phase(2) if t.leverage is not None}) if policy.leverage is not None else 0
    return policy.max_rounds * len(p.trades) + leverage + len(p.transfers)


def estimate(p: Plan, policy: Policy, settings: ExecutionSettings) -> Estimate:
    """The most actions the chosen style may spend on ``p`` (an upper bound: every requote of every
    order, every slice, every later taker round in full)."""
    phases = [len(p.phase(1)), len(p.phase(2))]
    later = _taker_rounds(p, policy)
    if settings.style == "maker":
        requotes = math.ceil(settings.patience / settings.requote_seconds)
        per_requote = 2 * sum(phases)
        fixed = sum(2 * n + SWITCH_ACTIONS_PER_PHASE for n in phases if n) + SWITCH_CLEAR + later
        return Estimate(fixed + requotes * per_requote, per_requote, requotes, fixed)
    slices = settings.twap_minutes * 2
    # a native TWAP is one order and at most one cancel; an own-sliced leg one order per slice
    fixed = sum(phases) * max(2, slices) + later
    return Estimate(fixed, 0, 0, fixed)


def remaining(answer: dict[str, Any]) -> int:
    """What is left of the address budget in a ``userRateLimit`` answer."""
    cap = int(Decimal(str(answer.get("nRequestsCap", 0))))
    used = int(Decimal(str(answer.get("nRequestsUsed", 0))))
    surplus = int(Decimal(str(answer.get("nRequestsSurplus", 0) or 0)))
    return cap + surplus - used


def check(p: Plan, policy: Policy, settings: ExecutionSettings, answer: dict[str, Any]) -> Estimate:
    """Refuse (GuardError, exit 4) a run whose worst case needs more than the address has left."""
    need, left = estimate(p, policy, settings), remaining(answer)
    if need.total <= left:
        return need
    used, cap = answer.get("nRequestsUsed"), answer.get("nRequestsCap")
    head = (
        f"the {settings.style} style could make up to {need.total} requests against the address budget, "
        f"which has {max(left, 0)} left (userRateLimit: {used} used of {cap})"
    )
    if settings.style == "maker" and need.per_requote and left > need.fixed:
        fit = (left - need.fixed) // need.per_requote
        seconds = math.ceil(settings.patience / fit) if fit else None
        hint = (
            f"{fit} requotes a phase would fit: raise --requote-seconds to {seconds} or more (or lower --patience)"
            if seconds is not None
            else "no requote fits"
        )
    else:
        hint = "even without requotes it does not fit"
    raise GuardError(
        f"{head}: {hint}",
        hint="each USDC traded adds one request to the budget; --style taker needs two order requests a round",
    )
