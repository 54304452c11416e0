"""The exchange rules a backtest trades under, taken once from a snapshot (saved, demo or live).

Only the coins the targets name matter: their lot size (szDecimals), whether they are perps or
spot pairs, their leverage cap, and the account mode, which decides whether perp margin and spot
cash are one balance or two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hlrebal.backtest.timeline import CoinRef
from hlrebal.errors import BadInputError
from hlrebal.planner import check_targets
from hlrebal.policy import Policy
from hlrebal.snapshot import AccountMode, AssetMarket, Network, Snapshot
from hlrebal.targets import Targets

#: AssetMarket fields set per close by the replay (the rest are the asset's fixed rules)
PRICE_FIELDS = frozenset({"mid", "mark", "oracle"})


@dataclass(frozen=True)
class Universe:
    """The targets' coins with their exchange rules, in target order."""

    coins: tuple[str, ...]
    """Engine names: perps by name, spot pairs by "BASE/USDC"."""
    weights: Mapping[str, Decimal]
    rules: Mapping[str, dict[str, Any]]
    """Per coin: the AssetMarket fields that do not change between closes."""
    aliases: Mapping[str, str]
    """Every name a spot pair goes by -> its engine name (the planner's spot_aliases)."""
    account_mode: AccountMode
    equity: Decimal
    """The account's equity in the snapshot (the default starting equity when positive)."""
    user: str
    network: Network
    refs: tuple[CoinRef, ...]

    def is_spot(self, coin: str) -> bool:
        return bool(self.rules[coin]["kind"] == "spot")

    def market(self, coin: str, price: Decimal) -> AssetMarket:
        """The coin's market at one close: its rules, priced at that close."""
        return AssetMarket.model_construct(**self.rules[coin], mid=price, mark=price, oracle=price)


def universe_of(snapshot: Snapshot, targets: Targets, policy: Policy) -> Universe:
    """The rules of the targets' coins. Raises BadInputError (exit 2) for coins that cannot be replayed."""
    check_targets(snapshot, targets, policy)
    coins: list[str] = []
    weights: dict[str, Decimal] = {}
    rules: dict[str, dict[str, Any]] = {}
    aliases: dict[str, str] = {}
    refs: list[CoinRef] = []
    for key, weight in targets.weights.items():
        market = snapshot.market_of(key)
        if market is None:  # check_targets names unknown coins first; this is a guard
            raise BadInputError(f"{targets.source}: {key}: not in the exchange's universe")
        if market.dex:
            raise BadInputError(
                f"{targets.source}: {key}: builder-dex perps cannot be backtested yet",
                hint="leave the dex's coins out of the targets for the backtest",
            )
        coin = market.coin
        if coin in rules:
            raise BadInputError(f"{targets.source}: {key} names {coin} a second time")
        coins.append(coin)
        weights[coin] = weight
        rules[coin] = {k: v for k, v in market.__dict__.items() if k not in PRICE_FIELDS}
        if market.is_spot:
            names = tuple(dict.fromkeys(n for n in (key, coin, market.wire) if n))
            for name in names:
                aliases[name] = coin
            refs.append(CoinRef(coin=coin, names=names, perp=False))
        else:
            refs.append(CoinRef(coin=coin, names=(key,), perp=True))
    return Universe(
        coins=tuple(coins),
        weights=weights,
        rules=rules,
        aliases=aliases,
        account_mode=snapshot.account_mode,
        equity=snapshot.equity,
        user=snapshot.user,
        network=snapshot.network,
        refs=tuple(refs),
    )
