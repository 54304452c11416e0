"""Builder codes: ``approveBuilderFee`` and the builder an order may name.

From the docs (Exchange endpoint, "Approve a builder fee"; order "builder" argument): the user
approves a maximum rate as a percent string ("0.001%"); an order's ``{"b": address, "f": N}``
charges N tenths of a basis point of its notional (f = 10 is 1 bp). Orders naming a builder
the user has not approved (or above the approved rate) are refused with ``Builder fee has not
been approved.``, and an approval for a builder holding less than 100 USDC of perps account
value is refused with ``Builder has insufficient balance to be approved.`` (both texts as
clients record them from the live API). Builder fees are not credited to the builder here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from hlrebal.sim.accounts import Account, perp_summary

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

NOT_APPROVED = "Builder fee has not been approved."
BUILDER_BALANCE = "Builder has insufficient balance to be approved."
BAD_RATE = "Invalid builder fee rate."  # GUESS
MIN_BUILDER_VALUE = Decimal(100)
MAX_TENTHS_BP = 1000  # 1%: the spot maximum (perps: 0.1%)
TENTH_BP_PCT = Decimal("0.001")


def parse_rate(text: Any) -> int | None:
    """ "0.01%" -> 10 (tenths of a basis point); None when it is not such a percent."""
    if not isinstance(text, str) or not text.endswith("%"):
        return None
    try:
        pct = Decimal(text[:-1])
    except InvalidOperation:
        return None
    tenths = pct / TENTH_BP_PCT
    if not pct.is_finite() or pct < 0 or tenths != tenths.to_integral_value():
        return None
    return int(tenths)


def approve(engine: Engine, acct: Account, builder: str, rate_text: Any) -> str | None:
    """Record the approval; returns the refusal, if any."""
    rate = parse_rate(rate_text)
    if rate is None or rate > MAX_TENTHS_BP:
        return BAD_RATE
    owner = engine.account(builder)
    value = Decimal(0)
    if owner is not None:
        orders = engine.orders_of(owner.address)
        value = perp_summary(engine.market, owner, orders, engine.config.default_leverage).account_value
    if value < MIN_BUILDER_VALUE:
        return BUILDER_BALANCE
    acct.builders[builder.lower()] = rate
    return None


def check(acct: Account, spec: Any) -> tuple[str, int] | str | None:
    """The (builder, fee) an order action names, None when it names none, or the refusal."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("b"), str):
        return NOT_APPROVED
    fee = spec.get("f")
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        return NOT_APPROVED
    approved = acct.builders.get(spec["b"].lower())
    if approved is None or fee > approved:
        return NOT_APPROVED
    return spec["b"].lower(), fee
