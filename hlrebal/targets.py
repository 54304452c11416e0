"""Target-allocation files: loading, validation and the JSON Schema.

Three shapes are accepted::

    {"target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}          # the seed format
    {"BTC": 0.4, "ETH": 0.3}                                                   # bare: the rest is USDC
    {"target_allocation": {...}, "policy": {"band": 0.03, "trade_to": "edge"}} # with preferences

Weights are fractions of account equity; perp weights may be negative (shorts); ``USDC`` is cash.
Every rejection names the file, the key and the rule, and maps to exit code 2. Checks that need the
market (unknown or delisted coins, gross exposure against ``max_leverage``) are separate functions,
run once the snapshot and the policy are known.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from hlrebal.errors import TargetFileError
from hlrebal.inputs import TARGETS_LIMIT, decode_text, loads, read_limited, short_number, shown
from hlrebal.policy import NULLABLE_KEYS, OFF_WORDS, PLANNING_KEYS, POLICY_KEYS, Policy, check_value_kind

CASH = "USDC"
SUM_TOLERANCE = Decimal("1e-6")
TOP_LEVEL_KEYS = frozenset({"target_allocation", "policy", "$schema"})


@functools.cache
def target_policy_model() -> type[BaseModel]:
    """A model of just the preferences a target file may set, with the same constraints as Policy
    (made when first needed: most target files have no policy block)."""
    fields: dict[str, Any] = {}
    for name in sorted(PLANNING_KEYS):
        field = Policy.model_fields[name]
        annotation = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        fields[name] = (Optional[annotation], Field(None, description=field.description))  # noqa: UP045
    model: type[BaseModel] = create_model("TargetPolicy", __config__=ConfigDict(frozen=True, extra="forbid"), **fields)
    return model




class Targets(BaseModel):
    """A validated target file: signed weights per asset, cash, and planning preferences."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    source: str
    sha256: str
    weights: dict[str, Decimal]
    """Non-cash weights, in file order (perps by name, spot pairs by pair name)."""
    cash: Decimal
    cash_given: bool
    policy: dict[str, Any]
    """Planning preferences from the file's ``policy`` block (validated, only keys that were set)."""

    @property
    def gross(self) -> Decimal:
        """Sum of absolute non-cash weights."""
        return sum((abs(w) for w in self.weights.values()), Decimal(0))

    @property
    def dexes(self) -> tuple[str, ...]:
        """Builder-deployed perp dexes the targets name ("xyz" for "xyz:XYZ100"), in order."""
        seen: dict[str, None] = {}
        for key in self.weights:
            if ":" in key:
                seen.setdefault(key.split(":", 1)[0], None)
        return tuple(seen)

    @property
    def mentions_spot(self) -> bool:
        """True when a key names a spot pair ("HYPE/USDC", "@107"): the spot market must be read."""
        return any("/" in key or key.startswith("@") for key in self.weights)

    @property
    def net(self) -> Decimal:
        """Sum of signed non-cash weights."""
        return sum(self.weights.values(), Decimal(0))


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


class _NonFinite(str):
    """Marks NaN, Infinity and -Infinity in a target file so the error can name their key."""


def _mark_constant(name: str) -> Any:
    return _NonFinite(name)


def _err(source: str, where: str, rule: str) -> TargetFileError:
    prefix = f"{source}: {where}: " if where else f"{source}: "
    return TargetFileError(prefix + rule)


def parse_targets(text: str, source: str = "<targets>") -> Targets:
    """Parse and validate the text of a target file (no market checks)."""
    if not text.strip():
        raise _err(source, "", 'the file is empty; write e.g. {"target_allocation": {"BTC": 0.5, "USDC": 0.5}}')
    try:
        doc = loads(
            text.removeprefix("\ufeff"),
            source,
            TargetFileError,
            object_pairs_hook=_no_duplicates,
            parse_constant=_mark_constant,
        )
    except _Duplicate as e:
        rule = "appears more than once; each key may be given only once"
        raise _err(source, f"key {shown(e.args[0])}", rule) from None
    if not isinstance(doc, dict):
        raise _err(source, "", f"must be a JSON object, not {_json_type(doc)}")

    if "target_allocation" in doc:
        unknown = sorted(set(doc) - TOP_LEVEL_KEYS)
        if unknown:
            raise _err(
                source,
                f"key {shown(unknown[0])}",
                "unknown top-level key; allowed: target_allocation, policy",
            )
        allocation = doc["target_allocation"]
        if not isinstance(allocation, dict):
            raise _err(source, "target_allocation", f"must be an object of weights, not {_json_type(allocation)}")
        raw_policy = doc.get("policy", {})
        if not isinstance(raw_policy, dict):
            raise _err(source, "policy", f"must be an object, not {_json_type(raw_policy)}")
        where = "target_allocation."
    else:
        if "policy" in doc:
            raise _err(source, "policy", 'a policy block needs the weights under "target_allocation"')
        allocation, raw_policy, where = doc, {}, ""

    weights = _parse_weights(allocation, source, where)
    policy = _parse_policy(raw_policy, source)
    cash_given = CASH in weights
    cash = weights.pop(CASH) if cash_given else None
    net = sum(weights.values(), Decimal(0))
    if cash is not None:
        total = net + cash
        if abs(total - 1) > SUM_TOLERANCE:
            raise _err(
                source,
                "target_allocation" if where else "weights",
                f"weights sum to {_fmt(total)}, not 1; when USDC is given, all weights including "
                f"USDC must add up to 1 (within {SUM_TOLERANCE})" + _percent_hint(weights.values(), cash),
            )
    else:
        cash = 1 - net
    # Every field was checked above, value by value, with messages naming the file and key:
    # constructing without a second validation is safe and spares building its validator.
    return Targets.model_construct(
        source=source,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        weights=weights,
        cash=cash,
        cash_given=cash_given,
        policy=policy,
    )


