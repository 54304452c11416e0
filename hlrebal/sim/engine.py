"""The exchange's state and its business logic: orders, matching, fills, leverage, transfers.

The engine knows nothing of HTTP or signatures: the caller (actions.py) has already decided
which account acts and which address signed. Every public method expects the simulator's lock
to be held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hlrebal.sim import ledger, rules
from hlrebal.sim.accounts import (
    Account,
    LeverageSetting,
    RestingOrder,
    available_margin,
    free_spot,
    leverage_for,
    perp_summary,
)
from hlrebal.sim.auth import NonceBook
from hlrebal.sim.config import SimConfig
from hlrebal.sim.market import Instrument, Level, Market, PerpAsset, SpotPair
from hlrebal.sim.numbers import USD_PLACES, ZERO, fmt, fmt_places, fmt_usd

Status = dict[str, Any]


@dataclass
class OrderRecord:
    """One individual order as received, and what became of it."""

    seq: int
    time: int
    nonce: int | None
    signer: str | None
    account: str
    asset: Any
    coin: str | None
    is_buy: bool | None
    px: Decimal | None
    sz: Decimal | None
    reduce_only: bool
    tif: str | None
    cloid: str | None
    status: str = "error"
    oid: int | None = None
    filled_sz: Decimal = ZERO
    notional: Decimal = ZERO
    fee: Decimal = ZERO
    error: str | None = None
    sz_left: Decimal = ZERO
    status_time: int = 0

    @property
    def avg_px(self) -> Decimal | None:
        return self.notional / self.filled_sz if self.filled_sz > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "nonce": self.nonce,
            "signer": self.signer,
            "account": self.account,
            "asset": self.asset,
            "coin": self.coin,
            "is_buy": self.is_buy,
            "px": self.px,
            "sz": self.sz,
            "reduce_only": self.reduce_only,
            "tif": self.tif,
            "cloid": self.cloid,
            "status": self.status,
            "oid": self.oid,
            "filled_sz": self.filled_sz,
            "avg_px": self.avg_px,
            "fee": self.fee,
            "error": self.error,
        }


@dataclass
class Agent:
    account: str
    name: str


@dataclass
class Vault:
    leader: str
    kind: str = "vault"  # "vault" or "subaccount"


@dataclass
class Fill:
    account: str
    data: dict[str, Any] = field(default_factory=dict)


class Engine:
    """State of the simulated exchange and the operations on it."""

    def __init__(self, market: Market, config: SimConfig, clock: Callable[[], int]) -> None:
        self.market = market
        self.config = config
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.agents: dict[str, Agent] = {}
        self.vaults: dict[str, Vault] = {}
        self.open_orders: dict[int, RestingOrder] = {}
        self.records: list[OrderRecord] = []
        self.records_by_oid: dict[int, OrderRecord] = {}
        self.fills: list[Fill] = []
        self.next_oid = 1
        self.next_tid = 1
        self.orders_received = 0
        self.pending_rejects: dict[int, str] = {}
        self.nonces = NonceBook()

    # ---- accounts -------------------------------------------------------------------------

    def account(self, address: str, create: bool = False) -> Account | None:
        key = address.lower()
        acct = self.accounts.get(key)
        if acct is None and create:
            acct = Account(address=key)
            self.accounts[key] = acct
        return acct

    def ensure_account(self, address: str) -> Account:
        acct = self.account(address, create=True)
        assert acct is not None
        return acct

    def orders_of(self, address: str) -> list[RestingOrder]:
        key = address.lower()
        return [o for o in self.open_orders.values() if o.account == key]

    def book(self, acct: Account, asset: PerpAsset) -> Account:
        """The clearinghouse of ``acct`` that holds ``asset`` (its own, or its part on a builder dex)."""
        book = acct.clearinghouse(asset.dex)
        assert book is not None
        return book

    def perp_fee_rate(self, acct: Account, asset: PerpAsset, maker: bool) -> Decimal:
        """The account's perp rate (its own or the base tier), times the dex's fee multiplier."""
        rate = ledger.fee_rate(acct, self.config, False, maker)
        if asset.dex:
            rate *= self.market.dex_by_name[asset.dex].fee_multiplier
        return rate

    def available(self, acct: Account, orders: list[RestingOrder] | None = None) -> Decimal:
        if orders is None:
            orders = self.orders_of(acct.address)
        return available_margin(self.market, acct, orders, self.config.default_leverage)

    def fund(self, address: str, usdc: Decimal, dex: str = "") -> None:
        """Credit USDC: to the perp ledger, or to the one spot balance in unified mode; with
        ``dex``, to that builder dex's own clearinghouse (in its collateral token)."""
        if not self.market.has_dex(dex):
            raise ValueError(f"unknown perp dex {dex!r}")
        acct = self.ensure_account(address)
        if dex:
            book = acct.clearinghouse(dex)
            assert book is not None
            book.perp_raw += usdc
        elif acct.pooled:
            token = self.market.usdc().name
            acct.spot[token] = acct.spot.get(token, ZERO) + usdc
        else:
            acct.perp_raw += usdc

    def fund_spot(self, address: str, token: str, amount: Decimal) -> None:
        if token not in self.market.token_by_name:
            raise ValueError(f"unknown spot token {token!r}")
        acct = self.ensure_account(address)
        acct.spot[token] = acct.spot.get(token, ZERO) + amount
        if token != self.market.usdc().name:
            pair = self.market.pair_for_token(token)
            px = pair.book_mid if pair is not None else None
            if px is not None:
                acct.spot_entry_ntl[token] = acct.spot_entry_ntl.get(token, ZERO) + amount * px

    def set_mode(self, address: str, mode: str) -> None:
        """Switch account mode. Entering unified/portfolio moves the perp cash (all but the
        positions' entry notional) into the one spot USDC balance."""
        acct = self.ensure_account(address)
        was_pooled = acct.pooled
        acct.mode = mode  # type: ignore[assignment]
        if acct.pooled and not was_pooled:
            entry_ntl = sum(
                (
                    p.szi * p.entry_px
                    for p in acct.positions.values()
                    if leverage_for(acct, self.market.perp_by_name[p.coin], self.config.default_leverage).is_cross
                ),
                ZERO,
            )
            usdc = self.market.usdc().name
            moved = acct.perp_raw + entry_ntl
            acct.spot[usdc] = acct.spot.get(usdc, ZERO) + moved
            acct.perp_raw -= moved

    # ---- prices and books -----------------------------------------------------------------

    def set_price(self, coin: str, mid: Decimal, mark: Decimal | None, oracle: Decimal | None) -> None:
        inst = self.market.by_coin(coin)
        if inst is None:
            raise ValueError(f"unknown coin {coin!r}")
        inst.mid = mid
        inst.mark = mark if mark is not None else mid
        if isinstance(inst, PerpAsset):
            inst.oracle = oracle if oracle is not None else mid
        self.market.refill(coin)
        self._fill_crossed_resting(inst)

    def refill_after_order(self, coin: str) -> None:
        if self.config.refill == "immediate":
            self.market.refill(coin)

    def _fill_crossed_resting(self, inst: Instrument) -> None:
        """Resting orders the new price moved through fill at their limit price, as makers."""
        bids, asks = self.market.levels(inst, self.config)
        best_bid = bids[0].px if bids else None
        best_ask = asks[0].px if asks else None
        now = self.clock()
        for order in sorted(self.open_orders.values(), key=lambda o: o.oid):
            if order.coin != inst.coin:
                continue
            crossed = (order.is_buy and best_ask is not None and order.limit_px >= best_ask) or (
                not order.is_buy and best_bid is not None and order.limit_px <= best_bid
            )
            if not crossed:
                continue
            acct = self.ensure_account(order.account)
            record = self.records_by_oid[order.oid]
            del self.open_orders[order.oid]
            size = order.sz
            if order.reduce_only and isinstance(inst, PerpAsset):
                pos = self.book(acct, inst).positions.get(inst.name)
                szi = pos.szi if pos else ZERO
                if szi == 0 or (order.is_buy == (szi > 0)):
                    record.status, record.status_time, record.sz_left = "canceled", now, ZERO
                    continue
                size = min(size, abs(szi))
            self._apply_fill(
                acct,
                inst,
                order.is_buy,
                size,
                order.limit_px,
                maker=True,
                oid=order.oid,
                cloid=order.cloid,
                record=record,
                now=now,
            )
            record.sz_left = ZERO
            record.status, record.status_time = "filled", now

    # ---- timers ---------------------------------------------------------------------------

    def run_timers(self) -> None:
        """Scheduled cancels that are due."""
        now = self.clock()
        for acct in self.accounts.values():
            if acct.scheduled_cancel is not None and acct.scheduled_cancel <= now:
                acct.scheduled_cancel = None
                for order in self.orders_of(acct.address):
                    self._cancel_order(order, now)

    # ---- orders ---------------------------------------------------------------------------

    def _suffix(self, message: str, asset: Any) -> str:
        return f"{message} asset={asset}" if self.config.error_suffix else message

    def _reject(self, record: OrderRecord, message: str, suffix: bool = True) -> Status:
        text = self._suffix(message, record.asset) if suffix else message
        record.status, record.error, record.status_time = "error", text, record.time
        return {"error": text}

    def place_orders(
        self, account: Account, signer: str | None, nonce: int | None, wires: list[dict[str, Any]]
    ) -> list[Status]:
        """Place a batch; one status per order, in order."""
        return [self._place_one(account, signer, nonce, wire) for wire in wires]

    def _place_one(self, acct: Account, signer: str | None, nonce: int | None, wire: dict[str, Any]) -> Status:
        now = self.clock()
        self.orders_received += 1
        asset = wire.get("a")
        order_type = wire.get("t") if isinstance(wire.get("t"), dict) else {}
        limit = order_type.get("limit") if isinstance(order_type, dict) else None
        tif = limit.get("tif") if isinstance(limit, dict) else None
        cloid = wire.get("c") if isinstance(wire.get("c"), str) else None
        record = OrderRecord(
            seq=self.orders_received,
            time=now,
            nonce=nonce,
            signer=signer,
            account=acct.address,
            asset=asset,
            coin=None,
            is_buy=bool(wire.get("b")),
            px=None,
            sz=None,
            reduce_only=bool(wire.get("r")),
            tif=tif,
            cloid=cloid,
        )
        self.records.append(record)
        inst = self.market.instrument(asset) if isinstance(asset, int) and not isinstance(asset, bool) else None
        if inst is not None:
            record.coin = inst.coin
        forced = self.pending_rejects.pop(self.orders_received, None)
        if forced is not None:
            return self._reject(record, forced, suffix=False)
        if inst is None:
            return self._reject(record, rules.UNKNOWN_ASSET)
        parsed = rules.check_size_and_price(inst, wire.get("s"), wire.get("p"))
        if isinstance(parsed, str):
            return self._reject(record, parsed)
        record.sz, record.px = parsed.size, parsed.px
        if tif not in ("Gtc", "Ioc", "Alo"):
            return self._reject(record, rules.UNSUPPORTED_ORDER_TYPE)
        band = rules.check_price_band(inst, parsed.px)
        if band is not None:
            return self._reject(record, band)
        if isinstance(inst, PerpAsset):
            return self._place_perp(acct, inst, record, parsed.size, parsed.px, tif)
        return self._place_spot(acct, inst, record, parsed.size, parsed.px, tif)

    def _walk(
        self, inst: Instrument, is_buy: bool, px: Decimal, size: Decimal, tif: str, record: OrderRecord
    ) -> tuple[list[tuple[Level, Decimal]], Status | None]:
        """Levels an order would take, or the rejection of an Alo/IOC order."""
        bids, asks = self.market.levels(inst, self.config)
        if tif == "Alo":
            crosses = (is_buy and asks and px >= asks[0].px) or (not is_buy and bids and px <= bids[0].px)
            if crosses:
                bid = fmt(bids[0].px) if bids else "None"
                ask = fmt(asks[0].px) if asks else "None"
                return [], self._reject(record, rules.BAD_ALO.format(bid=bid, ask=ask))
            return [], None
        opposite = asks if is_buy else bids
        takes: list[tuple[Level, Decimal]] = []
        left = size
        for level in opposite:
            if left <= 0 or (is_buy and level.px > px) or (not is_buy and level.px < px):
                break
            qty = min(left, level.sz)
            takes.append((level, qty))
            left -= qty
        if tif == "Ioc" and not takes:
            return [], self._reject(record, rules.IOC_CANCEL if opposite else rules.NO_LIQUIDITY)
        return takes, None

    def _place_perp(
        self, acct: Account, asset: PerpAsset, record: OrderRecord, size: Decimal, px: Decimal, tif: str
    ) -> Status:
        is_buy = bool(record.is_buy)
        book = self.book(acct, asset)  # a builder-dex asset is margined in that dex's clearinghouse
        pos = book.positions.get(asset.name)
        szi = pos.szi if pos else ZERO
        closes_all = False
        if record.reduce_only:
            if szi == 0 or is_buy == (szi > 0):
                return self._reject(record, rules.REDUCE_ONLY)
            closes_all = size >= abs(szi)
            size = min(size, abs(szi))
        # value of what the order can do: a reduce-only order is worth at most the position
        small = rules.check_min_notional(asset, size, px)
        if small is not None and not (self.config.allow_dust_close and record.reduce_only and closes_all):
            return self._reject(record, small)
        increasing = not record.reduce_only and (szi == 0 or is_buy == (szi > 0) or size > abs(szi))
        if asset.is_delisted and increasing:
            return self._reject(record, rules.DELISTED)
        takes, rejection = self._walk(asset, is_buy, px, size, tif, record)
        if rejection is not None:
            return rejection
        filled = sum((q for _, q in takes), ZERO)
        rest = size - filled if tif in ("Gtc", "Alo") else ZERO
        if increasing:
            trial = book.clone()
            rate = self.perp_fee_rate(acct, asset, False)
            for level, qty in takes:
                ledger.apply_perp(trial, asset, is_buy, qty, level.px, rate, self.config.default_leverage)
            orders = self.orders_of(acct.address)
            if rest > 0:
                orders.append(self._resting(0, acct, asset, record, px, rest, size, tif))
            if self.available(trial, orders) < 0:
                return self._reject(record, rules.MARGIN)
        return self._commit(acct, asset, record, is_buy, px, size, takes, rest, tif)

    def _place_spot(
        self, acct: Account, pair: SpotPair, record: OrderRecord, size: Decimal, px: Decimal, tif: str
    ) -> Status:
        is_buy = bool(record.is_buy)
        small = rules.check_min_notional(pair, size, px)
        if small is not None:
            return self._reject(record, small)
        takes, rejection = self._walk(pair, is_buy, px, size, tif, record)
        if rejection is not None:
            return rejection
        filled = sum((q for _, q in takes), ZERO)
        rest = size - filled if tif in ("Gtc", "Alo") else ZERO
        orders = self.orders_of(acct.address)
        if is_buy:
            need = sum((q * level.px for level, q in takes), ZERO) + rest * px
            have = free_spot(self.market, acct, orders, pair.quote.name, self.config.default_leverage)
        else:
            need = filled + rest
            have = free_spot(self.market, acct, orders, pair.base.name, self.config.default_leverage)
        if need > have:
            return self._reject(record, rules.SPOT_BALANCE)
        return self._commit(acct, pair, record, is_buy, px, size, takes, rest, tif)

    def _resting(
        self,
        oid: int,
        acct: Account,
        inst: Instrument,
        record: OrderRecord,
        px: Decimal,
        rest: Decimal,
        size: Decimal,
        tif: str,
    ) -> RestingOrder:
        return RestingOrder(
            oid=oid,
            account=acct.address,
            coin=inst.coin,
            asset=inst.asset_id,
            is_buy=bool(record.is_buy),
            limit_px=px,
            sz=rest,
            orig_sz=size,
            reduce_only=record.reduce_only,
            tif=tif,
            cloid=record.cloid,
            timestamp=record.time,
            is_spot=inst.is_spot,
        )

    def _commit(
        self,
        acct: Account,
        inst: Instrument,
        record: OrderRecord,
        is_buy: bool,
        px: Decimal,
        size: Decimal,
        takes: list[tuple[Level, Decimal]],
        rest: Decimal,
        tif: str,
    ) -> Status:
        oid = self.next_oid
        self.next_oid += 1
        record.oid = oid
        self.records_by_oid[oid] = record
        for level, qty in takes:
            self.market.consume(inst.coin, not is_buy, level.index, qty)
            self._apply_fill(
                acct,
                inst,
                is_buy,
                qty,
                level.px,
                maker=False,
                oid=oid,
                cloid=record.cloid,
                record=record,
                now=record.time,
            )
        self.refill_after_order(inst.coin)
        record.status_time = record.time
        extra = {"cloid": record.cloid} if record.cloid else {}
        if rest > 0:
            self.open_orders[oid] = self._resting(oid, acct, inst, record, px, rest, size, tif)
            record.status, record.sz_left = "resting", rest
            return {"resting": {"oid": oid, **extra}}
        record.status, record.sz_left = "filled", ZERO
        avg = record.avg_px or px
        return {"filled": {"totalSz": fmt(record.filled_sz), "avgPx": fmt_places(avg, 8), "oid": oid, **extra}}

    # ---- fills ----------------------------------------------------------------------------

    def _apply_fill(
        self,
        acct: Account,
        inst: Instrument,
        is_buy: bool,
        qty: Decimal,
        px: Decimal,
        maker: bool,
        oid: int,
        cloid: str | None,
        record: OrderRecord,
        now: int,
    ) -> None:
        if isinstance(inst, PerpAsset):
            book = self.book(acct, inst)
            pos = book.positions.get(inst.name)
            start = pos.szi if pos else ZERO
            rate = self.perp_fee_rate(acct, inst, maker)
            fee, closed = ledger.apply_perp(book, inst, is_buy, qty, px, rate, self.config.default_leverage)
            after = start + (qty if is_buy else -qty)
            direction = ledger.perp_dir(start, after)
            fee_token = self.market.collateral_name(inst.dex)
        else:
            start = acct.spot.get(inst.base.name, ZERO)
            rate = ledger.fee_rate(acct, self.config, True, maker)
            fee, closed, fee_token = ledger.apply_spot(acct, inst, is_buy, qty, px, rate)
            direction = "Buy" if is_buy else "Sell"
        record.filled_sz += qty
        record.notional += qty * px
        record.fee += fee
        tid = self.next_tid
        self.next_tid += 1
        data: dict[str, Any] = {
            "coin": inst.coin,
            "px": fmt(px),
            "sz": fmt(qty),
            "side": "B" if is_buy else "A",
            "time": now,
            "startPosition": fmt(start),
            "dir": direction,
            "closedPnl": fmt_usd(closed),
            "hash": f"0x{tid:064x}",
            "oid": oid,
            "crossed": not maker,
            "fee": fmt(fee),
            "tid": tid,
            "feeToken": fee_token,
        }
        if cloid:
            data["cloid"] = cloid
        self.fills.append(Fill(account=acct.address, data=data))

    # ---- cancels --------------------------------------------------------------------------

    def _cancel_order(self, order: RestingOrder, now: int) -> None:
        self.open_orders.pop(order.oid, None)
        record = self.records_by_oid.get(order.oid)
        if record is not None:
            record.status, record.status_time = "canceled", now

    def cancel(self, acct: Account, asset: Any, oid: Any) -> Status | str:
        order = self.open_orders.get(oid) if isinstance(oid, int) else None
        if order is None or order.account != acct.address or order.asset != asset:
            return {"error": self._suffix(rules.MISSING_ORDER, asset)}
        self._cancel_order(order, self.clock())
        return "success"

    def cancel_by_cloid(self, acct: Account, asset: Any, cloid: Any) -> Status | str:
        for order in self.open_orders.values():
            if order.account == acct.address and order.asset == asset and order.cloid == cloid:
                self._cancel_order(order, self.clock())
                return "success"
        return {"error": self._suffix(rules.MISSING_ORDER, asset)}

    def schedule_cancel(self, acct: Account, when: int | None) -> str | None:
        if when is not None and when < self.clock() + 5000:
            return rules.SCHEDULE_TOO_EARLY
        acct.scheduled_cancel = when
        return None

    # ---- leverage and transfers -------------------------------------------------------------

    def update_leverage(self, acct: Account, asset_id: Any, is_cross: bool, leverage: Any) -> str | None:
        """Returns the refusal message, or None when done."""
        inst = self.market.instrument(asset_id) if isinstance(asset_id, int) else None
        if not isinstance(inst, PerpAsset):
            return rules.UNKNOWN_ASSET
        if isinstance(leverage, bool) or not isinstance(leverage, int) or not 1 <= leverage <= inst.max_leverage:
            return rules.INVALID_LEVERAGE
        if is_cross and inst.only_isolated:
            return rules.CROSS_NOT_ALLOWED
        acct = self.book(acct, inst)  # from here on, the clearinghouse of the asset's dex
        current = leverage_for(acct, inst, self.config.default_leverage)
        pos = acct.positions.get(inst.name)
        if pos is not None and current.is_cross != is_cross:
            return rules.SWITCH_LEVERAGE_TYPE
        trial = acct.clone()
        trial.leverage[inst.name] = LeverageSetting(leverage, is_cross)
        tpos = trial.positions.get(inst.name)
        if tpos is not None and not is_cross:
            # isolated: top the position's margin up to what the new leverage needs
            mark = inst.mark or tpos.entry_px
            needed = abs(tpos.szi) * mark / leverage
            equity = tpos.iso_raw + tpos.szi * mark
            if needed > equity:
                add = (needed - equity).quantize(USD_PLACES, rounding=ROUND_HALF_UP)
                tpos.iso_raw += add
                trial.perp_raw -= add
        if pos is not None and self.available(trial) < 0:
            return rules.LEVERAGE_MARGIN
        acct.perp_raw = trial.perp_raw
        acct.positions = trial.positions
        acct.leverage = trial.leverage
        return None

    def usd_class_transfer(self, acct: Account, amount: Decimal, to_perp: bool) -> str | None:
        """Move USDC between the perp and spot ledgers (standard mode only)."""
        if acct.pooled:
            return rules.UNIFIED_DISABLED
        if amount <= 0:
            return rules.INVALID_AMOUNT
        usdc = self.market.usdc().name
        if to_perp:
            if amount > free_spot(self.market, acct, self.orders_of(acct.address), usdc, self.config.default_leverage):
                return rules.TRANSFER_BALANCE
            acct.spot[usdc] = acct.spot.get(usdc, ZERO) - amount
            acct.perp_raw += amount
        else:
            summary = perp_summary(self.market, acct, self.orders_of(acct.address), self.config.default_leverage)
            if amount > summary.withdrawable:
                return rules.TRANSFER_BALANCE
            acct.perp_raw -= amount
            acct.spot[usdc] = acct.spot.get(usdc, ZERO) + amount
        return None

    def send_asset(
        self, acct: Account, destination: str, source: str, target: str, token: str, amount: Decimal
    ) -> str | None:
        """sendAsset: ``token`` from ``acct``'s ``source`` ("spot", "" the main perp dex, or a
        builder dex) to ``destination``'s ``target``. A perp dex side must be in its collateral
        token; a pooled (unified/portfolio) account's main perp side is its spot balance."""
        market = self.market
        if token not in market.token_by_name:
            return rules.SEND_ASSET_UNKNOWN_TOKEN.format(token=token)
        for dex in (source, target):
            if dex != "spot" and not market.has_dex(dex):
                return rules.SEND_ASSET_DEX.format(dex=dex)
            if dex != "spot" and market.collateral_name(dex) != token:
                return rules.SEND_ASSET_TOKEN.format(dex=dex or '""', token=token)
        orders = self.orders_of(acct.address)
        if source == "spot" or (source == "" and acct.pooled):
            have = free_spot(market, acct, orders, token, self.config.default_leverage)
        else:
            book = acct.clearinghouse(source)
            assert book is not None
            have = perp_summary(market, book, orders, self.config.default_leverage).withdrawable
        if amount > have:
            return rules.SEND_ASSET_BALANCE
        self._move(acct, source, token, -amount)
        self._move(self.ensure_account(destination), target, token, amount)
        return None

    def _move(self, acct: Account, dex: str, token: str, amount: Decimal) -> None:
        if dex == "spot" or (dex == "" and acct.pooled):
            acct.spot[token] = acct.spot.get(token, ZERO) + amount
        else:
            book = acct.clearinghouse(dex)
            assert book is not None
            book.perp_raw += amount

    def approve_agent(self, account: str, agent: str, name: str) -> None:
        """Register ``agent`` for ``account``; an unnamed approval replaces the previous unnamed
        agent, a named one the agent of the same name."""
        key, agent_key = account.lower(), agent.lower()
        for addr, info in list(self.agents.items()):
            if info.account == key and info.name == name:
                del self.agents[addr]
        self.agents[agent_key] = Agent(account=key, name=name)
        self.ensure_account(key)
