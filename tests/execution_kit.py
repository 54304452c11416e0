"""Shared set-up of the execution tests: a seeded simulator, the owner's key and client, a library-level
run of the executor, and the simulator's own record of fills (the independent side of every check)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account

from hlrebal.exchange import ExchangeClient
from hlrebal.execution import ExecutionReport, Executor
from hlrebal.journal import Journal
from hlrebal.keys import SecretStr, SigningKey
from hlrebal.planner import plan
from hlrebal.policy import Policy
from hlrebal.sim import Simulator
from hlrebal.snapshot import Snapshot
from hlrebal.targets import weights_from_mapping

from factories import make_snapshot

ROOT = Path(__file__).resolve().parent.parent
BALANCED = ROOT / "sample_targets" / "balanced.json"
OWNER_KEY = "0x" + "5e" * 32  # owns the seeded test accounts (a throwaway, test-only key)
USER = Account.from_key(OWNER_KEY).address.lower()


def btc_80(user: str = USER) -> dict[str, Any]:
    """$100,000 of equity, 80% in a BTC long at 10x (the seed example)."""
    return make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=user)


def client_for(sim: Simulator, secret: str = OWNER_KEY, **kw: Any) -> ExchangeClient:
    client = ExchangeClient(sim.url, network="custom", **kw)
    client.attach_signer(SigningKey(SecretStr(secret), "test"))
    return client


def key_file(tmp_path: Path, secret: str = OWNER_KEY) -> Path:
    path = tmp_path / "owner.key"
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return path


def write_targets(tmp_path: Path, mapping: dict[str, float], name: str = "targets.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"target_allocation": mapping}))
    return path


def run_library(
    sim: Simulator,
    tmp_path: Path,
    mapping: dict[str, float],
    *,
    policy: Policy | None = None,
    client: ExchangeClient | None = None,
    before_run: Callable[[], None] | None = None,
    spot: bool = False,
    **kw: Any,
) -> tuple[ExecutionReport, Snapshot, Path]:
    """Read, plan and execute at the library level; returns (report, start snapshot, journal path)."""
    client = client or client_for(sim)
    policy = policy or Policy()
    snap = client.read_snapshot(USER, spot=spot)
    targets = weights_from_mapping(mapping)
    confirmed = plan(snap, targets, policy)
    if before_run is not None:
        before_run()
    path = tmp_path / "journal.jsonl"
    with Journal(path, "ab" * 8) as journal:
        journal.record("run_start", account=USER, base_url=client.base_url)
        kw.setdefault("sleep", lambda _: None)
        executor = Executor(client=client, user=USER, targets=targets, policy=policy, journal=journal, **kw)
        report = executor.run(confirmed, snap)
    return report, snap, path


def sim_fills(sim: Simulator, user: str = USER) -> list[dict[str, Any]]:
    """The simulator's own fills of the account, oldest first, numbers as Decimals."""
    raw = sim.handle("info", {"type": "userFills", "user": user})[1]
    out = []
    for f in reversed(raw):
        out.append({**f, "px": Decimal(f["px"]), "sz": Decimal(f["sz"]), "fee": Decimal(f["fee"])})
    return out


def maker_settings(**kw: Any) -> Any:
    """Maker settings with timers short enough for tests (seconds, never minutes)."""
    from hlrebal.execution_settings import ExecutionSettings

    values: dict[str, Any] = {
        "style": "maker",
        "requote_seconds": Decimal("0.2"),
        "patience": Decimal(3),
        "switch_margin": Decimal(5),
    }
    return ExecutionSettings(**{**values, **kw})


class PriceMover:
    """Moves a coin's price through the account's resting orders a moment after they rest, so that
    they fill as makers (the simulator fills resting orders that ``set_price`` moves through).

    ``through`` maps coin -> the price to move to; each coin moves once, ``delay`` s after its first
    resting order is seen. Use as a context manager around the run.
    """

    def __init__(self, sim: Simulator, through: dict[str, str], delay: float = 0.3) -> None:
        import threading

        self.sim, self.through, self.delay = sim, dict(through), delay
        self.moved: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import time

        while not self._stop.is_set() and len(self.moved) < len(self.through):
            for order in list(self.sim.engine.open_orders.values()):
                if order.coin in self.through and order.coin not in self.moved:
                    self.moved.append(order.coin)
                    time.sleep(self.delay)
                    self.sim.set_price(order.coin, self.through[order.coin])
            time.sleep(0.02)

    def __enter__(self) -> PriceMover:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def journal_entries(path: Path) -> list[dict[str, Any]]:
    from hlrebal.journal import read_entries

    return list(read_entries(path))


