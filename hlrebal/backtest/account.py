"""The simulated account a backtest trades: cash, positions, and the snapshot the planner reads.

Perp profit and loss is settled into cash at every close (the position is marked to the close), so
the account value equals the cash on the perp side and positions carry no unrealised PnL. In a
standard account perp cash and spot cash are two balances (the planner moves USDC between them);
in a unified or portfolio-margin account they are one balance, reported on the spot side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from hlrebal.backtest.universe import Universe
from hlrebal.market import SPOT_TAKER_FEE, Rounding, round_size
from hlrebal.planner import Plan
from hlrebal.policy import Policy
from hlrebal.snapshot import CASH_TOKEN, PerpPosition, Snapshot, SpotBalance

_ZERO = Decimal(0)
_ONE = Decimal(1)


class Account:
    """Mutable state of one replay (never shared between replays)."""

    def __init__(self, universe: Universe, policy: Policy) -> None:
        self.universe = universe
        self.unified = universe.account_mode in ("unified", "portfolio")
        self.perp_cash = _ZERO
        self.spot_cash = _ZERO
        self.size: dict[str, Decimal] = dict.fromkeys(universe.coins, _ZERO)
        self.leverage: dict[str, int] = {}
        for coin in universe.coins:
            cap = universe.markets[coin].max_leverage
            self.leverage[coin] = max(1, min(policy.leverage, cap)) if policy.leverage is not None else 1
        self.perps = tuple(c for c in universe.coins if not universe.is_spot(c))
        self.spots = tuple(c for c in universe.coins if universe.is_spot(c))
        self._prototypes()

    # ------------------------------------------------------------------ money

    def add_perp_cash(self, amount: Decimal) -> None:
        """Perp PnL, funding, perp fees: the perp side's USDC (the one balance when unified)."""
        if self.unified:
            self.spot_cash += amount
        else:
            self.perp_cash += amount

    def start(self, equity: Decimal, prices: Sequence[Decimal]) -> None:
        """Hold the targets at these prices (sizes on the lot grid): the starting allocation, not a trade."""
        spent = _ZERO
        for coin, price in zip(self.universe.coins, prices, strict=True):
            szd = self.universe.markets[coin].sz_decimals
            size = round_size(self.universe.weights[coin] * equity / price, szd, Rounding.NEAREST)
            self.size[coin] = size
            if self.universe.is_spot(coin):
                spent += size * price
        if self.unified:
            self.spot_cash = equity - spent
        else:
            self.perp_cash = equity - spent

    def equity(self, prices: Mapping[str, Decimal]) -> Decimal:
        """Whole-account equity, computed exactly as :attr:`Snapshot.equity` computes it."""
        spot_value = _ZERO
        spot_value += self.spot_cash * _ONE
        for coin in self.spots:
            spot_value += self.size[coin] * prices[coin]
        if self.unified:
            return spot_value + _ZERO
        return self.perp_cash + spot_value + _ZERO

    # ------------------------------------------------------------------ the planner's view

    def snapshot(self, prices: Mapping[str, Decimal], time_ms: int) -> Snapshot:
        """The account at one close, as the planner would read it from the exchange.

        Built by copying prototypes made once (``model_copy``: no validation, and several times
        cheaper than constructing every model at every close).
        """
        universe = self.universe
        assets = {}
        spot_assets = {}
        positions = {}
        margin = _ZERO
        ntl = _ZERO
        balances = {CASH_TOKEN: self._balance[CASH_TOKEN].model_copy(update={"total": self.spot_cash})}
        for coin in universe.coins:
            price = prices[coin]
            market = universe.market(coin, price)
            size = self.size[coin]
            if market.is_spot:
                spot_assets[coin] = market
                token = str(market.base)
                balances[token] = self._balance[token].model_copy(update={"total": size})
                continue
            assets[coin] = market
            if size:
                value = abs(size) * price
                lev = self.leverage[coin]
                used = value / lev
                update = {"szi": size, "entry_px": price, "leverage": lev, "margin_used": used, "position_value": value}
                positions[coin] = self._position[coin].model_copy(update=update)
                margin += used
                ntl += value
        return self._snapshot.model_copy(
            update={
                "time": time_ms,
                "account_value": _ZERO if self.unified else self.perp_cash,
                "total_margin_used": margin,
                "total_ntl_pos": ntl,
                "withdrawable": max(self.perp_cash - margin, _ZERO),
                "positions": positions,
                "assets": assets,
                "spot_balances": balances,
                "spot_assets": spot_assets,
            }
        )

    def _prototypes(self) -> None:
        universe = self.universe
        self._position = {
            coin: PerpPosition(
                coin=coin,
                szi=_ZERO,
                entry_px=None,
                leverage=1,
                is_cross=not universe.markets[coin].only_isolated,
                margin_used=_ZERO,
                position_value=_ZERO,
                unrealized_pnl=_ZERO,
            )
            for coin in self.perps
        }
        tokens = [CASH_TOKEN, *(str(universe.markets[c].base) for c in self.spots)]
        self._balance = {t: SpotBalance(token=t, total=_ZERO, hold=_ZERO, entry_ntl=_ZERO) for t in tokens}
        self._snapshot = Snapshot(
            version=1,
            user=universe.user,
            network=universe.network,
            time=0,
            account_value=_ZERO,
            total_margin_used=_ZERO,
            total_ntl_pos=_ZERO,
            withdrawable=_ZERO,
            positions={},
            assets={},
            open_orders=(),
            taker_fee=None,
            account_mode=universe.account_mode,
            mode_source="default",
            spot_balances={},
            spot_assets={},
            spot_aliases=dict(universe.aliases),
            has_spot_state=True,
            dexes={},
            raw={},
        )


class Fills:
    """What one close's trades cost: filled at the close, ``cost`` against the trader, plus fees."""

    __slots__ = ("fees", "fills", "notional", "slippage")

    def __init__(self) -> None:
        self.fills = 0
        self.notional = _ZERO
        self.fees = _ZERO
        self.slippage = _ZERO


def fill_plan(account: Account, plan: Plan, prices: Mapping[str, Decimal], cost: Decimal, fee_rate: Decimal) -> Fills:
    """Apply a plan's transfers and trades to the account. Returns the traded notional and costs."""
    out = Fills()
    for transfer in plan.transfers:
        if not transfer.blocked:
            moved = transfer.amount if transfer.to_perp else -transfer.amount
            account.perp_cash += moved
            account.spot_cash -= moved
    for trade in plan.trades:
        close = prices[trade.coin]
        fill = close * (_ONE + cost) if trade.is_buy else close * (_ONE - cost)
        notional = trade.size * fill
        spot = trade.kind == "spot"
        fee = notional * (SPOT_TAKER_FEE if spot else fee_rate)
        slip = trade.size * abs(fill - close)
        if spot:
            # The exchange takes a spot buy's fee in the token received, a sell's in USDC.
            if trade.is_buy:
                account.size[trade.coin] += trade.size * (_ONE - SPOT_TAKER_FEE)
                account.spot_cash -= notional
            else:
                account.size[trade.coin] -= trade.size
                account.spot_cash += notional - fee
        else:
            account.size[trade.coin] += trade.signed_size
            account.add_perp_cash(-(slip + fee))
            if trade.leverage is not None:
                account.leverage[trade.coin] = trade.leverage
        out.fills += 1
        out.notional += notional
        out.fees += fee
        out.slippage += slip
    return out
