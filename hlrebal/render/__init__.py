"""Rich renderables and JSON documents. Everything here returns values; nothing prints.

The JSON documents are a stable interface other tools read (see README "JSON output"): numbers are
decimal strings, trades are in execution order, and new keys may be added but existing ones keep
their meaning.

The rooms: ``plan`` (the plan's JSON and tables), ``execution`` (a run's), ``account``, ``journal``,
``settings``, ``error`` (the error document) and ``numbers`` (how numbers are written). Import from
here: ``from hlrebal.render import plan_json`` or ``from hlrebal import render``.

Each name is imported from its room when first asked for: a plan need not pay for the execution
report's modules (which bring in the executor, the exchange client and the journal).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hlrebal.render.account import account_json, account_renderable
    from hlrebal.render.error import error_json
    from hlrebal.render.execution import execution_json, execution_renderable
    from hlrebal.render.journal import journal_renderable
    from hlrebal.render.numbers import WEIGHT_PLACES, dec, pct, usd, weight
    from hlrebal.render.plan import (
        drift_chart,
        plan_hash,
        plan_header,
        plan_json,
        plan_renderable,
        plan_table,
        policy_json,
        skipped_table,
        summary_table,
        trade_json,
        transfer_json,
    )
    from hlrebal.render.settings import settings_json, settings_renderable

#: public name -> the room (module of this package) that defines it
_ROOMS = {
    "account_json": "account",
    "account_renderable": "account",
    "error_json": "error",
    "execution_json": "execution",
    "execution_renderable": "execution",
    "journal_renderable": "journal",
    "WEIGHT_PLACES": "numbers",
    "dec": "numbers",
    "pct": "numbers",
    "usd": "numbers",
    "weight": "numbers",
    "drift_chart": "plan",
    "plan_hash": "plan",
    "plan_header": "plan",
    "plan_json": "plan",
    "plan_renderable": "plan",
    "plan_table": "plan",
    "policy_json": "plan",
    "skipped_table": "plan",
    "summary_table": "plan",
    "trade_json": "plan",
    "transfer_json": "plan",
    "settings_json": "settings",
    "settings_renderable": "settings",
}

__all__ = [
    "WEIGHT_PLACES",
    "account_json",
    "account_renderable",
    "dec",
    "drift_chart",
    "error_json",
    "execution_json",
    "execution_renderable",
    "journal_renderable",
    "pct",
    "plan_hash",
    "plan_header",
    "plan_json",
    "plan_renderable",
    "plan_table",
    "policy_json",
    "settings_json",
    "settings_renderable",
    "skipped_table",
    "summary_table",
    "trade_json",
    "transfer_json",
    "usd",
    "weight",
]


def __getattr__(name: str) -> Any:
    room = _ROOMS.get(name)
    if room is None:
        raise AttributeError(f"module 'hlrebal.render' has no attribute {name!r}")
    value = getattr(import_module(f"hlrebal.render.{room}"), name)
    globals()[name] = value
    return value
