"""`backtest --compare`: grids, the sorted table, JSON, determinism, charts, and refused flags (exit 2)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from hlrebal.backtest import backtest, parse_compare, report_json, save_history
from hlrebal.backtest.chart import check_chart_path, draw_chart
from hlrebal.config import resolve
from hlrebal.errors import BadInputError, ExitCode
from hlrebal.policy import Policy
from hlrebal.render.backtest import report_renderable
from hlrebal.targets import load_targets

from backtest_helpers import demo_snapshot, history_doc, walk

GRID = "band=0.02,0.05,0.1 trade_to=target,edge band_relative=off,0.25"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    closes = {
        "BTC": walk(240, 90_000, 0.012, seed=21),
        "ETH": walk(240, 3_000, 0.016, seed=22),
        "HYPE/USDC": walk(240, 30, 0.025, seed=23),
    }
    save_history(history_doc(closes, wires={"HYPE/USDC": "@107"}, rate="0.0000125"), tmp_path / "h.json")
    (tmp_path / "t.json").write_text(json.dumps({"BTC": 0.4, "ETH": 0.2, "HYPE/USDC": 0.1}), encoding="utf-8")
    return tmp_path / "t.json", tmp_path / "h.json"


def run(files: tuple[Path, Path], flags: dict[str, Any] | None = None, **options: Any) -> Any:
    targets_path, history = files
    targets = load_targets(targets_path)
    resolved = resolve(flags=flags or {}, target_policy=targets.policy, env={})
    snapshot = demo_snapshot()
    return backtest(resolved, targets, history=history, rules=lambda: (snapshot, "demo"), **options)


def test_compare_rows_equal_single_runs_with_the_same_flags(files: tuple[Path, Path]) -> None:
    grid = run(files, compare="band=0.02,0.05 trade_to=target,edge", equity="50000")
    assert len(grid.runs) == 4
    for row in grid.runs:
        flags = dict(pair.split("=") for pair in row.label.split())
        single = run(files, flags=flags, equity="50000")
        assert (
            report_json(single)["policies"][0] | {"label": row.label}
            == report_json(grid)["policies"][grid.runs.index(row)]
        )


def test_the_grid_is_one_table_sorted_by_total_cost(files: tuple[Path, Path]) -> None:
    report = run(files, compare=GRID)
    assert len(report.runs) == 12
    costs = [r.total_cost for r in report.runs]
    assert costs == sorted(costs) and costs[0] < costs[-1]
    text = render(report)
    assert "policies, lowest total cost first" in text
    assert "band=0.1 trade_to=edge band_relative=0.25" in text
    assert "never rebalanced" in text and "every close, no cost" in text
    assert "not modelled: market impact beyond --cost-bps" in text
    assert "funding from the history, on perps only" in text


def render(report: Any) -> str:
    console = Console(record=True, width=240)
    console.print(report_renderable(report))
    return console.export_text()


def test_same_inputs_give_the_same_report(files: tuple[Path, Path]) -> None:
    first = json.dumps(report_json(run(files, compare=GRID)))
    assert json.dumps(report_json(run(files, compare=GRID))) == first


def test_json_is_one_document_with_every_row_and_both_baselines(files: tuple[Path, Path]) -> None:
    doc = json.loads(json.dumps(report_json(run(files, compare="band=0.02,0.05", cost_bps="3"))))
    assert doc["kind"] == "backtest" and doc["cost_bps"] == "3"
    assert doc["history"]["closes"] == 240 and doc["history"]["interval"] == "1h"
    assert doc["equity_source"] == "the account's equity" and doc["universe"]["source"] == "demo"
    assert [p["policy"]["band"] for p in doc["policies"]] == ["0.05", "0.02"]  # wider band, lower cost
    assert set(doc["baselines"]) == {"never_rebalanced", "every_close_no_cost"}
    row = doc["policies"][0]
    assert set(row) >= {"rebalances", "turnover", "fees", "slippage", "total_cost", "funding", "tracking_error"}
    assert doc["baselines"]["never_rebalanced"]["rebalances"] == 0
    assert doc["costs"]["not_modelled"]


@pytest.mark.parametrize(
    ("spec", "token"),
    [
        ("band", "'band': expected option=value"),
        ("band=0.02,,0.1", "'band=0.02,,0.1': an empty value"),
        ("bands=0.1", "'bands=0.1': 'bands' cannot be compared"),
        ("band=abc", "'band=abc': 'abc' is not a valid band"),
        ("band=1.5", "'band=1.5': '1.5' is not a valid band"),
        ("trade_to=middle", "'trade_to=middle': 'middle' is not a valid trade_to"),
        ("band=off", "band cannot be unset"),
        ("band=0.1 band=0.2", "'band=0.2': band is given twice"),
        ("band=0.1,0.1", "a value is listed twice"),
        ("", "no options given"),
    ],
)
def test_grid_mistakes_are_exit_2_naming_the_token(spec: str, token: str) -> None:
    with pytest.raises(BadInputError) as info:
        parse_compare(spec, Policy())
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert token in info.value.message


def test_grid_order_and_unset_values() -> None:
    variants = parse_compare("band=0.02,0.05 band_relative=off,0.25", Policy(band_relative=None))
    assert [v.label for v in variants] == [
        "band=0.02 band_relative=off",
        "band=0.02 band_relative=0.25",
        "band=0.05 band_relative=off",
        "band=0.05 band_relative=0.25",
    ]
    assert variants[0].policy.band_relative is None and str(variants[1].policy.band_relative) == "0.25"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"equity": "abc"}, "--equity: expected a number"),
        ({"equity": "0"}, "--equity: expected a positive amount"),
        ({"cost_bps": "-1"}, "--cost-bps: expected a number of at least 0"),
        ({"chart": Path("chart.pdf")}, "--chart chart.pdf: the file must end in .svg, .png, .html"),
        ({"compare": "band=2"}, "'band=2'"),
    ],
)
def test_bad_flags_are_exit_2(files: tuple[Path, Path], options: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError) as info:
        run(files, **options)
    assert info.value.exit_code == ExitCode.BAD_INPUT and message in info.value.message


def test_a_history_without_a_coin_of_the_targets_is_exit_2(files: tuple[Path, Path], tmp_path: Path) -> None:
    save_history(history_doc({"BTC": walk(10, 90_000, 0.01)}), tmp_path / "short.json")
    with pytest.raises(BadInputError) as info:
        run((files[0], tmp_path / "short.json"))
    assert "no candles for ETH, HYPE/USDC" in info.value.message and info.value.exit_code == 2


def test_the_chart_is_drawn_as_svg_png_and_html(files: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report = run(files, compare="band=0.02,0.05", chart=tmp_path / "c.svg")
    assert (tmp_path / "c.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    draw_chart(report, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    draw_chart(report, tmp_path / "c.html")
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "band=0.05" in page


def test_without_matplotlib_the_chart_asks_for_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(BadInputError) as info:
        check_chart_path(Path("chart.svg"))
    assert "needs matplotlib" in info.value.message and "pip install 'hlrebal[chart]'" in str(info.value)
