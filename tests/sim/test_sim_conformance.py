"""Conformance with recorded real answers: for each info type the sim answers, the sim's answer
to the same request has the recorded answer's keys and value types (strings for decimals,
integers for ids and times, the same nesting).

The recordings (tests/sim/data/conformance/, trimmed) come from hyperliquid-python-sdk's test
cassettes (public mainnet answers) and, for userTwapSliceFills, the docs' example. Every
difference the sim keeps on purpose is listed below, with its reason, and in
hlrebal/sim/README.md ("Conformance").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hlrebal.sim import ManualClock, SimConfig, Simulator

from sim_helpers import funded, info, limit, new_key, send_action, statuses, twap_action

DATA = Path(__file__).parent / "data" / "conformance"
Shape = Any

# path -> why the sim differs. "+" a key the sim has and the recording lacks, "-" the other way,
# "~" a different value type.
INTENDED: dict[str, dict[str, str]] = {
    "meta": {
        "+marginTables": "newer meta field (nktkas/hyperliquid's MetaResponse; the 2023 recording predates it)",
        "+collateralToken": "newer meta field (same)",
        "+universe[].marginTableId": "newer meta field (same)",
    },
    "openOrders": {"+[].origSz": "newer field (nktkas/hyperliquid's OpenOrder; the docs' example predates it)"},
    "frontendOpenOrders": {
        "+[].cloid": "newer field, null without a cloid (nktkas/hyperliquid's FrontendOpenOrder)",
    },
    "userFills": {
        "+[].tid": "newer field (docs' example, nktkas/hyperliquid's UserFill)",
        "+[].feeToken": "newer field (same)",
        "+[].twapId": "newer field, null outside a TWAP (nktkas/hyperliquid's UserFill)",
    },
    "clearinghouseState": {
        "-assetPositions[].position.maxTradeSzs": "an old field, gone from the docs' example and newer clients",
        "+assetPositions[].position.cumFunding": "newer field (docs' example)",
        "+assetPositions[].position.maxLeverage": "newer field (docs' example)",
        "+time": "newer field (docs' example)",
        "+crossMaintenanceMarginUsed": "newer field (docs' example)",
    },
    "userFunding": {"~[].delta.nSamples": "null in the hourly era (nktkas/hyperliquid: number | null; GUESS)"},
    "extraAgents": {"~[].validUntil": "null for an agent approved without valid_until (nktkas: number | null)"},
    "userRateLimit": {"+nRequestsSurplus": "newer field (nktkas/hyperliquid's UserRateLimitResponse)"},
    "userTwapSliceFills": {"+[].fill.twapId": "userFills' twapId, which the docs' example predates"},
}
INTENDED["userFillsByTime"] = INTENDED["userFills"]


def shape(value: Any) -> Shape:
    """The keys and value types of an answer: {"{}": {key: shape}}, {"[]": shape}, or a set
    of type names; list items merged."""
    if isinstance(value, dict):
        return {"{}": {k: shape(v) for k, v in value.items()}}
    if isinstance(value, list):
        items = [shape(item) for item in value]
        if len({_kind(i) for i in items}) > 1:  # a tuple such as [id, table]
            return {"()": items}
        merged: Shape = None
        for item in items:
            merged = merge(merged, item)
        return {"[]": merged}
    name = {bool: "bool", int: "int", float: "float", str: "str", type(None): "null"}[type(value)]
    return {name}


def _kind(s: Shape) -> str:
    return "scalar" if isinstance(s, set) else next(iter(s))


def merge(a: Shape, b: Shape) -> Shape:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, set) and isinstance(b, set):
        return a | b
    if isinstance(a, dict) and isinstance(b, dict) and "{}" in a and "{}" in b:
        keys = {**a["{}"], **b["{}"]}
        return {"{}": {k: merge(a["{}"].get(k), b["{}"].get(k)) for k in keys}}
    if isinstance(a, dict) and isinstance(b, dict) and "[]" in a and "[]" in b:
        return {"[]": merge(a["[]"], b["[]"])}
    if isinstance(a, dict) and isinstance(b, dict) and "()" in a and "()" in b and len(a["()"]) == len(b["()"]):
        return {"()": [merge(x, y) for x, y in zip(a["()"], b["()"], strict=True)]}
    raise AssertionError(f"mixed shapes {a} / {b}")


def differences(recorded: Shape, mine: Shape, path: str = "") -> list[str]:
    """ "+path", "-path", "~path" for each key or type that differs."""
    if recorded is None or mine is None:
        return []  # an empty list on one side: nothing to compare
    if isinstance(recorded, dict) and isinstance(mine, dict) and "{}" in recorded and "{}" in mine:
        out = []
        for key in sorted(set(recorded["{}"]) | set(mine["{}"])):
            sub = f"{path}.{key}" if path else key
            if key not in mine["{}"]:
                out.append(f"-{sub}")
            elif key not in recorded["{}"]:
                out.append(f"+{sub}")
            else:
                out += differences(recorded["{}"][key], mine["{}"][key], sub)
        return out
    if isinstance(recorded, dict) and isinstance(mine, dict) and "[]" in recorded and "[]" in mine:
        return differences(recorded["[]"], mine["[]"], f"{path}[]")
    if isinstance(recorded, dict) and isinstance(mine, dict) and "()" in recorded and "()" in mine:
        pairs = zip(recorded["()"], mine["()"], strict=False)
        return [d for i, (r, m) in enumerate(pairs) for d in differences(r, m, f"{path}({i})")]
    if isinstance(recorded, set) and isinstance(mine, set):
        return [] if mine <= recorded else [f"~{path}"]
    return [f"~{path}"]


@pytest.fixture(scope="module")
def busy() -> Iterator[tuple[Simulator, str, int, str, str]]:
    """A sim with one account that has done a bit of everything: positions both ways, resting
    orders, fills, a TWAP, funding, transfers, an agent; and a vault."""
    config = SimConfig(tick_seconds=0, funding=True, twap_slice_seconds=1)
    with Simulator(clock=ManualClock(), config=config) as sim:
        start = sim.now
        key, ex = funded(sim, 200_000)
        statuses(ex.order("BTC", False, 0.01, 80_000, limit("Ioc")))
        statuses(ex.order("ETH", True, 1.0, 3100, limit("Ioc")))
        statuses(ex.order("ETH", True, 0.5, 3000, limit("Gtc")))
        statuses(ex.order("SOL", False, 3.0, 150, limit("Alo")))
        send_action(ex, twap_action(1, True, "0.5", 5))
        sim.advance(10)
        sim.set_funding_rate("ETH", "0.0000125")
        sim.set_funding_rate("BTC", "-0.00002")
        sim.advance(3600)
        ex.usd_class_transfer(10, to_perp=False)
        ex.approve_agent("ok")
        vault = new_key().address
        sim.set_vault_leader(vault, key.address)
        yield sim, key.address.lower(), start, vault.lower(), key.address


CASES = sorted(p.stem for p in DATA.glob("*.json"))


def _request(kind: str, recorded: dict[str, Any], user: str, start: int, vault: str, now: int) -> dict[str, Any]:
    """The recorded request, aimed at the sim's account, coins and times."""
    body = dict(recorded)
    if "user" in body:
        body["user"] = vault if kind == "userRole" else user
    if kind == "l2Book":
        body["coin"] = "ETH"
    if kind == "fundingHistory":
        body.update(coin="BTC", startTime=now - 48 * 3_600_000, endTime=now)
    if kind == "candleSnapshot":
        body["req"] = {**body["req"], "coin": "BTC", "startTime": now - 24 * 3_600_000, "endTime": now}
    if "startTime" in body and kind != "fundingHistory":
        body.update(startTime=start, endTime=now)
    return body


