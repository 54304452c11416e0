"""Rich renderables and JSON documents. Everything here returns values; nothing prints.

The JSON documents are a stable interface other tools read (see README "JSON output"): numbers are
decimal strings, trades are in execution order, and new keys may be added but existing ones keep
their meaning.

The rooms: ``plan`` (the plan's JSON and tables), ``execution`` (a run's), ``account``, ``journal``,
``settings``, ``error`` (the error document) and ``numbers`` (how numbers are written). Import from
here: ``from hlrebal.render import plan_json`` or ``from hlrebal import render``.
"""

from hlrebal.render.account import account_json, account_renderable
from hlrebal.render.error import error_json
from hlrebal.render.execution import execution_json, execution_renderable
from hlrebal.render.journal import journal_renderable
from hlrebal.render.numbers import WEIGHT_PLACES, dec, pct, usd, weight
from hlrebal.render.plan import (
    drift_chart,
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
