"""``hlrebal mcp``: the desk's tools served over stdio with the official MCP SDK (``hlrebal[mcp]``).

The SDK is imported here only, when the server starts. Its 2.x releases call the server class
``MCPServer``, its 1.x releases ``FastMCP``; both take the same tool functions. A tool that fails
with one of hlrebal's errors answers a tool error with the message and hint the command line
prints (the model reads it and can fix its document); anything else is the SDK's own "error
executing tool". Nothing here writes to stdout: that is the protocol's channel.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from hlrebal.errors import HlrebalError
from hlrebal.mcp.desk import Desk

INSTRUCTIONS = """\
hlrebal rebalances a Hyperliquid account to a target allocation, deterministically.
Propose, review, execute: call `schema` for the document format, `account` to see the account,
`plan` with a target allocation ({"target_allocation": {"BTC": 0.4, "USDC": 0.6}}) or direct actions
({"actions": [{"action_type": "sell", "coin": "BTC", "size": 0.1}]}), optionally with
"selected_strategy" and "reasoning"; show the plan to whoever approves it; then `execute_plan` with
its plan_hash (only when the server allows execution). Weights are fractions of equity; USDC is cash.
"""


def _sdk() -> tuple[Any, type[Exception], Callable[[dict[str, Any]], Any]]:
    """The SDK's server class, its tool-error class and its tool-annotations model's validator."""
    try:
        server_module, errors = import_module("mcp.server.mcpserver"), import_module("mcp.server.mcpserver.exceptions")
        server_class = server_module.MCPServer
    except ImportError:  # the SDK's 1.x releases
        server_module, errors = import_module("mcp.server.fastmcp"), import_module("mcp.server.fastmcp.exceptions")
        server_class = server_module.FastMCP
    annotations = import_module("mcp.types").ToolAnnotations
    return server_class, errors.ToolError, annotations.model_validate


def build(desk: Desk) -> Any:
    """The MCP server with hlrebal's tools."""
    server_class, tool_error, annotations = _sdk()
    # The SDK logs every tool error at INFO on stderr; the client gets them as tool results anyway.
    server = server_class("hlrebal", instructions=INSTRUCTIONS, log_level="WARNING")

    def answer(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return call()
        except HlrebalError as e:
            # The model reads this: the same words the command line prints, and the exit code.
            hint = f"\nhint: {e.hint}" if e.hint else ""
            raise tool_error(f"{e.message} (exit {int(e.exit_code)}){hint}") from e

    def account() -> dict[str, Any]:
        """The account: equity, perp positions and spot balances with their weights, open orders."""
        return answer(desk.account)

    def schema() -> dict[str, Any]:
        """The JSON Schema of the documents `plan` takes: target allocations and direct actions."""
        return answer(desk.schema)

    def plan(document: dict[str, Any] | str, policy: dict[str, Any] | None = None) -> dict[str, Any]:
        """Plan the trades for a document: a target allocation or a list of direct actions (a JSON
        object, or text holding exactly one). `policy` sets planning preferences (band, trade_to,
        slippage, min_trade_value, leverage, untargeted, ...), never safety limits. Places nothing:
        returns the plan with its plan_hash, for review and `execute_plan`."""
        return answer(lambda: desk.plan(document, policy))

    def execute_plan(plan_hash: str) -> dict[str, Any]:
        """Execute exactly the plan an earlier `plan` call returned, by its plan_hash: refused when
        the server was started without --allow-execute, when the account or prices changed since, or
        when the plan is too old. Returns the execution report."""
        return answer(lambda: desk.execute_plan(plan_hash))

    def journal(last: int = 10) -> dict[str, Any]:
        """The most recent runs from the journal: when, strategy, plan_hash, orders, outcome."""
        return answer(lambda: desk.journal_runs(last))

    reads = annotations({"readOnlyHint": True, "openWorldHint": True})
    server.add_tool(account, annotations=reads)
    server.add_tool(schema, annotations=annotations({"readOnlyHint": True, "openWorldHint": False}))
    server.add_tool(plan, annotations=reads)
    server.add_tool(execute_plan, annotations=annotations({"destructiveHint": True, "openWorldHint": True}))
    server.add_tool(journal, annotations=annotations({"readOnlyHint": True, "openWorldHint": False}))
    return server


def serve(desk: Desk) -> None:
    """Serve the tools over stdio until the client closes the connection."""
    build(desk).run("stdio")
