"""Former home of the executor, kept so that older imports (``hlrebal.executor``) still work.

The executor is now the package :mod:`hlrebal.execution`; import from there.
"""

from __future__ import annotations

from hlrebal.execution import (
    EXPIRES_AFTER_MS,
    EXPIRY_MARGIN_S,
    ExecutionReport,
    Executor,
    InconsistentAccount,
    OrderReport,
    RoundReport,
    fills_by_oid,
    materially_different,
    new_run_id,
    reconcile,
    resolve_orders,
    status_to_outcome,
)

__all__ = [
    "EXPIRES_AFTER_MS",
    "EXPIRY_MARGIN_S",
    "ExecutionReport",
    "Executor",
    "InconsistentAccount",
    "OrderReport",
    "RoundReport",
    "fills_by_oid",
    "materially_different",
    "new_run_id",
    "reconcile",
    "resolve_orders",
    "status_to_outcome",
]
