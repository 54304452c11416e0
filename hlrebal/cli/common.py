"""What every command shares: the two consoles, the error-to-exit-code mapping, JSON output, and the
settings and targets a command starts from.

Commands run their work inside :func:`guarded`, which turns a domain error into a message on stderr
(and, with ``--json``, an error document on stdout) and the error's exit code; nothing else catches.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

if TYPE_CHECKING:
    from rich.console import Console

    from hlrebal.approval import Limits
    from hlrebal.config import Resolved
    from hlrebal.errors import HlrebalError
    from hlrebal.targets import Document, Targets

T = TypeVar("T")


PIPED_WIDTH = 160
"""The width of results written to a pipe or a file when ``COLUMNS`` does not say."""


def err_console() -> Console:
    """stderr: prompts, progress, notices and error messages."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def out_console() -> Console:
    """stdout: results; when piped, as wide as ``COLUMNS`` says (a narrow pager, a log viewer), else
    wide enough for the whole plan table."""
    import os

    from rich.console import Console

    # emoji=False: a ":name:" in a coin, a strategy or a path is text, not an emoji code (and rich's
    # table of codes is not loaded on every start).
    if sys.stdout.isatty():
        return Console(highlight=False, emoji=False)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and 20 <= int(columns) <= 1000 else PIPED_WIDTH
    return Console(highlight=False, width=width, emoji=False)


def print_json(doc: Any) -> None:
    """One JSON document on stdout (the ``--json`` output of every command)."""
    import json  # lazily, like everything not needed for `hlrebal --help`

    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def fail(error: HlrebalError, json_mode: bool) -> NoReturn:
    """Report a domain error (message and hint on stderr, a JSON document with --json) and exit."""
    from hlrebal.render import error_json

    code = int(error.exit_code)
    if json_mode:
        print_json(error_json(error.kind, error.message, code, error.hint))
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(error.message)}", markup=True, highlight=False)
    if error.hint:
        err_console().print(f"hint: {error.hint}", markup=False)
    raise typer.Exit(code)


def guarded(json_mode: bool, body: Callable[[], T]) -> T:
    """Run a command body, mapping domain errors to messages and exit codes."""
    from hlrebal.errors import ExitCode, HlrebalError, Interrupted

    try:
        return body()
    except HlrebalError as e:
        fail(e, json_mode)
    except KeyboardInterrupt:
        fail(Interrupted("interrupted"), json_mode)
    except typer.Exit:
        raise
    except Exception as e:  # the CLI is the one place that catches everything: no traceback, exit 1
        if os.environ.get("HLREBAL_DEBUG"):
            raise
        err = HlrebalError(
            f"internal error: {type(e).__name__}: {e}",
            hint="this is a bug in hlrebal; rerun with HLREBAL_DEBUG=1 for a traceback and report it",
        )
        err.exit_code = ExitCode.INTERNAL
        fail(err, json_mode)


class HlrebalGroup(TyperGroup):
    """The root command: usage errors (an unknown option, a bad value) in hlrebal's own style,
    ``error: ...`` and a ``hint:`` on stderr, exit 2; with ``--json`` also an error document on
    stdout, like every other error."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as e:
            e.show()  # the help, on stderr, exit 2 (as Click does)
            sys.exit(e.exit_code)
        except typer.Abort:
            sys.stderr.write("error: aborted\n")
            sys.exit(130)
        except ClickException as e:
            _usage_error(e, json_mode="--json" in argv)
        sys.exit(result if isinstance(result, int) else 0)


def _usage_error(e: ClickException, *, json_mode: bool) -> NoReturn:
    code = int(getattr(e, "exit_code", 2))
    message = e.format_message()
    ctx = getattr(e, "ctx", None)
    if json_mode:
        from hlrebal.render import error_json

        print_json(error_json("usage", message, code))
    sys.stderr.write(f"error: {message}\n")
    if ctx is not None:
        sys.stderr.write(f"hint: see `{ctx.command_path} --help`\n")
    sys.exit(code)


def resolve_settings(
    *,
    flags: dict[str, Any],
    targets: Document | None,
    config: Path | None,
    profile: str | None,
) -> Resolved:
    """A command's effective settings: its flags, the target file's policy, the environment and the
    configuration file, merged by :func:`hlrebal.config.resolve`."""
    from hlrebal.config import resolve

    return resolve(
        flags=flags,
        target_policy=targets.policy if targets is not None else None,
        config_path=config,
        profile=profile,
    )


def targets_path(path: Path | None, config: Path | None, profile: str | None) -> Path:
    """The target file given on the command line, else the configuration's ``targets``."""
    from hlrebal.errors import BadInputError

    if path is None:
        resolved = resolve_settings(flags={}, targets=None, config=config, profile=profile)
        if resolved.settings.targets is None:
            raise BadInputError(
                "no target file given",
                hint="pass TARGETS (e.g. sample_targets/balanced.json) or set `targets` in the configuration",
            )
        path = resolved.settings.targets
    return path


def load_targets_arg(path: Path | None, config: Path | None, profile: str | None) -> Targets:
    """The target weights given on the command line (``-`` for stdin), else the configuration's."""
    from hlrebal.targets import load_targets

    return load_targets(targets_path(path, config, profile))


def load_document_arg(
    path: Path | None, config: Path | None, profile: str | None, *, extract: bool = False
) -> tuple[Document, str]:
    """The target or direct-action document given on the command line (``-`` for stdin; with
    ``extract`` the one JSON object of a free-text answer), else the configuration's; and the JSON
    text it was read from (what a plan file keeps)."""
    from hlrebal.targets import parse_document, read_document_text

    text, source = read_document_text(targets_path(path, config, profile), extract=extract)
    return parse_document(text, source), text


def approval_limits(max_price_move: str | None, max_plan_age: str | None) -> Limits:
    """The :class:`~hlrebal.approval.Limits` of ``--max-price-move`` and ``--max-plan-age``
    (exit 2 for a value that is not a positive number)."""
    from hlrebal.approval import Limits

    return Limits.of(max_price_move, max_plan_age)
