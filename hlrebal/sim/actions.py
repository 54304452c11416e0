"""/exchange: envelope checks, signer recovery, authorisation, nonces, the request budget, then
the action itself (handlers.py)."""

from __future__ import annotations

from typing import Any

from hlrebal.sim import auth, handlers, ratelimit
from hlrebal.sim.accounts import Account
from hlrebal.sim.engine import Engine
from hlrebal.sim.handlers import BadRequest, Outcome, err

__all__ = ["BadRequest", "Outcome", "action_type", "handle"]

L1_ACTIONS = (
    "order",
    "cancel",
    "cancelByCloid",
    "modify",
    "batchModify",
    "updateLeverage",
    "scheduleCancel",
    "twapOrder",
    "twapCancel",
    "noop",
    "setReferrer",
    "reserveRequestWeight",
)
USER_SIGNED_ACTIONS = ("approveAgent", "usdClassTransfer", "sendAsset", "approveBuilderFee")
UNSUPPORTED = "Action type {kind} is not supported by the hlrebal simulator."
UNKNOWN_VAULT = "Vault not registered: {vault}"  # GUESS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) == 42


def action_type(body: Any) -> str | None:
    """The action's type, if the body has one (used for counting and fault filters)."""
    if isinstance(body, dict) and isinstance(body.get("action"), dict):
        kind = body["action"].get("type")
        return kind if isinstance(kind, str) else None
    return None


def _envelope(body: Any) -> tuple[dict[str, Any], int, dict[str, Any], str | None, int | None]:
    if not isinstance(body, dict):
        raise BadRequest("body")
    action, nonce, signature = body.get("action"), body.get("nonce"), body.get("signature")
    vault, expires = body.get("vaultAddress"), body.get("expiresAfter")
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        raise BadRequest("action")
    if not _is_int(nonce) or not isinstance(signature, dict):
        raise BadRequest("nonce/signature")
    if vault is not None and not _is_address(vault):
        raise BadRequest("vaultAddress")
    if expires is not None and not _is_int(expires):
        raise BadRequest("expiresAfter")
    return action, nonce, signature, vault, expires  # type: ignore[return-value]


def _signer_account(engine: Engine, signer: str, vault: str | None) -> Account | str:
    """The account an L1 action acts on, or the refusal."""
    refusal = auth.NO_WALLET.format(address=signer)
    if vault is not None:
        info = engine.vaults.get(vault.lower())
        if info is None:
            return UNKNOWN_VAULT.format(vault=vault.lower())
        agent = engine.agents.get(signer)
        if signer != info.leader and (agent is None or agent.account != info.leader):
            return refusal
        return engine.ensure_account(vault)
    agent = engine.agents.get(signer)
    if agent is not None:
        return engine.ensure_account(agent.account)
    acct = engine.account(signer, create=engine.config.auto_create_accounts)
    return acct if acct is not None else refusal


def _owner_account(engine: Engine, signer: str) -> Account | str:
    """The account a user-signed action acts on: the signer's own (never an agent's)."""
    acct = None if signer in engine.agents else engine.account(signer, create=engine.config.auto_create_accounts)
    return acct if acct is not None else auth.MUST_DEPOSIT.format(address=signer)


def handle(engine: Engine, body: Any) -> Outcome:
    """Process one /exchange body (the simulator's lock is held)."""
    action, nonce, signature, vault, expires = _envelope(body)
    kind = action["type"]
    now = engine.now()
    mainnet = engine.config.is_mainnet
    if kind in L1_ACTIONS:
        handlers.check_shape(action)
        try:
            signer = auth.recover_l1_signer(action, signature, vault, nonce, expires, mainnet)
        except auth.SignatureError:
            return err(auth.BAD_SIGNATURE)
        target = _signer_account(engine, signer, vault)
    elif kind in USER_SIGNED_ACTIONS:
        try:
            signer = auth.recover_user_signer(action, signature, mainnet)
        except auth.SignatureError:
            return err(auth.BAD_SIGNATURE)
        target = _owner_account(engine, signer)
    else:
        return err(UNSUPPORTED.format(kind=kind))
    if isinstance(target, str):
        return err(target)
    if expires is not None and expires <= now:
        ratelimit.charge_expired(target, action)
        return err(auth.EXPIRED)
    refusal = engine.nonces.check(signer, nonce, now)
    if refusal is not None:
        return err(refusal)
    engine.nonces.use(signer, nonce)
    over = ratelimit.charge(engine, target, action)
    if over is not None:
        return err(over)
    return handlers.dispatch(engine, kind, action, target, signer, nonce)