def unresolved(path: Path) -> list[str]:
    """Orders of the journal with no final result (what a successor would have to reconcile)."""
    from hlrebal.journal import unresolved_orders

    return [p.cloid for p in unresolved_orders(path, USER, _base_url(path))]


def _base_url(path: Path) -> str:
    for e in journal_entries(path):
        if e["event"] == "run_start":
            return str(e.get("base_url"))
    return ""


def twap_settings(**kw: Any) -> Any:
    """TWAP settings for tests: the shortest duration the exchange takes, polled every 0.2 s (the
    simulator compresses the slices with ``SimConfig(twap_slice_seconds=...)``)."""
    from hlrebal.execution_settings import ExecutionSettings

    values: dict[str, Any] = {
        "style": "twap",
        "twap_minutes": 5,
        "poll_seconds": Decimal("0.2"),
        "slice_seconds": Decimal("0.1"),
        "switch_margin": Decimal(5),
    }
    return ExecutionSettings(**{**values, **kw})


def sim_has(*features: str) -> Any:
    """Skip a test whose simulator features have not landed (the sim branch brings them)."""
    import pytest

    missing = [f for f in features if not hasattr(Simulator, f)]
    return pytest.mark.skipif(bool(missing), reason=f"the simulator lacks {', '.join(missing)}")


class DirectClient(ExchangeClient):
    """The real client (signing, parsing, the request log) with its requests handed straight to a
    simulator's handler: no HTTP, no threads, a few milliseconds a run (mutation testing runs the
    execution tests thousands of times). Counts requests by kind in ``seen``."""

    def __init__(self, sim: Simulator, **kw: Any) -> None:
        super().__init__("http://direct.sim", network="custom", **kw)
        self.sim = sim
        self.seen: dict[str, int] = {}
        #: "exchange.cancel" -> callables run just before the next such request is processed
        self.before: dict[str, list[Callable[[], Any]]] = {}
        #: "exchange.order" -> how many of the next such requests lose their answer after processing
        self.lose: dict[str, int] = {}
        #: "info.userFills" -> how many of the next such requests fail with HTTP 500 before processing
        self.fail: dict[str, int] = {}

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        from hlrebal.errors import ExchangeError
        from hlrebal.exchange import Retryable

        endpoint = path.strip("/")
        kind = payload.get("type") if endpoint == "info" else payload.get("action", {}).get("type")
        name = f"{endpoint}.{kind}"
        self.seen[name] = self.seen.get(name, 0) + 1
        if self.fail.get(name):
            self.fail[name] -= 1
            raise Retryable("HTTP 500 from the exchange")
        for hook in self.before.pop(name, []):
            hook()
        status, answer = self.sim.handle(endpoint, json.loads(json.dumps(payload)))
        if self.lose.get(name):
            self.lose[name] -= 1
            raise Retryable("the connection failed or was dropped")
        if status >= 500:
            raise Retryable(f"HTTP {status} from the exchange")
        if status >= 400:
            raise ExchangeError(f"the exchange refused the request (HTTP {status}): {answer}")
        return answer


def direct(sim: Simulator, secret: str = OWNER_KEY, kind: type[DirectClient] | None = None, **kw: Any) -> DirectClient:
    """A direct client (or one of its test doubles, ``kind``) signing with ``secret``."""
    client = (kind or DirectClient)(sim, **kw)
    client.attach_signer(SigningKey(SecretStr(secret), "test"))
    return client


def start_execute(sim: Simulator, tmp_path: Path, settings: dict[str, str]) -> subprocess.Popen[str]:
    """``hlrebal execute BALANCED --yes --json`` against ``sim`` in a child process, with the owner's
    key, the test's journal and ``settings`` as HLREBAL_* variables (the style and its timers)."""
    cmd = [sys.executable, "-m", "hlrebal", "execute", str(BALANCED), "--api-url", sim.url]
    cmd += ["--key-file", str(key_file(tmp_path)), "--journal", str(tmp_path / "journal.jsonl"), "--yes", "--json"]
    environment = {**os.environ, "HLREBAL_HOME": str(tmp_path / "home"), **settings}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=environment)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
