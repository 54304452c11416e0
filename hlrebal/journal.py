"""The journal: an append-only JSON-lines record of every run, order and result; and the run lock.

Each record is one line, flushed and fsynced before the next step, so an interrupted or crashed run
leaves a journal that says exactly what was sent: every order is written (with its client order id)
*before* its request goes out, and its result after. A later run resolves any order that has no
recorded result (orderStatus by cloid) and records the answer.

Events: ``run_start``, ``plan``, ``leverage``, ``order_sent``, ``order_result``, ``reconciled``,
``round``, ``warning``, ``run_end``. Every record carries ``ts`` (ms), ``run`` (the run id) and
``event``. No key, and nothing derived from one other than addresses, is ever written.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from hlrebal.errors import BadInputError, GuardError


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class Journal:
    """Append-only JSON lines, one fsync per record."""

    def __init__(self, path: Path, run_id: str, clock: Any = None) -> None:
        import time

        self.path = path
        self.run_id = run_id
        self._clock = clock or time.time
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as e:
            raise BadInputError(f"cannot open the journal {path}: {e.strerror}") from None
        self._file: TextIO = os.fdopen(fd, "a", encoding="utf-8")

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        entry = {"ts": int(self._clock() * 1000), "run": self.run_id, "event": event, **fields}
        line = json.dumps(entry, default=_default, separators=(",", ":"))
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        written: dict[str, Any] = json.loads(line)
        return written

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Every record of a journal, oldest first. A torn last line (a crash mid-write) is skipped."""
    try:
        f = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                yield entry


@dataclass
class PendingOrder:
    """An order a run sent without recording its result."""

    run: str
    cloid: str
    coin: str
    account: str
    base_url: str
    entry: dict[str, Any] = field(default_factory=dict)


def unresolved_orders(path: Path, account: str, base_url: str) -> list[PendingOrder]:
    """Orders sent for ``account`` on ``base_url`` that have no result or reconciliation recorded."""
    sent: dict[str, PendingOrder] = {}
    runs: dict[str, dict[str, Any]] = {}
    for e in read_entries(path):
        kind = e.get("event")
        if kind == "run_start":
            runs[str(e.get("run"))] = e
        elif kind == "order_sent":
            start = runs.get(str(e.get("run")), {})
            if start.get("account") == account and start.get("base_url") == base_url:
                cloid = str(e.get("cloid"))
                sent[cloid] = PendingOrder(str(e.get("run")), cloid, str(e.get("coin")), account, base_url, e)
        elif kind in ("order_result", "reconciled"):
            cloid = str(e.get("cloid"))
            if e.get("status") == "resting" and cloid in sent:
                sent[cloid].entry = {**sent[cloid].entry, "oid": e.get("oid"), "resting": True}
                continue  # a resting order is not done: a successor must cancel it and count its fills
            sent.pop(cloid, None)
    return list(sent.values())


@dataclass
class PendingTwap:
    """A native TWAP a run started (or tried to) without recording how it ended."""

    run: str
    key: str
    coin: str
    asset: int
    side: str
    size: str
    sent_ms: int
    twap_id: int | None = None


def unresolved_twaps(path: Path, account: str, base_url: str) -> list[PendingTwap]:
    """TWAPs sent for ``account`` on ``base_url`` with no ``twap_end`` or reconciliation recorded."""
    runs: dict[str, dict[str, Any]] = {}
    sent: dict[str, PendingTwap] = {}
    for e in read_entries(path):
        kind, key = e.get("event"), str(e.get("key"))
        if kind == "run_start":
            runs[str(e.get("run"))] = e
        elif kind == "twap_sent":
            start = runs.get(str(e.get("run")), {})
            if start.get("account") == account and start.get("base_url") == base_url:
                sent[key] = PendingTwap(
                    str(e.get("run")), key, str(e.get("coin")), int(e.get("asset") or 0), str(e.get("side")),
                    str(e.get("size")), int(e.get("ts") or 0),
                )  # fmt: skip
        elif kind == "twap_result" and key in sent:
            twap_id = e.get("twap_id")
            sent[key].twap_id = twap_id if isinstance(twap_id, int) else None
            if twap_id is None and e.get("status") == "error" and "refused" in str(e.get("error", "")):
                sent.pop(key)  # refused by the exchange: it never ran
        elif kind in ("twap_end", "reconciled_twap"):
            sent.pop(key, None)
    return list(sent.values())


