"""The exchange rules a backtest trades under, taken once from a snapshot (saved, demo or live).

Only the coins the targets name matter: their lot size (szDecimals), whether they are perps or
spot pairs, their leverage cap, and the account mode, which decides whether perp margin and spot
cash are one balance or two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from hlrebal.backtest.timeline import CoinRef
from hlrebal.errors import BadInputError
from hlrebal.planner import check_targets
from hlrebal.policy import Policy
from hlrebal.snapshot import AccountMode, AssetMarket, Network, Snapshot
from hlrebal.targets import Targets


@dataclass(frozen=True)
class Universe:
    """The targets' coins with their exchange rules, in target order."""

    coins: tuple[str, ...]
    """Engine names: perps by name, spot pairs by "BASE/USDC"."""
    weights: Mapping[str, Decimal]
    markets: Mapping[str, AssetMarket]
    """Per coin: its market in the snapshot (the rules are kept, the prices replaced per close)."""
    aliases: Mapping[str, str]
    """Every name a spot pair goes by -> its engine name (the planner's spot_aliases)."""
    account_mode: AccountMode
    equity: Decimal
    """The account's equity in the snapshot (the default starting equity when positive)."""
    user: str
    network: Network
    refs: tuple[CoinRef, ...]

    def is_spot(self, coin: str) -> bool:
        return self.markets[coin].is_spot

    def market(self, coin: str, price: Decimal) -> AssetMarket:
        """The coin's market at one close: its rules, priced at that close (mid, mark and oracle)."""
        return self.markets[coin].model_copy(update={"mid": price, "mark": price, "oracle": price})


def universe_of(snapshot: Snapshot, targets: Targets, policy: Policy) -> Universe:
    """The rules of the targets' coins. Raises BadInputError (exit 2) for coins that cannot be replayed."""
    check_targets(snapshot, targets, policy)
    coins: list[str] = []
    weights: dict[str, Decimal] = {}
    markets: dict[str, AssetMarket] = {}
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
        if coin in markets:
            raise BadInputError(f"{targets.source}: {key} names {coin} a second time")
        coins.append(coin)
        weights[coin] = weight
        markets[coin] = market
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
        markets=markets,
        aliases=aliases,
        account_mode=snapshot.account_mode,
        equity=snapshot.equity,
        user=snapshot.user,
        network=snapshot.network,
        refs=tuple(refs),
    )
