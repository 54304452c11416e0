"""One consistent picture of an account and its market, parsed from raw Hyperliquid info responses.

A snapshot file is a JSON object whose keys are info request types and whose values are the raw
responses, exactly as the API returns them::

    {"version": 1, "user": "0x…", "network": "mainnet", "time": 1793000000000,
     "clearinghouseState": {…}, "metaAndAssetCtxs": [meta, ctxs],
     "spotClearinghouseState": {…}, "spotMetaAndAssetCtxs": [spotMeta, ctxs],   # optional
     "allMids": {…}, "l2Book": {coin: book}, "openOrders": […], "userFees": {…}}  # optional

Older recordings with ``meta`` plus ``allMids`` instead of ``metaAndAssetCtxs`` load too. Keys that
start with ``_`` are comments. Unknown keys are kept (room for later ones: per-dex states, account
mode) but not interpreted.

The planner never reads the network: every price it uses comes from here, read once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hlrebal.errors import SnapshotError

SNAPSHOT_VERSION = 1
NETWORKS = ("mainnet", "testnet", "custom", "demo")
Network = Literal["mainnet", "testnet", "custom", "demo"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class AssetMarket(BaseModel):
    """The market of one tradable asset: its exchange rules and its prices."""

    model_config = _FROZEN

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


class PerpPosition(BaseModel):
    """An open perp position as the clearinghouse reports it."""

    model_config = _FROZEN

    coin: str
    szi: Decimal
    entry_px: Decimal | None = None
    leverage: int = 1
    is_cross: bool = True
    margin_used: Decimal = Decimal(0)
    position_value: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)


class SpotBalance(BaseModel):
    """A spot token balance: ``hold`` is locked by open orders (and, in unified mode, perp margin)."""

    model_config = _FROZEN

    token: str
    total: Decimal
    hold: Decimal = Decimal(0)
    entry_ntl: Decimal = Decimal(0)

    @property
    def free(self) -> Decimal:
        return self.total - self.hold


class DexAccount(BaseModel):
    """The account's own clearinghouse on a builder-deployed perp dex (HIP-3)."""

    model_config = _FROZEN

    name: str
    account_value: Decimal
    total_margin_used: Decimal = Decimal(0)
    collateral_token: int = 0


AccountMode = Literal["standard", "unified", "portfolio"]
CASH_TOKEN = "USDC"


class OpenOrder(BaseModel):
    """A resting order: it holds margin and can fill during a rebalance."""

    model_config = _FROZEN

    coin: str
    side: Literal["buy", "sell"]
    limit_px: Decimal
    size: Decimal
    oid: int
    timestamp: int = 0


