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
from typing import ClassVar, Literal

from hlrebal.market import MIN_ORDER_VALUE, PERP_TAKER_FEE
from hlrebal.validation import Checked, Invalid, keys_of, nullable_keys, setting
from hlrebal.values import value_class

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


@value_class
class Policy(Checked):
    """Every setting the planner and the executor read. Frozen; build a new one to change it.

    ``Policy(band="0.03")`` converts and checks each value given (:mod:`hlrebal.validation`);
    ``"off"`` unsets an optional one.
    """

    off_words: ClassVar[frozenset[str]] = OFF_WORDS

    # planning preferences
    band: Decimal = setting(Decimal("0.05"), ge=0, lt=1, description="Absolute weight drift that triggers a trade.")
    band_relative: Decimal | None = setting(
        Decimal("0.25"),
        gt=0,
        description="An asset's threshold is min(band, band_relative x |target|) (the 5/25 rule by default); "
        '"off" (or null) for the absolute band alone.',
    )
    trade_to: Literal["target", "edge"] = setting(
        "target", description="Trade all the way to the target, or only back to the band's edge."
    )
    untargeted: Literal["close", "keep"] = setting(
        "close", description="What to do with perp positions absent from the targets."
    )
    untargeted_spot: Literal["keep", "close"] = setting(
        "keep", description="What to do with spot tokens absent from the targets."
    )
    min_trade_value: Decimal = setting(
        Decimal(10),
        ge=MIN_ORDER_VALUE,
        description="Smallest order worth sending, in USD (never below the exchange's $10).",
    )
    slippage: Decimal = setting(
        Decimal("0.005"), gt=0, lt=Decimal("0.5"), description="Limit price distance from the reference."
    )
    leverage: int | None = setting(
        None, ge=1, le=100, description="Leverage to set on traded perps (capped at each asset's maximum)."
    )
    # exchange parameters
    fee_rate: Decimal = setting(PERP_TAKER_FEE, ge=0, lt=Decimal("0.01"), description="Perp taker fee rate.")
    # safety limits
    max_leverage: Decimal = setting(Decimal(1), gt=0, le=100, description="Cap on gross exposure (sum of |weights|).")
    max_turnover: Decimal = setting(Decimal(1), gt=0, description="Cap on traded notional / equity over one run.")
    max_order_value: Decimal | None = setting(None, gt=0, description="Cap on a single order's value (USD).")
    max_price_deviation: Decimal = setting(
        Decimal("0.02"),
        gt=0,
        lt=Decimal("0.5"),
        description="Refuse when a reference price is this far from the oracle.",
    )
    max_slippage: Decimal = setting(
        Decimal("0.02"), gt=0, lt=Decimal("0.5"), description="Widest slippage any round may use."
    )
    slippage_step: Decimal = setting(
        Decimal("0.0025"), ge=0, description="How much each later round widens the slippage."
    )
    max_rounds: int = setting(3, ge=1, le=20, description="Most execution rounds in one run.")
    max_snapshot_age: Decimal = setting(
        Decimal(10), gt=0, description="Seconds after which prices are re-read before orders go out."
    )

    def check(self) -> None:
        if self.slippage > self.max_slippage:
            raise Invalid(
                None,
                f"slippage {self.slippage} is above max_slippage {self.max_slippage}; "
                "raise max_slippage (a safety limit) or lower slippage",
            )

    def threshold(self, target_weight: Decimal) -> Decimal:
        """The drift an asset may have before it trades: the band, or its relative form."""
        if self.band_relative is None:
            return self.band
        relative = self.band_relative * abs(target_weight)
        return relative if relative < self.band else self.band


#: every key the policy knows, for error messages and configuration checks
POLICY_KEYS: frozenset[str] = keys_of(Policy)
#: keys that may be unset (null in JSON, "off" anywhere)
NULLABLE_KEYS: frozenset[str] = nullable_keys(Policy)


def check_value_kind(key: str, value: object) -> str | None:
    """A reason ``value`` cannot be the policy ``key`` before it is converted, else None.

    The lax conversions (as pydantic's) would read ``true`` as 1 and accept null for an optional field; a policy
    value written as a boolean is always a mistake, and null only means "unset" where unset exists.
    """
    if isinstance(value, bool):
        return "must be a number or a word, not a boolean"
    if value is None and key not in NULLABLE_KEYS:
        return "cannot be null (remove the key to use the default)"
    return None
