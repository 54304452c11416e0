"""What every document shape shares: JSON read within limits (duplicate keys and NaN refused with
their key named), the error that names the file, the key and the rule, the planning-preferences
block, and the agent's notes (``selected_strategy`` and ``reasoning``)."""

from __future__ import annotations

import difflib
import functools
from decimal import Decimal
from typing import Any

from hlrebal.errors import TargetFileError
from hlrebal.inputs import loads, short_number, shown
from hlrebal.policy import NULLABLE_KEYS, OFF_WORDS, PLANNING_KEYS, POLICY_KEYS, Policy, check_value_kind
from hlrebal.validation import Invalid, check_value, pydantic_model

CASH = "USDC"
#: the longest ``selected_strategy`` (a name shown in the plan's header)
STRATEGY_LIMIT = 200
#: the longest ``reasoning`` (the agent's own words, recorded whole in the journal)
REASONING_LIMIT = 10_000
#: keys beside the weights or the actions that every structured document may carry
NOTE_KEYS = frozenset({"selected_strategy", "reasoning"})


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


class NonFinite(str):
    """Marks NaN, Infinity and -Infinity in a document so the error can name their key."""


def _mark_constant(name: str) -> Any:
    return NonFinite(name)


def err(source: str, where: str, rule: str) -> TargetFileError:
    """The error every rejection raises: ``source: where: rule`` (exit 2)."""
    prefix = f"{source}: {where}: " if where else f"{source}: "
    return TargetFileError(prefix + rule)


def load_json(text: str, source: str) -> Any:
    """The JSON value of a document's text, within the input limits; a duplicated key is refused."""
    try:
        return loads(
            text.removeprefix("\ufeff"),
            source,
            TargetFileError,
            object_pairs_hook=_no_duplicates,
            parse_constant=_mark_constant,
        )
    except _Duplicate as e:
        rule = "appears more than once; each key may be given only once"
        raise err(source, f"key {shown(e.args[0])}", rule) from None
    except TargetFileError as e:
        start = text.removeprefix("\ufeff").lstrip()[:1]
        if e.hint is None and "invalid JSON" in e.message and start not in ("{", "["):
            # Prose around the JSON: most likely an LLM's answer given as it came.
            e.hint = "if this is a free-text answer with the JSON inside it, add --extract-json"
        raise


def json_type(value: Any) -> str:
    """How a message names the JSON type of ``value`` ("a string", "an array", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def fmt(value: Decimal) -> str:
    return short_number(value)


def shown_value(value: Any) -> str:
    if isinstance(value, str):
        return shown(value, 40)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return short_number(value)
    return short_number(repr(value), 40)


def unknown_key(source: str, doc: dict[str, Any], allowed: frozenset[str], listed: str) -> None:
    """Refuse the first top-level key of ``doc`` not in ``allowed`` (close matches suggested)."""
    unknown = sorted(set(doc) - allowed)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(allowed - {"$schema"}), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise err(source, f"key {shown(unknown[0])}", f"unknown top-level key{hint}; allowed: {listed}")


def parse_notes(doc: dict[str, Any], source: str) -> tuple[str | None, str | None]:
    """``selected_strategy`` (a printable name, at most 200 characters) and ``reasoning`` (text, at
    most 10,000 characters), each optional."""
    strategy = doc.get("selected_strategy")
    reasoning = doc.get("reasoning")
    if strategy is not None:
        if not isinstance(strategy, str):
            raise err(source, "selected_strategy", f"must be a string, not {json_type(strategy)}")
        if not strategy.strip():
            raise err(source, "selected_strategy", "must not be empty (leave the key out instead)")
        if len(strategy) > STRATEGY_LIMIT:
            raise err(source, "selected_strategy", f"is {len(strategy):,} characters; at most {STRATEGY_LIMIT} allowed")
        if not strategy.isprintable():
            raise err(source, "selected_strategy", "cannot hold control or invisible characters (it is shown as is)")
    if reasoning is not None:
        if not isinstance(reasoning, str):
            raise err(source, "reasoning", f"must be a string, not {json_type(reasoning)}")
        if len(reasoning) > REASONING_LIMIT:
            raise err(source, "reasoning", f"is {len(reasoning):,} characters; at most {REASONING_LIMIT:,} allowed")
    return strategy, reasoning


@functools.cache
def target_policy_model() -> Any:
    """A pydantic model of just the preferences a document may set, with the same bounds as Policy
    (for the JSON Schema; documents themselves are checked by :func:`parse_policy`)."""
    return pydantic_model(Policy, sorted(PLANNING_KEYS), "TargetPolicy")


def parse_policy(raw: dict[str, Any], source: str, where: str = "policy") -> dict[str, Any]:
    """A document's ``policy`` block: planning preferences only, validated, the keys that were set."""
    if not raw:
        return {}
    for key in raw:
        if not isinstance(key, str) or not key.isprintable():
            rule = "unknown policy key (it holds control or invisible characters)"
            raise err(source, f"{where}.{shown(str(key))}", rule)
        if key not in PLANNING_KEYS:
            if key in POLICY_KEYS:
                raise err(
                    source,
                    f"{where}.{key}",
                    f"is a safety limit or exchange setting and cannot be set in a target file; set it "
                    f"with --{key.replace('_', '-')}, HLREBAL_{key.upper()} or the configuration file",
                )
            close = difflib.get_close_matches(key, sorted(PLANNING_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise err(
                source,
                f"{where}.{key}",
                f"unknown policy key{hint}; allowed: {', '.join(sorted(PLANNING_KEYS))}",
            )
    raw = {
        k: None if k in NULLABLE_KEYS and isinstance(v, str) and v.strip().lower() in OFF_WORDS else v
        for k, v in raw.items()
    }
    for key, value in raw.items():
        if isinstance(value, NonFinite):
            raise err(source, f"{where}.{key}", f"must be a finite number, not {value}")
        problem = check_value_kind(key, value)
        if problem:
            raise err(source, f"{where}.{key}", problem)
    checked: dict[str, Any] = {}
    # In key order, as the model of these keys did: the first failure is the one said, and the block
    # comes back sorted (the journal records it so).
    for key in sorted(raw):
        try:
            checked[key] = None if raw[key] is None else check_value(Policy, key, raw[key])
        except Invalid as e:
            raise err(source, f"{where}.{key}", f"{e.msg} (got {shown_value(raw[key])})") from None
    return checked


def policy_block(doc: dict[str, Any], source: str) -> dict[str, Any]:
    """The validated ``policy`` block of a structured document (empty when there is none)."""
    raw_policy = doc.get("policy", {})
    if not isinstance(raw_policy, dict):
        raise err(source, "policy", f"must be an object, not {json_type(raw_policy)}")
    return parse_policy(raw_policy, source)
