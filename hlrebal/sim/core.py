"""The engine's state and the bookkeeping every operation shares: accounts, fee rates, margin,
fills and cancels.

``EngineCore`` is the base of ``Engine`` (engine.py): placement.py adds order placement on
top, engine.py prices, timers, leverage and transfers. The engine knows nothing of HTTP or
signatures: the caller (actions.py) has already decided which account acts and which address
signed. Every public method expects the simulator's lock to be held.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim import ledger
from hlrebal.sim.accounts import Account, RestingOrder, available_margin
from hlrebal.sim.auth import NonceBook
from hlrebal.sim.config import SimConfig
from hlrebal.sim.market import Instrument, Market, PerpAsset
from hlrebal.sim.numbers import USD_PLACES, ZERO, fmt, fmt_usd
from hlrebal.sim.records import ZERO_HASH, Agent, Fill, LedgerUpdate, OrderRecord, Twap, Vault

if TYPE_CHECKING:
    from hlrebal.sim.flow import FlowState
    from hlrebal.sim.history import History

Status = dict[str, Any]
# A builder named by an order: (address, fee in tenths of a basis point).
Builder = tuple[str, int]

__all__ = ["Agent", "Builder", "EngineCore", "Fill", "OrderRecord", "Status", "Vault"]


class EngineCore:
    """State of the simulated exchange and the bookkeeping shared by every operation."""

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
        self.twaps: dict[int, Twap] = {}
        self.next_twap_id = 1
        self.ledger: list[LedgerUpdate] = []  # deposits, transfers (userNonFundingLedgerUpdates)
        self.funding_log: list[LedgerUpdate] = []  # funding payments (userFunding)
        self.next_hash = 1
        # Timed processes have run up to this time (epoch ms); None until the first tick.
        self.last_tick: int | None = None
        self.next_funding: int | None = None
        # Set while a timed event runs, so that what it does carries the event's own time.
        self._event_time: int | None = None
        self.flow_state: FlowState | None = None  # market flow (flow.py), when configured
        self.history: History | None = None  # candles, funding and replay (history.py)

    def now(self) -> int:
        """The time of what is happening: a timed event's own time, else the clock."""
        return self._event_time if self._event_time is not None else self.clock()

    def new_hash(self) -> str:
        """A fresh transaction hash (the sim's are counters, unique per engine)."""
        value = self.next_hash
        self.next_hash += 1
        return f"0x{value:064x}"

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

    def _suffix(self, message: str, asset: Any) -> str:
        return f"{message} asset={asset}" if self.config.error_suffix else message

    # ---- fills ----------------------------------------------------------------------------

    def apply_fill(
        self,
        acct: Account,
        inst: Instrument,
        is_buy: bool,
        qty: Decimal,
        px: Decimal,
        maker: bool,
        record: OrderRecord,
        now: int,
        builder: Builder | None = None,
    ) -> None:
        """Book one fill of ``record``'s order on ``acct`` and list it in userFills."""
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
        acct.cum_vlm += qty * px
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
            "hash": ZERO_HASH if record.twap_id is not None else f"0x{tid:064x}",
            "oid": record.oid,
            "crossed": not maker,
            "fee": fmt(fee),
            "tid": tid,
            "feeToken": fee_token,
            "twapId": record.twap_id,
        }
        builder_fee = self._charge_builder(acct, inst, qty * px, builder)
        if builder_fee > 0:
            data["builderFee"] = fmt(builder_fee)
        if record.cloid:
            data["cloid"] = record.cloid
        self.fills.append(Fill(account=acct.address, data=data))

    def _charge_builder(self, acct: Account, inst: Instrument, notional: Decimal, builder: Builder | None) -> Decimal:
        """Builder fee on one fill: ``f`` tenths of a basis point of its notional, taken from
        the clearinghouse that traded (perps) or the quote balance (spot)."""
        if builder is None or builder[1] <= 0:
            return ZERO
        fee = (notional * builder[1] / Decimal(100_000)).quantize(USD_PLACES, rounding=ROUND_HALF_UP)
        if isinstance(inst, PerpAsset):
            self.book(acct, inst).perp_raw -= fee
        else:
            quote = inst.quote.name
            acct.spot[quote] = acct.spot.get(quote, ZERO) - fee
        return fee

    # ---- cancels --------------------------------------------------------------------------

    def cancel_order(self, order: RestingOrder, now: int, status: str = "canceled") -> None:
        """Take ``order`` off the book; its record ends with ``status``."""
        self.open_orders.pop(order.oid, None)
        record = self.records_by_oid.get(order.oid)
        if record is not None:
            record.status, record.status_time = status, now

    def fill_resting(self, order: RestingOrder, qty: Decimal, px: Decimal, now: int) -> Decimal:
        """Fill up to ``qty`` of a resting order as maker at ``px``; returns the size filled.

        A reduce-only order fills at most the position; one whose position is gone (or that
        would now increase it) is canceled ("reduceOnlyCanceled")."""
        inst = self.market.by_coin(order.coin)
        assert inst is not None
        acct = self.ensure_account(order.account)
        record = self.records_by_oid[order.oid]
        qty = min(qty, order.sz)
        if order.reduce_only and isinstance(inst, PerpAsset):
            pos = self.book(acct, inst).positions.get(inst.name)
            szi = pos.szi if pos else ZERO
            if szi == 0 or order.is_buy == (szi > 0):
                self.cancel_order(order, now, "reduceOnlyCanceled")
                return ZERO
            qty = min(qty, abs(szi))
        builder = (record.builder, record.builder_fee) if record.builder else None
        self.apply_fill(acct, inst, order.is_buy, qty, px, maker=True, record=record, now=now, builder=builder)
        order.sz -= qty
        record.sz_left = order.sz
        if order.sz <= 0:
            self.open_orders.pop(order.oid, None)
            record.status, record.status_time = "filled", now
        elif order.reduce_only and isinstance(inst, PerpAsset) and inst.name not in self.book(acct, inst).positions:
            self.cancel_order(order, now, "reduceOnlyCanceled")
        return qty
