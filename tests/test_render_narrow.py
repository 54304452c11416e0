"""On an 80- or 60-column terminal nothing a user must read is cut: every size, price, notional,
coin, side and address of the plan, the run, the account and the journal appears whole."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table

from hlrebal.execution import ExecutionReport, OrderReport
from hlrebal.market import fmt_decimal
from hlrebal.planner import Plan, plan
from hlrebal.policy import Policy
from hlrebal.render import (
    account_renderable,
    execution_renderable,
    journal_renderable,
    plan_renderable,
    settings_json,
    settings_renderable,
)
from hlrebal.snapshot import Snapshot, load_snapshot
from hlrebal.targets import load_targets

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "data" / "golden" / "snapshots"
WIDTHS = (80, 60)


def text_at(renderable: RenderableType, width: int) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    out = console.export_text()
    assert all(len(line) <= width for line in out.splitlines()), "a line is wider than the terminal"
    return out


def usd(value: Decimal) -> str:
    """Dollars as a trader writes them (a loss -$385.44), independently of the renderer's helper."""
    return ("-" if value < 0 and round(value, 2) != 0 else "") + f"${abs(value):,.2f}"


def plans() -> list[tuple[str, Plan]]:
    cases = [
        ("demo_snapshot", ROOT / "hlrebal/data/demo_snapshot.json", ROOT / "sample_targets/whole_account.json"),
        ("shorts", SNAPSHOTS / "shorts_iso.json", ROOT / "tests/data/golden/targets/small_targets.json"),
        ("spot", SNAPSHOTS / "spot_heavy.json", ROOT / "tests/data/golden/targets/factory_mix.json"),
        ("unified", SNAPSHOTS / "unified.json", ROOT / "tests/data/golden/targets/spot_only.json"),
    ]
    return [(name, plan(load_snapshot(s), load_targets(t), Policy(max_leverage=2))) for name, s, t in cases]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "p"), plans(), ids=[name for name, _ in plans()])
def test_every_figure_of_the_plan_appears_whole(name: str, p: Plan, width: int) -> None:
    assert p.trades, name
    out = text_at(plan_renderable(p), width)
    assert "…" not in out
    for t in p.trades:
        for figure in (t.coin, t.side, t.action.value, fmt_decimal(t.size), fmt_decimal(t.limit_price)):
            assert figure in out, (name, width, figure)
        assert fmt_decimal(t.reference_price) in out and usd(t.notional) in out
    for x in p.transfers:
        assert fmt_decimal(x.amount) in out and x.direction in out
    assert p.user in out
    for k in p.skipped:
        assert k.coin in out


def test_the_wide_terminal_keeps_the_table() -> None:
    _, p = plans()[0]
    out = text_at(plan_renderable(p), 200)
    assert "┃ # ┃ phase ┃ coin" in out and "weight now → target → projected" in out
    # the title counts what the table shows: trades, and the transfers beside them
    assert f"Plan: {len(p.trades)} trade(s) and {len(p.transfers)} transfer(s)" in out


def report() -> ExecutionReport:
    r = ExecutionReport(run_id="a1b2c3d4e5f60708")
    r.orders = [
        OrderReport(
            round=1,
            phase=1,
            cloid="0x" + "1" * 32,
            coin="HYPE/USDC",
            side="sell",
            action="reduce",
            reduce_only=False,
            size=Decimal("1234.56"),
            reference_price=Decimal("38.412"),
            limit_price=Decimal("38.22"),
            status="partial",
            filled_size=Decimal("1000.01"),
            avg_price=Decimal("38.3911"),
            fee=Decimal("26.874512"),
        ),
        OrderReport(
            round=2,
            phase=2,
            cloid="0x" + "2" * 32,
            coin="xyz:XYZ100",
            side="buy",
            action="open",
            reduce_only=False,
            size=Decimal("0.58411"),
            reference_price=Decimal("25000.5"),
            limit_price=Decimal("25125"),
            status="error",
            error="Order has insufficient margin to place order. asset=110000",
        ),
    ]
    r.blocked_transfers = ["the owner must transfer $15,128.04 USDC perp -> spot (an API wallet or vault cannot)"]
    r.message = "trades remain after 2 round(s): xyz:XYZ100 buy 0.58411"
    return r


