"""Helpers shared by the simulator tests: keys, SDK clients and hand-signed bodies."""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_account
import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import sign_l1_action

from hlrebal.sim import Simulator

TIMEOUT = 10
DATA = Path(__file__).parent / "data"
DEMO = Path(__file__).parents[2] / "hlrebal" / "data" / "demo_snapshot.json"


def new_key() -> LocalAccount:
    return eth_account.Account.create()


def metas(sim: Simulator) -> tuple[Any, Any]:
    """meta and spotMeta read without going through HTTP (no counted requests)."""
    return sim.handle("info", {"type": "meta"})[1], sim.handle("info", {"type": "spotMeta"})[1]


def info(sim: Simulator) -> Info:
    meta, spot_meta = metas(sim)
    return Info(sim.url, skip_ws=True, meta=meta, spot_meta=spot_meta, timeout=TIMEOUT)


def exchange(sim: Simulator, key: LocalAccount, vault: str | None = None, account: str | None = None) -> Exchange:
    meta, spot_meta = metas(sim)
    return Exchange(
        key, sim.url, meta=meta, spot_meta=spot_meta, vault_address=vault, account_address=account, timeout=TIMEOUT
    )


def funded(sim: Simulator, usdc: int | str = 100_000) -> tuple[LocalAccount, Exchange]:
    key = new_key()
    sim.fund(key.address, usdc)
    return key, exchange(sim, key)


def statuses(response: dict[str, Any]) -> list[Any]:
    assert response["status"] == "ok", response
    return response["response"]["data"]["statuses"]


def error_of(response: dict[str, Any]) -> str:
    [status] = statuses(response)
    assert "error" in status, status
    return status["error"]


def limit(tif: str = "Gtc") -> dict[str, Any]:
    return {"limit": {"tif": tif}}


def signed_body(
    key: LocalAccount,
    action: dict[str, Any],
    nonce: int | None = None,
    vault: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """An /exchange body signed like the SDK signs it for a non-mainnet URL."""
    nonce = nonce if nonce is not None else int(time.time() * 1000)
    signature = sign_l1_action(key, action, vault, nonce, expires_after, False)
    return {
        "action": action,
        "nonce": nonce,
        "signature": signature,
        "vaultAddress": vault,
        "expiresAfter": expires_after,
    }


def post(sim: Simulator, endpoint: str, body: Any) -> requests.Response:
    return requests.post(f"{sim.url}/{endpoint}", json=body, timeout=TIMEOUT)


def order_action(
    asset: int, is_buy: bool, px: str, sz: str, tif: str = "Gtc", reduce_only: bool = False, cloid: str | None = None
) -> dict[str, Any]:
    wire: dict[str, Any] = {"a": asset, "b": is_buy, "p": px, "s": sz, "r": reduce_only, "t": limit(tif)}
    if cloid is not None:
        wire["c"] = cloid
    return {"type": "order", "orders": [wire], "grouping": "na"}


def D(value: Any) -> Decimal:
    return Decimal(str(value))


_last_nonce = [0]


def next_nonce() -> int:
    """A fresh, strictly rising millisecond nonce (fast loops never repeat one)."""
    _last_nonce[0] = max(_last_nonce[0] + 1, int(time.time() * 1000))
    return _last_nonce[0]


def send_action(ex: Exchange, action: dict[str, Any]) -> Any:
    """Sign an L1 action the SDK has no method for (twapOrder, twapCancel, noop, modify, ...)
    with the SDK's own signing helper and post it through the SDK, as a client would."""
    nonce = next_nonce()
    signature = sign_l1_action(ex.wallet, action, ex.vault_address, nonce, ex.expires_after, False)
    return ex._post_action(action, signature, nonce)


def twap_action(asset: int, is_buy: bool, sz: str, minutes: int, reduce_only: bool = False) -> dict[str, Any]:
    return {"type": "twapOrder", "twap": {"a": asset, "b": is_buy, "s": sz, "r": reduce_only, "m": minutes, "t": False}}


# A child Python started while the test runner ignores SIGINT inherits SIG_IGN and would ignore
# Ctrl-C; these prefixes give it back the default KeyboardInterrupt handler first.
SIGINT_DEFAULT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def hlrebal_command(*args: str) -> list[str]:
    """argv running ``hlrebal ARGS`` in a child Python that reacts to SIGINT as a terminal would."""
    code = (
        SIGINT_DEFAULT + f"import sys; sys.argv = ['hlrebal', *{list(args)!r}]\nfrom hlrebal.cli import main\nmain()\n"
    )
    return [sys.executable, "-c", code]
