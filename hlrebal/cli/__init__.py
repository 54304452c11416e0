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

import functools
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from hlrebal.cli.common import HlrebalGroup


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


#: every command (a function) and command group (a Typer app), by name, in the help's order, as
#: the module of hlrebal.cli that holds it and its name there: a run imports only its own command's
#: module (each is a few imports of its own, about 2 ms for the ones a run does not use)
_COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("plan", "plan"),
    "execute": ("execute", "execute_cmd"),
    "journal": ("account", "journal_cmd"),
    "account": ("account", "account"),
    "snapshot": ("account", "snapshot_cmd"),
    "config": ("config", "config_app"),
    "demo": ("demo", "demo_app"),
    "sim": ("demo", "sim_app"),
    "schema": ("schema", "schema"),
    "backtest": ("backtest", "backtest_cmd"),
    "history": ("backtest", "history_app"),
    "mcp": ("mcp", "mcp_cmd"),
}


def _command(name: str) -> Callable[..., object] | typer.Typer:
    module, attribute = _COMMANDS[name]
    command: Callable[..., object] | typer.Typer = getattr(importlib.import_module(f"hlrebal.cli.{module}"), attribute)
    return command


def build_app(only: str | None = None) -> typer.Typer:
    """The command line: every command, or ``only`` the one named (with the root's options)."""
    built = typer.Typer(
        name="hlrebal",
        cls=HlrebalGroup,
        help="Bring a Hyperliquid account to a target allocation: plan, confirm, execute, verify.",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )
    built.callback()(_root)
    for name in _COMMANDS:
        if only is not None and name != only:
            continue
        command = _command(name)
        if isinstance(command, typer.Typer):
            built.add_typer(command, name=name)
        else:
            built.command(name)(command)
    return built


@functools.cache
def _full_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> Any:
    # ``hlrebal.cli.app`` (the whole command line, for tests and tools that embed it) is built when
    # first asked for: the console script builds only the command it runs.
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command_named(argv: Sequence[str]) -> str | None:
    """The command a command line runs, when its first word names one (else None: the root's
    ``--help`` or ``--version``, a typo Click should answer, or shell completion, all of which need
    every command)."""
    if not argv or any(name.startswith("_HLREBAL_COMPLETE") for name in os.environ):
        return None
    return argv[0] if argv[0] in _COMMANDS else None


def main() -> None:
    """Console-script entry point (usage errors are handled by :class:`HlrebalGroup`: with
    ``--json`` anywhere on the command line they are JSON documents on stdout too, exit code 2).

    Only the command named is built: Typer reads every command's signature when it builds an app,
    about 20 ms for the dozen commands a run does not use."""
    only = _command_named(sys.argv[1:])
    (_full_app() if only is None else build_app(only))()
