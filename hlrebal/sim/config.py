"""Settings of the simulated exchange: book shape, fees, switches.

Everything here is plain data with defaults close to Hyperliquid's base tier, so that
``SimConfig()`` is a sensible exchange and a test overrides only what it is about.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from hlrebal.sim.datarecord import field, record

Refill = Literal["immediate", "per_request", "never"]
UnknownDex = Literal["error", "null"]


@record(frozen=True)
class BookConfig:
    """Shape of one coin's synthetic book; ``None`` fields fall back to the SimConfig values.

    spread: distance between best bid and best ask as a fraction of mid (0.0002 = 2 bps).
    level_notional: USD resting at each level.
    levels: number of levels per side (the l2Book answer shows at most 20).
    level_step: distance between two consecutive levels as a fraction of mid.
    """

    spread: Decimal | None = None
    level_notional: Decimal | None = None
    levels: int | None = None
    level_step: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("spread", "level_notional", "level_step"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(str(value)))
        if self.levels is not None and self.levels < 1:
            raise ValueError("levels must be at least 1")


@record(frozen=True)
class DexConfig:
    """A builder-deployed (HIP-3) perp dex to list: ``assets`` are
    (coin without the "name:" prefix, szDecimals, maxLeverage, price) tuples; ``info`` extra
    perpDexs fields (fullName, deployer, ...); ``fee_multiplier`` scales the base fee rates."""

    name: str
    assets: tuple[tuple[str, int, int, Decimal | str | int | float], ...] = ()
    collateral_token: int = 0
    fee_multiplier: Decimal = Decimal(1)
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ValueError(f"invalid perp dex name {self.name!r}")
        object.__setattr__(self, "assets", tuple(tuple(a) for a in self.assets))
        if not isinstance(self.fee_multiplier, Decimal):
            object.__setattr__(self, "fee_multiplier", Decimal(str(self.fee_multiplier)))
        if self.fee_multiplier < 0:
            raise ValueError("fee_multiplier must not be negative")


@record(frozen=True)
class FlowConfig:
    """Market flow: every ``step_seconds`` each coin's mid takes a seeded random-walk step
    (``volatility``: standard deviation of the log mid per second; mark and oracle move by the
    same factor) and anonymous takers arrive (Poisson, ``taker_rate`` a second per coin, each
    trading an exponentially distributed ``taker_size`` USD on a random side) against the book,
    resting orders included, in price-time priority. ``coins``: the coins that move (None:
    every coin with a price). ``volatilities``: per-coin overrides."""

    seed: int = 0
    step_seconds: float = 1.0
    volatility: Decimal = Decimal("0.0001")
    taker_rate: float = 0.5
    taker_size: Decimal = Decimal(2000)
    coins: tuple[str, ...] | None = None
    volatilities: dict[str, Decimal] = field(default_factory=dict)
    # After a long pause (a state file loaded later), run at most this many steps to catch up.
    max_catch_up_steps: int = 3600

    def __post_init__(self) -> None:
        for name in ("volatility", "taker_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(str(value)))
        object.__setattr__(
            self,
            "volatilities",
            {c: v if isinstance(v, Decimal) else Decimal(str(v)) for c, v in self.volatilities.items()},
        )
        if self.coins is not None:
            object.__setattr__(self, "coins", tuple(self.coins))
        if self.step_seconds <= 0 or self.taker_rate < 0 or self.taker_size < 0 or self.volatility < 0:
            raise ValueError("step_seconds must be positive; taker_rate, taker_size and volatility not negative")
        if self.max_catch_up_steps < 1:
            raise ValueError("max_catch_up_steps must be at least 1")


@record(frozen=True)
class SimConfig:
    """Exchange-wide settings. Numbers may be given as str, int, float or Decimal."""

    host: str = "127.0.0.1"
    port: int = 0
    spread: Decimal = Decimal("0.0002")
    level_notional: Decimal = Decimal("250000")
    levels: int = 20
    level_step: Decimal = Decimal("0.0005")
    refill: Refill = "immediate"
    taker_fee: Decimal = Decimal("0.00045")
    maker_fee: Decimal = Decimal("0.00015")
    spot_taker_fee: Decimal = Decimal("0.0007")
    spot_maker_fee: Decimal = Decimal("0.0004")
    allow_dust_close: bool = True
    error_suffix: bool = True
    default_leverage: int = 20
    is_mainnet: bool = False
    # An address that signs but holds no account (never seeded, funded or approved) is refused
    # with "User or API Wallet 0x.. does not exist.", as on the exchange. True makes any such
    # signer a new empty account instead.
    auto_create_accounts: bool = False
    # Per-coin book overrides, keyed by coin name ("BTC", "@107", "PURR/USDC", "xyz:XYZ100").
    books: dict[str, BookConfig] = field(default_factory=dict)
    # Answer to a dex-scoped /info request (meta, metaAndAssetCtxs, clearinghouseState,
    # openOrders, frontendOpenOrders, allMids) naming a dex perpDexs does not list: "error" is
    # HTTP 500 with an empty body (as reported against the live API), "null" a 200 `null`.
    unknown_dex: UnknownDex = "error"
    # Builder-deployed perp dexes present from the start (after any the snapshot seeds).
    dexes: tuple[DexConfig, ...] = ()
    # Seconds between two slices of a native TWAP (the exchange: about 30). The number of
    # slices is fixed by the duration (2 a minute), so a shorter interval compresses time.
    twap_slice_seconds: float = 30.0
    twap_min_minutes: int = 5
    twap_max_minutes: int = 10_080  # 7 days, per the docs (older clients cap at 1440)
    # USDC an address must have traded before scheduleCancel accepts a time (the exchange
    # has such a floor but does not publish it).
    schedule_cancel_min_volume: Decimal = Decimal(0)
    # Refuse actions once an address's request budget (10000 + 1 per USDC traded) is spent.
    rate_limits: bool = True
    # The background ticker of a started sim runs due timers this often (0: only on requests,
    # Python calls and sim.advance()).
    tick_seconds: float = 0.1
    # Pay hourly funding on open positions from each coin's funding rate (sim serve: on).
    funding: bool = False
    # Market flow (random walk of mids, taker arrivals); None: fixed books (the default).
    flow: FlowConfig | None = None
    # A history file (path or parsed document) for candleSnapshot/fundingHistory whose prices
    # the sim replays (history_speed history seconds per second); None: a synthetic history
    # drawn from history_seed.
    history: str | Path | dict[str, Any] | None = None
    history_seed: int = 0
    history_speed: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "spread",
            "level_notional",
            "level_step",
            "taker_fee",
            "maker_fee",
            "spot_taker_fee",
            "spot_maker_fee",
            "schedule_cancel_min_volume",
        ):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(str(value)))
        if self.refill not in ("immediate", "per_request", "never"):
            raise ValueError(f"refill must be immediate, per_request or never, not {self.refill!r}")
        if self.levels < 1:
            raise ValueError("levels must be at least 1")
        if self.default_leverage < 1:
            raise ValueError("default_leverage must be at least 1")
        if self.unknown_dex not in ("error", "null"):
            raise ValueError(f"unknown_dex must be error or null, not {self.unknown_dex!r}")
        object.__setattr__(self, "dexes", tuple(self.dexes))
        if self.twap_slice_seconds <= 0 or self.tick_seconds < 0:
            raise ValueError("twap_slice_seconds must be positive and tick_seconds not negative")
        if self.history_speed <= 0:
            raise ValueError("history_speed must be positive")
        if not 1 <= self.twap_min_minutes <= self.twap_max_minutes:
            raise ValueError("twap_min_minutes must be at least 1 and at most twap_max_minutes")
