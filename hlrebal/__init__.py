"""hlrebal: deterministic portfolio rebalancing for Hyperliquid.

The library surface (see docs/api.md)::

    import hlrebal

    snapshot = hlrebal.read_snapshot("0x…")                       # or load_snapshot("snap.json")
    targets = hlrebal.load_targets({"target_allocation": {"BTC": 0.4, "USDC": 0.6}})
    plan = hlrebal.plan(snapshot, targets, hlrebal.Policy(band=0.03))
    report = hlrebal.execute(targets, key_file="agent.key")

Nothing prints; failures raise :class:`hlrebal.HlrebalError` and its subclasses, each with the exit
code the command line uses. Import nothing heavy here: ``hlrebal --help`` must stay fast, so every
name below is imported from its module when first asked for (as :mod:`hlrebal.render` does).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from hlrebal.api import effective_policy, execute, load_snapshot, load_targets, plan, read_snapshot
    from hlrebal.approval import ApprovedPlan, load_plan
    from hlrebal.errors import (
        BadInputError,
        ConfigError,
        ExchangeError,
        ExitCode,
        GuardError,
        HlrebalError,
        Interrupted,
        PartialError,
        SnapshotError,
        TargetFileError,
    )
    from hlrebal.execution import ExecutionReport
    from hlrebal.planner import Plan, Trade
    from hlrebal.policy import Policy
    from hlrebal.snapshot import Snapshot
    from hlrebal.targets import ActionDocument, DirectAction, Document, Targets

#: public name -> the module that defines it
_HOMES = {
    **dict.fromkeys(
        ("effective_policy", "execute", "load_snapshot", "load_targets", "plan", "read_snapshot"), "hlrebal.api"
    ),
    **dict.fromkeys(("ApprovedPlan", "load_plan"), "hlrebal.approval"),
    **dict.fromkeys(
        (
            "BadInputError",
            "ConfigError",
            "ExchangeError",
            "ExitCode",
            "GuardError",
            "HlrebalError",
            "Interrupted",
            "PartialError",
            "SnapshotError",
            "TargetFileError",
        ),
        "hlrebal.errors",
    ),
    "ExecutionReport": "hlrebal.execution",
    "Plan": "hlrebal.planner",
    "Trade": "hlrebal.planner",
    "Policy": "hlrebal.policy",
    "Snapshot": "hlrebal.snapshot",
    **dict.fromkeys(("ActionDocument", "DirectAction", "Document", "Targets"), "hlrebal.targets"),
}

__all__ = [
    "ActionDocument",
    "ApprovedPlan",
    "BadInputError",
    "ConfigError",
    "DirectAction",
    "Document",
    "ExchangeError",
    "ExecutionReport",
    "ExitCode",
    "GuardError",
    "HlrebalError",
    "Interrupted",
    "PartialError",
    "Plan",
    "Policy",
    "Snapshot",
    "SnapshotError",
    "TargetFileError",
    "Targets",
    "Trade",
    "__version__",
    "effective_policy",
    "execute",
    "load_plan",
    "load_snapshot",
    "load_targets",
    "plan",
    "read_snapshot",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        # Not a public name: an attribute error, so that `from hlrebal import planner` imports the
        # subpackage as usual.
        raise AttributeError(f"module 'hlrebal' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
