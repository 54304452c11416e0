"""The commands the README and docs/ show run as shown: every offline one (on the demo, a saved
snapshot, or needing no account) is run, in the order of its page, and must end with the exit code
the page gives it (``exit N`` in its comment) or 0. A renamed flag breaks this test, not a reader.

Commands that need a live account, a key, the network or a terminal to answer a prompt are listed
by the reason they are not run (see ``why_not_run``), so that the rule stays visible.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
EXIT = re.compile(r"\bexit (\d+)\b")
SHELL = {"bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Shown:
    page: str
    line: int
    text: str
    env: tuple[tuple[str, str], ...]
    args: tuple[str, ...]
    expected: int
    output: str | None


def commands(page: Path) -> list[Shown]:
    """Every ``hlrebal ...`` line inside a fenced shell block of ``page``."""
    out: list[Shown] = []
    fence: str | None = None
    for number, raw in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(raw.strip())
        if match:
            fence = None if fence is not None else match.group(1)
            continue
        if fence is None:
            continue
        # Shell blocks show commands; other blocks only show them after a "$ " prompt (the rest is
        # output, or a table of commands with descriptions).
        if fence not in SHELL and not raw.startswith("$ "):
            continue
        line = raw.strip().removeprefix("$ ")
        code, _, comment = line.partition("  #")
        code = code.split(";")[0].split("&&")[0]  # the hlrebal part of `hlrebal ...; echo $?`
        try:
            words = shlex.split(code)
        except ValueError:
            continue
        env = []
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            env.append((name, value))
        if not words or words[0] != "hlrebal":
            continue
        output = None
        if ">" in words:
            at = words.index(">")
            output, words = (words[at + 1] if at + 1 < len(words) else None), words[:at]
        exit_match = EXIT.search(comment)
        out.append(
            Shown(
                page=page.name,
                line=number,
                text=line,
                env=tuple(env),
                args=tuple(words[1:]),
                expected=int(exit_match.group(1)) if exit_match else 0,
                output=output,
            )
        )
    return out


#: words that mark a command as needing something this test does not have
NEEDS = {
    "--address": "a live account",
    "--api-url": "a running endpoint",
    "--network": "the network",
    "--profile": "a configuration with profiles",
    "--key-file": "a key file",
    "--vault": "a live account",
    "serve": "a server running until Ctrl-C",
    "mcp": "an MCP client on stdin",
    "fetch": "the network",
    "--install-completion": "a shell to install into",
}


def why_not_run(shown: Shown) -> str | None:
    """The reason a shown command is not run here, or None when it is run."""
    args = shown.args
    for word, need in NEEDS.items():
        if word in args:
            return f"needs {need}"
    if any(("…" in a or "..." in a or "<" in a or a.isupper()) and not a.startswith("-") for a in args):
        return "a placeholder (TARGETS, FILE, 0x…)"
    offline = "--demo" in args or "--snapshot" in args
    needs_account = args[:1] and args[0] in ("plan", "execute", "account", "snapshot", "backtest")
    if needs_account and not offline:
        return "the live account of the configuration"
    if args[:1] == ("execute",) and "--yes" not in args and "-y" not in args and shown.expected == 0:
        return "a terminal to answer the confirmation prompt"
    for arg in args:
        # ./FILE is the page's scratch folder: written by a command above it (-o ./FILE, > ./FILE)
        if arg.endswith(".json") and not arg.startswith(("-", "./")) and not (ROOT / arg).exists():
            return f"a file the reader writes ({arg})"
    return None


ALL = [c for page in PAGES for c in commands(page)]


def test_the_docs_show_commands_and_most_are_run() -> None:
    run = [c for c in ALL if why_not_run(c) is None]
    assert len(ALL) >= 40 and len(run) * 5 >= len(ALL) * 2, (len(ALL), len(run))


@pytest.mark.parametrize("page", sorted({c.page for c in ALL if why_not_run(c) is None}))
def test_every_offline_command_on_the_page_ends_as_shown(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    failures = []
    for shown in [c for c in ALL if c.page == page and why_not_run(c) is None]:
        env = dict(shown.env)
        args = [str(tmp_path / Path(a).name) if a.startswith("./") else a for a in shown.args]
        result = runner.invoke(app, args, env=env or None)
        if shown.output is not None and result.exit_code == 0:
            (tmp_path / Path(shown.output).name).write_text(result.stdout)
        if result.exit_code != shown.expected:
            failures.append(
                f"{shown.page}:{shown.line}: `{shown.text}` ended with exit {result.exit_code}, "
                f"the page says {shown.expected}: {(result.stderr or result.stdout)[-300:]}"
            )
    assert not failures, "\n".join(failures)


def test_no_page_shows_a_flag_the_program_does_not_have() -> None:
    """Flags in commands that are not run still have to exist (a renamed flag breaks a reader)."""
    from typer.main import get_command

    root = get_command(app)
    problems = []
    for shown in ALL:
        words = [w for w in shown.args if not w.startswith("-")]
        ctx_command = root
        for word in words:
            sub = getattr(ctx_command, "commands", {}).get(word) if hasattr(ctx_command, "commands") else None
            if sub is None:
                break
            ctx_command = sub
        names = {opt for p in getattr(ctx_command, "params", []) for opt in (*p.opts, *p.secondary_opts)}
        names |= {"--help"}
        for arg in shown.args:
            flag = arg.split("=", 1)[0]
            if flag.startswith("--") and flag not in names and ctx_command is not root:
                problems.append(f"{shown.page}:{shown.line}: {flag} is not an option of `{' '.join(words[:2])}`")
    assert not problems, "\n".join(problems)


def test_the_environment_is_not_leaked_between_commands() -> None:
    assert not any(k.startswith("HLREBAL_") and k != "HLREBAL_HOME" for k in os.environ)


def test_the_schema_in_the_targets_page_is_what_hlrebal_schema_prints() -> None:
    import json

    from hlrebal.targets import schema

    text = (ROOT / "docs" / "targets.md").read_text(encoding="utf-8")
    start = text.index("```json", text.index("## JSON Schema"))
    block = text[start + len("```json") : text.index("```", start + 7)]
    assert json.loads(block) == schema()