class Snapshot(BaseModel):
    """Account and market, read once. Build with :meth:`from_raw` or :func:`load_snapshot`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    version: int = SNAPSHOT_VERSION
    user: str
    network: Network
    time: int
    account_value: Decimal
    total_margin_used: Decimal = Decimal(0)
    total_ntl_pos: Decimal = Decimal(0)
    withdrawable: Decimal = Decimal(0)
    positions: dict[str, PerpPosition] = Field(default_factory=dict)
    assets: dict[str, AssetMarket] = Field(default_factory=dict)
    open_orders: tuple[OpenOrder, ...] = ()
    taker_fee: Decimal | None = None
    account_mode: AccountMode = "standard"
    mode_source: str = "default"
    """How the mode was learnt: "userAbstraction", "balances" (their shape) or "default"."""
    spot_balances: dict[str, SpotBalance] = Field(default_factory=dict)
    spot_assets: dict[str, AssetMarket] = Field(default_factory=dict)
    """Spot pairs quoted in USDC, keyed by "BASE/USDC"."""
    spot_aliases: dict[str, str] = Field(default_factory=dict)
    """Every name a spot pair goes by ("@107", "HYPE/USDC") -> its key in ``spot_assets``."""
    has_spot_state: bool = False
    dexes: dict[str, DexAccount] = Field(default_factory=dict)
    """Builder dexes read (those the targets name), each with its own clearinghouse."""
    raw: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

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
        return _parse(doc, source)

    def to_raw(self) -> dict[str, Any]:
        """The raw document this snapshot was parsed from, ready to be saved."""
        return dict(self.raw)


def load_snapshot(path: str | Path) -> Snapshot:
    """Read a snapshot file. Raises :class:`SnapshotError` (exit 2) when it cannot be used."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SnapshotError(f"{source}: no such snapshot file") from None
    except UnicodeDecodeError:
        raise SnapshotError(f"{source}: is not UTF-8 text (a snapshot is a JSON file)") from None
    except OSError as e:
        raise SnapshotError(f"{source}: cannot be read ({e.strerror})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{source}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if not isinstance(doc, dict):
        raise SnapshotError(f"{source}: a snapshot must be a JSON object of info responses")
    return Snapshot.from_raw(doc, source)


def save_snapshot(snapshot: Snapshot, path: str | Path) -> None:
    """Write a snapshot file atomically (a temporary file, then a rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(snapshot.to_raw(), f, indent=1)
        f.write("\n")
    tmp.replace(target)


# --------------------------------------------------------------------------- parsing


class _Bad(Exception):
    """Internal: a field with the wrong shape; turned into a SnapshotError naming the key."""


def _dec(value: Any, where: str, *, optional: bool = False) -> Decimal | None:
    if value is None:
        if optional:
            return None
        raise _Bad(f"{where}: missing")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(f"{where}: expected a number as a string, got {value!r}")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise _Bad(f"{where}: not a number: {value!r}") from None
    if not out.is_finite():
        raise _Bad(f"{where}: not a finite number: {value!r}")
    return out


def _int(value: Any, where: str, *, minimum: int = 0) -> int:
    """An integer field (szDecimals, maxLeverage, oid, ...), refused with its key when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where}: expected a whole number, got {value!r}")
    if value < minimum:
        raise _Bad(f"{where}: expected at least {minimum}, got {value!r}")
    return value


def _req(value: Any, where: str) -> Decimal:
    out = _dec(value, where)
    assert out is not None
    return out


def _parse(doc: Mapping[str, Any], source: str) -> Snapshot:
    try:
        return _parse_inner(doc)
    except _Bad as e:
        raise SnapshotError(f"{source}: {e}") from None
    except (KeyError, TypeError, IndexError, AttributeError) as e:
        raise SnapshotError(
            f"{source}: not a Hyperliquid snapshot ({type(e).__name__}: {e}); "
            "expected the raw info responses keyed by request type"
        ) from None


def _parse_inner(doc: Mapping[str, Any]) -> Snapshot:
    version = doc.get("version", SNAPSHOT_VERSION)
    if version != SNAPSHOT_VERSION:
        raise _Bad(f"version: unsupported snapshot version {version!r} (this hlrebal reads {SNAPSHOT_VERSION})")
    user = doc.get("user")
    if not isinstance(user, str) or not _ADDRESS.fullmatch(user):
        raise _Bad(f"user: expected a 0x-prefixed 42-character address, got {user!r}")
    network = doc.get("network", "mainnet")
    if network not in NETWORKS:
        raise _Bad(f"network: expected one of {', '.join(NETWORKS)}, got {network!r}")
    time_ms = doc.get("time", 0)
    if isinstance(time_ms, bool) or not isinstance(time_ms, int):
        raise _Bad(f"time: expected milliseconds as an integer, got {time_ms!r}")

    if "clearinghouseState" not in doc:
        raise _Bad("clearinghouseState: missing (the account's perp state)")
    state = doc["clearinghouseState"]
    if not isinstance(state, dict):
        raise _Bad("clearinghouseState: expected an object")

    assets = _parse_perp_market(doc)
    positions = _parse_positions(state, assets)
    summary = state.get("marginSummary")
    if not isinstance(summary, dict):
        raise _Bad("clearinghouseState.marginSummary: missing")
    taker_fee = None
    fees = doc.get("userFees")
    if isinstance(fees, dict) and fees.get("userCrossRate") is not None:
        taker_fee = _dec(fees["userCrossRate"], "userFees.userCrossRate")

    account_value = _req(summary.get("accountValue"), "clearinghouseState.marginSummary.accountValue")
    dexes = _parse_dexes(doc, assets, positions)
    spot_assets, aliases = _parse_spot_market(doc)
    balances = _parse_spot_balances(doc.get("spotClearinghouseState"))
    mode, mode_source = _account_mode(doc.get("userAbstraction"), account_value, positions, balances)

    return Snapshot.model_construct(
        version=SNAPSHOT_VERSION,
        user=user.lower(),
        network=network,
        time=time_ms,
        account_value=account_value,
        total_margin_used=_req(summary.get("totalMarginUsed", "0"), "marginSummary.totalMarginUsed"),
        total_ntl_pos=_req(summary.get("totalNtlPos", "0"), "marginSummary.totalNtlPos"),
        withdrawable=_req(state.get("withdrawable", "0"), "clearinghouseState.withdrawable"),
        positions=positions,
        assets=assets,
        open_orders=_parse_open_orders(doc.get("openOrders")),
        taker_fee=taker_fee,
        account_mode=mode,
        mode_source=mode_source,
        spot_balances=balances,
        spot_assets=spot_assets,
        spot_aliases=aliases,
        has_spot_state="spotClearinghouseState" in doc,
        dexes=dexes,
        raw=dict(doc),
    )