@pytest.mark.parametrize("width", WIDTHS)
def test_every_figure_of_the_execution_report_appears_whole(width: int) -> None:
    r = report()
    out = text_at(execution_renderable(r), width)
    assert "…" not in out
    for o in r.orders:
        for figure in (o.coin, o.side, fmt_decimal(o.size), fmt_decimal(o.filled_size)):
            assert figure in out, figure
    for figure in ("38.3911", "$26.87", "insufficient", "asset=110000", "$15,128.04", "perp -> spot"):
        assert figure in out, figure


@pytest.mark.parametrize("width", WIDTHS)
def test_every_figure_of_the_account_appears_whole(width: int) -> None:
    snap = load_snapshot(ROOT / "tests/sim/data/mixed_account.json")
    out = text_at(account_renderable(snap), width)
    assert "…" not in out
    doc = json.loads(json.dumps(__import__("hlrebal.render", fromlist=["account_json"]).account_json(snap)))
    assert snap.user in out
    for p in doc["positions"]:
        for figure in (p["coin"], p["size"], usd(Decimal(p["notional"]))):
            assert figure in out, figure
    for b in doc["spot"]:
        assert b["token"] in out and b["total"] in out
    for o in doc["open_orders"]:
        assert str(o["oid"]) in out and o["limit_price"] in out


@pytest.mark.parametrize("width", WIDTHS)
def test_every_run_of_the_journal_appears_whole(width: int) -> None:
    runs = [
        {
            "run": "a1b2c3d4e5f60708",
            "started": 1793000000000,
            "account": "0x7a1b3f0000000000000000000000000000c0ffee",
            "network": "mainnet",
            "targets": "/home/trader/portfolios/weekly/balanced-growth.json",
            "orders_sent": 12,
            "orders_filled": 11,
            "rounds": 2,
            "exit_code": 5,
            "outcome": "partial",
        }
    ]
    out = text_at(journal_renderable(Path("/home/trader/.local/state/hlrebal/journal.jsonl"), runs), width)
    assert "…" not in out
    for figure in ("0x7a1b3f0000000000000000000000000000c0ffee", "a1b2c3d4", "partial", "2026-10-26 07:33:20"):
        assert figure in out, figure


@pytest.mark.parametrize("width", WIDTHS)
def test_the_settings_table_shows_every_value_whole(width: int) -> None:
    from hlrebal.config import resolve

    doc = settings_json(resolve(env={}, flags={"account_address": "0x" + "ab" * 20}), private_key_set=False)
    out = text_at(settings_renderable(doc), width)
    assert "…" not in out and "0x" + "ab" * 20 in out and "https://api.hyperliquid.xyz" in out


def test_snapshot_types_are_real() -> None:
    assert isinstance(load_snapshot(SNAPSHOTS / "unified.json"), Snapshot)


cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    header=st.lists(st.tuples(cells, st.booleans()), min_size=1, max_size=5),
    body=st.lists(st.lists(cells, min_size=5, max_size=5), max_size=4),
    box_none=st.booleans(),
    width=st.integers(20, 200),
)
def test_a_table_taken_without_measuring_it_fits(
    header: list[tuple[str, bool]], body: list[list[str]], box_none: bool, width: int
) -> None:
    """The bound that spares the measurement is never narrower than the table rendered: a table it
    lets through fits, and the layout chosen is the one the measurement would choose."""
    from rich.measure import Measurement

    from hlrebal.render.drawn import DrawnTable
    from hlrebal.render.layout import Column, FirstThatFits, _as_table, _table_width, table

    columns = [Column(name or "c", wrap=wrap) for name, wrap in header]
    rows = [row[: len(columns)] for row in body]
    bound = _table_width(columns, rows, box_none=box_none)
    built = _as_table(columns, rows, title=None, show_header=True, box_none=box_none)
    rendered = text_at(built, 1000)
    assert max((cell_len(line) for line in rendered.splitlines()), default=0) <= bound
    console = Console(width=width, file=open("/dev/null", "w"))  # noqa: SIM115
    measured = Measurement.get(console, console.options.update_width(1_000_000), built).minimum <= width
    chosen = table(columns, rows, box_none=box_none)
    assert isinstance(chosen, FirstThatFits)
    first = next(iter(chosen.__rich_console__(console, console.options)))
    assert isinstance(first, Table | DrawnTable) == measured  # the table (drawn when it fits), else cards
