"""How patient a run is: the execution style and its timers (values only).

These settings say *how* a plan is traded, not *what* is traded, so they live apart from the
:class:`~hlrebal.policy.Policy` (a plan document does not change with them), in a room of their own
that the configuration can import without the execution engine. Every timer is here, so that
tests and rehearsals run in seconds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from hlrebal.validation import Checked, keys_of, setting
from hlrebal.values import value_class

Style = Literal["taker", "maker", "twap"]
STYLES: tuple[Style, ...] = ("taker", "maker", "twap")


@value_class
class ExecutionSettings(Checked):
    """The execution style and its timers (seconds unless said otherwise)."""

    style: Style = setting("taker", description="taker: IOC sweeps; maker: post-only at the touch first; twap: slices.")
    requote_seconds: Decimal = setting(
        Decimal(5), gt=0, description="maker: how often books and fills are read and orders the touch left replaced."
    )
    patience: Decimal = setting(
        Decimal(120), ge=0, description="maker: seconds a phase rests orders before the rest goes to taker rounds."
    )
    twap_minutes: int = setting(30, ge=5, le=10_080, description="twap: duration of each native TWAP order.")
    twap_randomize: bool = setting(False, description="twap: let the exchange randomise slice sizes and times.")
    slice_seconds: Decimal = setting(
        Decimal(30), gt=0, description="twap: interval of hlrebal's own slices for legs the exchange will not TWAP."
    )
    max_book_share: Decimal = setting(
        Decimal("0.25"), gt=0, le=1, description="twap: largest share of the visible book one own slice may take."
    )
    poll_seconds: Decimal = setting(Decimal(5), gt=0, description="twap: how often progress is read.")
    switch_margin: Decimal = setting(
        Decimal(30), ge=0, description="Seconds the dead man's switch allows beyond a phase's patience or duration."
    )

    @property
    def patient(self) -> bool:
        """Whether the first round rests orders (maker, twap) instead of sweeping the book."""
        return self.style != "taker"


#: every key of the execution settings, for configuration files, the environment and flags
EXECUTION_KEYS: frozenset[str] = keys_of(ExecutionSettings)