_MODES: dict[str, AccountMode] = {
    "default": "standard",
    "disabled": "standard",
    "standard": "standard",
    "unifiedAccount": "unified",
    "unified": "unified",
    "portfolioMargin": "portfolio",
    "portfolio": "portfolio",
}


def _account_mode(
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


def _parse_dexes(
    doc: Mapping[str, Any], assets: dict[str, AssetMarket], positions: dict[str, PerpPosition]
) -> dict[str, DexAccount]:
    """Builder-deployed perp dexes: ``perpDexs`` fixes each dex's place (hence its asset ids, 100000
    + place x 10000 + index), ``dexes`` holds each dex's metaAndAssetCtxs and the account's
    clearinghouseState there. Their perps join ``assets`` and ``positions`` under "dex:COIN"."""
    listing = doc.get("perpDexs")
    states = doc.get("dexes")
    if states is None:
        return {}
    if not isinstance(states, dict) or not isinstance(listing, list):
        raise _Bad("dexes: expected {name: {metaAndAssetCtxs, clearinghouseState}} with perpDexs beside it")
    places = {
        entry["name"]: place for place, entry in enumerate(listing) if isinstance(entry, dict) and "name" in entry
    }
    out: dict[str, DexAccount] = {}
    for name, state in states.items():
        where = f"dexes.{name}"
        if name not in places:
            raise _Bad(f"{where}: not in perpDexs (its asset ids depend on its place there)")
        if not isinstance(state, dict):
            raise _Bad(f"{where}: expected an object")
        sub = {"metaAndAssetCtxs": state.get("metaAndAssetCtxs"), "allMids": state.get("allMids") or {}}
        market = _parse_perp_market(sub)
        offset = 100_000 + places[name] * 10_000
        meta = state["metaAndAssetCtxs"][0]
        for coin, m in market.items():
            if not coin.startswith(f"{name}:"):
                raise _Bad(f"{where}: coin {coin!r} lacks the {name}: prefix")
            assets[coin] = m.model_copy(update={"asset_id": offset + m.asset_id, "dex": name})
        chs = state.get("clearinghouseState")
        if not isinstance(chs, dict) or not isinstance(chs.get("marginSummary"), dict):
            raise _Bad(f"{where}.clearinghouseState: missing")
        positions.update(_parse_positions(chs, assets))
        out[name] = DexAccount.model_construct(
            name=name,
            account_value=_req(chs["marginSummary"].get("accountValue"), f"{where}.marginSummary.accountValue"),
            total_margin_used=_req(chs["marginSummary"].get("totalMarginUsed", "0"), f"{where}.totalMarginUsed"),
            collateral_token=_int(meta.get("collateralToken", 0), f"{where}.collateralToken"),
        )
    return out


def _parse_spot_balances(raw: Any) -> dict[str, SpotBalance]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("balances", []), list):
        raise _Bad("spotClearinghouseState: expected {balances: [...]}")
    out: dict[str, SpotBalance] = {}
    for i, b in enumerate(raw.get("balances", [])):
        where = f"spotClearinghouseState.balances[{i}]"
        token = b.get("coin") if isinstance(b, dict) else None
        if not isinstance(token, str):
            raise _Bad(f"{where}.coin: missing")
        out[token] = SpotBalance.model_construct(
            token=token,
            total=_req(b.get("total"), f"{where}.total"),
            hold=_dec(b.get("hold", "0"), f"{where}.hold") or Decimal(0),
            entry_ntl=_dec(b.get("entryNtl", "0"), f"{where}.entryNtl") or Decimal(0),
        )
    return out


