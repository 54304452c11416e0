"""The policy: how hlrebal plans and how far it is allowed to go.

Two kinds of setting live here:

* planning preferences (``band``, ``band_relative``, ``trade_to``, ``untargeted``,
  ``untargeted_spot``, ``min_trade_value``, ``slippage``, ``leverage``), which a target file's
  ``policy`` block may set;
* safety limits and exchange parameters (``max_leverage``, ``max_turnover``, ``max_order_value``,
  ``max_price_deviation``, ``max_slippage``, ``slippage_step``, ``max_rounds``, ``max_snapshot_age``,
  ``fee_rate``), which come only from flags, the environment or the configuration file: whoever
  writes targets must not be able to raise them.

Precedence is resolved in :mod:`hlrebal.config`; this module only defines and validates the values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hlrebal.market import MIN_ORDER_VALUE, PERP_TAKER_FEE

#: how a setting is turned off where there is no null (flags, environment, TOML)
OFF_WORDS = frozenset({"off", "none"})

#: keys a target file's ``policy`` block may set
PLANNING_KEYS: frozenset[str] = frozenset(
    {
        "band",
        "band_relative",
        "trade_to",
        "untargeted",
        "untargeted_spot",
        "min_trade_value",
        "slippage",
        "leverage",
    }
)


class Policy(BaseModel):
    """Every setting the planner and the executor read. Frozen; build a new one to change it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # planning preferences
    band: Decimal = Field(Decimal("0.05"), ge=0, lt=1, description="Absolute weight drift that triggers a trade.")
    band_relative: Decimal | None = Field(
        Decimal("0.25"),
        gt=0,
        description="An asset's threshold is min(band, band_relative x |target|) (the 5/25 rule by default); "
        '"off" (or null) for the absolute band alone.',
    )
    trade_to: Literal["target", "edge"] = Field(
        "target", description="Trade all the way to the target, or only back to the band's edge."
    )
    untargeted: Literal["close", "keep"] = Field(
        "close", description="What to do with perp positions absent from the targets."
    )
    untargeted_spot: Literal["keep", "close"] = Field(
        "keep", description="What to do with spot tokens absent from the targets."
    )
    min_trade_value: Decimal = Field(
        Decimal(10),
        ge=MIN_ORDER_VALUE,
        description="Smallest order worth sending, in USD (never below the exchange's $10).",
    )
    slippage: Decimal = Field(
        Decimal("0.005"), gt=0, lt=Decimal("0.5"), description="Limit price distance from the reference."
    )
    leverage: int | None = Field(
        None, ge=1, le=100, description="Leverage to set on traded perps (capped at each asset's maximum)."
    )
    # exchange parameters
    fee_rate: Decimal = Field(PERP_TAKER_FEE, ge=0, lt=Decimal("0.01"), description="Perp taker fee rate.")
    # safety limits
    max_leverage: Decimal = Field(Decimal(1), gt=0, le=100, description="Cap on gross exposure (sum of |weights|).")
    max_turnover: Decimal = Field(Decimal(1), gt=0, description="Cap on traded notional / equity over one run.")
    max_order_value: Decimal | None = Field(None, gt=0, description="Cap on a single order's value (USD).")
    max_price_deviation: Decimal = Field(
        Decimal("0.02"),
        gt=0,
        lt=Decimal("0.5"),
        description="Refuse when a reference price is this far from the oracle.",
    )
    max_slippage: Decimal = Field(
        Decimal("0.02"), gt=0, lt=Decimal("0.5"), description="Widest slippage any round may use."
    )
    slippage_step: Decimal = Field(
        Decimal("0.0025"), ge=0, description="How much each later round widens the slippage."
    )
    max_rounds: int = Field(3, ge=1, le=20, description="Most execution rounds in one run.")
    max_snapshot_age: Decimal = Field(
        Decimal(10), gt=0, description="Seconds after which prices are re-read before orders go out."
    )

    @field_validator("band_relative", "leverage", "max_order_value", mode="before")
    @classmethod
    def _off_means_unset(cls, value: Any) -> Any:
        # "off" is how a flag, a variable or a TOML file says "unset" (they have no null).
        if isinstance(value, str) and value.strip().lower() in OFF_WORDS:
            return None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        if self.min_trade_value < MIN_ORDER_VALUE:
            raise ValueError(f"min_trade_value must be at least {MIN_ORDER_VALUE} (the exchange's minimum order value)")
        if self.slippage > self.max_slippage:
            raise ValueError(
                f"slippage {self.slippage} is above max_slippage {self.max_slippage}; "
                "raise max_slippage (a safety limit) or lower slippage"
            )
        return self

    def threshold(self, target_weight: Decimal) -> Decimal:
        """The drift an asset may have before it trades: the band, or its relative form."""
        if self.band_relative is None:
            return self.band
        relative = self.band_relative * abs(target_weight)
        return relative if relative < self.band else self.band


#: every key the policy knows, for error messages and configuration checks
POLICY_KEYS: frozenset[str] = frozenset(Policy.model_fields)
#: keys that may be unset (null in JSON, "off" anywhere)
NULLABLE_KEYS: frozenset[str] = frozenset(
    k for k, f in Policy.model_fields.items() if type(None) in get_args(f.annotation)
)


def check_value_kind(key: str, value: object) -> str | None:
    """A reason ``value`` cannot be the policy ``key`` before pydantic sees it, else None.

    Pydantic's lax mode would read ``true`` as 1 and accept null for an optional field; a policy
    value written as a boolean is always a mistake, and null only means "unset" where unset exists.
    """
    if isinstance(value, bool):
        return "must be a number or a word, not a boolean"
    if value is None and key not in NULLABLE_KEYS:
        return "cannot be null (remove the key to use the default)"
    return None
