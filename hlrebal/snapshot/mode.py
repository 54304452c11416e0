"""The account mode (standard, unified, portfolio margin): what it says it is, else what it looks like."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hlrebal.snapshot.models import CASH_TOKEN, AccountMode, PerpPosition, SpotBalance

_MODES: dict[str, AccountMode] = {
    "default": "standard",
    "disabled": "standard",
    "standard": "standard",
    "unifiedAccount": "unified",
    "unified": "unified",
    "portfolioMargin": "portfolio",
    "portfolio": "portfolio",
}


def account_mode(
    answer: Any, account_value: Decimal, positions: Mapping[str, PerpPosition], balances: Mapping[str, SpotBalance]
) -> tuple[AccountMode, str]:
    """The account mode: from the userAbstraction answer when there is one, else the balances' shape.

    The shape: a unified account keeps its USDC on the spot side and its perp account value reads
    about zero while positions are open (their notional is paid from the spot USDC).
    """
    if isinstance(answer, str) and answer in _MODES:
        return _MODES[answer], "userAbstraction"
    if isinstance(answer, dict) and isinstance(answer.get("abstraction"), str) and answer["abstraction"] in _MODES:
        return _MODES[answer["abstraction"]], "userAbstraction"
    # An answer this hlrebal does not know (a newer mode name): judge by the balances, as without one.
    usdc = balances.get(CASH_TOKEN)
    if positions and usdc is not None and usdc.total > 0 and usdc.hold > 0:
        notional = sum((p.position_value for p in positions.values()), Decimal(0))
        if notional > 0 and abs(account_value) < notional / 20:
            return "unified", "balances"
    return "standard", "default"
