"""Whole-process wall time: `hlrebal --help` beside a bare two-command Typer app, and a plan from a
snapshot and on the demo beside a bare Typer app that reads a JSON file and prints a Rich table.

Run: python benchmarks/bench_startup.py [--runs N]
Goals: `hlrebal --help` within 1.3x of the bare app (the SDK is never imported on that path);
`plan --snapshot` within 1.2x and `plan --demo` within 1.5x of the bare table app.
"""

from __future__ import annotations

import argparse
import os
import resource
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


TABLE_APP = '''
import json
from pathlib import Path
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer()

@app.command()
def show(path: Path, band: str = "0.05", json_out: bool = False) -> None:
    """Read a JSON file and print a table of it."""
    doc = json.loads(path.read_text())
    table = Table(title="Positions")
    for name in ("coin", "size", "value"):
        table.add_column(name)
    for p in doc["clearinghouseState"]["assetPositions"]:
        table.add_row(p["position"]["coin"], p["position"]["szi"], p["position"]["positionValue"])
    Console().print(table)

@app.command()
def other(count: int = 1) -> None:
    """A second command, so that the app has sub-commands like hlrebal."""

if __name__ == "__main__":
    app()
'''


#: The same app reading the file into a pydantic model first, as hlrebal did until its models became
#: its own value classes: what a table app built on pydantic pays before any work of its own.
PYDANTIC_APP = TABLE_APP.replace(
    "    doc = json.loads(path.read_text())\n",
    "    from pydantic import BaseModel\n\n"
    "    class Doc(BaseModel):\n"
    "        clearinghouseState: dict\n\n"
    "    doc = Doc.model_validate_json(path.read_text()).model_dump()\n",
)


def cpu_of(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) of one run: steadier than wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, capture_output=True, cwd=ROOT, env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wall(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=env)
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
    snapshot = "hlrebal/data/demo_snapshot.json"
    # Every command runs from bytecode, as an installed package does (pip compiles at install time).
    # With PYTHONDONTWRITEBYTECODE set (as on some CI machines) an editable checkout would be
    # compiled from source on every run, about 100 ms that no user pays.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "hlrebal")], check=True, env=env)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**env, "HLREBAL_HOME": str(Path(tmp) / "home")}
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        table_app = Path(tmp) / "table.py"
        table_app.write_text(TABLE_APP)
        pydantic_app = Path(tmp) / "pydantic_table.py"
        pydantic_app.write_text(PYDANTIC_APP)
        # The console script users run (`python -m hlrebal` where there is none: it adds runpy).
        script = Path(sys.executable).parent / "hlrebal"
        hlrebal = [str(script)] if script.exists() else [sys.executable, "-m", "hlrebal"]
        demo = [*hlrebal, "plan", "sample_targets/balanced.json", "--demo"]
        subprocess.run(demo, capture_output=True, cwd=ROOT, env=env)  # the demo's first run makes its key
        # Interleaved, so that a busy machine slows every command alike.
        results: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        commands = {
            "bare --help": [sys.executable, str(bare), "--help"],
            "hlrebal --help": [*hlrebal, "--help"],
            "bare table app": [sys.executable, str(table_app), "show", snapshot],
            "pydantic table": [sys.executable, str(pydantic_app), "show", snapshot],
            "plan --snapshot": [*hlrebal, "plan", "sample_targets/balanced.json", "--snapshot", snapshot],
            "plan --demo": demo,
        }
        for _ in range(args.runs):
            for name, cmd in commands.items():
                results.setdefault(name, []).append(wall(cmd, 1, env)[0])
                cpu.setdefault(name, []).append(cpu_of(cmd, env))
    med = {name: statistics.median(times) for name, times in results.items()}
    best = {name: min(times) for name, times in results.items()}
    cpu_med = {name: statistics.median(times) for name, times in cpu.items()}
    from importlib.metadata import version

    # The baseline moves with Typer: 0.29 coerces every parameter through a pydantic TypeAdapter, which
    # doubles a bare app's start (pydantic imported), and a plan no longer imports pydantic at all.
    # pyproject keeps Typer below 0.29 for that reason. "pydantic table" shows what pydantic alone
    # costs a table app: what hlrebal paid before its models became its own value classes.
    print(f"startup (typer {version('typer')}, pydantic {version('pydantic')}): whole-process wall time")
    print("  (median / best) and CPU time (median), interleaved runs")
    for name, base, goal in (
        ("bare --help", None, None),
        ("hlrebal --help", "bare --help", 1.3),
        ("bare table app", None, None),
        ("pydantic table", "bare table app", None),
        ("plan --snapshot", "bare table app", 1.2),
        ("plan --demo", "bare table app", 1.5),
        ("plan --snapshot", "pydantic table", None),
        ("plan --demo", "pydantic table", None),
    ):
        line = f"  {name:<16}: {med[name] * 1000:6.0f} ms / {best[name] * 1000:6.0f} ms"
        line += f"   cpu {cpu_med[name] * 1000:6.0f} ms"
        if base is not None:
            line += (
                f"   ratio {med[name] / med[base]:.2f}x wall, {cpu_med[name] / cpu_med[base]:.2f}x cpu"
                f" of {base}" + (f" (goal <= {goal}x)" if goal else "")
            )
        print(line)
    print(f"  SDK or eth_account imported by `import hlrebal.cli`: {'YES (bad)' if imports_sdk() else 'no'}")


if __name__ == "__main__":
    main()