def _parse_spot_market(doc: Mapping[str, Any]) -> tuple[dict[str, AssetMarket], dict[str, str]]:
    """USDC-quoted spot pairs keyed by "BASE/USDC", with every alias ("@107") mapped to that key."""
    raw = doc.get("spotMetaAndAssetCtxs")
    if raw is None:
        return {}, {}
    if not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[0], dict):
        raise _Bad("spotMetaAndAssetCtxs: expected [spotMeta, assetCtxs]")
    meta, ctxs = raw
    tokens = {}
    for i, t in enumerate(meta.get("tokens", [])):
        tokens[_int(t.get("index"), f"spotMetaAndAssetCtxs.tokens[{i}].index")] = t
    ctx_by_coin = {c.get("coin"): c for c in ctxs if isinstance(c, dict)} if isinstance(ctxs, list) else {}
    markets: dict[str, AssetMarket] = {}
    aliases: dict[str, str] = {}
    pairs = sorted(meta.get("universe", []), key=lambda u: (not u.get("isCanonical", False), u.get("index", 0)))
    for u in pairs:
        index = _int(u.get("index"), "spotMetaAndAssetCtxs.universe.index")
        where = f"spotMetaAndAssetCtxs.universe[{index}]"
        pair_tokens = u.get("tokens")
        if not isinstance(pair_tokens, list) or len(pair_tokens) != 2:
            raise _Bad(f"{where}.tokens: expected [base, quote]")
        base, quote = tokens.get(pair_tokens[0]), tokens.get(pair_tokens[1])
        if base is None or quote is None:
            raise _Bad(f"{where}.tokens: unknown token index")
        display = f"{base['name']}/{quote['name']}"
        wire = str(u.get("name"))
        if quote["name"] != CASH_TOKEN or display in markets:
            # hlrebal values and trades spot in USDC; a second pair of the same tokens is an alias.
            if display in markets:
                aliases.setdefault(wire, display)
            continue
        ctx = ctx_by_coin.get(wire, {})
        markets[display] = AssetMarket.model_construct(
            coin=display,
            asset_id=10_000 + index,
            kind="spot",
            sz_decimals=_int(base.get("szDecimals"), f"{where} base szDecimals"),
            max_leverage=1,
            only_isolated=False,
            is_delisted=False,
            mid=_dec(ctx.get("midPx"), f"{where}.midPx", optional=True),
            mark=_dec(ctx.get("markPx"), f"{where}.markPx", optional=True),
            oracle=None,
            base=str(base["name"]),
            quote=str(quote["name"]),
            wire=wire,
        )
        aliases[display] = display
        aliases[wire] = display
    return markets, aliases


