"""The exchange's state and its business logic, assembled: prices, timers, cancels, modify,
leverage and agents here, on top of transfers.py, placement.py and core.py.

The engine knows nothing of HTTP or signatures: the caller (actions.py) has already decided
which account acts and which address signed. Every public method expects the simulator's lock
to be held.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hlrebal.sim import rules
from hlrebal.sim.accounts import Account, LeverageSetting, RestingOrder, leverage_for
from hlrebal.sim.core import Builder, Status
from hlrebal.sim.market import Instrument, PerpAsset
from hlrebal.sim.numbers import USD_PLACES
from hlrebal.sim.records import Agent, Fill, OrderRecord, Vault
from hlrebal.sim.transfers import Transfers

__all__ = ["Agent", "Engine", "Fill", "OrderRecord", "Vault"]

MODIFY_MISSING = "Cannot modify canceled or filled order"  # from the exchange's binary strings


class Engine(Transfers):
    """State of the simulated exchange and the operations on it."""

    # ---- prices and books -----------------------------------------------------------------

    def set_price(self, coin: str, mid: Decimal, mark: Decimal | None, oracle: Decimal | None) -> None:
        inst = self.market.by_coin(coin)
        if inst is None:
            raise ValueError(f"unknown coin {coin!r}")
        self.move_price(inst, mid, mark if mark is not None else mid, oracle if oracle is not None else mid)

    def move_price(self, inst: Instrument, mid: Decimal | None, mark: Decimal, oracle: Decimal) -> None:
        """New prices for one coin: its book is rebuilt around ``mid`` (the mark when None) and
        resting orders the new book crosses fill at their limit price, as makers."""
        inst.mid = mid
        inst.mark = mark
        if isinstance(inst, PerpAsset):
            inst.oracle = oracle
        self.market.refill(inst.coin)
        self.fill_crossed_resting(inst)

    def fill_crossed_resting(self, inst: Instrument) -> None:
        """Resting orders the synthetic book now crosses fill at their limit price, as makers."""
        if not any(o.coin == inst.coin for o in self.open_orders.values()):
            return
        bids, asks = self.market.levels(inst, self.config)
        best_bid = bids[0].px if bids else None
        best_ask = asks[0].px if asks else None
        now = self.now()
        for order in sorted(self.open_orders.values(), key=lambda o: o.oid):
            if order.coin != inst.coin:
                continue
            crossed = (order.is_buy and best_ask is not None and order.limit_px >= best_ask) or (
                not order.is_buy and best_bid is not None and order.limit_px <= best_bid
            )
            if crossed:
                self.fill_resting(order, order.sz, order.limit_px, now)

    # ---- timers ---------------------------------------------------------------------------

    def tick(self, now: int | None = None) -> bool:
        """Run every timed process due up to ``now`` (default: the clock): market flow, history
        replay, funding, TWAP slices, scheduled cancels. Returns whether anything ran."""
        from hlrebal.sim import timeline

        return timeline.advance(self, self.clock() if now is None else now)

    def run_timers(self) -> None:
        self.tick()

    # ---- cancels and modify ---------------------------------------------------------------

    def cancel(self, acct: Account, asset: Any, oid: Any) -> Status | str:
        order = self.open_orders.get(oid) if isinstance(oid, int) else None
        if order is None or order.account != acct.address or order.asset != asset:
            return {"error": self._suffix(rules.MISSING_ORDER, asset)}
        self.cancel_order(order, self.now())
        return "success"

    def find_open(self, acct: Account, oid: Any) -> RestingOrder | None:
        """The account's resting order with this oid (int) or cloid ("0x..." string)."""
        if isinstance(oid, int) and not isinstance(oid, bool):
            order = self.open_orders.get(oid)
            return order if order is not None and order.account == acct.address else None
        if isinstance(oid, str):
            for order in self.open_orders.values():
                if order.account == acct.address and order.cloid is not None and order.cloid.lower() == oid.lower():
                    return order
        return None

    def cancel_by_cloid(self, acct: Account, asset: Any, cloid: Any) -> Status | str:
        order = self.find_open(acct, cloid) if isinstance(cloid, str) else None
        if order is None or order.asset != asset:
            return {"error": self._suffix(rules.MISSING_ORDER, asset)}
        self.cancel_order(order, self.now())
        return "success"

    def modify(
        self, acct: Account, signer: str, nonce: int, oid: Any, wire: dict[str, Any], builder: Builder | None = None
    ) -> Status:
        """Replace a resting order by a new one (a new oid, a new place in the queue, as on the
        exchange). If the new order is refused, the old one stays as it was (GUESS)."""
        order = self.find_open(acct, oid)
        if order is None or order.asset != wire.get("a"):
            return {"error": MODIFY_MISSING}
        record = self.records_by_oid[order.oid]
        saved = (record.status, record.status_time)
        self.cancel_order(order, self.now())
        status = self.place_one(acct, signer, nonce, wire, builder)
        if "error" in status:
            self.open_orders[order.oid] = order
            record.status, record.status_time = saved
        return status

    # ---- leverage and agents -------------------------------------------------------------

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

    def approve_agent(self, account: str, agent: str, name: str, valid_until: int | None = None) -> None:
        """Register ``agent`` for ``account``; an unnamed approval replaces the previous unnamed
        agent, a named one the agent of the same name."""
        key, agent_key = account.lower(), agent.lower()
        for addr, info in list(self.agents.items()):
            if info.account == key and info.name == name:
                del self.agents[addr]
        self.agents[agent_key] = Agent(account=key, name=name, valid_until=valid_until)
        self.ensure_account(key)