def load_targets(path: str | Path) -> Targets:
    """Read and validate a target file. Raises :class:`TargetFileError` (exit 2).

    Only regular files of at most 1 MiB are read (see :mod:`hlrebal.inputs`).
    """
    source = str(path)
    raw = read_limited(path, what="target file", limit=TARGETS_LIMIT, error=TargetFileError)
    return parse_targets(decode_text(raw, source, TargetFileError), source)


def _parse_weights(allocation: dict[str, Any], source: str, where: str) -> dict[str, Decimal]:
    if not allocation:
        raise _err(
            source,
            where.rstrip(".") or "weights",
            'no weights given; to hold only cash write {"USDC": 1}',
        )
    out: dict[str, Decimal] = {}
    for key, value in allocation.items():
        if not isinstance(key, str) or not key.strip() or key != key.strip():
            raise _err(source, f"{where}{shown(key)}", "coin names must be non-empty, without surrounding spaces")
        if not key.isprintable():
            raise _err(source, f"{where}{shown(key)}", "coin names cannot hold control or invisible characters")
        if isinstance(value, _NonFinite):
            raise _err(source, f"{where}{key}", f"weight must be a finite number, not {value}")
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise _err(source, f"{where}{key}", f"weight must be a number, not {_json_type(value)}")
        out[key] = Decimal(value)
    return out


