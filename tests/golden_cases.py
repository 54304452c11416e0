"""The cases of the golden plan documents: every sample target on the demo and on saved snapshots.

``python tests/golden_cases.py`` (re)writes ``tests/data/golden/``. Regenerate only when a change is
*meant* to change plans (a new default, a new field), and say so in the commit: the test that reads
these files exists so that a refactor cannot change a plan by accident.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOLDEN = HERE / "data" / "golden"
SAMPLES = ROOT / "sample_targets"

#: snapshot files the plans are made from (path relative to the repository root)
SNAPSHOTS = {
    "demo_file": "hlrebal/data/demo_snapshot.json",
    "mixed": "tests/sim/data/mixed_account.json",
    "legacy": "tests/sim/data/legacy_account.json",
    "older": "tests/data/snapshots/older_meta_allmids.json",
    "shorts_iso": "tests/data/golden/snapshots/shorts_iso.json",
    "unified": "tests/data/golden/snapshots/unified.json",
    "spot_heavy": "tests/data/golden/snapshots/spot_heavy.json",
}
#: extra flag sets, beside the defaults
FLAG_SETS: dict[str, list[str]] = {
    "default": [],
    "edge": ["--trade-to", "edge", "--band", "0.03"],
    "tight": ["--band", "0.01", "--band-relative", "0.1", "--untargeted", "keep"],
    "levered": ["--max-leverage", "2", "--leverage", "3", "--slippage", "0.01"],
    "capped": ["--max-leverage", "0.5", "--min-trade-value", "50"],
}


def cases() -> list[tuple[str, list[str]]]:
    """(name, CLI arguments after ``plan``) for every golden document."""
    out: list[tuple[str, list[str]]] = []
    for path in [*sorted(SAMPLES.glob("*.json")), *sorted((GOLDEN / "targets").glob("*.json"))]:
        # Paths relative to the repository root (cases run from there): error messages name the
        # file, and the documents must not depend on where the checkout lives.
        target = path.relative_to(ROOT).as_posix()
        for snap_name, snap_path in SNAPSHOTS.items():
            for flag_name, flags in FLAG_SETS.items():
                args = [target, "--snapshot", snap_path, "--json", *flags]
                out.append((f"{path.stem}__{snap_name}__{flag_name}", args))
        out.append((f"{path.stem}__demo__default", [target, "--demo", "--json"]))
    return out


def normalise(doc: Any) -> Any:
    """The demo's address comes from a key made on first use and its time is the clock's: mask both
    (and the plan hash, which covers them)."""
    if isinstance(doc, dict) and doc.get("network") == "demo":
        doc = dict(doc, user="<demo>", snapshot_time=0, plan_hash="<covers the demo's address and time>")
    return doc


def run_case(args: list[str]) -> tuple[int, Any]:
    """Plan one case from the repository root (its paths are relative to it)."""
    from typer.testing import CliRunner

    from hlrebal.cli import app

    before = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, ["plan", *args])
    finally:
        os.chdir(before)
    return result.exit_code, normalise(json.loads(result.stdout))


def golden_text(code: int, doc: Any) -> str:
    return json.dumps({"exit_code": code, "document": doc}, indent=1, sort_keys=False) + "\n"


def _make_snapshots() -> None:
    """Write the factory-built snapshots some cases use (deterministic)."""
    sys.path.insert(0, str(HERE))
    from factories import make_snapshot

    folder = GOLDEN / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    docs = {
        "shorts_iso": make_snapshot(
            {"BTC": ("0.3", 5), "ETH": ("-4.5", 3, False), "SOL": ("-40", 10), "DOGE": ("30", 2), "ATOM": ("2.1", 5)},
            cash="60000",
            prices={"XRP": None},
            open_orders=[{"coin": "ETH", "limitPx": "2900.0", "oid": 77, "side": "B", "sz": "0.5", "timestamp": 1}],
        ),
        "unified": make_snapshot(
            {"BTC": ("0.2", 10), "HYPE": ("100", 5)},
            cash="0",
            spot={"USDC": "60000", "HYPE": "40", "PURR": "20000"},
            spot_hold={"USDC": "2000"},
            mode="unifiedAccount",
        ),
        "spot_heavy": make_snapshot(
            {"ETH": ("1.5", 10)},
            cash="5000",
            spot={"USDC": "30000", "HYPE": "900", "UBTC": "0.25", "PURR": "40"},
            spot_hold={"HYPE": "100"},
            mode="disabled",
        ),
    }
    for name, doc in docs.items():
        (folder / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")


def main() -> None:
    os.environ["HLREBAL_HOME"] = tempfile.mkdtemp(prefix="hlrebal-golden-")
    for name in list(os.environ):
        if name.startswith("HLREBAL_") and name != "HLREBAL_HOME":
            del os.environ[name]
    _make_snapshots()
    for name, args in cases():
        code, doc = run_case(args)
        (GOLDEN / f"{name}.json").write_text(golden_text(code, doc))
    print(f"wrote {len(cases())} golden plan documents to {GOLDEN}")


if __name__ == "__main__":
    main()
