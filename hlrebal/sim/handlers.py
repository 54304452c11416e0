"""The body of each /exchange action, once actions.py has authorised it: shape checks (a
malformed action is a 422, as on the exchange) and the answer in the exchange's form."""

from __future__ import annotations

import re
from typing import Any

from hlrebal.sim import auth, builder, ratelimit, rules, schedule, twap
from hlrebal.sim.accounts import Account
from hlrebal.sim.datarecord import record
from hlrebal.sim.engine import Engine
from hlrebal.sim.numbers import parse_wire

VALID_UNTIL = re.compile(r"^(.*) valid_until (\d+)$")


class BadRequest(Exception):
    """Malformed body: the server answers 422."""


@record
class Outcome:
    payload: Any
    changed: bool


def err(message: str) -> Outcome:
    return Outcome({"status": "err", "response": message}, changed=False)


def ok_default() -> Outcome:
    return Outcome({"status": "ok", "response": {"type": "default"}}, changed=True)


def ok(kind: str, data: Any) -> Outcome:
    return Outcome({"status": "ok", "response": {"type": kind, "data": data}}, changed=True)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) == 42


def _check_order(order: Any) -> None:
    if not isinstance(order, dict) or not _is_int(order.get("a")) or not isinstance(order.get("b"), bool):
        raise BadRequest("order")
    if not isinstance(order.get("p"), str) or not isinstance(order.get("s"), str):
        raise BadRequest("order p/s")
    if not isinstance(order.get("r"), bool) or not isinstance(order.get("t"), dict):
        raise BadRequest("order r/t")
    if "c" in order and order["c"] is not None and not isinstance(order["c"], str):
        raise BadRequest("order c")


def _check_list(action: dict[str, Any], key: str) -> list[Any]:
    items = action.get(key)
    if not isinstance(items, list):
        raise BadRequest(key)
    return items


def _check_cancel(cancel: Any, by_cloid: bool) -> None:
    if not isinstance(cancel, dict):
        raise BadRequest("cancel")
    if by_cloid and (not _is_int(cancel.get("asset")) or not isinstance(cancel.get("cloid"), str)):
        raise BadRequest("cancelByCloid")
    if not by_cloid and (not _is_int(cancel.get("a")) or not _is_int(cancel.get("o"))):
        raise BadRequest("cancel")


def _check_modify(modify: Any) -> None:
    if not isinstance(modify, dict) or not (_is_int(modify.get("oid")) or isinstance(modify.get("oid"), str)):
        raise BadRequest("modify oid")
    _check_order(modify.get("order"))


def check_shape(action: dict[str, Any]) -> None:
    """Raise BadRequest when an L1 action does not have its type's shape."""
    kind = action["type"]
    if kind == "order":
        for order in _check_list(action, "orders"):
            _check_order(order)
    elif kind in ("cancel", "cancelByCloid"):
        for cancel in _check_list(action, "cancels"):
            _check_cancel(cancel, by_cloid=kind == "cancelByCloid")
    elif kind == "modify":
        _check_modify(action)
    elif kind == "batchModify":
        for modify in _check_list(action, "modifies"):
            _check_modify(modify)
    elif kind == "twapOrder":
        spec = action.get("twap")
        if not isinstance(spec, dict) or not all(_is_int(spec.get(k)) for k in ("a", "m")):
            raise BadRequest("twap a/m")
        if not isinstance(spec.get("s"), str) or not all(isinstance(spec.get(k), bool) for k in ("b", "r", "t")):
            raise BadRequest("twap b/s/r/t")
    elif kind == "twapCancel":
        if not _is_int(action.get("a")) or not _is_int(action.get("t")):
            raise BadRequest("twapCancel")
    elif kind == "scheduleCancel":
        if action.get("time") is not None and not _is_int(action.get("time")):
            raise BadRequest("scheduleCancel")
    elif kind == "setReferrer":
        if not isinstance(action.get("code"), str):
            raise BadRequest("setReferrer")
    elif kind == "reserveRequestWeight" and not _is_int(action.get("weight")):
        raise BadRequest("reserveRequestWeight")


def dispatch(engine: Engine, kind: str, action: dict[str, Any], acct: Account, signer: str, nonce: int) -> Outcome:
    """Run one authorised action."""
    if kind == "order":
        named = builder.check(acct, action.get("builder"))
        if isinstance(named, str):
            return err(named)
        statuses = engine.place_orders(acct, signer, nonce, action["orders"], named)
        return ok("order", {"statuses": statuses})
    if kind in ("cancel", "cancelByCloid"):
        if kind == "cancel":
            results = [engine.cancel(acct, c["a"], c["o"]) for c in action["cancels"]]
        else:
            results = [engine.cancel_by_cloid(acct, c["asset"], c["cloid"]) for c in action["cancels"]]
        return ok("cancel", {"statuses": results})
    if kind == "modify":
        status = engine.modify(acct, signer, nonce, action["oid"], action["order"])
        return err(status["error"]) if "error" in status else ok_default()
    if kind == "batchModify":
        statuses = [engine.modify(acct, signer, nonce, m["oid"], m["order"]) for m in action["modifies"]]
        return ok("order", {"statuses": statuses})
    if kind == "twapOrder":
        return ok("twapOrder", {"status": twap.place(engine, acct, action["twap"])})
    if kind == "twapCancel":
        return ok("twapCancel", {"status": twap.cancel(engine, acct, action["a"], action["t"])})
    if kind == "scheduleCancel":
        refusal = schedule.set_schedule(engine, acct, action.get("time"))
        return err(refusal) if refusal else ok_default()
    if kind == "updateLeverage":
        is_cross, leverage = action.get("isCross"), action.get("leverage")
        if not isinstance(is_cross, bool) or not _is_int(action.get("asset")):
            raise BadRequest("updateLeverage")
        refusal = engine.update_leverage(acct, action["asset"], is_cross, leverage)
        return err(refusal) if refusal else ok_default()
    if kind == "noop":
        return ok_default()  # the nonce is used: that is all it does
    if kind == "setReferrer":
        acct.referrer = acct.referrer or action["code"]
        return ok_default()
    if kind == "reserveRequestWeight":
        refusal = ratelimit.reserve(acct, action["weight"])
        return err(refusal) if refusal else ok_default()
    return _user_signed(engine, kind, action, acct, signer, nonce)


def _user_signed(engine: Engine, kind: str, action: dict[str, Any], acct: Account, signer: str, nonce: int) -> Outcome:
    if kind == "approveAgent":
        agent, name = action.get("agentAddress"), action.get("agentName", "")
        if not _is_address(agent) or not isinstance(name, str):
            raise BadRequest("approveAgent")
        match = VALID_UNTIL.match(name)
        valid_until = int(match.group(2)) if match else None
        engine.approve_agent(acct.address, str(agent), match.group(1) if match else name, valid_until)
        return ok_default()
    if kind == "approveBuilderFee":
        if not _is_address(action.get("builder")):
            raise BadRequest("approveBuilderFee")
        refusal = builder.approve(engine, acct, action["builder"], action.get("maxFeeRate"))
        return err(refusal) if refusal else ok_default()
    if kind == "sendAsset":
        return _send_asset(engine, action, acct, signer, nonce)
    return _usd_class_transfer(engine, action, acct, signer)


def _send_asset(engine: Engine, action: dict[str, Any], acct: Account, signer: str, nonce: int) -> Outcome:
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
        acct, action["destination"], action["sourceDex"], action["destinationDex"], token, amount, nonce
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
