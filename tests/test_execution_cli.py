"""The execution flags on the command line (--style, --requote-seconds, --patience, --twap-minutes),
`journal --last` of 1 or more, and the cost figures in `execute --json`, the report and `journal`,
whole on 80- and 60-column terminals."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.journal import summarize_runs
from hlrebal.render import execution_renderable, journal_renderable
from hlrebal.sim import Simulator

from execution_kit import BALANCED, USER, PriceMover, btc_80, key_file, run_library

runner = CliRunner()


def execute(sim: Simulator, tmp_path: Path, *extra: str) -> Any:
    args = ["execute", str(BALANCED), "--api-url", sim.url, "--key-file", str(key_file(tmp_path))]
    return runner.invoke(app, [*args, "--journal", str(tmp_path / "journal.jsonl"), "--yes", "--json", *extra])


def text_at(renderable: Any, width: int) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    out = console.export_text()
    assert all(len(line) <= width for line in out.splitlines())
    return out


def test_the_maker_style_from_the_command_line(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim, PriceMover(sim, {"BTC": "85700", "ETH": "3040"}):
        r = execute(sim, tmp_path, "--style", "maker", "--requote-seconds", "0.2", "--patience", "3")
    assert r.exit_code == 0, r.stdout
    doc = json.loads(r.stdout)
    assert doc["style"] == "maker" and [o["tif"] for o in doc["orders"]] == ["Alo", "Alo"]
    costs = doc["costs"]
    assert costs["maker_share"] == "1" and [c["coin"] for c in costs["coins"]] == ["BTC", "ETH"]
    assert D(costs["fees_usd"]) == D(doc["fees"])
    assert doc["requests"]["exchange"] >= 2 and doc["requests"]["weight"] > 0
    start = json.loads((tmp_path / "journal.jsonl").read_text().splitlines()[0])
    assert start["execution"]["style"] == "maker" and start["execution"]["patience"] == "3"


def test_the_taker_report_carries_its_costs_and_requests(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        r = execute(sim, tmp_path)
    doc = json.loads(r.stdout)
    assert doc["style"] == "taker" and doc["costs"]["maker_share"] == "0"
    assert doc["requests"]["info"] == 7 and doc["requests"]["exchange"] == 2
    assert doc["requests"]["address_actions"] == 2  # one order each


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--style", "patient"), "execution.style from flag"),
        (("--patience", "-3"), "execution.patience from flag"),
        (("--twap-minutes", "2"), "execution.twap_minutes from flag"),
    ],
)
def test_bad_execution_flags_are_usage_errors_before_any_order(
    tmp_path: Path, flags: tuple[str, ...], fragment: str
) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        r = execute(sim, tmp_path, *flags)
        assert sim.orders == []
    assert r.exit_code == 2
    assert fragment in json.loads(r.stdout)["message"]


def test_journal_last_must_be_one_or_more(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    zero = subprocess.run(
        [sys.executable, "-m", "hlrebal", "journal", "--journal", str(journal), "--last", "0", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert zero.returncode == 2 and "--last" in json.loads(zero.stdout)["message"]
    one = runner.invoke(app, ["journal", "--journal", str(journal), "--last", "1", "--json"])
    assert one.exit_code == 0 and json.loads(one.stdout)["runs"] == []


@pytest.mark.parametrize("width", [80, 60])
def test_costs_appear_whole_in_the_report_and_the_journal(tmp_path: Path, width: int) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        report, _, _ = run_library(sim, tmp_path, {"BTC": 0.4, "ETH": 0.3})
    out = text_at(execution_renderable(report), width)
    assert "…" not in out and "Cost against the arrival price" in out
    for c in report.costs.coins:
        assert f"${c.fees_usd:,.2f}" in out and f"${c.shortfall_usd:,.2f}" in out
        assert f"{c.bps(c.total_usd):.1f} bps" in out
    assert "maker share" in out and f"vs ${report.costs.estimated_fees:,.2f}" in out


def test_the_journal_table_shows_each_runs_fees_and_cost(tmp_path: Path) -> None:
    with Simulator(snapshot=btc_80()) as sim:
        assert execute(sim, tmp_path).exit_code == 0
    runs = summarize_runs(tmp_path / "journal.jsonl", 5)
    for width in (160, 80, 60):
        out = text_at(journal_renderable(tmp_path / "journal.jsonl", runs), width)
        assert f"${D(runs[0]['cost_fees_usd']):,.2f}" in out
        assert f"{D(runs[0]['cost_total_bps']):.1f} bps" in out
    assert runs[0]["account"] == USER
