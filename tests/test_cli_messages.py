"""Messages that help: usage errors in hlrebal's own style, flags named as the user typed them,
options that exist wherever their siblings do, completion of word-valued options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app

ROOT = Path(__file__).resolve().parent.parent
BALANCED = str(ROOT / "sample_targets" / "balanced.json")
SPOT_HEAVY = str(ROOT / "tests" / "data" / "golden" / "snapshots" / "spot_heavy.json")
runner = CliRunner()


def hlrebal(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The console script, as a user runs it: its name is the program name in messages and in
    # the completion protocol (`python -m hlrebal` would be "python -m hlrebal").
    return subprocess.run(
        [str(Path(sys.executable).parent / "hlrebal"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_an_unknown_option_is_an_error_line_and_a_hint_like_every_other_error() -> None:
    r = hlrebal("plan", "--bnad", "0.03")
    assert r.returncode == 2
    assert r.stderr.startswith("error: No such option: --bnad")
    assert "--band" in r.stderr.splitlines()[0]  # the close match is offered
    assert "hint: see `hlrebal plan --help`" in r.stderr
    assert "Usage:" not in r.stderr and "Error:" not in r.stderr and r.stdout == ""


def test_with_json_a_usage_error_is_also_a_json_document() -> None:
    r = hlrebal("account", "--quiet", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc == {
        "version": 1,
        "kind": "error",
        "error": "usage",
        "message": "No such option: --quiet",
        "exit_code": 2,
    }


def test_no_arguments_print_the_help_and_exit_2() -> None:
    r = hlrebal()
    assert r.returncode == 2 and "Usage: hlrebal" in r.stderr + r.stdout and "plan" in r.stderr + r.stdout


def test_journal_last_must_be_one_or_more() -> None:
    r = runner.invoke(app, ["journal", "--last", "0"])
    assert r.exit_code == 2 and "--last" in r.output


def test_plan_yes_without_execute_is_a_usage_error_that_sends_nothing() -> None:
    r = runner.invoke(app, ["plan", BALANCED, "--snapshot", SPOT_HEAVY, "--yes"])
    assert r.exit_code == 2
    assert "--yes confirms orders" in r.stderr and "--execute" in r.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["execute", BALANCED, "--snapshot", SPOT_HEAVY, "--yes"], "execute cannot use --snapshot"),
        (
            ["plan", BALANCED, "--snapshot", SPOT_HEAVY, "--execute", "--yes"],
            "--execute cannot be used with --snapshot",
        ),
    ],
)
def test_a_snapshot_refusal_names_the_flags_that_were_typed(args: list[str], said: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and said in r.stderr and "hlrebal plan TARGETS --snapshot FILE" in r.stderr


def test_untargeted_spot_is_a_flag_like_every_other_policy_option() -> None:
    base = ["plan", BALANCED, "--snapshot", SPOT_HEAVY, "--json"]
    kept = json.loads(runner.invoke(app, base).stdout)
    closed = json.loads(runner.invoke(app, [*base, "--untargeted-spot", "close"]).stdout)
    assert kept["policy"]["untargeted_spot"] == "keep" and closed["policy"]["untargeted_spot"] == "close"
    sells = {t["coin"]: Decimal(t["size"]) for t in closed["trades"] if t["kind"] == "spot" and t["side"] == "sell"}
    assert set(sells) == {"HYPE/USDC", "UBTC/USDC"}  # PURR (40 tokens, about $7) is below the minimum
    assert sells["HYPE/USDC"] == Decimal("800")  # all that is free: 100 of 900 are on hold
    assert not [t for t in kept["trades"] if t["kind"] == "spot"]
    bad = runner.invoke(app, [*base, "--untargeted-spot", "sell"])
    assert bad.exit_code == 2 and "untargeted_spot" in bad.stderr


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("hlrebal plan --trade-to ", ["target", "edge"]),
        ("hlrebal execute --untargeted ", ["close", "keep"]),
        ("hlrebal plan --untargeted-spot c", ["close"]),
        ("hlrebal plan --network ", ["mainnet", "testnet"]),
        ("hlrebal plan --band-relative o", ["off"]),
    ],
)
def test_completion_offers_the_words_an_option_takes(words: str, offered: list[str]) -> None:
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    env = {"_HLREBAL_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    r = hlrebal(env=env)
    assert r.returncode == 0 and r.stdout.split() == offered
