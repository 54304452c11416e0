"""The simulated market: perp assets, spot tokens and pairs, prices, and synthetic books.

Every tradable coin has a book built on demand around its mid: ``levels`` price levels a side,
the best ones ``spread / 2`` away from mid, each further one ``level_step`` away, each holding
``level_notional`` USD, prices on the exchange's grid. Orders consume depth; how it comes back
is the engine's business (see SimConfig.refill).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from hlrebal.sim.config import BookConfig, SimConfig
from hlrebal.sim.datarecord import field, record
from hlrebal.sim.numbers import ONE, ZERO, round_price, round_size_down, tick_at

SPOT_OFFSET = 10_000
# Builder-deployed (HIP-3) perps: 100000 + (place of the dex in perpDexs) x 10000 + index in its
# universe; the main dex is place 0, so the first builder dex starts at 110000.
DEX_BASE = 100_000
DEX_SPAN = 10_000


@record
class PerpAsset:
    """One perp: its universe entry, prices and other context fields."""

    index: int
    name: str
    sz_decimals: int
    max_leverage: int
    only_isolated: bool = False
    is_delisted: bool = False
    mark: Decimal | None = None
    mid: Decimal | None = None
    oracle: Decimal | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    ctx: dict[str, Any] = field(default_factory=dict)
    dex: str = ""  # "" for the main dex, else the builder dex's name ("xyz" for "xyz:XYZ100")
    offset: int = 0  # asset id of index 0: 0 on the main dex, 110000, 120000, ... on builder dexes

    @property
    def asset_id(self) -> int:
        return self.offset + self.index

    @property
    def coin(self) -> str:
        return self.name

    @property
    def is_spot(self) -> bool:
        return False

    @property
    def max_price_decimals(self) -> int:
        return 6 - self.sz_decimals

    @property
    def book_mid(self) -> Decimal | None:
        return self.mid if self.mid is not None else self.mark

    @property
    def reference(self) -> Decimal | None:
        return self.mark if self.mark is not None else self.book_mid


@record
class SpotToken:
    """A spot token from spotMeta.tokens."""

    index: int
    name: str
    sz_decimals: int
    wei_decimals: int
    meta: dict[str, Any] = field(default_factory=dict)


@record
class SpotPair:
    """A spot pair from spotMeta.universe ("PURR/USDC" or "@N")."""

    index: int
    name: str
    base: SpotToken
    quote: SpotToken
    mark: Decimal | None = None
    mid: Decimal | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    ctx: dict[str, Any] = field(default_factory=dict)

    @property
    def asset_id(self) -> int:
        return SPOT_OFFSET + self.index

    @property
    def coin(self) -> str:
        return self.name

    @property
    def is_spot(self) -> bool:
        return True

    @property
    def sz_decimals(self) -> int:
        return self.base.sz_decimals

    @property
    def max_price_decimals(self) -> int:
        return 8 - self.base.sz_decimals

    @property
    def book_mid(self) -> Decimal | None:
        return self.mid if self.mid is not None else self.mark

    @property
    def reference(self) -> Decimal | None:
        return self.mark if self.mark is not None else self.book_mid


Instrument = PerpAsset | SpotPair


@record
class PerpDex:
    """A builder-deployed (HIP-3) perp dex: its perpDexs entry, its own universe and settings.

    ``position``: its place in perpDexs (the main dex, null, is place 0). ``info``: the perpDexs
    entry as served (name, fullName, deployer, ...). ``meta_extra``: meta keys other than
    universe/marginTables (collateralToken, ...). ``fee_multiplier`` scales the base fee rates.
    """

    name: str
    position: int
    info: dict[str, Any] = field(default_factory=dict)
    perps: list[PerpAsset] = field(default_factory=list)
    margin_tables: list[Any] = field(default_factory=list)
    meta_extra: dict[str, Any] = field(default_factory=dict)
    fee_multiplier: Decimal = ONE

    @property
    def offset(self) -> int:
        return DEX_BASE + self.position * DEX_SPAN

    @property
    def collateral_token(self) -> int:
        return int(self.meta_extra.get("collateralToken", 0))

    def place_perps(self) -> None:
        """Stamp the dex's name and asset-id offset on its perps."""
        for index, asset in enumerate(self.perps):
            asset.index, asset.dex, asset.offset = index, self.name, self.offset


class Level(NamedTuple):
    """One book level: its rank from the top of the book (0 the best), price and size still resting
    (a tuple: reading the books makes a thousand of them)."""

    rank: int
    px: Decimal
    sz: Decimal


