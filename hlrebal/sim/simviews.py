"""What the Simulator shows a test or a rehearsal: the orders it received, an account (and each of its
clearinghouses) in Decimals, the leverage a coin trades at, mids, the perp names and the TWAPs."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim.accounts import Account, leverage_for, perp_summary
from hlrebal.sim.market import PerpAsset

if TYPE_CHECKING:
    from hlrebal.sim.config import SimConfig
    from hlrebal.sim.engine import Engine


class SimViews:
    """The Simulator's read-only views (it holds the lock, the engine and the config)."""

    _lock: threading.RLock
    engine: Engine
    config: SimConfig

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Every individual order received (rejected ones too), oldest first."""
        with self._lock:
            return [record.as_dict() for record in self.engine.records]

    def account(self, address: str) -> dict[str, Any]:
        """A read-only view of an account, in Decimals, for tests."""
        with self._lock:
            self.engine.tick()
            engine = self.engine
            acct = engine.account(address)
            if acct is None:
                return {
                    "address": address.lower(),
                    "exists": False,
                    "mode": "default",
                    "usdc": Decimal(0),
                    "account_value": Decimal(0),
                    "positions": {},
                    "spot": {},
                    "open_orders": [],
                    "dexes": {},
                }
            return {
                "address": acct.address,
                "exists": True,
                "mode": acct.mode,
                **self._perp_view(acct),
                "spot": {t: v for t, v in acct.spot.items() if v != 0},
                "open_orders": sorted(o.oid for o in engine.orders_of(acct.address)),
                "dexes": {name: self._perp_view(part) for name, part in sorted(acct.dexes.items())},
            }

    def _perp_view(self, book: Account) -> dict[str, Any]:
        """One clearinghouse (main, or a builder dex's) in Decimals."""
        engine = self.engine
        orders = engine.orders_of(book.address)
        summary = perp_summary(engine.market, book, orders, engine.config.default_leverage)
        positions = {}
        for coin, pos in book.positions.items():
            asset = engine.market.perp_by_name[coin]
            setting = leverage_for(book, asset, engine.config.default_leverage)
            positions[coin] = {
                "szi": pos.szi,
                "entry_px": pos.entry_px,
                "leverage": setting.value,
                "is_cross": setting.is_cross,
                "iso_raw": pos.iso_raw,
            }
        view: dict[str, Any] = {
            "usdc": book.perp_raw,
            "account_value": summary.account_value,
            "withdrawable": summary.withdrawable,
            "margin_used": summary.margin_used,
            "available": engine.available(book, orders),
            "positions": positions,
        }
        if book.dex:
            view["open_orders"] = sorted(
                o.oid for o in orders if (a := engine.market.perp_by_name.get(o.coin)) is not None and a.dex == book.dex
            )
        return view

    def leverage(self, address: str, coin: str) -> tuple[int, bool]:
        """(leverage, is_cross) the account would trade ``coin`` at."""
        with self._lock:
            asset = self.engine.market.perp_by_name[coin]
            acct = self.engine.book(self.engine.ensure_account(address), asset)
            setting = leverage_for(acct, asset, self.config.default_leverage)
            return setting.value, setting.is_cross

    def mid(self, coin: str) -> Decimal | None:
        with self._lock:
            inst = self.engine.market.resolve(coin)
            return inst.book_mid if inst is not None else None

    def perp_names(self, dex: str | None = None) -> list[str]:
        """Perp coins of one dex ("" the main dex), or of every dex when None."""
        with self._lock:
            market = self.engine.market
            perps = market.all_perps() if dex is None else market.dex_perps(dex)
            return [p.name for p in perps if isinstance(p, PerpAsset)]

    def twaps(self, address: str | None = None) -> list[dict[str, Any]]:
        """The TWAPs (of one address, or all): id, coin, side, size, executed, status, slices."""
        with self._lock:
            self.engine.tick()
            out = []
            for twap in sorted(self.engine.twaps.values(), key=lambda t: t.twap_id):
                if address is None or twap.account == address.lower():
                    out.append(
                        {
                            "twap_id": twap.twap_id,
                            "account": twap.account,
                            "coin": twap.coin,
                            "is_buy": twap.is_buy,
                            "sz": twap.sz,
                            "executed_sz": twap.executed_sz,
                            "executed_ntl": twap.executed_ntl,
                            "status": twap.status,
                            "slices": twap.slices,
                            "done_slices": twap.done_slices,
                        }
                    )
            return out
