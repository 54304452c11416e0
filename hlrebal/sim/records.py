"""Plain records the engine keeps: orders as received, fills, agents, vaults, TWAPs and ledger
updates. No logic beyond formatting; state.py saves and loads them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlrebal.sim.datarecord import field, record
from hlrebal.sim.numbers import ZERO

ZERO_HASH = "0x" + "0" * 64  # the exchange gives TWAP slice fills a zero hash


@record
class OrderRecord:
    """One individual order as received, and what became of it.

    ``status``: "resting", "filled", "error" (refused at placement: ``error`` holds the
    message), or a cancel status of the exchange ("canceled", "scheduledCancel",
    "selfTradeCanceled", "reduceOnlyCanceled", "marginCanceled").
    """

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
    twap_id: int | None = None  # a TWAP's slice
    builder: str | None = None  # the builder the order named, and its fee in tenths of a bp
    builder_fee: int = 0

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
            "twap_id": self.twap_id,
        }


@record
class Agent:
    account: str
    name: str
    valid_until: int | None = None


@record
class Vault:
    leader: str
    kind: str = "vault"  # "vault" or "subaccount"


@record
class Fill:
    account: str
    data: dict[str, Any] = field(default_factory=dict)


@record
class Twap:
    """A native TWAP order: ``slices`` IOC sub-orders, one every ``interval_ms``."""

    twap_id: int
    account: str
    asset: int
    coin: str
    is_buy: bool
    sz: Decimal
    reduce_only: bool
    minutes: int
    randomize: bool
    start: int
    interval_ms: int
    slices: int
    done_slices: int = 0
    executed_sz: Decimal = ZERO
    executed_ntl: Decimal = ZERO
    status: str = "activated"  # then "finished", "terminated" or "error"
    error: str | None = None
    ended: int | None = None

    @property
    def next_slice(self) -> int | None:
        """When the next slice is due (epoch ms), None once the TWAP has ended."""
        if self.status != "activated":
            return None
        return self.start + self.done_slices * self.interval_ms

    def state(self) -> dict[str, Any]:
        """The exchange's TwapState."""
        from hlrebal.sim.numbers import fmt, fmt_usd

        return {
            "coin": self.coin,
            "user": self.account,
            "side": "B" if self.is_buy else "A",
            "sz": fmt(self.sz),
            "executedSz": fmt(self.executed_sz),
            "executedNtl": fmt_usd(self.executed_ntl),
            "minutes": self.minutes,
            "reduceOnly": self.reduce_only,
            "randomize": self.randomize,
            "timestamp": self.start,
        }


@record
class LedgerUpdate:
    """One entry of userFunding (delta type "funding") or userNonFundingLedgerUpdates."""

    account: str
    time: int
    delta: dict[str, Any]
    hash: str = ZERO_HASH

    def wire(self) -> dict[str, Any]:
        return {"time": self.time, "hash": self.hash, "delta": dict(self.delta)}