class ResolvedBook(NamedTuple):
    """One coin's book shape, its overrides resolved against the exchange-wide settings."""

    spread: Decimal
    level_notional: Decimal
    levels: int
    level_step: Decimal


def build_side(
    mid: Decimal, book: ResolvedBook, sz_decimals: int, max_decimals: int, is_bid: bool
) -> list[tuple[Decimal, Decimal]]:
    """Full (unconsumed) levels of one side, best first, as (px, sz)."""
    out: list[tuple[Decimal, Decimal]] = []
    half = book.spread / 2
    lot = Decimal(1).scaleb(-sz_decimals)
    prev: Decimal | None = None
    for i in range(book.levels):
        offset = half + book.level_step * i
        raw = mid * (1 - offset) if is_bid else mid * (1 + offset)
        if raw <= 0:
            break
        px = round_price(raw, max_decimals, up=not is_bid)
        if prev is not None:
            if is_bid and px >= prev:
                px = prev - tick_at(prev, max_decimals)
            elif not is_bid and px <= prev:
                px = prev + tick_at(prev, max_decimals)
        if px <= 0:
            break
        sz = round_size_down(book.level_notional / px, sz_decimals)
        out.append((px, max(sz, lot)))
        prev = px
    return out


def _left(full: list[Level], used: dict[int, Decimal]) -> list[Level]:
    """The levels of one full side with the depth ``used`` (by rank) taken out, empty
    levels dropped (a copy: the full side is cached)."""
    if not used:
        return list(full)
    side = []
    for level in full:
        taken = used.get(level.rank)
        if taken is None:
            side.append(level)
        elif level.sz - taken > 0:
            side.append(Level(level.rank, level.px, level.sz - taken))
    return side


Sides = tuple[list[Level], list[Level]]


