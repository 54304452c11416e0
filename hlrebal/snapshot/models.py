"""The snapshot's models: one account and its market, as frozen values (:mod:`hlrebal.values`).

The parsing of raw info responses into these lives beside them (perp, spot, dex, mode, parse);
:meth:`Snapshot.from_raw` is the way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from hlrebal.values import Value, field, value_class

SNAPSHOT_VERSION = 1
NETWORKS = ("mainnet", "testnet", "custom", "demo")
Network = Literal["mainnet", "testnet", "custom", "demo"]


@value_class
class AssetMarket(Value):
    """The market of one tradable asset: its exchange rules and its prices."""

    coin: str
    asset_id: int
    kind: Literal["perp", "spot"] = "perp"
    sz_decimals: int
    max_leverage: int = 1
    only_isolated: bool = False
    is_delisted: bool = False
    mid: Decimal | None = None
    mark: Decimal | None = None
    oracle: Decimal | None = None
    base: str | None = None
    """Spot only: the base token (what the balance is held in)."""
    quote: str | None = None
    """Spot only: the quote token (USDC for the pairs hlrebal trades)."""
    wire: str | None = None
    """Spot only: the exchange's coin name for the pair ("PURR/USDC" or "@107")."""
    dex: str = ""
    """Builder-deployed perp dex (HIP-3) the perp trades on; "" for the main dex."""

    @property
    def is_spot(self) -> bool:
        return self.kind == "spot"

    @property
    def reference_price(self) -> Decimal | None:
        """The price weights and limits are measured at: the mid, else the mark."""
        if self.mid is not None and self.mid > 0:
            return self.mid
        if self.mark is not None and self.mark > 0:
            return self.mark
        return None


@value_class
class PerpPosition(Value):
    """An open perp position as the clearinghouse reports it."""

    coin: str
    szi: Decimal
    entry_px: Decimal | None = None
    leverage: int = 1
    is_cross: bool = True
    margin_used: Decimal = Decimal(0)
    position_value: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)


@value_class
class SpotBalance(Value):
    """A spot token balance: ``hold`` is locked by open orders (and, in unified mode, perp margin)."""

    token: str
    total: Decimal
    hold: Decimal = Decimal(0)
    entry_ntl: Decimal = Decimal(0)

    @property
    def free(self) -> Decimal:
        return self.total - self.hold


@value_class
class DexAccount(Value):
    """The account's own clearinghouse on a builder-deployed perp dex (HIP-3)."""

    name: str
    account_value: Decimal
    total_margin_used: Decimal = Decimal(0)
    collateral_token: int = 0


AccountMode = Literal["standard", "unified", "portfolio"]
CASH_TOKEN = "USDC"


@value_class
class OpenOrder(Value):
    """A resting order: it holds margin and can fill during a rebalance."""

    coin: str
    side: Literal["buy", "sell"]
    limit_px: Decimal
    size: Decimal
    oid: int
    timestamp: int = 0


@value_class
class Snapshot(Value):
    """Account and market, read once. Build with :meth:`from_raw` or :func:`load_snapshot`."""

    version: int = SNAPSHOT_VERSION
    user: str
    network: Network
    time: int
    account_value: Decimal
    total_margin_used: Decimal = Decimal(0)
    total_ntl_pos: Decimal = Decimal(0)
    withdrawable: Decimal = Decimal(0)
    positions: dict[str, PerpPosition] = field(default_factory=dict)
    assets: dict[str, AssetMarket] = field(default_factory=dict)
    open_orders: tuple[OpenOrder, ...] = ()
    taker_fee: Decimal | None = None
    account_mode: AccountMode = "standard"
    mode_source: str = "default"
    """How the mode was learnt: "userAbstraction", "balances" (their shape) or "default"."""
    spot_balances: dict[str, SpotBalance] = field(default_factory=dict)
    spot_assets: dict[str, AssetMarket] = field(default_factory=dict)
    """Spot pairs quoted in USDC, keyed by "BASE/USDC"."""
    spot_aliases: dict[str, str] = field(default_factory=dict)
    """Every name a spot pair goes by ("@107", "HYPE/USDC") -> its key in ``spot_assets``."""
    has_spot_state: bool = False
    dexes: dict[str, DexAccount] = field(default_factory=dict)
    """Builder dexes read (those the targets name), each with its own clearinghouse."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"exclude": True})

    @property
    def unified(self) -> bool:
        """Unified or portfolio-margin account: one USDC balance, reported on the spot side."""
        return self.account_mode in ("unified", "portfolio")

    def market_of(self, name: str) -> AssetMarket | None:
        """The market a name refers to: a perp coin, or a spot pair by any of its names."""
        market = self.assets.get(name)
        if market is None and name in self.spot_aliases:
            market = self.spot_assets.get(self.spot_aliases[name])
        return market

    def spot_pair_of(self, token: str) -> AssetMarket | None:
        """The USDC pair a token trades in (None for USDC itself or a token without one)."""
        return self.spot_assets.get(f"{token}/{CASH_TOKEN}")

    def token_price(self, token: str) -> Decimal | None:
        """A spot token's value in USDC (1 for USDC; the pair's reference price otherwise)."""
        if token == CASH_TOKEN:
            return Decimal(1)
        pair = self.spot_pair_of(token)
        return pair.reference_price if pair is not None else None

    @property
    def spot_usdc(self) -> Decimal:
        balance = self.spot_balances.get(CASH_TOKEN)
        return balance.total if balance is not None else Decimal(0)

    @property
    def spot_value(self) -> Decimal:
        """Spot balances at their mids (USDC at 1); tokens without a USDC price are not counted."""
        total = Decimal(0)
        for token, balance in self.spot_balances.items():
            price = self.token_price(token)
            if price is not None:
                total += balance.total * price
        return total

    @property
    def unpriced_tokens(self) -> list[str]:
        return sorted(t for t, b in self.spot_balances.items() if b.total != 0 and self.token_price(t) is None)

    @property
    def equity(self) -> Decimal:
        """Whole-account equity, counted once: in standard mode the perp account value plus the spot
        balances; in unified/portfolio mode the spot balances alone (the perp side's value is
        already in the one USDC balance the spot clearinghouse reports)."""
        dexes = sum((d.account_value for d in self.dexes.values()), Decimal(0))
        if self.unified:
            return self.spot_value + dexes
        return self.account_value + self.spot_value + dexes

    @property
    def perp_collateral(self) -> Decimal:
        """What perp margin is drawn from: the perp account value, or in unified mode the USDC
        balance not held by spot orders (approximated by the spot USDC total)."""
        return self.spot_usdc if self.unified else self.account_value

    @property
    def is_empty(self) -> bool:
        """No equity and no positions: usually an API wallet's address instead of the account's."""
        return self.equity == 0 and not self.positions and not any(b.total for b in self.spot_balances.values())

    @classmethod
    def from_raw(cls, doc: Mapping[str, Any], source: str = "<snapshot>") -> Snapshot:
        """Parse a snapshot document (raw info responses keyed by request type)."""
        from hlrebal.snapshot.parse import parse_document  # the parsers import these models

        return parse_document(doc, source)

    def to_raw(self) -> dict[str, Any]:
        """The raw document this snapshot was parsed from, ready to be saved."""
        return dict(self.raw)