@pytest.mark.parametrize("kind", CASES)
def test_the_sims_answer_has_the_recorded_shape(kind: str, busy: tuple[Simulator, str, int, str, str]) -> None:
    sim, user, start, vault, _ = busy
    doc = json.loads((DATA / f"{kind}.json").read_text())
    body = _request(kind, doc["request"], user, start, vault, sim.now)
    answer = info(sim).post("/info", body)
    recorded = doc["response"]
    assert answer, f"the sim's {kind} answer is empty: nothing to compare"
    if kind == "allMids":  # a map of coins: compare the values' types
        recorded, answer = list(recorded.values()), list(answer.values())
    if kind == "userNonFundingLedgerUpdates":  # compare the update types the recording has
        kinds = {u["delta"]["type"] for u in recorded}
        answer = [u for u in answer if u["delta"]["type"] in kinds]
        assert {u["delta"]["type"] for u in answer} == kinds
    found = differences(shape(recorded), shape(answer))
    allowed = INTENDED.get(kind, {})
    assert [d for d in found if d not in allowed] == [], f"{kind}: {doc['source']}"
    assert [d for d in allowed if d not in found] == [], f"{kind}: an intended difference is gone; update the list"


def test_differences_are_found() -> None:
    recorded = shape([{"a": "1.0", "b": 2, "c": {"d": None}}])
    assert differences(recorded, shape([{"a": "1.0", "b": 2, "c": {"d": None}}])) == []
    assert differences(recorded, shape([{"a": 1.0, "b": 2, "e": 1, "c": {"d": "x"}}])) == ["~[].a", "~[].c.d", "+[].e"]
    assert differences(recorded, shape([{"a": "1.0", "c": {}}])) == ["-[].b", "-[].c.d"]