def _parse_perp_market(doc: Mapping[str, Any]) -> dict[str, AssetMarket]:
    if "metaAndAssetCtxs" in doc:
        pair = doc["metaAndAssetCtxs"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise _Bad("metaAndAssetCtxs: expected [meta, assetCtxs]")
        meta, ctxs = pair
        where = "metaAndAssetCtxs"
    elif "meta" in doc:
        meta, ctxs = doc["meta"], None
        where = "meta"
    else:
        raise _Bad("metaAndAssetCtxs: missing (or the older meta plus allMids)")
    universe = meta.get("universe") if isinstance(meta, dict) else None
    if not isinstance(universe, list):
        raise _Bad(f"{where}: meta.universe missing")
    if ctxs is not None and (not isinstance(ctxs, list) or len(ctxs) != len(universe)):
        raise _Bad(f"{where}: expected one asset context per universe entry")
    mids = doc.get("allMids") or {}
    if not isinstance(mids, dict):
        raise _Bad("allMids: expected an object of coin -> price")

    assets: dict[str, AssetMarket] = {}
    for index, entry in enumerate(universe):
        coin = entry["name"]
        here = f"{where}.universe[{index}] ({coin})"
        ctx = ctxs[index] if ctxs is not None else {}
        mid = _dec(ctx.get("midPx"), f"{here}.midPx", optional=True)
        if mid is None and coin in mids:
            mid = _dec(mids[coin], f"allMids.{coin}")
        assets[coin] = AssetMarket.model_construct(
            coin=coin,
            asset_id=index,
            kind="perp",
            sz_decimals=_int(entry.get("szDecimals"), f"{here}.szDecimals"),
            max_leverage=_int(entry.get("maxLeverage", 1), f"{here}.maxLeverage", minimum=1),
            only_isolated=bool(entry.get("onlyIsolated", False)) or entry.get("marginMode") == "strictIsolated",
            is_delisted=bool(entry.get("isDelisted", False)),
            mid=mid,
            mark=_dec(ctx.get("markPx"), f"{here}.markPx", optional=True),
            oracle=_dec(ctx.get("oraclePx"), f"{here}.oraclePx", optional=True),
        )
    return assets


def _parse_positions(state: Mapping[str, Any], assets: dict[str, AssetMarket]) -> dict[str, PerpPosition]:
    positions: dict[str, PerpPosition] = {}
    for i, item in enumerate(state.get("assetPositions", [])):
        pos = item["position"]
        coin = pos["coin"]
        where = f"clearinghouseState.assetPositions[{i}] ({coin})"
        szi = _req(pos.get("szi"), f"{where}.szi")
        if szi == 0:
            continue
        lev = pos.get("leverage") or {}
        value = _dec(pos.get("positionValue", "0"), f"{where}.positionValue") or Decimal(0)
        positions[coin] = PerpPosition.model_construct(
            coin=coin,
            szi=szi,
            entry_px=_dec(pos.get("entryPx"), f"{where}.entryPx", optional=True),
            leverage=_int(lev.get("value", 1), f"{where}.leverage.value", minimum=1),
            is_cross=lev.get("type", "cross") == "cross",
            margin_used=_req(pos.get("marginUsed", "0"), f"{where}.marginUsed"),
            position_value=value,
            unrealized_pnl=_req(pos.get("unrealizedPnl", "0"), f"{where}.unrealizedPnl"),
        )
        market = assets.get(coin)
        if market is not None and market.reference_price is None and value > 0:
            # Older recordings may lack a mid for a held coin: its own value per unit is the best
            # price the snapshot has, and it is the price the exchange valued the position at.
            assets[coin] = market.model_copy(update={"mark": value / abs(szi)})
    return positions


def _parse_open_orders(raw: Any) -> tuple[OpenOrder, ...]:
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise _Bad("openOrders: expected a list")
    out = []
    for i, o in enumerate(raw):
        where = f"openOrders[{i}]"
        out.append(
            OpenOrder.model_construct(
                coin=o["coin"],
                side="buy" if o["side"] == "B" else "sell",
                limit_px=_req(o.get("limitPx"), f"{where}.limitPx"),
                size=_req(o.get("sz"), f"{where}.sz"),
                oid=_int(o.get("oid"), f"{where}.oid"),
                timestamp=_int(o.get("timestamp", 0), f"{where}.timestamp"),
            )
        )
    return tuple(out)
