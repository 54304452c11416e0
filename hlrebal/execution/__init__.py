"""Running a plan through an exchange: one module per style behind one interface, and the shared parts.

* :mod:`~hlrebal.execution.engine`: the rounds (phase 1, the re-plan of phase 2, the read-back);
* :mod:`~hlrebal.execution.style`: the interface a style implements; :mod:`~hlrebal.execution.taker`
  the default style;
* :mod:`~hlrebal.execution.orders`: order bookkeeping (client order ids, the journal before and after
  every request, lost answers); :mod:`~hlrebal.execution.reconciliation`: what became of orders whose
  answer never came, in this run or a killed one;
* :mod:`~hlrebal.execution.guards`, :mod:`~hlrebal.execution.readback`,
  :mod:`~hlrebal.execution.transfers`, :mod:`~hlrebal.execution.costs`;
* :mod:`~hlrebal.execution.models`: the reports.
"""

from __future__ import annotations

import secrets
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hlrebal.execution.engine import Executor
    from hlrebal.execution.guards import materially_different
    from hlrebal.execution.models import ExecutionReport, OrderReport, Outcome, RoundReport, outcome_of
    from hlrebal.execution.orders import EXPIRES_AFTER_MS
    from hlrebal.execution.readback import InconsistentAccount
    from hlrebal.execution.reconciliation import (
        EXPIRY_MARGIN_S,
        fills_by_oid,
        reconcile,
        resolve_orders,
        status_to_outcome,
    )
    from hlrebal.execution_settings import ExecutionSettings

# The package face is loaded lazily: the configuration imports only the settings module, and
# `hlrebal --help` must not pay for the engine.
_WHERE = {
    "Executor": "engine",
    "materially_different": "guards",
    "ExecutionReport": "models",
    "OrderReport": "models",
    "Outcome": "models",
    "RoundReport": "models",
    "outcome_of": "models",
    "EXPIRES_AFTER_MS": "orders",
    "InconsistentAccount": "readback",
    "EXPIRY_MARGIN_S": "reconciliation",
    "fills_by_oid": "reconciliation",
    "reconcile": "reconciliation",
    "resolve_orders": "reconciliation",
    "status_to_outcome": "reconciliation",
    "ExecutionSettings": "hlrebal.execution_settings",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hlrebal.execution' has no attribute {name!r}")
    return getattr(import_module(module if "." in module else f"hlrebal.execution.{module}"), name)


def new_run_id() -> str:
    """16 hex digits: the prefix of every client order id of the run."""
    return secrets.token_hex(8)


__all__ = [
    "EXPIRES_AFTER_MS",
    "EXPIRY_MARGIN_S",
    "ExecutionReport",
    "ExecutionSettings",
    "Executor",
    "InconsistentAccount",
    "OrderReport",
    "Outcome",
    "RoundReport",
    "fills_by_oid",
    "materially_different",
    "new_run_id",
    "outcome_of",
    "reconcile",
    "resolve_orders",
    "status_to_outcome",
]
