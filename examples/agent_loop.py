"""An agent's loop around hlrebal, replayed on the built-in simulator (offline, a few seconds).

The original design's example: an LLM decides WHAT the portfolio should be, hlrebal decides HOW.
The account starts 80% in a BTC perp (the demo paper account); the agent's answers are:

1. "balanced-growth": 40% BTC, 30% ETH, 30% USDC (its answer is free text around a JSON block);
2. the same strategy a little later, with a small deviation (42/28/30): within the bands, so
   nothing trades;
3. "risk-off": everything in USDC.

Each answer is planned, executed and read back through the Python API (``import hlrebal``). The
loop runs on a fresh demo account in a temporary folder, so your own demo account is untouched.

    python examples/agent_loop.py
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal

import hlrebal

ANSWERS = [
    # What a model writes: prose around the JSON, in a fenced block.
    """I'd diversify: BTC has run up and now dominates the book.

```json
{"selected_strategy": "balanced-growth",
 "reasoning": "BTC is 80% of equity after its run; spread it over BTC and ETH and keep a third in cash.",
 "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}
```
""",
    '{"selected_strategy": "balanced-growth", "target_allocation": {"BTC": 0.42, "ETH": 0.28, "USDC": 0.30}}',
    '{"selected_strategy": "risk-off", "reasoning": "Volatility is spiking.", "target_allocation": {"USDC": 1}}',
]


def weights(snap: hlrebal.Snapshot) -> str:
    """ "BTC 80.0%, USDC 20.0%": every position's weight and the rest (cash)."""
    values = {c: p.szi * (snap.assets[c].reference_price or Decimal(0)) for c, p in sorted(snap.positions.items())}
    parts = [f"{coin} {value / snap.equity:.1%}" for coin, value in values.items()]
    return ", ".join([*parts, f"USDC {(snap.equity - sum(values.values(), Decimal(0))) / snap.equity:.1%}"])


def main() -> None:
    # hlrebal reads its home folder when it needs it: a fresh one holds a fresh demo account.
    os.environ["HLREBAL_HOME"] = tempfile.mkdtemp(prefix="hlrebal-agent-loop-")
    print(f"start: {weights(hlrebal.read_snapshot(demo=True))}")
    for step, answer in enumerate(ANSWERS, 1):
        document = hlrebal.load_targets(answer, extract=True)
        snapshot = hlrebal.read_snapshot(demo=True)
        plan = hlrebal.plan(snapshot, document)
        trades = ", ".join(f"{t.side} {t.size} {t.coin}" for t in plan.trades) or "nothing to do"
        print(f"\n{step}. {document.strategy}: planned {trades}")
        report = hlrebal.execute(document, demo=True)
        print(f"   executed: {report.outcome} ({len(report.orders)} order(s), fees ${report.fees:.2f})")
        print(f"   read back: {weights(hlrebal.read_snapshot(demo=True))}")
        if report.exit_code != hlrebal.ExitCode.OK:
            raise SystemExit(int(report.exit_code))


if __name__ == "__main__":
    main()
