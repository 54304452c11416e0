"""``hlrebal history fetch`` and ``hlrebal backtest``: choosing a policy from history.

Thin commands over :mod:`hlrebal.backtest`, which does the work and returns results: here they are
printed (tables or ``--json`` on stdout; progress, notes and the chart's path on stderr) and domain
errors become exit codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from hlrebal.cli.common import err_console, guarded, load_targets_arg, out_console, print_json, resolve_settings
from hlrebal.cli.options import (
    AddressOpt,
    ApiUrlOpt,
    BandOpt,
    BandRelOpt,
    ConfigOpt,
    DemoOpt,
    FeeRateOpt,
    JsonOpt,
    KeyFileOpt,
    LeverageOpt,
    MaxLevOpt,
    MinTradeOpt,
    NetworkOpt,
    ProfileOpt,
    SlippageOpt,
    SnapshotOpt,
    TargetsArg,
    TradeToOpt,
    VaultOpt,
    flags_from,
)

history_app = typer.Typer(
    help="Candle and funding histories for `hlrebal backtest`.", no_args_is_help=True, rich_markup_mode=None
)

CoinsOpt = Annotated[
    str | None,
    typer.Option("--coins", metavar="BTC,ETH,HYPE/USDC", help="Coins to fetch: perps by name, spot pairs by pair."),
]
FetchTargetsOpt = Annotated[Path | None, typer.Option("--targets", help="Fetch the coins this target file holds.")]
IntervalOpt = Annotated[str, typer.Option("--interval", metavar="1h|4h|1d", help="Candle interval.")]
DaysOpt = Annotated[
    int | None,
    typer.Option("--days", metavar="N", help="Days back from now [all the exchange serves: 5,000 candles]."),
]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="History file to write (JSON).")]
HistoryOpt = Annotated[Path, typer.Option("--history", help="History file from `hlrebal history fetch`.")]
EquityOpt = Annotated[
    str | None, typer.Option("--equity", metavar="USD", help="Starting equity [the account's, else 100,000].")
]
CompareOpt = Annotated[
    str | None,
    typer.Option(
        "--compare",
        metavar="SPEC",
        help='Policies to compare, e.g. "band=0.02,0.05,0.1 trade_to=target,edge band_relative=off,0.25".',
    ),
]
CostOpt = Annotated[
    str | None, typer.Option("--cost-bps", metavar="N", help="Slippage against you on every fill, in bps [2].")
]
ChartOpt = Annotated[
    Path | None,
    typer.Option("--chart", help="Draw drift and equity per policy to FILE (.svg, .png, .html; needs hlrebal[chart])."),
]


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr (only on a terminal), fed by the fetcher's page callback."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), console=err_console(), transient=True
    ) as bar:
        task = bar.add_task("history", total=None)

        def advance(items: int, total: int, what: str) -> None:
            bar.update(task, advance=items, total=total, description=what)

        yield advance


@history_app.command("fetch")
def history_fetch_cmd(
    output: OutputOpt,
    coins: CoinsOpt = None,
    targets: FetchTargetsOpt = None,
    interval: IntervalOpt = "1h",
    days: DaysOpt = None,
    demo: DemoOpt = False,
    json_out: JsonOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Read candles (and the perps' funding) into a history file for `hlrebal backtest`."""
    flags = flags_from(locals())

    def body() -> None:
        from hlrebal.backtest import history_fetch, save_history
        from hlrebal.backtest.report import fetch_json
        from hlrebal.render.backtest import fetch_renderable
        from hlrebal.targets import load_targets

        tg = load_targets(targets) if targets is not None else None
        resolved = resolve_settings(flags=flags, targets=None, config=config, profile=profile)
        with _progress(not json_out and err_console().is_terminal) as progress:
            result = history_fetch(
                resolved, coins=coins, targets=tg, interval=interval, days=days, demo=demo, progress=progress
            )
        save_history(result.document, output)
        if json_out:
            print_json(fetch_json(result, str(output)))
        else:
            out_console().print(fetch_renderable(result, str(output)))

    guarded(json_out, body)


def backtest_cmd(
    history: HistoryOpt,
    targets: TargetsArg = None,
    snapshot: SnapshotOpt = None,
    demo: DemoOpt = False,
    equity: EquityOpt = None,
    compare: CompareOpt = None,
    cost_bps: CostOpt = None,
    chart: ChartOpt = None,
    json_out: JsonOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    key_file: KeyFileOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    band: BandOpt = None,
    band_relative: BandRelOpt = None,
    trade_to: TradeToOpt = None,
    min_trade_value: MinTradeOpt = None,
    slippage: SlippageOpt = None,
    max_leverage: MaxLevOpt = None,
    fee_rate: FeeRateOpt = None,
    leverage: LeverageOpt = None,
) -> None:
    """Replay TARGETS over a history with the live planner; --compare runs a grid of policies."""
    flags = flags_from(locals())

    def body() -> None:
        from hlrebal.backtest import backtest, report_json
        from hlrebal.render.backtest import report_renderable

        tg = load_targets_arg(targets, config, profile)
        resolved = resolve_settings(flags=flags, targets=tg, config=config, profile=profile)
        report = backtest(
            resolved,
            tg,
            history=history,
            snapshot_file=snapshot,
            demo=demo,
            key_file=key_file,
            equity=equity,
            compare=compare,
            cost_bps=cost_bps,
            chart=chart,
        )
        if json_out:
            print_json(report_json(report))
        else:
            out_console().print(report_renderable(report))
        if chart is not None:
            err_console().print(f"chart written to {chart}", markup=False)

    guarded(json_out, body)
