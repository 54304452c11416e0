"""``--chart FILE``: per policy, the largest drift over time and the equity, drawn by matplotlib.

matplotlib is an optional extra (``pip install 'hlrebal[chart]'``). It writes .svg and .png itself;
an .html chart is its SVG inside a minimal page. The figure is built without pyplot, so no global
state or display backend is touched.
"""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hlrebal.backtest.report import BacktestReport
from hlrebal.errors import BadInputError

CHART_FORMATS = (".svg", ".png", ".html")
_INSTALL = "pip install 'hlrebal[chart]'"


def check_chart_path(path: Path) -> None:
    """Refuse a chart that cannot be drawn, before any work: a format not known, or no matplotlib."""
    if path.suffix.lower() not in CHART_FORMATS:
        raise BadInputError(
            f"--chart {path}: the file must end in {', '.join(CHART_FORMATS)} (its format is taken from the name)"
        )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BadInputError("--chart needs matplotlib, which is not installed", hint=_INSTALL) from None
    if not path.parent.is_dir():
        raise BadInputError(f"--chart {path}: no such folder {path.parent}")


def draw_chart(report: BacktestReport, path: Path) -> None:
    """Write the chart of a report to ``path`` (.svg, .png or .html)."""
    check_chart_path(path)
    figure = _figure(report)
    suffix = path.suffix.lower()
    if suffix == ".html":
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        title = html.escape(f"hlrebal backtest: {report.targets}")
        page = (
            f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f'<body style="margin:0">\n{buffer.getvalue()}\n</body></html>\n'
        )
        path.write_text(page, encoding="utf-8")
    elif suffix == ".svg":
        figure.savefig(path, format="svg", metadata={"Date": None})
    else:
        figure.savefig(path, format="png", dpi=110, metadata={"Software": None})


def _figure(report: BacktestReport) -> Any:
    from matplotlib.figure import Figure

    days = [datetime.fromtimestamp(ms / 1000, tz=UTC) for ms in report.times]
    from matplotlib import colormaps
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(13, 7), layout="constrained")
    drift_ax, equity_ax = figure.subplots(2, 1, sharex=True)
    palette = colormaps["tab10" if len(report.runs) <= 10 else "tab20"]
    for k, run in enumerate(report.runs):
        n = len(run.drift_series)
        color = palette(k % palette.N)
        drift_ax.plot(days[:n], [d * 100 for d in run.drift_series], linewidth=0.9, color=color, label=run.label)
        equity_ax.plot(days[:n], run.equity_series, linewidth=0.9, color=color, label=run.label)
    drift_ax.plot(
        days, [d * 100 for d in report.hold.drift_series], color="0.6", linestyle="--", linewidth=0.8,
        label=report.hold.label,
    )  # fmt: skip
    for run, style in ((report.hold, "--"), (report.ideal, ":")):
        equity_ax.plot(days, run.equity_series, color="0.45", linestyle=style, linewidth=0.9, label=run.label)
    drift_ax.set_ylabel("largest |weight - target| (%)")
    drift_ax.set_title(f"{report.targets}: {report.closes:,} {report.interval} closes, {report.history}", loc="left")
    equity_ax.set_ylabel("equity (USD)")
    equity_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    figure.legend(*equity_ax.get_legend_handles_labels(), loc="outside right upper", fontsize="x-small")
    for ax in (drift_ax, equity_ax):
        ax.grid(True, linewidth=0.3)
    figure.autofmt_xdate()
    return figure
