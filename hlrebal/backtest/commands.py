"""The bodies of ``hlrebal history fetch`` and ``hlrebal backtest``, as library functions.

They take resolved settings and options, do the work, and return result objects; they print
nothing (the CLI renders the results, writes progress to stderr and sets the exit code).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlrebal.backtest.engine import RunResult, ideal, replay
from hlrebal.backtest.fetch import FetchResult, InfoFn, Progress, check_range, fetch_history, resolve_coins
from hlrebal.backtest.grid import Variant, parse_compare
from hlrebal.backtest.history import load_history
from hlrebal.backtest.parallel import replay_all
from hlrebal.backtest.report import BacktestReport
from hlrebal.backtest.timeline import Timeline, align
from hlrebal.backtest.universe import Universe, universe_of
from hlrebal.errors import BadInputError
from hlrebal.planner import check_targets
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Targets

if TYPE_CHECKING:
    from hlrebal.config import Resolved

DEFAULT_EQUITY = Decimal(100_000)
DEFAULT_COST_BPS = Decimal(2)
_NO_USER = "0x" + "0" * 40


def parse_amount(text: str | None, what: str, *, default: Decimal, upper: Decimal | None = None) -> Decimal:
    """A flag's decimal value (``--equity``, ``--cost-bps``): non-negative, finite, under ``upper``."""
    if text is None:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadInputError(f"{what}: expected a number, got {text!r}") from None
    if not value.is_finite() or value < 0 or (upper is not None and value >= upper):
        limit = f" and below {upper}" if upper is not None else ""
        raise BadInputError(f"{what}: expected a number of at least 0{limit}, got {text!r}")
    return value


# --------------------------------------------------------------------------- history fetch


@contextmanager
def _info_source(resolved: Resolved, demo: bool) -> Iterator[tuple[InfoFn, str]]:
    """An info callable on the demo simulator or the configured endpoint, and the network's name."""
    from hlrebal.exchange import ExchangeClient
    from hlrebal.session import connect

    if demo:
        with connect(resolved, demo=True) as conn:
            assert conn.client is not None  # the demo is always a live simulator
            yield conn.client.info, "demo"
        return
    client = ExchangeClient(resolved.base_url, network=resolved.network_label)
    yield client.info, resolved.network_label


def history_fetch(
    resolved: Resolved,
    *,
    coins: str | None,
    targets: Targets | None,
    interval: str,
    days: int | None,
    demo: bool = False,
    progress: Progress | None = None,
    now_ms: int | None = None,
    info: InfoFn | None = None,
) -> FetchResult:
    """Read the candles (and perps' funding) of ``--coins`` or the targets' coins.

    ``info`` replaces the endpoint (tests); otherwise the demo simulator or the configured network.
    """
    if (coins is None) == (targets is None):
        raise BadInputError("give the coins to fetch with one of --coins BTC,ETH or --targets FILE")
    names = [c.strip() for c in coins.split(",")] if coins is not None else list(targets.weights)  # type: ignore[union-attr]
    if any(not n for n in names):
        raise BadInputError(f"--coins: an empty name in {coins!r}; separate names with single commas")
    check_range(interval, days)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if info is not None:
        refs = resolve_coins(info, names)
        return fetch_history(info, refs, interval, now_ms=now, days=days, network="custom", progress=progress)
    with _info_source(resolved, demo) as (source, network):
        refs = resolve_coins(source, names)
        return fetch_history(source, refs, interval, now_ms=now, days=days, network=network, progress=progress)


# --------------------------------------------------------------------------- backtest


def _has_account(resolved: Resolved, key_file: Path | None) -> bool:
    """Whether the configuration names an account to read (else only the market is read)."""
    settings = resolved.settings
    return bool(settings.account_address or settings.vault or key_file or settings.key_file or settings.key_env
                or os.environ.get("HLREBAL_PRIVATE_KEY"))  # fmt: skip


def _market_only(resolved: Resolved, spot: bool) -> Snapshot:
    """The live market's rules without an account (no address configured): equity reads 0."""
    from hlrebal.exchange import ExchangeClient

    client = ExchangeClient(resolved.base_url, network=resolved.network_label)
    doc: dict[str, Any] = {
        "version": 1,
        "user": _NO_USER,
        "network": resolved.network_label,
        "clearinghouseState": {"marginSummary": {"accountValue": "0"}, "assetPositions": []},
        "metaAndAssetCtxs": client.info({"type": "metaAndAssetCtxs"}),
    }
    if spot:
        doc["spotMetaAndAssetCtxs"] = client.info({"type": "spotMetaAndAssetCtxs"})
    return Snapshot.from_raw(doc, f"{resolved.base_url} (market)")


