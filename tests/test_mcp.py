"""``hlrebal mcp`` driven by the official MCP client over stdio, against the simulator: the tool list,
a plan with its hash, the refusal of a server started without --allow-execute, and the execution of
exactly the planned orders by one started with it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason="the MCP server test needs the mcp SDK: pip install 'hlrebal[mcp]'")

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from hlrebal.sim import Simulator

from execution_kit import USER, btc_80
from execution_kit import key_file as kit_key_file

ANSWER = {
    "selected_strategy": "balanced-growth",
    "reasoning": "Diversify out of BTC.",
    "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30},
}
TOOLS = {"account", "schema", "plan", "execute_plan", "journal"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(snapshot=btc_80(USER)) as s:
        yield s


@pytest.fixture
def server_args(sim: Simulator, tmp_path: Path, _isolated_home: Path) -> list[str]:
    key = kit_key_file(tmp_path)
    journal = tmp_path / "j.jsonl"
    return ["-m", "hlrebal", "mcp", "--api-url", sim.url, "--key-file", str(key), "--journal", str(journal)]


def result_of(answer: Any) -> tuple[bool, Any]:
    """(is_error, the JSON the tool returned or the error text), for the SDK's 1.x and 2.x results."""
    is_error = bool(getattr(answer, "is_error", getattr(answer, "isError", False)))
    text = answer.content[0].text if answer.content else ""
    if is_error:
        return True, text
    structured = getattr(answer, "structured_content", getattr(answer, "structuredContent", None))
    return False, structured if structured is not None else json.loads(text)


def session_run(args: list[str], home: Path, script: Any) -> Any:
    """Start ``python -m hlrebal mcp ARGS``, run ``script(session)`` against it, return what it returns."""
    env = {**os.environ, "HLREBAL_HOME": str(home)}
    params = StdioServerParameters(command=sys.executable, args=args, env=env)

    async def main() -> Any:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await script(session)

    return anyio.run(main)


def test_tools_plan_and_a_refusal_without_allow_execute(
    sim: Simulator, server_args: list[str], _isolated_home: Path
) -> None:
    async def script(session: ClientSession) -> dict[str, Any]:
        listed = await session.list_tools()
        planned = result_of(await session.call_tool("plan", {"document": ANSWER, "policy": {"slippage": 0.004}}))
        refused = result_of(await session.call_tool("execute_plan", {"plan_hash": planned[1]["plan_hash"]}))
        bad = result_of(await session.call_tool("plan", {"document": {"BTC": 0.5, "USDC": 0.6}}))
        account = result_of(await session.call_tool("account", {}))
        schema = result_of(await session.call_tool("schema", {}))
        return {"tools": {t.name for t in listed.tools}, "planned": planned, "refused": refused, "bad": bad,
                "account": account, "schema": schema}  # fmt: skip

    got = session_run(server_args, _isolated_home, script)
    assert got["tools"] == TOOLS
    is_error, plan = got["planned"]
    assert not is_error and plan["kind"] == "plan" and plan["strategy"] == "balanced-growth"
    assert [(t["coin"], t["side"]) for t in plan["trades"]] == [("BTC", "sell"), ("ETH", "buy")]
    assert plan["policy"]["slippage"] == "0.004" and len(plan["plan_hash"]) == 64
    assert got["refused"][0] and "started without --allow-execute" in got["refused"][1]
    assert got["bad"][0] and "weights sum to 1.1, not 1" in got["bad"][1] and "(exit 2)" in got["bad"][1]
    assert not got["account"][0] and D(got["account"][1]["equity"]) == 100000
    assert not got["schema"][0] and len(got["schema"][1]["oneOf"]) == 3
    assert sim.orders == []  # reading and planning placed nothing


def test_execute_plan_places_exactly_the_planned_orders(
    sim: Simulator, server_args: list[str], _isolated_home: Path
) -> None:
    async def script(session: ClientSession) -> dict[str, Any]:
        _, plan = result_of(await session.call_tool("plan", {"document": json.dumps(ANSWER)}))
        unknown = result_of(await session.call_tool("execute_plan", {"plan_hash": "ab" * 32}))
        executed = result_of(await session.call_tool("execute_plan", {"plan_hash": plan["plan_hash"]}))
        again = result_of(await session.call_tool("execute_plan", {"plan_hash": plan["plan_hash"]}))
        runs = result_of(await session.call_tool("journal", {"last": 5}))
        return {"plan": plan, "unknown": unknown, "executed": executed, "again": again, "runs": runs}

    got = session_run([*server_args, "--allow-execute"], _isolated_home, script)
    assert got["unknown"][0] and "no plan with plan_hash" in got["unknown"][1]
    is_error, report = got["executed"]
    assert not is_error and report["outcome"] == "done", report
    planned = [(t["coin"], t["side"] == "buy", D(t["size"]), D(t["limit_price"])) for t in got["plan"]["trades"]]
    first_round = [(o["coin"], o["is_buy"], D(str(o["sz"])), D(str(o["px"]))) for o in sim.orders[: len(planned)]]
    assert first_round == planned  # the plan's own sizes and limit prices
    assert got["again"][0] and "no plan with plan_hash" in got["again"][1]  # a plan runs once
    [run] = got["runs"][1]["runs"]
    assert run["plan_hash"] == got["plan"]["plan_hash"] and run["strategy"] == "balanced-growth"
