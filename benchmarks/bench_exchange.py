"""Requests and wall time against the simulator: live plans and executions.

Run: python benchmarks/bench_exchange.py
Prints, for `hlrebal plan` against a local simulator, the info requests per plan and the
whole-process time; for `hlrebal execute` on accounts of 5, 20 and 100 assets, the exchange and info
requests per execution and the time; and the whole-process time of
`hlrebal execute sample_targets/balanced.json --demo --yes` on a fresh demo account.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hlrebal.sim import Simulator  # noqa: E402

from factories import make_snapshot  # noqa: E402

OWNER_KEY = "0x" + "5e" * 32


def owner_address() -> str:
    from eth_account import Account

    return str(Account.from_key(OWNER_KEY).address).lower()


def market(n: int) -> list[tuple[str, int, int, str]]:
    base = [("BTC", 5, 40, "85600"), ("ETH", 4, 25, "3050.4"), ("SOL", 2, 20, "142.53")]
    extra = [(f"C{i:03d}", 1, 10, f"{10 + i}.5") for i in range(max(0, n - len(base)))]
    return (base + extra)[: max(n, 3)]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    return time.perf_counter() - t, proc


def main() -> None:
    user = owner_address()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        env = {**os.environ, "HLREBAL_HOME": str(tmpdir / "home")}
        key = tmpdir / "owner.key"
        key.write_text(OWNER_KEY)
        key.chmod(0o600)

        print("live plan against the simulator (whole process)")
        doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=user)
        with Simulator(snapshot=doc) as sim:
            times = []
            for _ in range(5):
                sim.reset_counts()
                elapsed, proc = run(
                    [
                        sys.executable,
                        "-m",
                        "hlrebal",
                        "plan",
                        "sample_targets/balanced.json",
                        "--api-url",
                        sim.url,
                        "--address",
                        user,
                        "--json",
                    ],
                    env,
                )
                assert proc.returncode == 0, proc.stderr
                times.append(elapsed)
            info = {k: v for k, v in sim.counts.items() if k.startswith("info.")}
            print(
                f"  info requests per plan: {sum(info.values())} ({', '.join(f'{k[5:]} {v}' for k, v in info.items())})"
            )
            print(f"  wall time: median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms")

        print("execute against the simulator (whole process, one run each)")
        for n in (5, 20, 100):
            m = market(n)
            doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=user, market=m)
            weights = {name: float((Decimal("0.9") / len(m)).quantize(Decimal("0.0001"))) for name, *_ in m}
            targets = tmpdir / f"targets_{n}.json"
            targets.write_text(json.dumps({"target_allocation": weights}))
            with Simulator(snapshot=doc) as sim:
                elapsed, proc = run(
                    [
                        sys.executable,
                        "-m",
                        "hlrebal",
                        "execute",
                        str(targets),
                        "--api-url",
                        sim.url,
                        "--key-file",
                        str(key),
                        "--journal",
                        str(tmpdir / "journal.jsonl"),
                        "--yes",
                        "--json",
                        "--max-turnover",
                        "2",
                        "--band",
                        "0.001",
                    ],
                    env,
                )
                out = json.loads(proc.stdout) if proc.stdout else {}
                exch = {k[9:]: v for k, v in sim.counts.items() if k.startswith("exchange.")}
                info = sum(v for k, v in sim.counts.items() if k.startswith("info."))
                print(
                    f"  {n:>3} assets: exit {proc.returncode}, {len(out.get('orders', []))} orders in "
                    f"{sum(exch.values())} exchange requests ({', '.join(f'{k} {v}' for k, v in exch.items())}), "
                    f"{info} info requests, {len(out.get('rounds', []))} round(s), {elapsed:.2f} s"
                )

        print("demo execution (fresh paper account, whole process)")
        times = []
        for i in range(3):
            demo_env = {**os.environ, "HLREBAL_HOME": str(tmpdir / f"demo{i}")}
            elapsed, proc = run(
                [sys.executable, "-m", "hlrebal", "execute", "sample_targets/balanced.json", "--demo", "--yes"],
                demo_env,
            )
            assert proc.returncode == 0, proc.stderr
            times.append(elapsed)
        print(
            "  hlrebal execute sample_targets/balanced.json --demo --yes: "
            f"median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
