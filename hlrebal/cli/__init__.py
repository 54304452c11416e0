"""The command-line interface: the only place that prints, prompts and sets exit codes.

Each command is a few lines that call the library and turn its domain errors into a message and an
exit code (see the README's table). Nothing heavy is imported at module level, here or in any command
module: ``hlrebal --help`` must not pay for pydantic, the SDK or eth_account.

The rooms, one per command group, assembled into :data:`app` below:

- ``plan``: ``hlrebal plan`` (and ``--execute``);
- ``execute``: ``hlrebal execute`` and the execution flow both share (plan, confirm, execute, verify);
- ``ui``: the terminal's side of a run: progress, prompts, ``--quiet``, ``--log-file``, the stop flag;
- ``account``: ``account``, ``snapshot`` and ``journal``, the commands that read;
- ``config``: ``config show`` and ``config init``;
- ``demo``: ``demo reset`` and ``sim serve``, the paper exchanges;
- ``schema``: the target file's JSON Schema;
- ``backtest``: ``backtest`` and ``history fetch``, choosing a policy from history;
- ``mcp``: ``hlrebal mcp``, the tools served to LLM clients (the SDK loads only when it serves);
- ``options``: the options commands share, and which of them are settings;
- ``common``: consoles, errors to exit codes, JSON output, settings and targets.

A new command group (``backtest``, ``history``, ``mcp``) gets a module of its own and one line
here; a new option several commands share is declared once in ``options``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hlrebal.cli import account, backtest, config, demo, execute, mcp, plan, schema
from hlrebal.cli.common import HlrebalGroup

app = typer.Typer(
    name="hlrebal",
    cls=HlrebalGroup,
    help="Bring a Hyperliquid account to a target allocation: plan, confirm, execute, verify.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from hlrebal import __version__

        sys.stdout.write(f"hlrebal {__version__}\n")
        raise typer.Exit(0)


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """hlrebal: deterministic portfolio rebalancing for Hyperliquid."""


app.callback()(_root)
app.command("plan")(plan.plan)
app.command("execute")(execute.execute_cmd)
app.command("journal")(account.journal_cmd)
app.command("account")(account.account)
app.command("snapshot")(account.snapshot_cmd)
app.add_typer(config.config_app, name="config")
app.add_typer(demo.demo_app, name="demo")
app.add_typer(demo.sim_app, name="sim")
app.command("schema")(schema.schema)
app.command("backtest")(backtest.backtest_cmd)
app.add_typer(backtest.history_app, name="history")
app.command("mcp")(mcp.mcp_cmd)


def main() -> None:
    """Console-script entry point (usage errors are handled by :class:`HlrebalGroup`: with
    ``--json`` anywhere on the command line they are JSON documents on stdout too, exit code 2)."""
    app()
