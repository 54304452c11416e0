"""Target allocations: weights per asset, validated, and the checks that need the market.

Three shapes are accepted::

    {"target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}          # the seed format
    {"BTC": 0.4, "ETH": 0.3}                                                   # bare: the rest is USDC
    {"target_allocation": {...}, "policy": {"band": 0.03, "trade_to": "edge"}} # with preferences

and the structured ones may carry ``selected_strategy`` and ``reasoning`` (an agent's answer).
Weights are fractions of account equity; perp weights may be negative (shorts); ``USDC`` is cash.
Every rejection names the file, the key and the rule, and maps to exit code 2. Checks that need the
market (unknown or delisted coins, gross exposure against ``max_leverage``) are separate functions,
run once the snapshot and the policy are known.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from hlrebal.digest import sha256_hex
from hlrebal.inputs import shown
from hlrebal.targets.common import (
    CASH,
    NOTE_KEYS,
    NonFinite,
    err,
    fmt,
    json_type,
    load_json,
    parse_notes,
    policy_block,
    unknown_key,
)
from hlrebal.values import Value, value_class

SUM_TOLERANCE = Decimal("1e-6")
TOP_LEVEL_KEYS = frozenset({"target_allocation", "policy", "$schema", *NOTE_KEYS})


@value_class
class Targets(Value):
    """A validated target file: signed weights per asset, cash, and planning preferences."""

    source: str
    sha256: str
    weights: dict[str, Decimal]
    """Non-cash weights, in file order (perps by name, spot pairs by pair name)."""
    cash: Decimal
    cash_given: bool
    policy: dict[str, Any]
    """Planning preferences from the file's ``policy`` block (validated, only keys that were set)."""
    strategy: str | None = None
    """``selected_strategy``: the name an agent gave its choice (shown in the plan's header)."""
    reasoning: str | None = None
    """``reasoning``: the agent's own words, recorded whole in the journal, never shown in tables."""

    @property
    def kind(self) -> Literal["targets"]:
        """What the document asks for: weights (``"targets"``), not direct actions."""
        return "targets"

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


def weights_from_doc(doc: dict[str, Any], text: str, source: str) -> Targets:
    """Validate a target-allocation document (already read as JSON; ``text`` is what it was read
    from, for its hash). No market checks."""
    if "target_allocation" in doc:
        unknown_key(source, doc, TOP_LEVEL_KEYS, "target_allocation, policy, selected_strategy, reasoning")
        allocation = doc["target_allocation"]
        if not isinstance(allocation, dict):
            raise err(source, "target_allocation", f"must be an object of weights, not {json_type(allocation)}")
        policy = policy_block(doc, source)
        strategy, reasoning = parse_notes(doc, source)
        where = "target_allocation."
    else:
        for key in ("policy", *sorted(NOTE_KEYS)):
            if key in doc:
                what = "a policy block" if key == "policy" else key
                raise err(source, key, f'{what} needs the weights under "target_allocation"')
        allocation, policy, strategy, reasoning, where = doc, {}, None, None, ""

    weights = _parse_weights(allocation, source, where)
    cash_given = CASH in weights
    cash = weights.pop(CASH) if cash_given else None
    net = sum(weights.values(), Decimal(0))
    if cash is not None:
        total = net + cash
        if abs(total - 1) > SUM_TOLERANCE:
            raise err(
                source,
                "target_allocation" if where else "weights",
                f"weights sum to {fmt(total)}, not 1; when USDC is given, all weights including "
                f"USDC must add up to 1 (within {SUM_TOLERANCE})" + _percent_hint(weights.values(), cash),
            )
    else:
        cash = 1 - net
    # Every field was checked above, value by value, with messages naming the file and key:
    # constructing without a second validation is safe and spares building its validator.
    return Targets(
        source=source,
        sha256=sha256_hex(text),
        weights=weights,
        cash=cash,
        cash_given=cash_given,
        policy=policy,
        strategy=strategy,
        reasoning=reasoning,
    )


def _parse_weights(allocation: dict[str, Any], source: str, where: str) -> dict[str, Decimal]:
    if not allocation:
        raise err(
            source,
            where.rstrip(".") or "weights",
            'no weights given; to hold only cash write {"USDC": 1}',
        )
    out: dict[str, Decimal] = {}
    for key, value in allocation.items():
        if not isinstance(key, str) or not key.strip() or key != key.strip():
            raise err(source, f"{where}{shown(key)}", "coin names must be non-empty, without surrounding spaces")
        if not key.isprintable():
            raise err(source, f"{where}{shown(key)}", "coin names cannot hold control or invisible characters")
        if isinstance(value, NonFinite):
            raise err(source, f"{where}{key}", f"weight must be a finite number, not {value}")
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise err(source, f"{where}{key}", f"weight must be a number, not {json_type(value)}")
        out[key] = Decimal(value)
    return out


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
    unknown: list[tuple[str, str]] = []  # every name the exchange does not list, said at once
    for coin, weight in targets.weights.items():
        if coin in known_set:
            if coin in delisted_set and weight != 0:
                raise err(
                    targets.source,
                    coin,
                    "is delisted: it can only be closed (weight 0); remove it or set its weight to 0",
                )
            continue
        if coin in spot:
            pair = spot[coin]
            if weight < 0:
                raise err(targets.source, coin, "spot holdings cannot be negative (there are no spot shorts)")
            if pair in seen_pairs:
                raise err(
                    targets.source,
                    coin,
                    f"names the same spot pair as {seen_pairs[pair]!r} ({pair}); give each holding once",
                )
            seen_pairs[pair] = coin
            continue
        if not spot and ("/" in coin or coin.startswith("@")):
            raise err(
                targets.source,
                coin,
                "is a spot pair, but the account was read without the spot market (a snapshot saved "
                "before spot was read: save it again with `hlrebal snapshot`)",
            )
        names = known_set | {k for k in spot if "/" in k}
        hint = ""
        if "/" not in coin and not coin.startswith("@") and f"{coin}/{CASH}" in spot:
            hint = f" (the spot token is written as a pair: {coin + '/' + CASH!r})"
        unknown.append((coin, f"is not traded on this exchange{hint or suggest(coin, names)}"))
    if unknown:
        (first, said), others = unknown[0], [c for c, _ in unknown[1:]]
        also = f"; also not traded: {', '.join(shown(c) for c in others)}" if others else ""
        raise err(targets.source, first, said + also)


def suggest(coin: str, known: set[str]) -> str:
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
        raise err(
            targets.source,
            "target_allocation",
            f"gross exposure {fmt(gross)} (sum of absolute weights) exceeds max_leverage "
            f"{fmt(max_leverage)}; lower the weights or raise --max-leverage"
            + _percent_hint(targets.weights.values(), targets.cash if targets.cash_given else None),
        )


def _percent_hint(weights: Iterable[Decimal], cash: Decimal | None) -> str:
    """When the weights look like percentages (they add up to about 100, or one is 5 or more)."""
    values = [*weights, *([cash] if cash is not None else [])]
    total = sum(values, Decimal(0))
    if abs(total - 100) <= 1 or any(abs(v) >= 5 for v in values):
        return "; weights are fractions of equity: write 0.40 for 40%"
    return ""


def weights_from_mapping(mapping: Mapping[str, Decimal | float | int], source: str = "<inline>") -> Targets:
    """Build Targets from an in-memory mapping (tests, benchmarks): same rules as a file."""
    body = "{" + ", ".join(f"{json.dumps(k)}: {Decimal(str(v))}" for k, v in mapping.items()) + "}"
    doc = load_json(body, source)
    return weights_from_doc(doc, body, source)
