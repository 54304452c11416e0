"""Direct-action documents: an agent's list of trades instead of weights::

    {"actions": [{"action_type": "sell", "coin": "BTC", "size": 0.4},
                 {"action_type": "buy", "coin": "ETH", "notional": 30000},
                 {"action_type": "close", "coin": "DOGE"}],
     "selected_strategy": "...", "reasoning": "...", "policy": {...}}

``size`` is in coins, ``notional`` in USD (exactly one of them for a buy or a sell; a close takes
the whole position and names neither). Each coin appears once. The planner turns the actions into a
plan like any other (:mod:`hlrebal.planner.actions`); what needs the market (the coin is listed, the
size on the lot grid, a sell capped at the position) is checked there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from hlrebal.digest import sha256_hex
from hlrebal.inputs import shown
from hlrebal.targets.common import NOTE_KEYS, NonFinite, err, json_type, parse_notes, policy_block, unknown_key
from hlrebal.values import Value, value_class

ACTION_TYPES = ("buy", "sell", "close")
TOP_LEVEL_KEYS = frozenset({"actions", "policy", "$schema", *NOTE_KEYS})
ACTION_KEYS = frozenset({"action_type", "coin", "size", "notional"})


@value_class
class DirectAction(Value):
    """One action of the document: buy or sell a size (coins) or a notional (USD), or close."""

    action_type: Literal["buy", "sell", "close"]
    coin: str
    size: Decimal | None = None
    notional: Decimal | None = None

    def describe(self) -> str:
        """ "sell 0.4 BTC", "buy $30,000 of ETH", "close DOGE"."""
        if self.action_type == "close":
            return f"close {self.coin}"
        if self.size is not None:
            return f"{self.action_type} {format(self.size.normalize(), 'f')} {self.coin}"
        return f"{self.action_type} ${self.notional or 0:,.2f} of {self.coin}"


@value_class
class ActionDocument(Value):
    """A validated direct-action document."""

    source: str
    sha256: str
    actions: tuple[DirectAction, ...]
    policy: dict[str, Any]
    strategy: str | None = None
    reasoning: str | None = None

    @property
    def kind(self) -> Literal["actions"]:
        """What the document asks for: direct actions, not weights."""
        return "actions"

    @property
    def mentions_spot(self) -> bool:
        return any("/" in a.coin or a.coin.startswith("@") for a in self.actions)

    @property
    def dexes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for a in self.actions:
            if ":" in a.coin:
                seen.setdefault(a.coin.split(":", 1)[0], None)
        return tuple(seen)


def actions_from_doc(doc: dict[str, Any], text: str, source: str) -> ActionDocument:
    """Validate a direct-action document (already read as JSON). No market checks."""
    unknown_key(source, doc, TOP_LEVEL_KEYS, "actions, policy, selected_strategy, reasoning")
    raw = doc["actions"]
    if not isinstance(raw, list):
        raise err(source, "actions", f"must be an array of actions, not {json_type(raw)}")
    actions: list[DirectAction] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        action = _action(item, source, f"actions[{i}]")
        if action.coin in seen:
            raise err(
                source,
                f"actions[{i}]",
                f"{action.coin} is already in actions[{seen[action.coin]}]; give each coin one action",
            )
        seen[action.coin] = i
        actions.append(action)
    strategy, reasoning = parse_notes(doc, source)
    return ActionDocument(
        source=source,
        sha256=sha256_hex(text),
        actions=tuple(actions),
        policy=policy_block(doc, source),
        strategy=strategy,
        reasoning=reasoning,
    )


def _action(item: Any, source: str, where: str) -> DirectAction:
    if not isinstance(item, dict):
        raise err(source, where, f'must be an object like {{"action_type": "sell", "coin": "BTC", "size": 0.1}}, '
                  f"not {json_type(item)}")  # fmt: skip
    unknown = sorted(set(item) - ACTION_KEYS)
    if unknown:
        rule = "unknown key; an action has action_type, coin and size or notional"
        raise err(source, f"{where}.{shown(unknown[0])}", rule)
    kind = item.get("action_type")
    if kind not in ACTION_TYPES:
        got = shown(kind, 20) if isinstance(kind, str) else json_type(kind)
        raise err(source, f"{where}.action_type", f"must be one of buy, sell, close (got {got})")
    coin = item.get("coin")
    if not isinstance(coin, str) or not coin.strip() or coin != coin.strip():
        raise err(source, f"{where}.coin", "must be a coin name as on the exchange (non-empty, no surrounding spaces)")
    if not coin.isprintable():
        raise err(source, f"{where}.coin", f"{shown(coin)} holds control or invisible characters")
    amounts = {key: item[key] for key in ("size", "notional") if key in item}
    if kind == "close":
        if amounts:
            rule = "a close takes the whole position: drop size and notional"
            raise err(source, f"{where}.{next(iter(amounts))}", rule)
        return DirectAction(action_type="close", coin=coin, size=None, notional=None)
    if len(amounts) != 1:
        rule = "takes size (coins) or notional (USD), not both" if amounts else "needs a size (coins) or notional (USD)"
        raise err(source, where, f"a {kind} {rule}")
    key, value = next(iter(amounts.items()))
    if isinstance(value, NonFinite):
        raise err(source, f"{where}.{key}", f"must be a finite number, not {value}")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise err(source, f"{where}.{key}", f"must be a number, not {json_type(value)}")
    amount = Decimal(value)
    if amount <= 0:
        rule = f"must be above 0 (a {kind} gives a positive amount; the action type says which way)"
        raise err(source, f"{where}.{key}", rule)
    size, notional = (amount, None) if key == "size" else (None, amount)
    return DirectAction(action_type=kind, coin=coin, size=size, notional=notional)
