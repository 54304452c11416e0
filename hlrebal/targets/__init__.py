"""Target documents: loading, validation and the JSON Schema.

A document says what the account should become, in one of these shapes::

    {"target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}          # the seed format
    {"BTC": 0.4, "ETH": 0.3}                                                   # bare: the rest is USDC
    {"target_allocation": {...}, "policy": {"band": 0.03, "trade_to": "edge"}} # with preferences
    {"selected_strategy": "balanced-growth", "reasoning": "...",
     "target_allocation": {...}}                                               # an agent's answer
    {"actions": [{"action_type": "sell", "coin": "BTC", "size": 0.4}]}         # direct actions

Every rejection names the file, the key and the rule, and maps to exit code 2. Checks that need the
market are separate functions, run once the snapshot and the policy are known.

The rooms: ``weights`` (target allocations and their market checks), ``actions`` (direct-action
documents), ``document`` (reading a file or stdin into either), ``extract`` (the one JSON object
of a free-text answer), ``schema`` (the JSON Schema), ``common`` (what the shapes share).
"""

from typing import Any

from hlrebal.targets.actions import ActionDocument, DirectAction
from hlrebal.targets.common import CASH, REASONING_LIMIT, STRATEGY_LIMIT, parse_policy, target_policy_model
from hlrebal.targets.document import (
    Document,
    document_from_json,
    load_document,
    load_targets,
    mapping_text,
    parse_document,
    parse_targets,
    read_document_text,
)
from hlrebal.targets.schema import schema
from hlrebal.targets.weights import (
    SUM_TOLERANCE,
    TOP_LEVEL_KEYS,
    Targets,
    check_gross,
    check_universe,
    suggest,
    weights_from_mapping,
)


def __getattr__(name: str) -> Any:
    # The free-text extractor is imported when first asked for: a plan of a target file needs none.
    if name == "extract_json":
        from hlrebal.targets.extract import extract_json

        return extract_json
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CASH",
    "REASONING_LIMIT",
    "STRATEGY_LIMIT",
    "SUM_TOLERANCE",
    "TOP_LEVEL_KEYS",
    "ActionDocument",
    "DirectAction",
    "Document",
    "Targets",
    "check_gross",
    "check_universe",
    "document_from_json",
    "extract_json",
    "load_document",
    "load_targets",
    "mapping_text",
    "parse_document",
    "parse_policy",
    "parse_targets",
    "read_document_text",
    "schema",
    "suggest",
    "target_policy_model",
    "weights_from_mapping",
]
