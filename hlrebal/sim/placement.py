"""Placing orders: the exchange's per-order checks, matching against the book (synthetic depth
and other accounts' resting orders), margin and balance checks, and resting the remainder."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlrebal.sim import book as orderbook
from hlrebal.sim import ledger, rules
from hlrebal.sim.accounts import Account, RestingOrder, free_spot
from hlrebal.sim.core import Builder, EngineCore, OrderRecord, Status
from hlrebal.sim.market import Instrument, PerpAsset, SpotPair
from hlrebal.sim.numbers import ZERO, fmt, fmt_places


def fmt_bbo(px: Decimal | None) -> str:
    """A price as the exchange writes it in the post-only refusal: "66621", "1800.1"."""
    if px is None:
        return "None"  # GUESS: an empty side
    return format(px.normalize(), "f")


class Placement(EngineCore):
    """Order placement on top of the shared bookkeeping."""

    def refill_after_order(self, coin: str) -> None:
        if self.config.refill == "immediate":
            self.market.refill(coin)

    def _reject(self, record: OrderRecord, message: str, suffix: bool = True) -> Status:
        text = self._suffix(message, record.asset) if suffix else message
        record.status, record.error, record.status_time = "error", text, record.time
        if record.sz is not None:
            record.sz_left = record.sz
        return {"error": text}

    def place_orders(
        self,
        account: Account,
        signer: str | None,
        nonce: int | None,
        wires: list[dict[str, Any]],
        builder: Builder | None = None,
    ) -> list[Status]:
        """Place a batch; one status per order, in order."""
        return [self.place_one(account, signer, nonce, wire, builder) for wire in wires]

    def new_record(self, acct: Account, signer: str | None, nonce: int | None, wire: dict[str, Any]) -> OrderRecord:
        """The record of an order as received, with its oid (every order gets one, refused
        orders too: orderStatus and historicalOrders show it)."""
        self.orders_received += 1
        order_type = wire.get("t") if isinstance(wire.get("t"), dict) else {}
        limit = order_type.get("limit") if isinstance(order_type, dict) else None
        record = OrderRecord(
            seq=self.orders_received,
            time=self.now(),
            nonce=nonce,
            signer=signer,
            account=acct.address,
            asset=wire.get("a"),
            coin=None,
            is_buy=bool(wire.get("b")),
            px=None,
            sz=None,
            reduce_only=bool(wire.get("r")),
            tif=limit.get("tif") if isinstance(limit, dict) else None,
            cloid=wire.get("c") if isinstance(wire.get("c"), str) else None,
            oid=self.next_oid,
        )
        self.next_oid += 1
        self.records.append(record)
        self.records_by_oid[record.oid] = record  # type: ignore[index]
        return record

    def place_one(
        self,
        acct: Account,
        signer: str | None,
        nonce: int | None,
        wire: dict[str, Any],
        builder: Builder | None = None,
        record: OrderRecord | None = None,
    ) -> Status:
        """Check and place one order (``record``: one made already, e.g. a TWAP slice's)."""
        record = record or self.new_record(acct, signer, nonce, wire)
        if builder is not None:
            record.builder, record.builder_fee = builder
        asset = record.asset
        inst = self.market.instrument(asset) if isinstance(asset, int) and not isinstance(asset, bool) else None
        if inst is not None:
            record.coin = inst.coin
        forced = self.pending_rejects.pop(record.seq, None)
        if forced is not None:
            return self._reject(record, forced, suffix=False)
        if inst is None:
            return self._reject(record, rules.UNKNOWN_ASSET)
        parsed = rules.check_size_and_price(inst, wire.get("s"), wire.get("p"))
        if isinstance(parsed, str):
            return self._reject(record, parsed)
        record.sz, record.px = parsed.size, parsed.px
        if record.tif not in ("Gtc", "Ioc", "Alo"):
            return self._reject(record, rules.UNSUPPORTED_ORDER_TYPE)
        band = rules.check_price_band(inst, parsed.px)
        if band is not None:
            return self._reject(record, band)
        if isinstance(inst, PerpAsset):
            return self._place_perp(acct, inst, record, parsed.size, parsed.px, record.tif)
        return self._place_spot(acct, inst, record, parsed.size, parsed.px, record.tif)

    def _walk(
        self, acct: Account, inst: Instrument, is_buy: bool, px: Decimal, size: Decimal, tif: str, record: OrderRecord
    ) -> tuple[orderbook.Sweep, Status | None]:
        """What an order would take from the book, or the rejection of an Alo/IOC order."""
        if tif == "Alo":
            bid, ask = orderbook.touch(self.market, self.config, self.open_orders, inst)
            if (is_buy and ask is not None and px >= ask) or (not is_buy and bid is not None and px <= bid):
                message = rules.BAD_ALO.format(bid=fmt_bbo(bid), ask=fmt_bbo(ask))
                return orderbook.Sweep(), self._reject(record, message)
            return orderbook.Sweep(), None
        plan = orderbook.sweep(self.market, self.config, self.open_orders, inst, is_buy, size, px, acct.address)
        if tif == "Ioc" and not plan.takes:
            bids, asks = orderbook.display(self.market, self.config, self.open_orders, inst)
            opposite = asks if is_buy else bids
            return plan, self._reject(record, rules.IOC_CANCEL if opposite else rules.NO_LIQUIDITY)
        return plan, None

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
        small = rules.check_min_notional(asset, size, px) if record.twap_id is None else None  # slices: no minimum
        if small is not None and not (self.config.allow_dust_close and record.reduce_only and closes_all):
            return self._reject(record, small)
        increasing = not record.reduce_only and (szi == 0 or is_buy == (szi > 0) or size > abs(szi))
        if asset.is_delisted and increasing:
            return self._reject(record, rules.DELISTED)
        plan, rejection = self._walk(acct, asset, is_buy, px, size, tif, record)
        if rejection is not None:
            return rejection
        rest = size - plan.filled if tif in ("Gtc", "Alo") else ZERO
        if increasing:
            trial = book.clone()
            rate = self.perp_fee_rate(acct, asset, False)
            for take in plan.takes:
                ledger.apply_perp(trial, asset, is_buy, take.qty, take.px, rate, self.config.default_leverage)
            orders = self.orders_of(acct.address)
            if rest > 0:
                orders.append(self._resting(0, acct, asset, record, px, rest, size, tif))
            if self.available(trial, orders) < 0:
                return self._reject(record, rules.MARGIN)
        return self._commit(acct, asset, record, is_buy, px, size, plan, rest, tif)

    def _place_spot(
        self, acct: Account, pair: SpotPair, record: OrderRecord, size: Decimal, px: Decimal, tif: str
    ) -> Status:
        is_buy = bool(record.is_buy)
        small = rules.check_min_notional(pair, size, px) if record.twap_id is None else None
        if small is not None:
            return self._reject(record, small)
        plan, rejection = self._walk(acct, pair, is_buy, px, size, tif, record)
        if rejection is not None:
            return rejection
        filled = plan.filled
        rest = size - filled if tif in ("Gtc", "Alo") else ZERO
        orders = self.orders_of(acct.address)
        if is_buy:
            need = sum((t.qty * t.px for t in plan.takes), ZERO) + rest * px
            have = free_spot(self.market, acct, orders, pair.quote.name, self.config.default_leverage)
        else:
            need = filled + rest
            have = free_spot(self.market, acct, orders, pair.base.name, self.config.default_leverage)
        if need > have:
            return self._reject(record, rules.SPOT_BALANCE)
        return self._commit(acct, pair, record, is_buy, px, size, plan, rest, tif)

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

    def _queue_ahead(self, inst: Instrument, is_buy: bool, px: Decimal) -> Decimal:
        """Synthetic size displayed at ``px`` on the order's own side: the queue ahead of it."""
        bids, asks = self.market.levels(inst, self.config)
        for level in bids if is_buy else asks:
            if level.px == px:
                return level.sz
        return ZERO

    def _commit(
        self,
        acct: Account,
        inst: Instrument,
        record: OrderRecord,
        is_buy: bool,
        px: Decimal,
        size: Decimal,
        plan: orderbook.Sweep,
        rest: Decimal,
        tif: str,
    ) -> Status:
        oid = record.oid
        assert oid is not None
        now = record.time
        builder = (record.builder, record.builder_fee) if record.builder else None
        for own in plan.self_trades:
            self.cancel_order(own, now, "selfTradeCanceled")
        for other, ahead in plan.ahead.items():
            if other in self.open_orders:
                self.open_orders[other].ahead = ahead
        for take in plan.takes:
            qty = take.qty
            if take.order is not None:
                qty = self.fill_resting(take.order, qty, take.px, now)
            elif take.level is not None:
                self.market.consume(inst.coin, not is_buy, take.level.rank, qty)
            if qty > 0:
                self.apply_fill(acct, inst, is_buy, qty, take.px, False, record, now, builder)
        self.refill_after_order(inst.coin)
        record.status_time = record.time
        extra = {"cloid": record.cloid} if record.cloid else {}
        if rest > 0:
            order = self._resting(oid, acct, inst, record, px, rest, size, tif)
            order.ahead = self._queue_ahead(inst, is_buy, px)
            self.open_orders[oid] = order
            record.status, record.sz_left = "resting", rest
            return {"resting": {"oid": oid, **extra}}
        record.status, record.sz_left = "filled", ZERO
        avg = record.avg_px or px
        return {"filled": {"totalSz": fmt(record.filled_sz), "avgPx": fmt_places(avg, 8), "oid": oid, **extra}}
