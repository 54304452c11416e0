"""Signature recovery (with the SDK's own helpers) and the exchange's nonce rules.

The SDK and eth_account are imported inside the functions: importing hlrebal.sim stays cheap.
"""

from __future__ import annotations

import bisect
import copy
from typing import Any

TWO_DAYS_MS = 2 * 24 * 3600 * 1000
ONE_DAY_MS = 24 * 3600 * 1000
KEPT_NONCES = 100

# Messages. GUESS marks strings no public source confirmed.
NO_WALLET = "User or API Wallet {address} does not exist."
MUST_DEPOSIT = "Must deposit before performing actions. User: {address}"
DUPLICATE_NONCE = "Invalid nonce: duplicate nonce {nonce}"
NONCE_TOO_LOW = "Invalid nonce: nonce too low {nonce} < {minimum}"  # reported in the wild, undocumented
NONCE_TOO_HIGH = "Invalid nonce: nonce too high {nonce} > {maximum}"  # GUESS
EXPIRED = "Action already expired"  # reported in the wild, exact text unconfirmed
BAD_SIGNATURE = "Invalid signature."  # GUESS: a signature that recovers no address at all

APPROVE_AGENT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]


APPROVE_BUILDER_FEE_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "maxFeeRate", "type": "string"},
    {"name": "builder", "type": "address"},
    {"name": "nonce", "type": "uint64"},
]


class SignatureError(Exception):
    """The signature could not be recovered at all (malformed r/s/v)."""


def recover_l1_signer(
    action: dict[str, Any],
    signature: dict[str, Any],
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
    is_mainnet: bool,
) -> str:
    """Lowercase address that signed an L1 action (order, cancel, updateLeverage, ...)."""
    from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action

    try:
        address = recover_agent_or_user_from_l1_action(
            action,
            _signature(signature),
            vault_address.lower() if vault_address else None,
            nonce,
            expires_after,
            is_mainnet,
        )
    except Exception as e:  # eth_account raises several types for bad r/s/v
        raise SignatureError(str(e)) from e
    return str(address).lower()


def user_signed_types(action_type: str) -> tuple[list[dict[str, str]], str] | None:
    """EIP-712 field list and primary type of a user-signed action, from the SDK."""
    from hyperliquid.utils import signing

    table: dict[str, tuple[list[dict[str, str]], str]] = {
        "approveAgent": (APPROVE_AGENT_TYPES, "HyperliquidTransaction:ApproveAgent"),
        "usdClassTransfer": (
            signing.USD_CLASS_TRANSFER_SIGN_TYPES,
            "HyperliquidTransaction:UsdClassTransfer",
        ),
        "usdSend": (signing.USD_SEND_SIGN_TYPES, "HyperliquidTransaction:UsdSend"),
        "spotSend": (signing.SPOT_TRANSFER_SIGN_TYPES, "HyperliquidTransaction:SpotSend"),
        "withdraw3": (signing.WITHDRAW_SIGN_TYPES, "HyperliquidTransaction:Withdraw"),
        "sendAsset": (signing.SEND_ASSET_SIGN_TYPES, "HyperliquidTransaction:SendAsset"),
        "approveBuilderFee": (APPROVE_BUILDER_FEE_TYPES, "HyperliquidTransaction:ApproveBuilderFee"),
    }
    return table.get(action_type)


def recover_user_signer(action: dict[str, Any], signature: dict[str, Any], is_mainnet: bool) -> str:
    """Lowercase address that signed a user-signed action (approveAgent, usdClassTransfer)."""
    from hyperliquid.utils.signing import recover_user_from_user_signed_action

    spec = user_signed_types(str(action.get("type")))
    if spec is None:
        raise SignatureError("not a user-signed action")
    types, primary = spec
    message = copy.deepcopy(action)
    if message.get("type") == "approveAgent" and "agentName" not in message:
        message["agentName"] = ""  # the SDK signs "" and then drops the key when no name is given
    try:
        address = recover_user_from_user_signed_action(message, _signature(signature), types, primary, is_mainnet)
    except Exception as e:
        raise SignatureError(str(e)) from e
    return str(address).lower()


def _signature(sig: dict[str, Any]) -> dict[str, Any]:
    r, s, v = sig.get("r"), sig.get("s"), sig.get("v")
    if not isinstance(r, str) or not isinstance(s, str) or isinstance(v, bool) or not isinstance(v, int):
        raise SignatureError("signature needs r, s (hex strings) and v (int)")
    return {"r": int(r, 16), "s": int(s, 16), "v": v}


class NonceBook:
    """Per signer, the 100 highest nonces used. A new nonce must be unused, above the smallest
    kept once 100 are kept, and within (now - 2 days, now + 1 day)."""

    def __init__(self) -> None:
        self.kept: dict[str, list[int]] = {}

    def check(self, signer: str, nonce: int, now: int) -> str | None:
        """The refusal message, or None if the nonce is acceptable (it is not recorded)."""
        kept = self.kept.get(signer.lower(), [])
        index = bisect.bisect_left(kept, nonce)
        if index < len(kept) and kept[index] == nonce:
            return DUPLICATE_NONCE.format(nonce=nonce)
        if len(kept) >= KEPT_NONCES and nonce <= kept[0]:
            return NONCE_TOO_LOW.format(nonce=nonce, minimum=kept[0] + 1)
        if nonce <= now - TWO_DAYS_MS:
            return NONCE_TOO_LOW.format(nonce=nonce, minimum=now - TWO_DAYS_MS + 1)
        if nonce >= now + ONE_DAY_MS:
            return NONCE_TOO_HIGH.format(nonce=nonce, maximum=now + ONE_DAY_MS - 1)
        return None

    def use(self, signer: str, nonce: int) -> None:
        kept = self.kept.setdefault(signer.lower(), [])
        bisect.insort(kept, nonce)
        while len(kept) > KEPT_NONCES:
            kept.pop(0)