def _parse_policy(raw: dict[str, Any], source: str) -> dict[str, Any]:
    if not raw:
        return {}
    for key in raw:
        if not key.isprintable():
            raise _err(source, f"policy.{shown(key)}", "unknown policy key (it holds control or invisible characters)")
        if key not in PLANNING_KEYS:
            if key in POLICY_KEYS:
                raise _err(
                    source,
                    f"policy.{key}",
                    f"is a safety limit or exchange setting and cannot be set in a target file; set it "
                    f"with --{key.replace('_', '-')}, HLREBAL_{key.upper()} or the configuration file",
                )
            close = difflib.get_close_matches(key, sorted(PLANNING_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _err(
                source,
                f"policy.{key}",
                f"unknown policy key{hint}; allowed: {', '.join(sorted(PLANNING_KEYS))}",
            )
    raw = {
        k: None if k in NULLABLE_KEYS and isinstance(v, str) and v.strip().lower() in OFF_WORDS else v
        for k, v in raw.items()
    }
    for key, value in raw.items():
        if isinstance(value, _NonFinite):
            raise _err(source, f"policy.{key}", f"must be a finite number, not {value}")
        problem = check_value_kind(key, value)
        if problem:
            raise _err(source, f"policy.{key}", problem)
    try:
        model = target_policy_model().model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise _err(source, f"policy.{loc}", f"{first['msg']} (got {_shown_value(first.get('input'))})") from None
    return model.model_dump(exclude_unset=True)


def check_universe(
    targets: Targets,
    known: Iterable[str],
    delisted: Iterable[str] = (),
    spot_aliases: Mapping[str, str] | None = None,
) -> None:
    """Reject names the exchange does not list, non-zero weights on delisted coins, and spot misuse.

    Perp coins are named as on the exchange, case-sensitive; spot holdings by their pair
    ("HYPE/USDC", "PURR/USDC" or "@107"). A name that is both a perp and a spot token ("HYPE") is the
    perp; the spot holding must be written as a pair. Spot weights cannot be negative (no shorts on
    spot), and one pair may be named only once. Close matches are suggested ("btc" -> "BTC").
    """
    known_set = set(known)
    delisted_set = set(delisted)
    spot = dict(spot_aliases or {})
    seen_pairs: dict[str, str] = {}
    for coin, weight in targets.weights.items():
        if coin in known_set:
            if coin in delisted_set and weight != 0:
                raise _err(
                    targets.source,
                    coin,
                    "is delisted: it can only be closed (weight 0); remove it or set its weight to 0",
                )
            continue
        if coin in spot:
            pair = spot[coin]
            if weight < 0:
                raise _err(targets.source, coin, "spot holdings cannot be negative (there are no spot shorts)")
            if pair in seen_pairs:
                raise _err(
                    targets.source,
                    coin,
                    f"names the same spot pair as {seen_pairs[pair]!r} ({pair}); give each holding once",
                )
            seen_pairs[pair] = coin
            continue
        names = known_set | {k for k in spot if "/" in k}
        hint = ""
        if "/" not in coin and not coin.startswith("@") and f"{coin}/{CASH}" in spot:
            hint = f" (the spot token is written as a pair: {coin + '/' + CASH!r})"
        raise _err(targets.source, coin, f"is not traded on this exchange{hint or _suggest(coin, names)}")


def _suggest(coin: str, known: set[str]) -> str:
    by_lower: dict[str, list[str]] = {}
    for name in known:
        by_lower.setdefault(name.lower(), []).append(name)
    exact = by_lower.get(coin.lower())
    if exact:
        return f" (names are case-sensitive: did you mean {', '.join(repr(n) for n in sorted(exact))}?)"
    close = difflib.get_close_matches(coin, sorted(known), n=3, cutoff=0.6)
    if not close:
        close = [by_lower[m][0] for m in difflib.get_close_matches(coin.lower(), sorted(by_lower), n=3)]
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def check_gross(targets: Targets, max_leverage: Decimal) -> None:
    """Reject targets whose gross exposure (sum of |weights|) exceeds ``max_leverage``."""
    gross = targets.gross
    if gross > max_leverage:
        raise _err(
            targets.source,
            "target_allocation",
            f"gross exposure {_fmt(gross)} (sum of absolute weights) exceeds max_leverage "
            f"{_fmt(max_leverage)}; lower the weights or raise --max-leverage"
            + _percent_hint(targets.weights.values(), targets.cash if targets.cash_given else None),
        )


def schema() -> dict[str, Any]:
    """The JSON Schema of a target file (both the structured and the bare shape)."""
    weight_map: dict[str, Any] = {
        "type": "object",
        "description": "Weights as fractions of account equity, keyed by coin name as on the exchange "
        "(case-sensitive). Perp weights may be negative (shorts). USDC is cash; when given, all "
        "weights must sum to 1, otherwise cash is 1 - sum of the others.",
        "minProperties": 1,
        "additionalProperties": {"type": "number"},
    }
    policy_schema = target_policy_model().model_json_schema()
    for key, prop in policy_schema.get("properties", {}).items():
        # null means "unset" only where the policy has an unset state (band_relative, leverage)
        if key not in NULLABLE_KEYS and "anyOf" in prop:
            prop["anyOf"] = [option for option in prop["anyOf"] if option.get("type") != "null"]
            prop.pop("default", None)
        elif key in NULLABLE_KEYS and "anyOf" in prop:
            prop["anyOf"].append({"const": "off", "description": "unset (the same as null)"})
    policy_schema["title"] = "Planning preferences"
    policy_schema["description"] = (
        "Planning preferences only; safety limits (max_leverage, max_turnover, ...) cannot be set here."
    )
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
                    "policy": policy_schema,
                },
                "additionalProperties": False,
            },
            {**weight_map, "not": {"required": ["target_allocation"]}},
        ],
    }


def _json_type(value: Any) -> str:
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


def _fmt(value: Decimal) -> str:
    return short_number(value)


def _shown_value(value: Any) -> str:
    if isinstance(value, str):
        return shown(value, 40)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return short_number(value)
    return short_number(repr(value), 40)


def _percent_hint(weights: Iterable[Decimal], cash: Decimal | None) -> str:
    """When the weights look like percentages (they add up to about 100, or one is 5 or more)."""
    values = [*weights, *([cash] if cash is not None else [])]
    total = sum(values, Decimal(0))
    if abs(total - 100) <= 1 or any(abs(v) >= 5 for v in values):
        return "; weights are fractions of equity: write 0.40 for 40%"
    return ""


def weights_from_mapping(mapping: Mapping[str, Decimal | float | int], source: str = "<inline>") -> Targets:
    """Build Targets from an in-memory mapping (tests, benchmarks): same rules as a file."""
    body = ", ".join(f"{json.dumps(k)}: {Decimal(str(v))}" for k, v in mapping.items())
    return parse_targets("{" + body + "}", source)
