"""Requests, their weight and wall time against the simulator: live plans and executions.

Run: python benchmarks/bench_exchange.py
Prints, for `hlrebal plan` against a local simulator, the info requests per plan and the
whole-process time; for the seed example (80% BTC to 40/30/30) the requests and their weight per
stage of one execution (start, phase 1, between phases, phase 2, read-back, costs); for
`hlrebal execute` on accounts of 5, 20 and 100 assets, the exchange and info requests and their
weight per execution and the time; and the whole-process time of
`hlrebal execute sample_targets/balanced.json --demo --yes` on a fresh demo account.

Weights are Hyperliquid's: 2 for clearinghouseState, spotClearinghouseState, allMids, l2Book and
orderStatus, 20 for most other info requests, 1 + orders/40 for an /exchange request.
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


def info_weight(counts: dict[str, int]) -> int:
    from hlrebal.exchange import info_weight as weight_of

    return sum(weight_of(k[5:]) * v for k, v in counts.items() if k.startswith("info."))


def per_stage(user: str, key: Path, tmpdir: Path) -> None:
    """One execution of the seed example in this process, its client's request log by stage."""
    from hlrebal.config import resolve
    from hlrebal.keys import SecretStr, SigningKey
    from hlrebal.runner import execute_run
    from hlrebal.session import Connection
    from hlrebal.targets import load_targets

    class Quiet:
        def notice(self, message: str) -> None: ...
        def progress(self, message: str) -> None: ...
        def show_plan(self, plan: object) -> None: ...
        def confirm(self, plan: object) -> bool:
            return True

        def reconfirm(self, plan: object, why: str) -> bool:
            return True

        def should_stop(self) -> bool:
            return False

    from hlrebal.exchange import ExchangeClient

    doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=user)
    with Simulator(snapshot=doc) as sim:
        client = ExchangeClient(sim.url, network="custom")
        signing = SigningKey(SecretStr(key.read_text().strip()), "benchmark")
        conn = Connection(user=user, network_label="custom", client=client, key=signing)
        conn.signer = client.attach_signer(signing)
        client.log.stage = "start"
        resolved = resolve(flags={"api_url": sim.url}, env={})
        result = execute_run(
            conn, load_targets(ROOT / "sample_targets/balanced.json"), resolved, Quiet(),
            journal_file=tmpdir / "stages.jsonl", assume_yes=True,
        )  # fmt: skip
    log = client.log
    print(f"seed example, one execution by stage (outcome {result.report.outcome}):")
    for stage, counts in log.by_stage.items():
        kinds = ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in counts.items())
        weight = log.stage_weight[stage]
        print(f"  {stage or '(other)':<15} {sum(counts.values()):>2} request(s), weight {weight:>3}: {kinds}")
    info = {k: v for k, v in log.counts.items() if k.startswith("info.")}
    print(f"  total: {sum(info.values())} info requests (weight {info_weight(info)}), "
          f"{log.total('exchange.')} exchange requests; weight {log.weight} in all")  # fmt: skip


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

        per_stage(user, key, tmpdir)

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
                infos = {k: v for k, v in sim.counts.items() if k.startswith("info.")}
                print(
                    f"  {n:>3} assets: exit {proc.returncode}, {len(out.get('orders', []))} orders in "
                    f"{sum(exch.values())} exchange requests ({', '.join(f'{k} {v}' for k, v in exch.items())}), "
                    f"{sum(infos.values())} info requests (weight {info_weight(infos)}), "
                    f"{len(out.get('rounds', []))} round(s), {elapsed:.2f} s"
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
