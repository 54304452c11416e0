"""Native TWAP orders: ``twapOrder``, ``twapCancel``, their slices, and the info answers.

The exchange's rules, with sources (see the README for the full list):
- duration 5 minutes or more, at most ``SimConfig.twap_max_minutes`` (the docs say 7 days,
  nktkas/hyperliquid PR #198; older clients cap at 1440); out of range:
  ``Invalid TWAP duration: N min(s)`` (documented example of the exchange endpoint);
- total value (size x mark) at least $100 and at least $10 per minute: the exchange answers
  ``TWAP order value too small. Min is $100.`` (measured live by a client on a 5-minute TWAP)
  and ``... Min is $1200, which is $10 per minute.`` (ccxt's error map): the sim applies
  both floors (an inference from the two messages);
- a sub-order about every 30 s (the order-types page), here every
  ``SimConfig.twap_slice_seconds``; the number of slices is fixed by the duration (2 per
  minute), so a shorter interval only compresses time;
- each sub-order is an IOC at most 3% from the mid; a slice that missed is caught up by later
  ones, each at most 3x the normal size (order-types page);
- slice fills carry ``twapId`` and a zero hash (info endpoint docs, userTwapSliceFills).
Randomize (``t``) is accepted; slices stay evenly spaced and sized.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.sim import rules
from hlrebal.sim.accounts import Account
from hlrebal.sim.market import Instrument, PerpAsset
from hlrebal.sim.numbers import ZERO, fmt, is_on_lot_grid, parse_wire, round_price
from hlrebal.sim.records import OrderRecord, Twap

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

SLICE_SPACING_S = 30  # the exchange's spacing: it fixes the number of slices
SLIPPAGE = Decimal("0.03")
CATCH_UP = 3
MIN_VALUE = Decimal(100)
MIN_PER_MINUTE = Decimal(10)
DURATION = "Invalid TWAP duration: {minutes} min(s)"
TOO_SMALL = "TWAP order value too small. Min is ${min}."
TOO_SMALL_PER_MINUTE = "TWAP order value too small. Min is ${min}, which is $10 per minute."
REDUCE_ONLY = "Reduce-only TWAP order would increase position."  # the exchange's binary strings
MISSING = "TWAP was never placed, already canceled, or filled."  # documented


def _check(engine: Engine, acct: Account, inst: Instrument, spec: dict[str, Any]) -> str | Decimal:
    """The refusal of a TWAP, or its size."""
    minutes = spec["m"]
    if not engine.config.twap_min_minutes <= minutes <= engine.config.twap_max_minutes:
        return DURATION.format(minutes=minutes)
    size = parse_wire(spec["s"])
    if size is None or size <= 0 or not is_on_lot_grid(size, inst.sz_decimals):
        return rules.INVALID_SIZE
    is_buy, reduce_only = spec["b"], spec["r"]
    if isinstance(inst, PerpAsset):
        pos = engine.book(acct, inst).positions.get(inst.name)
        szi = pos.szi if pos else ZERO
        if reduce_only and (szi == 0 or is_buy == (szi > 0)):
            return REDUCE_ONLY
        if inst.is_delisted and not reduce_only:
            return rules.DELISTED
    elif reduce_only:
        return REDUCE_ONLY  # GUESS: spot has no position to reduce
    px = inst.reference or inst.book_mid or ZERO
    value = size * px
    per_minute = MIN_PER_MINUTE * minutes
    if value < MIN_VALUE and per_minute <= MIN_VALUE:
        return TOO_SMALL.format(min=MIN_VALUE)
    if value < per_minute:
        return TOO_SMALL_PER_MINUTE.format(min=per_minute)
    return size


def place(engine: Engine, acct: Account, spec: dict[str, Any]) -> dict[str, Any]:
    """A twapOrder's status: ``{"running": {"twapId": N}}`` or ``{"error": message}``."""
    inst = engine.market.instrument(spec["a"])
    if inst is None:
        return {"error": rules.UNKNOWN_ASSET}
    checked = _check(engine, acct, inst, spec)
    if isinstance(checked, str):
        return {"error": checked}
    now = engine.now()
    twap = Twap(
        twap_id=engine.next_twap_id,
        account=acct.address,
        asset=inst.asset_id,
        coin=inst.coin,
        is_buy=spec["b"],
        sz=checked,
        reduce_only=spec["r"],
        minutes=spec["m"],
        randomize=spec["t"],
        start=now,
        interval_ms=max(1, round(engine.config.twap_slice_seconds * 1000)),
        slices=max(1, spec["m"] * 60 // SLICE_SPACING_S),
    )
    engine.next_twap_id += 1
    engine.twaps[twap.twap_id] = twap
    return {"running": {"twapId": twap.twap_id}}


def cancel(engine: Engine, acct: Account, asset: Any, twap_id: Any) -> str | dict[str, str]:
    """twapCancel: "success", or the exchange's error for a TWAP that is not running."""
    twap = engine.twaps.get(twap_id) if isinstance(twap_id, int) else None
    if twap is None or twap.account != acct.address or twap.asset != asset or twap.status != "activated":
        return {"error": MISSING}
    end(twap, "terminated", engine.now())
    return "success"


def end(twap: Twap, status: str, t: int, error: str | None = None) -> None:
    twap.status, twap.ended, twap.error = status, t, error


def next_due(engine: Engine) -> int | None:
    times = [t.next_slice for t in engine.twaps.values() if t.next_slice is not None]
    return min(times) if times else None


def run(engine: Engine, t: int) -> None:
    """Send the slice of every TWAP due at ``t`` (oldest TWAP first)."""
    for twap in sorted(engine.twaps.values(), key=lambda x: x.twap_id):
        due = twap.next_slice
        if due is not None and due <= t:
            send_slice(engine, twap, due)


def _slice_size(engine: Engine, twap: Twap, inst: Instrument) -> Decimal:
    """What the next slice should trade: on schedule, catching up at most 3x, never past the
    total (nor, reduce-only, past the position)."""
    k = twap.done_slices + 1
    normal = twap.sz / twap.slices
    target = twap.sz * k / twap.slices
    size = min(target - twap.executed_sz, normal * CATCH_UP, twap.sz - twap.executed_sz)
    if twap.reduce_only:
        size = min(size, _position_left(engine, twap, inst))
    lot = Decimal(1).scaleb(-inst.sz_decimals)
    return max(ZERO, size).quantize(lot, rounding=ROUND_DOWN)


def send_slice(engine: Engine, twap: Twap, t: int) -> None:
    """One sub-order: an IOC at most 3% through the mid, as a taker."""
    inst = engine.market.instrument(twap.asset)
    acct = engine.ensure_account(twap.account)
    mid = inst.book_mid if inst is not None else None
    size = _slice_size(engine, twap, inst) if inst is not None else ZERO
    twap.done_slices += 1
    if inst is not None and mid is not None and size > 0:
        raw = mid * (1 + SLIPPAGE) if twap.is_buy else mid * (1 - SLIPPAGE)
        px = round_price(raw, inst.max_price_decimals, up=not twap.is_buy)
        wire = {"a": twap.asset, "b": twap.is_buy, "p": fmt(px), "s": fmt(size), "r": twap.reduce_only}
        wire["t"] = {"limit": {"tif": "Ioc"}}
        record = _slice_record(engine, acct, twap, t)
        status = engine.place_one(acct, None, None, wire, record=record)
        twap.executed_sz += record.filled_sz
        twap.executed_ntl += record.notional
        for fatal in (rules.MARGIN, rules.SPOT_BALANCE):  # the TWAP cannot go on
            if "error" in status and status["error"].startswith(fatal):
                end(twap, "error", t, fatal)
                return
    if twap.executed_sz >= twap.sz or twap.done_slices >= twap.slices:
        end(twap, "finished", t)
    elif twap.reduce_only and inst is not None and _position_left(engine, twap, inst) == 0:
        end(twap, "finished", t)  # nothing left to reduce


def _position_left(engine: Engine, twap: Twap, inst: Instrument) -> Decimal:
    """What a reduce-only TWAP may still reduce: the position on the other side."""
    if not isinstance(inst, PerpAsset):
        return ZERO
    pos = engine.book(engine.ensure_account(twap.account), inst).positions.get(inst.name)
    szi = pos.szi if pos else ZERO
    return abs(szi) if szi != 0 and twap.is_buy != (szi > 0) else ZERO


def _slice_record(engine: Engine, acct: Account, twap: Twap, t: int) -> OrderRecord:
    """A slice's order record: it has an oid (its fills name it) but is not an order the
    account sent, so it is kept out of ``sim.orders`` and historicalOrders."""
    record = OrderRecord(
        seq=0,
        time=t,
        nonce=None,
        signer=None,
        account=acct.address,
        asset=twap.asset,
        coin=twap.coin,
        is_buy=twap.is_buy,
        px=None,
        sz=None,
        reduce_only=twap.reduce_only,
        tif="Ioc",
        cloid=None,
        oid=engine.next_oid,
        twap_id=twap.twap_id,
    )
    engine.next_oid += 1
    engine.records_by_oid[record.oid] = record  # type: ignore[index]
    return record


def slice_fills(engine: Engine, user: str) -> list[dict[str, Any]]:
    """userTwapSliceFills: the 2000 most recent slice fills, newest first."""
    out = []
    for fill in reversed(engine.fills):
        if fill.account == user and fill.data.get("twapId") is not None:
            data = {k: v for k, v in fill.data.items() if k != "cloid"}
            out.append({"fill": data, "twapId": fill.data["twapId"]})
            if len(out) >= 2000:
                break
    return out


def history(engine: Engine, user: str) -> list[dict[str, Any]]:
    """twapHistory: one entry when a TWAP starts ("activated") and one when it ends, oldest
    first; ``time`` in seconds (as nktkas/hyperliquid's schema documents it)."""
    entries: list[tuple[int, int, dict[str, Any], dict[str, Any]]] = []
    for twap in engine.twaps.values():
        if twap.account != user:
            continue
        state = twap.state()
        fresh = {**state, "executedSz": "0.0", "executedNtl": "0.0"}
        entries.append((twap.start, twap.twap_id, fresh, {"status": "activated"}))
        if twap.ended is not None:
            status: dict[str, Any] = {"status": twap.status}
            if twap.error is not None:
                status["description"] = twap.error
            entries.append((twap.ended, twap.twap_id, state, status))
    entries.sort(key=lambda e: (e[0], e[1]))
    return [{"time": t // 1000, "state": state, "status": status, "twapId": tid} for t, tid, state, status in entries]
