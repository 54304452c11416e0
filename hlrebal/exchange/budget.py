"""What requests cost: the exchange's weights per info type and per order batch, and the log of
every request a client made, by kind and by stage."""

from __future__ import annotations

from dataclasses import dataclass, field

#: info request weights against the exchange's per-IP budget (1200 a minute); every other type is 20
INFO_WEIGHTS: dict[str, int] = {
    "l2Book": 2,
    "allMids": 2,
    "clearinghouseState": 2,
    "orderStatus": 2,
    "spotClearinghouseState": 2,
    "exchangeStatus": 2,
    "userRole": 60,
}
DEFAULT_INFO_WEIGHT = 20
#: orders per extra unit of weight of an /exchange request (weight 1 + floor(orders / 40))
ORDERS_PER_WEIGHT = 40


def info_weight(kind: str) -> int:
    """The weight of one info request of type ``kind``."""
    return INFO_WEIGHTS.get(kind, DEFAULT_INFO_WEIGHT)


def exchange_weight(n_orders: int) -> int:
    """The weight of one /exchange request carrying ``n_orders`` orders (1 for other actions)."""
    return 1 + n_orders // ORDERS_PER_WEIGHT


@dataclass
class RequestLog:
    """Requests made, by kind ("info.clearinghouseState", "exchange.order") and by stage.

    ``weight`` is their weight against the per-IP budget; ``actions`` what they count against the
    address budget (each order of a batch is one, every other action one). The executor names the
    ``stage`` ("phase 1", "read-back", ...) so that benchmarks can say where requests go.
    """

    counts: dict[str, int] = field(default_factory=dict)
    stage: str = ""
    by_stage: dict[str, dict[str, int]] = field(default_factory=dict)
    stage_weight: dict[str, int] = field(default_factory=dict)
    weight: int = 0
    actions: int = 0

    def add(self, kind: str, *, weight: int | None = None, actions: int = 0) -> None:
        if weight is None:
            weight = info_weight(kind.removeprefix("info.")) if kind.startswith("info.") else 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        stage = self.by_stage.setdefault(self.stage, {})
        stage[kind] = stage.get(kind, 0) + 1
        self.stage_weight[self.stage] = self.stage_weight.get(self.stage, 0) + weight
        self.weight += weight
        self.actions += actions

    def total(self, prefix: str) -> int:
        return sum(n for k, n in self.counts.items() if k.startswith(prefix))

    def copy(self) -> RequestLog:
        return RequestLog(dict(self.counts), weight=self.weight, actions=self.actions)

    def since(self, earlier: RequestLog) -> RequestLog:
        """What was added after ``earlier`` (a :meth:`copy` of this log)."""
        counts = {k: n - earlier.counts.get(k, 0) for k, n in self.counts.items()}
        return RequestLog(
            {k: n for k, n in counts.items() if n},
            weight=self.weight - earlier.weight,
            actions=self.actions - earlier.actions,
        )
