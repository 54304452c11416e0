"""Whole-process wall time: `hlrebal --help` beside a bare two-command Typer app, and a demo plan.

Run: python benchmarks/bench_startup.py [--runs N]
Goal: `hlrebal --help` within 1.3x of the bare app (the SDK is never imported on that path).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_APP = '''
import typer
app = typer.Typer()

@app.command()
def one(name: str = "x") -> None:
    """First command."""

@app.command()
def two(count: int = 1) -> None:
    """Second command."""

if __name__ == "__main__":
    app()
'''


def wall(cmd: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return statistics.median(times), min(times)


def imports_sdk() -> bool:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import hlrebal.cli"], capture_output=True, text=True
    )
    return any(line.rstrip().endswith(("| hyperliquid", "| eth_account")) for line in proc.stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        bare_med, bare_best = wall([sys.executable, str(bare), "--help"], args.runs)
    help_med, help_best = wall([sys.executable, "-m", "hlrebal", "--help"], args.runs)
    plan_med, plan_best = wall(
        [sys.executable, "-m", "hlrebal", "plan", "sample_targets/balanced.json", "--demo"], max(3, args.runs // 2)
    )
    print("startup: whole-process wall time (median / best)")
    print(f"  bare two-command Typer app --help : {bare_med * 1000:7.0f} ms / {bare_best * 1000:7.0f} ms")
    print(
        f"  hlrebal --help                    : {help_med * 1000:7.0f} ms / {help_best * 1000:7.0f} ms"
        f"   ratio {help_med / bare_med:.2f}x (goal <= 1.3x)"
    )
    print(f"  hlrebal plan balanced.json --demo : {plan_med * 1000:7.0f} ms / {plan_best * 1000:7.0f} ms")
    print(f"  SDK or eth_account imported by `import hlrebal.cli`: {'YES (bad)' if imports_sdk() else 'no'}")


if __name__ == "__main__":
    main()
