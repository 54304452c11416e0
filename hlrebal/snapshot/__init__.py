"""One consistent picture of an account and its market, parsed from raw Hyperliquid info responses.

A snapshot file is a JSON object whose keys are info request types and whose values are the raw
responses, exactly as the API returns them::

    {"version": 1, "user": "0x…", "network": "mainnet", "time": 1793000000000,
     "clearinghouseState": {…}, "metaAndAssetCtxs": [meta, ctxs],
     "spotClearinghouseState": {…}, "spotMetaAndAssetCtxs": [spotMeta, ctxs],   # optional
     "allMids": {…}, "l2Book": {coin: book}, "openOrders": […], "userFees": {…}}  # optional

Older recordings with ``meta`` plus ``allMids`` instead of ``metaAndAssetCtxs`` load too. Keys that
start with ``_`` are comments. Unknown keys are kept (room for later ones: per-dex states, account
mode) but not interpreted.

The planner never reads the network: every price it uses comes from here, read once.

The rooms: ``models`` (the frozen values), ``parse`` (the document into a Snapshot) with one parser
per part: ``perp`` (market, positions, open orders), ``spot`` (pairs, balances), ``dex`` (HIP-3
dexes), ``mode`` (account mode); ``numbers`` (reading one field); ``files`` (load and save).
"""

from hlrebal.snapshot.files import load_snapshot, save_snapshot
from hlrebal.snapshot.models import (
    CASH_TOKEN,
    NETWORKS,
    SNAPSHOT_VERSION,
    AccountMode,
    AssetMarket,
    DexAccount,
    Network,
    OpenOrder,
    PerpPosition,
    Snapshot,
    SpotBalance,
)

__all__ = [
    "CASH_TOKEN",
    "NETWORKS",
    "SNAPSHOT_VERSION",
    "AccountMode",
    "AssetMarket",
    "DexAccount",
    "Network",
    "OpenOrder",
    "PerpPosition",
    "Snapshot",
    "SpotBalance",
    "load_snapshot",
    "save_snapshot",
]