#: the exchange's reject status for an order below the minimum value (orderStatus)
MIN_VALUE_REJECTED = "minTradeNtlRejected"


def is_min_value_refusal(error: str) -> bool:
    """The exchange's refusal of an order below the minimum value, as a message or a status."""
    return "minimum value" in error or MIN_VALUE_REJECTED in error


def refused_dust(path: Path, account: str, base_url: str | None = None) -> dict[str, str]:
    """Coins whose whole-position dust close the exchange refused before: coin -> size refused.

    Only refusals on the same endpoint count (a testnet refusal says nothing of mainnet).
    """
    runs: dict[str, str] = {}
    urls: dict[str, str] = {}
    sent: dict[str, dict[str, Any]] = {}
    out: dict[str, str] = {}
    for e in read_entries(path):
        kind = e.get("event")
        if kind == "run_start":
            runs[str(e.get("run"))] = str(e.get("account"))
            urls[str(e.get("run"))] = str(e.get("base_url"))
        elif (
            kind == "order_sent"
            and e.get("dust")
            and runs.get(str(e.get("run"))) == account
            and (base_url is None or urls.get(str(e.get("run"))) == base_url)
        ):
            sent[str(e.get("cloid"))] = e
        elif kind in ("order_result", "reconciled") and str(e.get("cloid")) in sent:
            order = sent[str(e.get("cloid"))]
            if e.get("status") == "error" and is_min_value_refusal(str(e.get("error", ""))):
                out[str(order.get("coin"))] = str(order.get("size"))
            elif e.get("status") == "filled":
                out.pop(str(order.get("coin")), None)
    return out


#: the cost figures of a run's ``run_end`` that the run summaries carry (as ``cost_<name>``)
_COST_FIELDS = (
    "notional",
    "fees_usd",
    "shortfall_usd",
    "total_usd",
    "shortfall_bps",
    "fees_bps",
    "total_bps",
    "maker_share",
)


def summarize_runs(path: Path, last: int) -> list[dict[str, Any]]:
    """The last ``last`` runs: start, end, orders sent, filled, exit code, and what each cost."""
    runs: dict[str, dict[str, Any]] = {}
    for e in read_entries(path):
        run = str(e.get("run"))
        info = runs.setdefault(run, {"run": run, "orders_sent": 0, "orders_filled": 0, "rounds": 0})
        kind = e.get("event")
        if kind == "run_start":
            info.update(
                started=e.get("ts"),
                account=e.get("account"),
                network=e.get("network"),
                targets=e.get("targets"),
                targets_sha256=e.get("targets_sha256"),
                strategy=e.get("selected_strategy"),
                plan_hash=e.get("plan_hash"),
            )
        elif kind == "plan" and e.get("round") == 0 and isinstance(e.get("plan"), dict) and not info.get("plan_hash"):
            info["plan_hash"] = e["plan"].get("plan_hash")  # the plan the run confirmed
        elif kind == "order_sent":
            info["orders_sent"] += 1
        elif kind == "order_result" and Decimal(str(e.get("filled_size") or "0")) > 0:
            info["orders_filled"] += 1
        elif kind == "reconciled" and Decimal(str(e.get("filled_size") or "0")) > 0:
            # a fill found by a later run belongs to the run that sent the order
            original = runs.setdefault(
                str(e.get("of_run")), {"run": str(e.get("of_run")), "orders_sent": 0, "orders_filled": 0, "rounds": 0}
            )
            original["orders_filled"] += 1
        elif kind == "round":
            info["rounds"] += 1
        elif kind == "run_end":
            info.update(ended=e.get("ts"), exit_code=e.get("exit_code"), outcome=e.get("outcome"))
            costs = e.get("costs")
            if isinstance(costs, dict):
                info.update({f"cost_{k}": costs.get(k) for k in _COST_FIELDS})
    ordered = [r for r in runs.values() if "started" in r]
    return ordered[-last:] if last > 0 else ordered


class RunLock:
    """One hlrebal run per account: an OS lock (``fcntl.flock``) on a file in the state directory.

    The kernel releases it when the process dies, so a crash never blocks later runs.
    """

    def __init__(self, folder: Path, account: str) -> None:
        self.path = folder / "locks" / f"{account.lower()}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                holder = self.path.read_text(encoding="utf-8").strip() or "another process"
                raise GuardError(
                    f"another hlrebal run holds the lock for this account ({holder})",
                    hint=f"wait for it to finish; the lock ({self.path}) is released when that process exits",
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