class Market:
    """All instruments, their prices and books' consumed depth."""

    def __init__(
        self,
        perps: list[PerpAsset],
        tokens: list[SpotToken],
        pairs: list[SpotPair],
        margin_tables: list[Any] | None = None,
        spot_meta_extra: dict[str, Any] | None = None,
        meta_extra: dict[str, Any] | None = None,
        dexes: list[PerpDex] | None = None,
    ) -> None:
        self.perps = perps
        self.dexes: list[PerpDex] = dexes or []
        self.tokens = tokens
        self.pairs = pairs
        self.margin_tables = margin_tables if margin_tables is not None else []
        self.meta_extra = meta_extra or {}
        self.spot_meta_extra = spot_meta_extra or {}
        self.book_overrides: dict[str, BookConfig] = {}
        # coin -> (consumed bids by level index, consumed asks by level index)
        self.consumed: dict[str, tuple[dict[int, Decimal], dict[int, Decimal]]] = {}
        self._sides: dict[str, tuple[tuple[Any, ...], Sides]] = {}  # coin -> (key, full sides)
        self._reindex()

    def _reindex(self) -> None:
        for position, dex in enumerate(self.dexes, start=1):
            dex.position = position
            dex.place_perps()
        self.dex_by_name = {d.name: d for d in self.dexes}
        self.perp_by_name = {p.name: p for p in self.all_perps()}
        self.dex_perp_by_id = {p.asset_id: p for d in self.dexes for p in d.perps}
        self.token_by_index = {t.index: t for t in self.tokens}
        self.token_by_name = {t.name: t for t in self.tokens}
        self.pair_by_name = {p.name: p for p in self.pairs}
        self.pair_by_index = {p.index: p for p in self.pairs}

    # ---- lookup ---------------------------------------------------------------------------

    def instrument(self, asset_id: int) -> Instrument | None:
        """The perp (main or builder dex) or spot pair with this asset id."""
        if 0 <= asset_id < SPOT_OFFSET:
            return self.perps[asset_id] if asset_id < len(self.perps) else None
        if SPOT_OFFSET <= asset_id < 2 * SPOT_OFFSET:
            return self.pair_by_index.get(asset_id - SPOT_OFFSET)
        return self.dex_perp_by_id.get(asset_id)

    # ---- perp dexes -----------------------------------------------------------------------

    def all_perps(self) -> list[PerpAsset]:
        """Perps of the main dex, then of each builder dex in perpDexs order."""
        return [*self.perps, *(p for d in self.dexes for p in d.perps)]

    def has_dex(self, dex: str) -> bool:
        return dex == "" or dex in self.dex_by_name

    def dex_perps(self, dex: str) -> list[PerpAsset]:
        """The universe of one dex ("" the main dex)."""
        return self.perps if dex == "" else self.dex_by_name[dex].perps

    def add_dex(self, dex: PerpDex) -> PerpDex:
        """Append a builder dex to perpDexs (its place and asset ids follow from the order)."""
        if dex.name in self.dex_by_name or not dex.name:
            raise ValueError(f"perp dex {dex.name!r} exists already or has no name")
        for asset in dex.perps:
            if asset.name in self.perp_by_name or asset.name in self.pair_by_name:
                raise ValueError(f"coin {asset.name!r} is listed already")
        self.dexes.append(dex)
        self._reindex()
        return dex

    def collateral_name(self, dex: str) -> str:
        """The name of a dex's collateral token (USDC unless its meta says otherwise)."""
        index = self.dex_by_name[dex].collateral_token if dex else 0
        token = self.token_by_index.get(index)
        return token.name if token is not None else "USDC"

    def by_coin(self, coin: str) -> Instrument | None:
        """The perp ("BTC", "xyz:XYZ100") or spot pair ("PURR/USDC", "@107") named ``coin``."""
        return self.perp_by_name.get(coin) or self.pair_by_name.get(coin)

    def resolve(self, name: str) -> Instrument | None:
        """Like by_coin, also accepting a spot pair as "BASE/QUOTE" ("HYPE/USDC" -> "@107")."""
        inst = self.by_coin(name)
        if inst is None and "/" in name:
            base, _, quote = name.partition("/")
            for pair in self.pairs:
                if pair.base.name == base and pair.quote.name == quote:
                    return pair
        return inst

    def usdc(self) -> SpotToken:
        """The quote/collateral token (index 0)."""
        return self.token_by_index[0]

    def pair_for_token(self, token: str) -> SpotPair | None:
        """The first pair that trades ``token`` against USDC (used to value balances)."""
        for pair in self.pairs:
            if pair.base.name == token and pair.quote.index == 0:
                return pair
        return None

    def all_instruments(self) -> list[Instrument]:
        return [*self.perps, *self.pairs, *(p for d in self.dexes for p in d.perps)]

    # ---- books ----------------------------------------------------------------------------

    def resolved_book(self, coin: str, config: SimConfig) -> ResolvedBook:
        override = self.book_overrides.get(coin) or config.books.get(coin) or BookConfig()
        return ResolvedBook(
            spread=override.spread if override.spread is not None else config.spread,
            level_notional=(override.level_notional if override.level_notional is not None else config.level_notional),
            levels=override.levels if override.levels is not None else config.levels,
            level_step=override.level_step if override.level_step is not None else config.level_step,
        )

    def levels(self, inst: Instrument, config: SimConfig) -> tuple[list[Level], list[Level]]:
        """Bids and asks (best first) with the depth still resting."""
        mid = inst.book_mid
        if mid is None or mid <= 0:
            return [], []
        book = self.resolved_book(inst.coin, config)
        full_bids, full_asks = self._full_sides(inst, mid, book)
        used_bids, used_asks = self.consumed.get(inst.coin, ({}, {}))
        return _left(full_bids, used_bids), _left(full_asks, used_asks)

    def _full_sides(self, inst: Instrument, mid: Decimal, book: ResolvedBook) -> Sides:
        """Both unconsumed sides around ``mid``, built once per coin and price (a moving
        market asks for the same book many times between two price steps)."""
        key = (mid, book.spread, book.level_notional, book.levels, book.level_step, inst.sz_decimals)
        cached = self._sides.get(inst.coin)
        if cached is not None and cached[0] == key:
            return cached[1]
        bids, asks = (
            [
                Level(i, px, sz)
                for i, (px, sz) in enumerate(build_side(mid, book, inst.sz_decimals, inst.max_price_decimals, is_bid))
            ]
            for is_bid in (True, False)
        )
        self._sides[inst.coin] = (key, (bids, asks))
        return bids, asks

    def consume(self, coin: str, is_bid: bool, index: int, size: Decimal) -> None:
        """Take ``size`` from level ``index`` of the bid (True) or ask side."""
        used_bids, used_asks = self.consumed.setdefault(coin, ({}, {}))
        used = used_bids if is_bid else used_asks
        used[index] = used.get(index, ZERO) + size

    def refill(self, coin: str | None = None) -> None:
        """Bring back the consumed depth of one coin, or of every coin."""
        if coin is None:
            self.consumed.clear()
        else:
            self.consumed.pop(coin, None)
