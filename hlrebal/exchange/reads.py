"""Reading an account: the whole snapshot in as few info requests as the account needs, and the
light re-reads a run makes between its steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hlrebal.errors import BadInputError
from hlrebal.exchange.wire import expect, nonzero
from hlrebal.snapshot import Snapshot

if TYPE_CHECKING:
    from hlrebal.exchange.client import ExchangeClient


def read_snapshot(
    client: ExchangeClient,
    user: str,
    *,
    spot: bool = False,
    open_orders: bool = True,
    mode: str | None = None,
    dexes: Sequence[str] = (),
    network_label: str | None = None,
) -> Snapshot:
    """The whole account and its market, in as few info requests as the account needs.

    Always: metaAndAssetCtxs, clearinghouseState, spotClearinghouseState (the spot balances
    count in equity) and, unless ``open_orders=False``, openOrders. Only when needed:
    spotMetaAndAssetCtxs (``spot`` targets, or spot tokens held) and userAbstraction (the
    account mode matters only when it holds spot balances; ``mode`` passes a known answer).
    At most 6 requests. The executor's re-reads skip open orders and the mode. Builder-deployed
    perp dexes named in ``dexes`` cost perpDexs once, then a metaAndAssetCtxs and a
    clearinghouseState each.
    """
    user = user.lower()
    doc: dict[str, Any] = {"version": 1, "user": user, "network": network_label or client.network}
    doc["metaAndAssetCtxs"] = expect(client.info({"type": "metaAndAssetCtxs"}), list, "metaAndAssetCtxs")
    doc["clearinghouseState"] = expect(
        client.info({"type": "clearinghouseState", "user": user, "dex": ""}), dict, "clearinghouseState"
    )
    spot_state = expect(client.info({"type": "spotClearinghouseState", "user": user}), dict, "spotClearinghouseState")
    doc["spotClearinghouseState"] = spot_state
    balances = [b for b in spot_state.get("balances", []) if isinstance(b, dict) and nonzero(b.get("total"))]
    if spot or any(b.get("coin") != "USDC" for b in balances):
        doc["spotMetaAndAssetCtxs"] = expect(
            client.info({"type": "spotMetaAndAssetCtxs"}), list, "spotMetaAndAssetCtxs"
        )
    if mode is not None:
        doc["userAbstraction"] = mode
    elif balances:
        answer = client._user_abstraction(user)
        if answer is not None:
            doc["userAbstraction"] = answer
    if open_orders:
        doc["openOrders"] = expect(client.info({"type": "openOrders", "user": user, "dex": ""}), list, "openOrders")
    if dexes:
        doc["perpDexs"], doc["dexes"] = _read_dexes(client, user, dexes)
    doc["time"] = int(client.clock() * 1000)
    return Snapshot.from_raw(doc, f"{client.base_url} ({user})")


def refresh_snapshot(
    client: ExchangeClient,
    previous: Snapshot,
    *,
    positions: bool = True,
    spot: bool = False,
    prices: bool = False,
    markets: bool = False,
) -> Snapshot:
    """``previous`` with only what changes during a run read again, in 2-weight requests.

    ``positions``: clearinghouseState (and each builder dex's); ``spot``: spotClearinghouseState;
    ``prices``: allMids (per dex), whose mids replace the contexts' ``midPx``. Markets, marks and
    oracle prices are kept from ``previous`` (read seconds ago: the oracle guard compares fresh
    mids with them), and open orders are dropped (a re-read never carries them). About a tenth
    of a full read's weight; the executor reads this way between phases and after each round.
    ``markets``: the market contexts (marks, oracles, mids) read again in full, at 20 each.
    """
    user = previous.user
    doc: dict[str, Any] = dict(previous.raw)
    doc.pop("openOrders", None)
    dexes = dict(doc.get("dexes") or {})
    if positions:
        doc["clearinghouseState"] = expect(
            client.info({"type": "clearinghouseState", "user": user, "dex": ""}), dict, "clearinghouseState"
        )
        for dex, part in dexes.items():
            state = client.info({"type": "clearinghouseState", "user": user, "dex": dex})
            dexes[dex] = {**part, "clearinghouseState": expect(state, dict, f"clearinghouseState ({dex})")}
    if spot:
        doc["spotClearinghouseState"] = expect(
            client.info({"type": "spotClearinghouseState", "user": user}), dict, "spotClearinghouseState"
        )
    if markets:
        doc["metaAndAssetCtxs"] = expect(client.info({"type": "metaAndAssetCtxs"}), list, "metaAndAssetCtxs")
        if "spotMetaAndAssetCtxs" in doc:
            doc["spotMetaAndAssetCtxs"] = expect(
                client.info({"type": "spotMetaAndAssetCtxs"}), list, "spotMetaAndAssetCtxs"
            )
        for dex, part in dexes.items():
            fresh = client.info({"type": "metaAndAssetCtxs", "dex": dex})
            dexes[dex] = {**part, "metaAndAssetCtxs": expect(fresh, list, f"metaAndAssetCtxs ({dex})")}
    elif prices:
        mids = expect(client.info({"type": "allMids"}), dict, "allMids")
        for key in ("metaAndAssetCtxs", "spotMetaAndAssetCtxs"):
            if key in doc:
                doc[key] = with_mids(doc[key], mids, spot=key.startswith("spot"))
        if "allMids" in doc:
            doc["allMids"] = mids
        for dex, part in dexes.items():
            dex_mids = expect(client.info({"type": "allMids", "dex": dex}), dict, f"allMids ({dex})")
            dexes[dex] = {**part, "metaAndAssetCtxs": with_mids(part["metaAndAssetCtxs"], dex_mids, spot=False)}
    if dexes:
        doc["dexes"] = dexes
    doc["time"] = int(client.clock() * 1000)
    return Snapshot.from_raw(doc, f"{client.base_url} ({user})")


def _read_dexes(client: ExchangeClient, user: str, dexes: Sequence[str]) -> tuple[list[Any], dict[str, Any]]:
    """perpDexs once (every named dex must be listed: exit 2 otherwise), then each dex's market and
    the account's state on it."""
    listing = expect(client.info({"type": "perpDexs"}), list, "perpDexs")
    known = {d.get("name") for d in listing if isinstance(d, dict)}
    missing = [d for d in dexes if d not in known]
    if missing:
        raise BadInputError(
            f"no builder-deployed perp dex named {', '.join(map(repr, missing))} on {client.base_url}",
            hint=f"dexes listed there: {', '.join(sorted(str(k) for k in known)) or 'none'}",
        )
    dexes_read = {
        dex: {
            "metaAndAssetCtxs": expect(
                client.info({"type": "metaAndAssetCtxs", "dex": dex}), list, f"metaAndAssetCtxs ({dex})"
            ),
            "clearinghouseState": expect(
                client.info({"type": "clearinghouseState", "user": user, "dex": dex}),
                dict,
                f"clearinghouseState ({dex})",
            ),
        }
        for dex in dexes
    }
    return listing, dexes_read


def with_mids(meta_and_ctxs: Any, mids: dict[str, Any], *, spot: bool) -> Any:
    """``[meta, ctxs]`` with each context's ``midPx`` from ``mids`` (perps by universe name, spot
    pairs by their ``coin``); a coin ``mids`` does not list keeps its mid."""
    meta, ctxs = meta_and_ctxs
    names = [c.get("coin") for c in ctxs] if spot else [a.get("name") for a in meta.get("universe", [])]
    fresh = []
    for name, ctx in zip(names, ctxs, strict=False):
        mid = mids.get(name) if isinstance(name, str) else None
        fresh.append({**ctx, "midPx": mid} if mid is not None else ctx)
    return [meta, fresh + list(ctxs[len(fresh) :])]
