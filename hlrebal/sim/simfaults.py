"""Fault injection on the Simulator: failed or dropped answers, latency, forced rejections,
price moves between requests, and fills that race the client's next cancel or modify."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim.faults import Fault, FaultPlan, Latency, PriceMove, RestingFill
from hlrebal.sim.numbers import round_size_down, to_decimal

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine


class FaultControls:
    """The Simulator's fault-injection methods (it holds the lock, the engine and the plan)."""

    _lock: threading.RLock
    _faults: FaultPlan
    engine: Engine

    def _changed(self) -> None:
        raise NotImplementedError

    def _coin(self, name: str) -> str:
        raise NotImplementedError

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        endpoint: str | None = None,
        info_type: str | None = None,
        action_type: str | None = None,
        when: str = "before",
        body: str = "",
    ) -> None:
        """Answer the next ``n`` matching requests with HTTP ``status`` (body empty by default).
        ``when="after"``: process the request first, then answer with the error."""
        with self._lock:
            self._faults.add(Fault("fail", n, status, endpoint, info_type, action_type, when, body))  # type: ignore[arg-type]

    def drop_next(
        self,
        n: int = 1,
        endpoint: str | None = None,
        info_type: str | None = None,
        action_type: str | None = None,
        when: str = "before",
    ) -> None:
        """Close the connection of the next ``n`` matching requests without any answer."""
        with self._lock:
            self._faults.add(Fault("drop", n, 0, endpoint, info_type, action_type, when))  # type: ignore[arg-type]

    def add_latency(self, seconds: float, count: int | None = None, endpoint: str | None = None) -> None:
        """Delay answers by ``seconds`` (the next ``count`` requests, or all when None)."""
        with self._lock:
            self._faults.latencies.append(Latency(seconds, count, endpoint))

    def reject_order(self, k: int, message: str) -> None:
        """The k-th individual order received from now on (1-based) gets {"error": message}."""
        if k < 1:
            raise ValueError("k is 1-based")
        with self._lock:
            self.engine.pending_rejects[self.engine.orders_received + k] = message

    def move_price_after(self, n_requests: int, coin: str, mid: Decimal | str | int | float) -> None:
        """Set ``coin``'s mid (and mark, oracle) once ``n_requests`` more requests are answered."""
        with self._lock:
            coin = self._coin(coin)
            if n_requests <= 0:
                self.engine.set_price(coin, to_decimal(mid), None, None)
            else:
                self._faults.moves.append(PriceMove(n_requests, coin, to_decimal(mid)))

    def fill_resting_before_next(
        self,
        action_type: str = "cancel",
        fraction: Decimal | str | float = 1,
        oid: int | None = None,
        n: int = 1,
    ) -> None:
        """A fill that beats the client's next ``action_type`` request ("cancel",
        "cancelByCloid", "modify", "batchModify", "order", ...): just before that request is
        processed, ``fraction`` of each resting order it names (or of order ``oid``) fills as
        maker at its limit price. The cancel then finds the order filled (or cancels only
        the rest)."""
        share = to_decimal(fraction)
        if not 0 < share <= 1:
            raise ValueError("fraction must be in (0, 1]")
        with self._lock:
            self._faults.resting_fills.append(RestingFill(n, action_type, share, oid))

    def fill_resting(self, oid: int, size: Decimal | str | float | None = None) -> Decimal:
        """Fill a resting order now, as maker at its limit price (all of it by default);
        returns the size filled."""
        with self._lock:
            order = self.engine.open_orders.get(oid)
            if order is None:
                raise ValueError(f"no resting order {oid}")
            qty = order.sz if size is None else to_decimal(size)
            filled = self.engine.fill_resting(order, qty, order.limit_px, self.engine.now())
            self._changed()
            return filled

    def _resting_fills(self, kind: str | None, body: Any) -> None:
        item = self._faults.take_resting_fill(kind)
        if item is None:
            return
        oids = [item.oid] if item.oid is not None else _named_orders(self.engine, body)
        now = self.engine.now()
        for oid in oids:
            order = self.engine.open_orders.get(oid) if isinstance(oid, int) else None
            inst = self.engine.market.by_coin(order.coin) if order is not None else None
            if order is not None and inst is not None:
                qty = order.sz if item.fraction == 1 else round_size_down(order.sz * item.fraction, inst.sz_decimals)
                if qty > 0:
                    self.engine.fill_resting(order, qty, order.limit_px, now)

    def clear_faults(self) -> None:
        """Forget every pending fault, latency, price move and resting fill."""
        with self._lock:
            self._faults = FaultPlan()


def _named_orders(engine: Any, body: Any) -> list[Any]:
    """The oids an /exchange body names: cancels, cancels by cloid, modifies."""
    action = body.get("action") if isinstance(body, dict) else None
    if not isinstance(action, dict):
        return []
    kind = action.get("type")
    if kind == "cancel":
        return [c.get("o") for c in action.get("cancels") or [] if isinstance(c, dict)]
    if kind in ("modify", "batchModify"):
        items = [action] if kind == "modify" else [m for m in action.get("modifies") or [] if isinstance(m, dict)]
        return [_oid(engine, m.get("oid")) for m in items]
    if kind == "cancelByCloid":
        return [_oid(engine, c.get("cloid")) for c in action.get("cancels") or [] if isinstance(c, dict)]
    return []


def _oid(engine: Any, ref: Any) -> Any:
    """An oid from an oid or a cloid."""
    if isinstance(ref, str):
        for order in engine.open_orders.values():
            if order.cloid is not None and order.cloid.lower() == ref.lower():
                return order.oid
        return None
    return ref
