"""The console script builds only the command it runs (Typer reads every command's signature when
it builds an app); what the user sees must not change."""

from __future__ import annotations

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from hlrebal import cli
from hlrebal.cli import _command_named, app, build_app

PLAN = ["plan", "sample_targets/balanced.json", "--snapshot", "hlrebal/data/demo_snapshot.json"]


def test_the_full_app_has_every_command_and_a_named_one_only_its_own() -> None:
    full = get_command(app)
    assert isinstance(full, typer.core.TyperGroup)
    assert set(full.commands) == set(cli._COMMANDS)
    for name in cli._COMMANDS:
        one = get_command(build_app(name))
        assert isinstance(one, typer.core.TyperGroup) and set(one.commands) == {name}


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["plan", "x.json"], "plan"),
        (["config", "show"], "config"),
        (["sim", "serve"], "sim"),
        ([], None),
        (["--version"], None),
        (["--help"], None),
        (["plam"], None),  # a typo: the full app answers "Did you mean 'plan'?"
        (["--install-completion"], None),
    ],
)
def test_the_command_a_command_line_names(argv: list[str], named: str | None) -> None:
    assert _command_named(argv) == named


def test_shell_completion_gets_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_HLREBAL_COMPLETE", "complete_bash")
    assert _command_named(["plan"]) is None


@pytest.mark.parametrize(
    "argv",
    [PLAN, [*PLAN, "--json"], [*PLAN, "--bogus"], ["plan", "--help"], ["schema"], ["config", "show"]],
)
def test_a_command_built_alone_prints_and_exits_as_in_the_full_app(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("HLREBAL_HOME", str(tmp_path))
    runner = CliRunner()
    full = runner.invoke(app, argv, prog_name="hlrebal")
    alone = runner.invoke(build_app(argv[0]), argv, prog_name="hlrebal")
    assert (alone.exit_code, alone.stdout, alone.stderr) == (full.exit_code, full.stdout, full.stderr)
    assert full.exit_code == (2 if "--bogus" in argv else 0)