def read_rules(
    resolved: Resolved, targets: Targets, *, snapshot_file: Path | None, demo: bool, key_file: Path | None = None
) -> tuple[Snapshot, str]:
    """The snapshot whose exchange rules the backtest trades under, and where it came from."""
    from hlrebal.session import connect

    if snapshot_file is None and not demo and not _has_account(resolved, key_file):
        return _market_only(resolved, targets.mentions_spot), f"live {resolved.network_label} market"
    with connect(resolved, snapshot_file=snapshot_file, demo=demo, key_file=key_file) as conn:
        snapshot = conn.read(spot=targets.mentions_spot, dexes=targets.dexes)
    if snapshot_file is not None:
        return snapshot, f"snapshot {snapshot_file}"
    return snapshot, "demo" if demo else f"live {resolved.network_label}"


def backtest(
    resolved: Resolved,
    targets: Targets,
    *,
    history: Path,
    snapshot_file: Path | None = None,
    demo: bool = False,
    key_file: Path | None = None,
    equity: str | None = None,
    compare: str | None = None,
    cost_bps: str | None = None,
    chart: Path | None = None,
    rules: Callable[[], tuple[Snapshot, str]] | None = None,
    workers: int | None = None,
) -> BacktestReport:
    """Replay the policy (or every policy of ``compare``) over a history file.

    Bad flags, grids, history files and charts are refused before anything is read from the network.
    ``rules`` replaces the reading of the exchange rules (tests, benchmarks). A grid's policies are
    replayed in ``workers`` processes (default: one per core; 1 replays them in this process).
    """
    from hlrebal.backtest.chart import check_chart_path, draw_chart

    cost = parse_amount(cost_bps, "--cost-bps", default=DEFAULT_COST_BPS, upper=Decimal(10_000))
    start_equity = parse_amount(equity, "--equity", default=Decimal(0))
    if equity is not None and start_equity <= 0:
        raise BadInputError(f"--equity: expected a positive amount in USD, got {equity!r}")
    variants = parse_compare(compare, resolved.policy) if compare is not None else ()
    if chart is not None:
        check_chart_path(chart)
    hist = load_history(history)
    if rules is None:
        snapshot, source = read_rules(resolved, targets, snapshot_file=snapshot_file, demo=demo, key_file=key_file)
    else:
        snapshot, source = rules()
    universe = universe_of(snapshot, targets, resolved.policy)
    for variant in variants:
        check_targets(snapshot, targets, variant.policy)
    timeline = align(hist, universe.refs)
    money, equity_source = _starting_equity(start_equity if equity is not None else None, universe)
    notes = list(timeline.notes)
    if hist.network != universe.network:
        notes.append(f"the history is from {hist.network}, the exchange rules from {universe.network}")
    hold = replay(
        timeline,
        universe,
        targets,
        resolved.policy,
        equity=money,
        cost_bps=cost,
        label="never rebalanced",
        rebalance=False,
    )
    report = BacktestReport(
        targets=targets.source,
        targets_sha256=targets.sha256,
        history=hist.source,
        interval=hist.interval,
        network=hist.network,
        times=timeline.times,
        universe=source,
        account_mode=universe.account_mode,
        equity=money,
        equity_source=equity_source,
        cost_bps=cost,
        compare=compare,
        runs=_runs(timeline, universe, targets, resolved, variants, money, cost, workers),
        hold=hold,
        ideal=ideal(timeline, universe, equity=money),
        notes=tuple(notes),
    )
    if chart is not None:
        draw_chart(report, chart)
    return report


def _starting_equity(given: Decimal | None, universe: Universe) -> tuple[Decimal, str]:
    """--equity, else the account's equity, else $100,000; and which it was."""
    if given is not None:
        return given, "--equity"
    if universe.equity > 0:
        return universe.equity, "the account's equity"
    return DEFAULT_EQUITY, "default"


def _runs(
    timeline: Timeline,
    universe: Universe,
    targets: Targets,
    resolved: Resolved,
    variants: tuple[Variant, ...],
    money: Decimal,
    cost: Decimal,
    workers: int | None,
) -> tuple[RunResult, ...]:
    if not variants:
        label = _policy_label(resolved)
        run = replay(timeline, universe, targets, resolved.policy, equity=money, cost_bps=cost, label=label)
        return (run,)
    jobs = [(v.policy, v.label) for v in variants]
    runs = replay_all(timeline, universe, targets, jobs, equity=money, cost_bps=cost, workers=workers)
    # Lowest total cost first; ties by tracking error, then the grid's own order (stable sort).
    return tuple(sorted(runs, key=lambda r: (r.total_cost, r.tracking_mean)))


def _policy_label(resolved: Resolved) -> str:
    p = resolved.policy
    relative = "off" if p.band_relative is None else str(p.band_relative)
    return f"band={p.band} trade_to={p.trade_to} band_relative={relative}"
