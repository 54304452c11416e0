"""The JSON Schema of every document hlrebal reads as targets: the structured and the bare target
allocation, and the direct-action list (``hlrebal schema``, the MCP server's ``schema`` tool)."""

from __future__ import annotations

from typing import Any

from hlrebal.policy import NULLABLE_KEYS, Policy
from hlrebal.targets.common import REASONING_LIMIT, STRATEGY_LIMIT, target_policy_model
from hlrebal.validation import rule_of


def _policy_schema() -> dict[str, Any]:
    policy_schema: dict[str, Any] = target_policy_model().model_json_schema()
    for key, prop in policy_schema.get("properties", {}).items():
        # null means "unset" only where the policy has an unset state (band_relative, leverage)
        if key not in NULLABLE_KEYS and "anyOf" in prop:
            prop["anyOf"] = [option for option in prop["anyOf"] if option.get("type") != "null"]
            prop.pop("default", None)
        elif key in NULLABLE_KEYS and "anyOf" in prop:
            prop["anyOf"].append({"const": "off", "description": "unset (the same as null)"})
            # Left out, the key takes the configured value, whose default is the policy's (0.25 for
            # band_relative): "null" would read as "off by default".
            default = rule_of(Policy, key).default
            prop["default"] = None if default is None else float(default)
    policy_schema["title"] = "Planning preferences"
    policy_schema["description"] = (
        "Planning preferences only; safety limits (max_leverage, max_turnover, ...) cannot be set here."
    )
    return policy_schema


def _notes() -> dict[str, Any]:
    return {
        "selected_strategy": {
            "type": "string",
            "minLength": 1,
            "maxLength": STRATEGY_LIMIT,
            "description": "The name of the strategy the agent chose (shown in the plan's header, journaled).",
        },
        "reasoning": {
            "type": "string",
            "maxLength": REASONING_LIMIT,
            "description": "Why: the agent's own words, recorded whole in the journal (never shown in tables).",
        },
    }


def _action_schema() -> dict[str, Any]:
    amount = {"type": "number", "exclusiveMinimum": 0}
    return {
        "type": "object",
        "required": ["action_type", "coin"],
        "properties": {
            "action_type": {"enum": ["buy", "sell", "close"]},
            "coin": {"type": "string", "minLength": 1, "description": "As on the exchange: BTC, HYPE/USDC, xyz:XYZ1."},
            "size": {**amount, "description": "In coins (rounded to the exchange's lot)."},
            "notional": {**amount, "description": "In USD at the reference price, instead of size."},
        },
        "additionalProperties": False,
        "oneOf": [
            {"properties": {"action_type": {"const": "close"}}, "not": {"anyOf": [{"required": ["size"]},
                                                                                  {"required": ["notional"]}]}},
            {"properties": {"action_type": {"enum": ["buy", "sell"]}}, "required": ["size"],
             "not": {"required": ["notional"]}},
            {"properties": {"action_type": {"enum": ["buy", "sell"]}}, "required": ["notional"],
             "not": {"required": ["size"]}},
        ],
    }  # fmt: skip


def schema() -> dict[str, Any]:
    """The JSON Schema of a target document: the structured and bare allocations, and the actions."""
    weight_map: dict[str, Any] = {
        "type": "object",
        "description": "Weights as fractions of account equity, keyed by coin name as on the exchange "
        "(case-sensitive). Perp weights may be negative (shorts). USDC is cash; when given, all "
        "weights must sum to 1, otherwise cash is 1 - sum of the others.",
        "minProperties": 1,
        "additionalProperties": {"type": "number"},
    }
    policy = _policy_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/hlrebal/hlrebal/schema/targets.json",
        "title": "hlrebal target allocation",
        "oneOf": [
            {
                "type": "object",
                "required": ["target_allocation"],
                "properties": {
                    "$schema": {"type": "string"},
                    "target_allocation": weight_map,
                    "policy": policy,
                    **_notes(),
                },
                "additionalProperties": False,
            },
            {**weight_map, "not": {"anyOf": [{"required": ["target_allocation"]}, {"required": ["actions"]}]}},
            {
                "type": "object",
                "title": "Direct actions",
                "description": "Trades to make instead of weights; each coin at most once.",
                "required": ["actions"],
                "properties": {
                    "$schema": {"type": "string"},
                    "actions": {"type": "array", "items": _action_schema()},
                    "policy": policy,
                    **_notes(),
                },
                "additionalProperties": False,
            },
        ],
    }
