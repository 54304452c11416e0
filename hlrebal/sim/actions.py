"""/exchange: envelope checks, signer recovery, authorisation, nonces, then the action itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hlrebal.sim import auth, rules
from hlrebal.sim.accounts import Account
from hlrebal.sim.engine import Engine
from hlrebal.sim.numbers import parse_wire

L1_ACTIONS = ("order", "cancel", "cancelByCloid", "updateLeverage", "scheduleCancel")
USER_SIGNED_ACTIONS = ("approveAgent", "usdClassTransfer", "sendAsset")
UNSUPPORTED = "Action type {kind} is not supported by the hlrebal simulator."
UNKNOWN_VAULT = "Vault not registered: {vault}"  # GUESS


class BadRequest(Exception):
    """Malformed body: the server answers 422."""


@dataclass
class Outcome:
    payload: Any
    changed: bool


def err(message: str) -> Outcome:
    return Outcome({"status": "err", "response": message}, changed=False)


def ok_default() -> Outcome:
    return Outcome({"status": "ok", "response": {"type": "default"}}, changed=True)


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


def _check_orders(action: dict[str, Any]) -> list[dict[str, Any]]:
    orders = action.get("orders")
    if not isinstance(orders, list):
        raise BadRequest("orders")
    for order in orders:
        if not isinstance(order, dict) or not _is_int(order.get("a")) or not isinstance(order.get("b"), bool):
            raise BadRequest("order")
        if not isinstance(order.get("p"), str) or not isinstance(order.get("s"), str):
            raise BadRequest("order p/s")
        if not isinstance(order.get("r"), bool) or not isinstance(order.get("t"), dict):
            raise BadRequest("order r/t")
        if "c" in order and order["c"] is not None and not isinstance(order["c"], str):
            raise BadRequest("order c")
    return orders


def _check_cancels(action: dict[str, Any], by_cloid: bool) -> list[dict[str, Any]]:
    cancels = action.get("cancels")
    if not isinstance(cancels, list):
        raise BadRequest("cancels")
    for cancel in cancels:
        if not isinstance(cancel, dict):
            raise BadRequest("cancel")
        if by_cloid and (not _is_int(cancel.get("asset")) or not isinstance(cancel.get("cloid"), str)):
            raise BadRequest("cancelByCloid")
        if not by_cloid and (not _is_int(cancel.get("a")) or not _is_int(cancel.get("o"))):
            raise BadRequest("cancel")
    return cancels


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
    now = engine.clock()
    mainnet = engine.config.is_mainnet
    if kind in L1_ACTIONS:
        if kind == "order":
            _check_orders(action)
        elif kind in ("cancel", "cancelByCloid"):
            _check_cancels(action, by_cloid=kind == "cancelByCloid")
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
        return err(auth.EXPIRED)
    refusal = engine.nonces.check(signer, nonce, now)
    if refusal is not None:
        return err(refusal)
    engine.nonces.use(signer, nonce)
    return _dispatch(engine, kind, action, target, signer, nonce)


def _dispatch(engine: Engine, kind: str, action: dict[str, Any], acct: Account, signer: str, nonce: int) -> Outcome:
    if kind == "order":
        statuses = engine.place_orders(acct, signer, nonce, action["orders"])
        return Outcome({"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}, True)
    if kind in ("cancel", "cancelByCloid"):
        if kind == "cancel":
            results = [engine.cancel(acct, c["a"], c["o"]) for c in action["cancels"]]
        else:
            results = [engine.cancel_by_cloid(acct, c["asset"], c["cloid"]) for c in action["cancels"]]
        return Outcome({"status": "ok", "response": {"type": "cancel", "data": {"statuses": results}}}, True)
    if kind == "updateLeverage":
        is_cross, leverage = action.get("isCross"), action.get("leverage")
        if not isinstance(is_cross, bool) or not _is_int(action.get("asset")):
            raise BadRequest("updateLeverage")
        refusal = engine.update_leverage(acct, action["asset"], is_cross, leverage)
        return err(refusal) if refusal else ok_default()
    if kind == "scheduleCancel":
        when = action.get("time")
        if when is not None and not _is_int(when):
            raise BadRequest("scheduleCancel")
        refusal = engine.schedule_cancel(acct, when)
        return err(refusal) if refusal else ok_default()
    if kind == "approveAgent":
        agent, name = action.get("agentAddress"), action.get("agentName", "")
        if not _is_address(agent) or not isinstance(name, str):
            raise BadRequest("approveAgent")
        engine.approve_agent(acct.address, str(agent), name)
        return ok_default()
    if kind == "sendAsset":
        return _send_asset(engine, action, acct, signer)
    return _usd_class_transfer(engine, action, acct, signer)


def _send_asset(engine: Engine, action: dict[str, Any], acct: Account, signer: str) -> Outcome:
    """Move a token between the spot balance ("spot"), the main perp dex ("") and builder dexes,
    to the signer's own account or another (``destination``), optionally from a sub-account."""
    fields = ("destination", "sourceDex", "destinationDex", "token", "amount")
    if not all(isinstance(action.get(k), str) for k in fields) or not _is_address(action["destination"]):
        raise BadRequest("sendAsset")
    sub = action.get("fromSubAccount") or ""
    if not isinstance(sub, str):
        raise BadRequest("sendAsset fromSubAccount")
    if sub:
        info = engine.vaults.get(sub.lower())
        if info is None or info.leader != signer:
            return err(auth.NO_WALLET.format(address=signer))
        acct = engine.ensure_account(sub)
    amount = parse_wire(action["amount"])
    if amount is None or amount <= 0:
        return err(rules.INVALID_AMOUNT)
    token = action["token"].split(":")[0]
    refusal = engine.send_asset(
        acct, action["destination"], action["sourceDex"], action["destinationDex"], token, amount
    )
    return err(refusal) if refusal else ok_default()


def _usd_class_transfer(engine: Engine, action: dict[str, Any], acct: Account, signer: str) -> Outcome:
    text, to_perp = action.get("amount"), action.get("toPerp")
    if not isinstance(text, str) or not isinstance(to_perp, bool):
        raise BadRequest("usdClassTransfer")
    amount_text, _, sub = text.partition(" subaccount:")
    if sub:
        info = engine.vaults.get(sub.strip().lower())
        if info is None or info.leader != signer:
            return err(auth.NO_WALLET.format(address=signer))
        if info.kind != "subaccount":
            return err(rules.VAULT_TRANSFER)
        acct = engine.ensure_account(sub.strip())
    amount = parse_wire(amount_text.strip())
    if amount is None:
        return err(rules.INVALID_AMOUNT)
    refusal = engine.usd_class_transfer(acct, amount, to_perp)
    return err(refusal) if refusal else ok_default()
