"""A snapshot document (raw info responses keyed by request type) into one :class:`Snapshot`.

Each part of the document has its parser beside this one (perp, spot, dex, mode); this module checks
the header, hands each part to its parser and assembles the result. A field of the wrong shape is
refused as a :class:`SnapshotError` that names the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hlrebal.errors import SnapshotError
from hlrebal.snapshot.dex import parse_dexes
from hlrebal.snapshot.mode import account_mode
from hlrebal.snapshot.models import NETWORKS, SNAPSHOT_VERSION, Network, Snapshot
from hlrebal.snapshot.numbers import Bad, dec, req
from hlrebal.snapshot.perp import parse_open_orders, parse_perp_market, parse_positions
from hlrebal.snapshot.spot import parse_spot_balances, parse_spot_market

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def parse_document(doc: Mapping[str, Any], source: str) -> Snapshot:
    """Parse a snapshot document; ``source`` (a file name) prefixes every error message."""
    try:
        return _parse(doc)
    except Bad as e:
        raise SnapshotError(f"{source}: {e}") from None
    except (KeyError, TypeError, IndexError, AttributeError) as e:
        raise SnapshotError(
            f"{source}: not a Hyperliquid snapshot ({type(e).__name__}: {e}); "
            "expected the raw info responses keyed by request type"
        ) from None


def _header(doc: Mapping[str, Any]) -> tuple[str, Network, int]:
    """The document's version, account address, network and time, checked."""
    version = doc.get("version", SNAPSHOT_VERSION)
    if version != SNAPSHOT_VERSION:
        raise Bad(f"version: unsupported snapshot version {version!r} (this hlrebal reads {SNAPSHOT_VERSION})")
    user = doc.get("user")
    if not isinstance(user, str) or not _ADDRESS.fullmatch(user):
        raise Bad(f"user: expected a 0x-prefixed 42-character address, got {user!r}")
    network = doc.get("network", "mainnet")
    if network not in NETWORKS:
        raise Bad(f"network: expected one of {', '.join(NETWORKS)}, got {network!r}")
    time_ms = doc.get("time", 0)
    if isinstance(time_ms, bool) or not isinstance(time_ms, int):
        raise Bad(f"time: expected milliseconds as an integer, got {time_ms!r}")
    return user, network, time_ms


def _parse(doc: Mapping[str, Any]) -> Snapshot:
    user, network, time_ms = _header(doc)
    if "clearinghouseState" not in doc:
        raise Bad("clearinghouseState: missing (the account's perp state)")
    state = doc["clearinghouseState"]
    if not isinstance(state, dict):
        raise Bad("clearinghouseState: expected an object")

    assets = parse_perp_market(doc)
    positions = parse_positions(state, assets)
    summary = state.get("marginSummary")
    if not isinstance(summary, dict):
        raise Bad("clearinghouseState.marginSummary: missing")
    taker_fee = None
    fees = doc.get("userFees")
    if isinstance(fees, dict) and fees.get("userCrossRate") is not None:
        taker_fee = dec(fees["userCrossRate"], "userFees.userCrossRate")

    account_value = req(summary.get("accountValue"), "clearinghouseState.marginSummary.accountValue")
    dexes = parse_dexes(doc, assets, positions)
    spot_assets, aliases = parse_spot_market(doc)
    balances = parse_spot_balances(doc.get("spotClearinghouseState"))
    mode, mode_source = account_mode(doc.get("userAbstraction"), account_value, positions, balances)

    return Snapshot(
        version=SNAPSHOT_VERSION,
        user=user.lower(),
        network=network,
        time=time_ms,
        account_value=account_value,
        total_margin_used=req(summary.get("totalMarginUsed", "0"), "marginSummary.totalMarginUsed"),
        total_ntl_pos=req(summary.get("totalNtlPos", "0"), "marginSummary.totalNtlPos"),
        withdrawable=req(state.get("withdrawable", "0"), "clearinghouseState.withdrawable"),
        positions=positions,
        assets=assets,
        open_orders=parse_open_orders(doc.get("openOrders")),
        taker_fee=taker_fee,
        account_mode=mode,
        mode_source=mode_source,
        spot_balances=balances,
        spot_assets=spot_assets,
        spot_aliases=aliases,
        has_spot_state="spotClearinghouseState" in doc,
        dexes=dexes,
        raw=dict(doc),
    )
