"""What each execution style costs, side by side, on the simulator with market flow.

Run: python benchmarks/bench_execution_cost.py [--seed N] [--seeds K] [--styles taker,maker,twap] [--patience S]
         [--requote S] [--twap-minutes N] [--taker-rate R] [--taker-size USD] [--volatility V]

About 9 minutes with the defaults (the TWAPs take most of it); ``--seeds 10 --styles taker,maker``
takes well under a minute.

Two accounts: the seed example (80% BTC at 10x, to 40% BTC / 30% ETH / 30% cash) and a 20-asset
account (the same 80% BTC, to 4% in each of 20 coins). For each style (taker, maker, twap) the
same account is executed on a fresh simulator with the same flow seed (a random walk of every mid
and Poisson takers that trade against resting orders in price-time priority), and the table shows:

* completion: the share of the confirmed plan's notional that filled (later rounds included);
* shortfall: implementation shortfall against the arrival mid, fees included, in bps of traded
  notional; its price part and the fees apart; the maker share of the notional;
* time: the trading time on the simulator's clock, and the wall time the run took here (the
  executor and the simulator share a manual clock, so minutes of patience run in seconds);
* requests: order (exchange) requests, info requests, and their weight against the IP budget.

One draw of the market moves a patient style's shortfall by several bps (a price that runs away
while orders rest), so every style runs on the same 40 seeds (7 to 46 by default: fixed, so that
runs compare; a seed fixes the path of every mid, so the styles meet the same market) and the
table shows the means, the range of the shortfall, and the completion of the worst seed.

The flow: every mid moves 1 bp per square-root second (about 60 bps an hour), and takers of
$10,000 on average arrive once a second per coin, half buying, half selling: $5,000 a second a
side, below what BTC and ETH trade on Hyperliquid (billions a day) and above what a small coin
does. ``--taker-rate``, ``--taker-size`` and ``--volatility`` change it; thinner flow makes
patient orders wait longer, and a longer wait costs more in drift.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hlrebal.exchange import ExchangeClient  # noqa: E402
from hlrebal.execution import Executor  # noqa: E402
from hlrebal.execution_settings import ExecutionSettings  # noqa: E402
from hlrebal.journal import Journal  # noqa: E402
from hlrebal.planner import plan  # noqa: E402
from hlrebal.policy import Policy  # noqa: E402
from hlrebal.sim import ManualClock, SimConfig, Simulator  # noqa: E402
from hlrebal.sim.config import FlowConfig  # noqa: E402
from hlrebal.targets import weights_from_mapping  # noqa: E402

from factories import MARKET, make_snapshot  # noqa: E402

OWNER_KEY = "0x" + "5e" * 32
DEFAULT_SEED = 7
DEFAULT_SEEDS = 40


@dataclass(frozen=True)
class Case:
    name: str
    doc: dict[str, Any]
    targets: dict[str, float]


def cases(user: str) -> list[Case]:
    seed_doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=user)
    extra = [(f"C{i:02d}", 1, 10, f"{12 + i}.5") for i in range(20 - len(MARKET))]
    market = [*MARKET, *extra]
    wide = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=user, market=market)
    return [
        Case("80% BTC -> 40/30/30", seed_doc, {"BTC": 0.4, "ETH": 0.3}),
        Case("80% BTC -> 20 assets", wide, {name: 0.04 for name, *_ in market}),
    ]


def run_style(case: Case, style: str, args: argparse.Namespace, user: str) -> dict[str, Any]:
    from hlrebal.keys import SecretStr, SigningKey

    clock = ManualClock()
    flow = FlowConfig(
        seed=args.flow_seed,
        taker_rate=args.taker_rate,
        taker_size=Decimal(args.taker_size),
        volatility=Decimal(args.volatility),
    )
    config = SimConfig(tick_seconds=0, flow=flow, twap_slice_seconds=30.0)
    with Simulator(snapshot=case.doc, config=config, clock=clock) as sim:
        now = lambda: sim.clock() / 1000  # noqa: E731 - the one clock the executor and the sim share
        client = ExchangeClient(sim.url, network="custom", clock=now, sleep=sim.advance)
        client.attach_signer(SigningKey(SecretStr(OWNER_KEY), "benchmark"))
        policy = Policy(max_turnover=Decimal(3), band=Decimal("0.001"))
        targets = weights_from_mapping(case.targets)
        snap = client.read_snapshot(user)
        confirmed = plan(snap, targets, policy)
        settings = ExecutionSettings(
            style=style,  # type: ignore[arg-type]
            patience=Decimal(args.patience),
            requote_seconds=Decimal(args.requote),
            twap_minutes=args.twap_minutes,
            poll_seconds=Decimal(30),
        )
        started_sim, started = now(), time.perf_counter()
        with Journal(Path(args.tmp) / f"{style}.jsonl", "be" * 8, clock=now) as journal:
            journal.record("run_start", account=user, base_url=client.base_url)
            executor = Executor(
                client=client, user=user, targets=targets, policy=policy, journal=journal,
                clock=now, sleep=sim.advance, settings=settings,
            )  # fmt: skip
            report = executor.run(confirmed, snap)
        wall, traded_for = time.perf_counter() - started, now() - started_sim
    planned = {t.coin: t.size for t in confirmed.trades}
    notional = {t.coin: t.size * t.reference_price for t in confirmed.trades}
    filled: dict[str, Decimal] = {}
    for o in report.orders:
        if o.coin in planned:
            filled[o.coin] = filled.get(o.coin, Decimal(0)) + o.filled_size
    done = sum((min(filled.get(c, Decimal(0)), size) / size * notional[c] for c, size in planned.items()), Decimal(0))
    costs = report.costs
    log = client.log
    return {
        "style": style,
        "outcome": report.outcome,
        "completion": done / sum(notional.values()),
        "total_bps": costs.bps(costs.total_usd),
        "price_bps": costs.bps(costs.shortfall_usd),
        "fees_bps": costs.bps(costs.fees_usd),
        "maker": costs.maker_share or Decimal(0),
        "sim_s": traded_for,
        "wall_s": wall,
        "orders": log.total("exchange."),
        "info": log.total("info."),
        "weight": log.weight,
        "actions": log.actions,
    }


def mean(rows: list[dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in rows]
    return sum(values, type(values[0])(0)) / len(values)


def summary(style: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One style over every seed: completion at its worst, the rest as means (and the range of the
    shortfall, to show how much one draw of the market moves it)."""
    out = {k: mean(rows, k) for k in ("total_bps", "price_bps", "fees_bps", "maker", "sim_s", "wall_s")}
    out |= {k: mean(rows, k) for k in ("orders", "info", "weight", "actions")}
    out |= {"style": style, "completion": min(r["completion"] for r in rows)}
    out |= {"low": min(r["total_bps"] for r in rows), "high": max(r["total_bps"] for r in rows)}
    out["outcomes"] = ",".join(sorted({r["outcome"] for r in rows}))
    return out


