"""``--compare`` grids: "band=0.02,0.05,0.1 trade_to=target,edge band_relative=off,0.25".

Each space-separated token is ``option=value,value,...``; the grid is every combination, in the
order written (the last option varies fastest). Options not in the grid keep the value the flags,
target file and configuration gave. ``off`` (or ``none``) unsets an option that may be unset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hlrebal.errors import BadInputError
from hlrebal.policy import NULLABLE_KEYS, Policy
from hlrebal.validation import Invalid, check_value

#: options a grid may vary: those that change what the planner trades or what trading costs
GRID_KEYS: tuple[str, ...] = (
    "band",
    "band_relative",
    "trade_to",
    "min_trade_value",
    "fee_rate",
    "slippage",
    "leverage",
    "max_leverage",
)
MAX_POLICIES = 200
_UNSET = frozenset({"off", "none", "null"})


@dataclass(frozen=True)
class Variant:
    """One policy of the grid and the options that make it differ from the base policy."""

    label: str
    overrides: tuple[tuple[str, str], ...]
    policy: Policy


def parse_compare(spec: str, base: Policy) -> tuple[Variant, ...]:
    """Every policy of the grid. Raises BadInputError (exit 2) naming the token that is wrong."""
    axes: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for token in spec.split():
        key, sep, values = token.partition("=")
        if not sep or not key:
            raise _bad(token, "expected option=value,value,... (e.g. band=0.02,0.05)")
        if key not in GRID_KEYS:
            raise _bad(token, f"{key!r} cannot be compared; use one of {', '.join(GRID_KEYS)}")
        if key in seen:
            raise _bad(token, f"{key} is given twice; list all its values in one token")
        seen.add(key)
        items = values.split(",")
        if not values or any(not v for v in items):
            raise _bad(token, "an empty value; separate values with single commas")
        if len(set(items)) != len(items):
            raise _bad(token, "a value is listed twice")
        for value in items:
            _check_value(token, key, value)
        axes.append((key, items))
    if not axes:
        raise BadInputError("--compare: no options given", hint='e.g. --compare "band=0.02,0.05 trade_to=target,edge"')
    count = 1
    for _, items in axes:
        count *= len(items)
    if count > MAX_POLICIES:
        raise BadInputError(f"--compare: {count} policies; at most {MAX_POLICIES} can be compared at once")
    variants = []
    for combo in itertools.product(*(items for _, items in axes)):
        overrides = tuple(zip((key for key, _ in axes), combo, strict=True))
        label = " ".join(f"{k}={v}" for k, v in overrides)
        try:
            policy = _with(base, overrides)
        except Invalid as e:
            raise BadInputError(f"--compare: {label}: {e.msg}") from None
        variants.append(Variant(label=label, overrides=overrides, policy=policy))
    return tuple(variants)


def _check_value(token: str, key: str, value: str) -> None:
    """One value against its option's own rules (cross-option rules are judged per combination)."""
    if value.lower() in _UNSET:
        if key not in NULLABLE_KEYS:
            raise _bad(token, f"{key} cannot be unset ({value!r})")
        return
    try:
        check_value(Policy, key, value)
    except Invalid as e:
        raise _bad(token, f"{value!r} is not a valid {key}: {e.msg}") from None


def _with(base: Policy, overrides: tuple[tuple[str, str], ...]) -> Policy:
    values: dict[str, Any] = base.model_dump()
    for key, value in overrides:
        values[key] = None if value.lower() in _UNSET else value
    return Policy(**values)


def _bad(token: str, why: str) -> BadInputError:
    return BadInputError(f"--compare: {token!r}: {why}")
