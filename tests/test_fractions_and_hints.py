"""Fraction-valued options given as percentages are refused with the fraction to write, and the
command a saved plan's hint gives reaches the same account."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_targets"
runner = CliRunner()


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--max-price-deviation", "2", "hint: max_price_deviation is a fraction, not a percentage: write 0.02 for 2%"),
        ("--band", "5", "hint: band is a fraction, not a percentage: write 0.05 for 5%"),
        ("--slippage", "1", "hint: slippage is a fraction, not a percentage: write 0.01 for 1%"),
    ],
)
def test_a_percentage_for_a_fraction_is_refused_with_the_fraction(flag: str, value: str, said: str) -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--demo", flag, value])
    assert r.exit_code == 2
    assert said in r.stderr


def test_a_fraction_out_of_range_that_is_no_percentage_gets_no_percentage_hint() -> None:
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--demo", "--max-price-deviation", "0.6"])
    assert r.exit_code == 2
    assert "less than 0.5" in r.stderr and "hint" not in r.stderr


def test_max_price_move_as_a_percentage_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    plan_file = tmp_path / "p.json"
    made = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--demo", "-o", str(plan_file)])
    assert made.exit_code == 0, made.output
    r = runner.invoke(app, ["execute", "--plan", str(plan_file), "--demo", "--yes", "--max-price-move", "5"])
    assert r.exit_code == 2
    assert "--max-price-move '5': must be a fraction below 0.5" in r.stderr
    assert "write --max-price-move 0.02 for 2%" in r.stderr
    account = runner.invoke(app, ["account", "--demo", "--json"])
    assert '"BTC"' in account.stdout and "ETH" not in account.stdout  # nothing traded: still 80% BTC


def test_the_saved_plan_hint_names_the_connection_it_was_made_on(tmp_path: Path) -> None:
    plan_file = tmp_path / "p.json"
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--demo", "-o", str(plan_file)])
    assert r.exit_code == 0
    assert f"then run `hlrebal execute --plan {plan_file} --demo`" in r.stderr
    snap = tmp_path / "s.json"
    assert runner.invoke(app, ["snapshot", "--demo", "-o", str(snap)]).exit_code == 0
    r = runner.invoke(app, ["plan", str(SAMPLES / "balanced.json"), "--snapshot", str(snap), "-o", str(plan_file)])
    assert r.exit_code == 0
    assert f"`hlrebal execute --plan {plan_file}` with the live account's connection options" in r.stderr
