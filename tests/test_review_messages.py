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


def test_piped_results_follow_columns_when_it_is_set() -> None:
    balanced = str(Path(__file__).parent.parent / "sample_targets" / "balanced.json")
    narrow = runner.invoke(app, ["plan", balanced, "--demo"], env={"COLUMNS": "60"})
    wide = runner.invoke(app, ["plan", balanced, "--demo"], env={"COLUMNS": ""})
    assert narrow.exit_code == wide.exit_code == 0
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    assert max(len(line) for line in wide.stdout.splitlines()) > 100  # the whole table, 160 wide


def test_account_reads_the_account_a_key_file_signs_for(tmp_path: Path) -> None:
    import json
    import os

    from eth_account import Account

    from hlrebal.sim import Simulator

    from factories import make_snapshot

    signer = Account.create()
    address = signer.address.lower()
    key_file = tmp_path / "key"
    key_file.write_text(signer.key.hex())
    os.chmod(key_file, 0o600)
    with Simulator(snapshot=make_snapshot({"BTC": ("0.1", 5)}, cash="10000", user=address)) as sim:
        r = runner.invoke(app, ["account", "--api-url", sim.url, "--key-file", str(key_file), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["user"] == address


def test_every_name_the_exchange_does_not_list_is_said_at_once(tmp_path: Path) -> None:
    targets = tmp_path / "t.json"
    targets.write_text('{"btc": 0.3, "FOO": 0.2, "ETH": 0.1, "BAR": 0.1}')
    r = runner.invoke(app, ["plan", str(targets), "--demo"])
    assert r.exit_code == 2
    assert (
        "btc: is not traded on this exchange (names are case-sensitive: did you mean 'BTC'?); "
        "also not traded: 'FOO', 'BAR'"
    ) in r.stderr


def test_orders_cancelled_unfilled_are_said_apart_from_the_fills() -> None:
    from decimal import Decimal as D

    from rich.console import Console

    from hlrebal.execution import ExecutionReport, OrderReport
    from hlrebal.render import execution_renderable

    def order(status: str, filled: str) -> OrderReport:
        return OrderReport(
            round=1, phase=1, cloid="0x" + "0" * 32, coin="BTC", side="sell", action="reduce", reduce_only=True,
            size=D(1), reference_price=D(100), limit_price=D(100), status=status, filled_size=D(filled),
        )  # fmt: skip

    def line(*orders: OrderReport) -> str:
        console = Console(width=160, record=True)
        console.print(execution_renderable(ExecutionReport(run_id="r", orders=list(orders))))
        return next(ln for ln in console.export_text().splitlines() if "orders sent / filled" in ln)

    assert (
        line(order("filled", "1"), order("cancelled", "0"), order("cancelled", "0"))
        .rstrip()
        .endswith("3 / 1 (2 cancelled unfilled: requoted or out of patience)")
    )
    assert line(order("filled", "1"), order("partial", "0.5")).rstrip().endswith("2 / 2")


def test_the_log_file_has_each_fill_and_the_cost_of_the_run(tmp_path: Path) -> None:
    import re

    log = tmp_path / "run.log"
    balanced = str(Path(__file__).parent.parent / "sample_targets" / "balanced.json")
    r = runner.invoke(app, ["execute", balanced, "--demo", "--yes", "--quiet", "--log-file", str(log)])
    assert r.exit_code == 0, r.output
    text = log.read_text()
    assert re.search(r"fill: BTC sell 0\.46729 at [\d.]+, fee \$[\d,.]+ \(filled\)", text)
    assert re.search(r"fill: ETH buy [\d.]+ at [\d.]+, fee \$[\d,.]+ \(filled\)", text)
    assert re.search(r"cost: \$[\d,.]+ \([\d.]+ bps of \$[\d,.]+: shortfall -?\$[\d,.-]+, fees \$[\d,.]+\)", text)


def test_the_schema_gives_band_relative_its_real_default() -> None:
    from hlrebal.policy import Policy
    from hlrebal.targets import schema

    policy = schema()["definitions"]["policy"] if "definitions" in schema() else None
    text = str(schema())
    assert "'default': 0.25" in text and Policy().band_relative == 0.25
    assert policy is None or policy["properties"]["band_relative"]["default"] == 0.25
