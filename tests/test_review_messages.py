"""Messages a new user met while trying hlrebal: each says what to do next."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hlrebal.cli import app

runner = CliRunner()


def test_a_free_text_answer_without_extract_json_is_pointed_at_the_flag(tmp_path: Path) -> None:
    prose = tmp_path / "answer.txt"
    prose.write_text('Here is the allocation: {"target_allocation": {"BTC": 0.5}}')
    r = runner.invoke(app, ["plan", str(prose), "--demo"])
    assert r.exit_code == 2
    assert "invalid JSON at line 1 column 1" in r.stderr
    assert "hint: if this is a free-text answer with the JSON inside it, add --extract-json" in r.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"target_allocation": {"BTC": 0.5,}}')
    r = runner.invoke(app, ["plan", str(broken), "--demo"])
    assert r.exit_code == 2 and "invalid JSON" in r.stderr and "--extract-json" not in r.stderr


def test_empty_standard_input_is_called_standard_input() -> None:
    r = runner.invoke(app, ["plan", "-", "--demo"], input="")
    assert r.exit_code == 2
    assert "<stdin>: standard input is empty" in r.stderr


def test_an_action_with_size_and_notional_says_it_takes_one() -> None:
    doc = '{"actions": [{"action_type": "buy", "coin": "ETH", "size": 1, "notional": 100}]}'
    r = runner.invoke(app, ["plan", "-", "--demo"], input=doc)
    assert r.exit_code == 2
    assert "a buy takes size (coins) or notional (USD), not both" in r.stderr


def test_the_margin_line_counts_the_plans_own_transfer_from_spot(tmp_path: Path) -> None:
    targets = tmp_path / "m.json"
    targets.write_text('{"BTC": 2.0, "ETH": 1.5}')
    r = runner.invoke(app, ["plan", str(targets), "--demo", "--max-leverage", "4"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.stdout.splitlines() if "phase 2 margin" in ln)
    assert " free + $" in line and "moved from spot" in line
    balanced = Path(__file__).parent.parent / "sample_targets" / "balanced.json"
    plain = runner.invoke(app, ["plan", str(balanced), "--demo"])
    assert "moved from spot" not in plain.stdout  # no transfer in that plan


def test_losses_are_written_minus_dollar() -> None:
    from decimal import Decimal

    from hlrebal.render.numbers import usd

    assert [usd(Decimal(v)) for v in ("-0.22", "-1234567.891", "-0.001", "0", "12.5")] == [
        "-$0.22",
        "-$1,234,567.89",
        "$0.00",
        "$0.00",
        "$12.50",
    ]


def test_a_run_that_failed_before_its_key_journals_its_network_and_targets(tmp_path: Path) -> None:
    import json

    journal = tmp_path / "j.jsonl"
    config = tmp_path / "config.toml"
    balanced = Path(__file__).parent.parent / "sample_targets" / "balanced.json"
    config.write_text(f'[profiles.cron]\ntargets = "{balanced}"\naccount_address = "0x{"ab" * 20}"\n')
    args = ["execute", "--yes", "--api-url", "http://127.0.0.1:9", "--journal", str(journal)]
    r = runner.invoke(app, [*args, "--config", str(config), "--profile", "cron"], env={"HLREBAL_PRIVATE_KEY": ""})
    assert r.exit_code == 2, r.output
    start = next(json.loads(line) for line in journal.read_text().splitlines() if '"run_start"' in line)
    assert start["failed_before_start"] is True
    assert start["network"] not in (None, "") and start["targets"] == str(balanced)