def show(case: Case, rows: list[dict[str, Any]], seeds: int) -> None:
    print(f"\n{case.name} ({seeds} seed(s): completion at the worst seed, the rest means over the seeds)")
    print(
        f"  {'style':<6} {'complete':>9} {'shortfall':>10} {'(price':>8} {'+ fees)':>8} {'range':>16} {'maker':>6} "
        f"{'traded for':>11} {'wall':>6} {'orders':>7} {'info':>6} {'weight':>7} {'actions':>8}  outcome"
    )
    for r in rows:
        print(
            f"  {r['style']:<6} {r['completion'] * 100:>8.2f}% {r['total_bps']:>7.2f}bps {r['price_bps']:>8.2f} "
            f"{r['fees_bps']:>8.2f} {r['low']:>7.2f}..{r['high']:>6.2f} {r['maker'] * 100:>5.0f}% "
            f"{r['sim_s']:>10.0f}s {r['wall_s']:>5.1f}s {r['orders']:>7.1f} {r['info']:>6.1f} {r['weight']:>7.0f} "
            f"{r['actions']:>8.1f}  {r['outcomes']}"
        )
    taker = next(r for r in rows if r["style"] == "taker")
    for r in rows:
        if r["style"] != "taker" and taker["fees_bps"] and taker["total_bps"]:
            print(
                f"  {r['style']} against taker: fees {r['fees_bps'] / taker['fees_bps'] * 100:.0f}%, "
                f"shortfall {r['total_bps'] / taker['total_bps'] * 100:.0f}%, completion "
                f"{r['completion'] * 100:.2f}%"
            )


def main() -> None:
    import tempfile

    from eth_account import Account

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the first flow seed")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="how many seeds from --seed on")
    parser.add_argument("--patience", default="120")
    parser.add_argument("--requote", default="5")
    parser.add_argument("--twap-minutes", type=int, default=5)
    parser.add_argument("--styles", default="taker,maker,twap")
    parser.add_argument("--taker-rate", type=float, default=1.0, help="flow takers a second per coin")
    parser.add_argument("--taker-size", default="10000", help="mean USD of a flow taker")
    parser.add_argument("--volatility", default="0.0001", help="standard deviation of the log mid per second")
    args = parser.parse_args()
    user = str(Account.from_key(OWNER_KEY).address).lower()
    print(
        f"flow seeds {args.seed}..{args.seed + args.seeds - 1}; "
        f"maker patience {args.patience} s, requote every {args.requote} s; "
        f"TWAP {args.twap_minutes} min; shortfall in bps of traded notional against the arrival mid"
    )
    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        for case in cases(user):
            rows = []
            for style in args.styles.split(","):
                runs = []
                for seed in range(args.seed, args.seed + args.seeds):
                    args.flow_seed = seed
                    runs.append(run_style(case, style, args, user))
                rows.append(summary(style, runs))
            show(case, rows, args.seeds)


if __name__ == "__main__":
    main()
