"""Hourly funding on perp positions (``SimConfig.funding``; ``sim serve`` turns it on).

The exchange's rule (Funding docs, and the API providers who restate them): funding is paid
every hour, payment = position size x oracle price x hourly rate, longs pay shorts when the
rate is positive, the hourly rate capped at 4%. The rate used is the coin's ``funding`` in
metaAndAssetCtxs (the snapshot's, or "0.0"), or, when the sim replays a history file, the
file's rate for that hour. Each payment is written to userFunding as
``{"time", "hash", "delta": {"type": "funding", "coin", "usdc", "szi", "fundingRate",
"nSamples": null}}`` (usdc signed: negative when paid), and to the position's ``cumFunding``
(positive when paid, like the exchange's allTime). Not modelled: the premium sampled every 5
seconds from the sim's own book (the rate is an input, not computed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from hlrebal.sim.accounts import Account, Position, leverage_for
from hlrebal.sim.market import PerpAsset
from hlrebal.sim.numbers import ZERO, fmt, fmt_usd, parse_wire
from hlrebal.sim.records import LedgerUpdate

if TYPE_CHECKING:
    from hlrebal.sim.engine import Engine

HOUR_MS = 3_600_000
CAP = Decimal("0.04")
MAX_CATCH_UP_HOURS = 24 * 30


def next_due(engine: Engine) -> int | None:
    if not engine.config.funding:
        return None
    now = engine.clock()
    if engine.next_funding is None:
        engine.next_funding = (now // HOUR_MS + 1) * HOUR_MS
    elif now - engine.next_funding > MAX_CATCH_UP_HOURS * HOUR_MS:  # a long pause: no months of replay
        engine.next_funding = (now // HOUR_MS - MAX_CATCH_UP_HOURS) * HOUR_MS
    return engine.next_funding


def rate_of(engine: Engine, asset: PerpAsset, t: int) -> Decimal:
    """The hourly rate at ``t``: the replayed file's for that hour, else the coin's context."""
    from hlrebal.sim.history import FileHistory

    source = engine.history
    if isinstance(source, FileHistory):
        key = source.key(asset.name)
        rate = source.rate_at(key, source.history_time(t)) if key is not None else None
        if rate is not None:
            return rate
    return parse_wire(asset.ctx.get("funding", "0")) or ZERO


def run(engine: Engine, t: int) -> None:
    """Pay this hour's funding on every open perp position."""
    engine.next_funding = t + HOUR_MS
    for owner in list(engine.accounts.values()):
        for book in (owner, *owner.dexes.values()):
            for pos in list(book.positions.values()):
                _pay(engine, owner, book, pos, t)


def _pay(engine: Engine, owner: Account, book: Account, pos: Position, t: int) -> None:
    asset = engine.market.perp_by_name.get(pos.coin)
    if asset is None or pos.szi == 0:
        return
    rate = max(-CAP, min(CAP, rate_of(engine, asset, t)))
    price = asset.oracle or asset.mark or asset.book_mid
    if rate == 0 or price is None:
        return
    payment = pos.szi * price * rate
    if leverage_for(book, asset, engine.config.default_leverage).is_cross:
        book.perp_raw -= payment
    else:
        pos.iso_raw -= payment
    for key in ("allTime", "sinceOpen", "sinceChange"):
        pos.cum_funding[key] = fmt_usd((parse_wire(pos.cum_funding.get(key, "0")) or ZERO) + payment)
    delta = {
        "type": "funding",
        "coin": pos.coin,
        "usdc": fmt_usd(-payment),
        "szi": fmt(pos.szi),
        "fundingRate": fmt(rate),
        "nSamples": None,
    }
    engine.funding_log.append(LedgerUpdate(owner.address, t, delta, engine.new_hash()))
