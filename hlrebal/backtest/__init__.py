"""Choosing a policy from history: history files, the replay engine, ``--compare`` grids, reports.

The replay trades with the planner that trades live (:func:`hlrebal.planner.plan`), on a simulated
account rebuilt at every candle close; see :mod:`hlrebal.backtest.engine`. The command bodies of
``hlrebal history fetch`` and ``hlrebal backtest`` are :func:`history_fetch` and :func:`backtest`.
"""

from __future__ import annotations

from hlrebal.backtest.band import outside_band
from hlrebal.backtest.commands import backtest, history_fetch
from hlrebal.backtest.engine import RunResult, ideal, replay
from hlrebal.backtest.fetch import FetchCoin, FetchResult, fetch_history, resolve_coins
from hlrebal.backtest.grid import Variant, parse_compare
from hlrebal.backtest.history import History, HistoryError, load_history, parse_history, save_history
from hlrebal.backtest.report import BacktestReport, report_json
from hlrebal.backtest.timeline import Timeline, align
from hlrebal.backtest.universe import Universe, universe_of

__all__ = [
    "BacktestReport",
    "FetchCoin",
    "FetchResult",
    "History",
    "HistoryError",
    "RunResult",
    "Timeline",
    "Universe",
    "Variant",
    "align",
    "backtest",
    "fetch_history",
    "history_fetch",
    "ideal",
    "load_history",
    "outside_band",
    "parse_compare",
    "parse_history",
    "replay",
    "report_json",
    "resolve_coins",
    "save_history",
    "universe_of",
]
