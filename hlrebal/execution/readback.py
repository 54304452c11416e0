"""Reading the account back and checking that it shows the fills the exchange reported.

A read that lags (or belongs to another account) is read once more; then the run stops rather than
trade on a picture it cannot trust (:class:`InconsistentAccount`, exit 5 once orders are out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from hlrebal.errors import ExchangeError
from hlrebal.exchange import ExchangeClient
from hlrebal.execution.models import OrderReport
from hlrebal.journal import Journal
from hlrebal.market import SPOT_TAKER_FEE
from hlrebal.planner import Plan
from hlrebal.snapshot import Snapshot

READ_BACK_PAUSE_S = 0.5
_ZERO = Decimal(0)


class InconsistentAccount(ExchangeError):
    """The account read back contradicts the fills the exchange reported (exit 5 once orders are out)."""

    kind = "inconsistent_account"


def holdings(snap: Snapshot) -> dict[str, Decimal]:
    """Perp position sizes and spot token balances (by pair), as the executor tracks them."""
    out = {coin: pos.szi for coin, pos in snap.positions.items()}
    for pair, market in snap.spot_assets.items():
        balance = snap.spot_balances.get(market.base or "")
        out[pair] = balance.total if balance is not None else _ZERO
    return out


def mismatches(snap: Snapshot, expected: dict[str, Decimal]) -> list[str]:
    """Coins whose holding differs from the expected by more than a lot (and, for spot, the fee)."""
    actual = holdings(snap)
    wrong = []
    for coin, want in expected.items():
        got = actual.get(coin, _ZERO)
        market = snap.market_of(coin)
        lot = Decimal(1).scaleb(-market.sz_decimals) if market is not None else Decimal("0.000001")
        tolerance = lot + (abs(want) * Decimal("0.002") if "/" in coin else _ZERO)
        if abs(got - want) > tolerance:
            wrong.append(f"{coin}: expected {format(want.normalize(), 'f')}, read {format(got.normalize(), 'f')}")
    return wrong


def expect_fills(sent: Sequence[OrderReport], expected: dict[str, Decimal]) -> Decimal:
    """Add what ``sent`` filled to the holdings the next read must show; returns the notional
    filled at reference prices (what the turnover guard counts)."""
    turnover = _ZERO
    for o in sent:
        if o.filled_size <= 0:
            continue
        turnover += o.filled_size * o.reference_price
        signed = o.filled_size if o.side == "buy" else -o.filled_size
        if "/" in o.coin and o.side == "buy":
            signed = o.filled_size * (1 - SPOT_TAKER_FEE)  # the spot fee is paid in the token
        expected[o.coin] = expected.get(o.coin, _ZERO) + signed
    return turnover


def verified_read(
    read: Callable[[], Snapshot],
    expected: dict[str, Decimal],
    *,
    journal: Journal,
    progress: Callable[[str], None],
    sleep: Callable[[float], None],
) -> Snapshot:
    """Read the account and check it shows the fills the exchange reported; a read that lags is read
    once more, then the run stops rather than trade on it."""
    wrong: list[str] = []
    for attempt in range(2):
        snap = read()
        wrong = mismatches(snap, expected)
        if not wrong:
            return snap
        if attempt == 0:
            progress("the account read back does not show the reported fills yet; reading again")
            sleep(READ_BACK_PAUSE_S)
    journal.record("inconsistent_read", mismatches=wrong)
    raise InconsistentAccount(
        "the account read back does not match the fills the exchange reported ("
        + "; ".join(wrong)
        + "): not trading on it",
        hint="check the account (and that the key trades the address you gave), then run again",
    )


def position_goals(p: Plan, snap: Snapshot) -> dict[str, Decimal]:
    """The position size each traded coin is meant to end at: what later rounds finish."""
    sizes = holdings(snap)
    for t in p.trades:
        sizes[t.coin] = sizes.get(t.coin, _ZERO) + t.signed_size
    return {t.coin: sizes[t.coin] for t in p.trades}


class AccountReader:
    """The run's reads of the account: a full read (markets and all), or a refresh of only what a
    run changes (positions; spot balances when spot or a unified account is involved; fresh mids),
    and the read-back checked against the fills."""

    def __init__(
        self,
        client: ExchangeClient,
        user: str,
        dexes: Sequence[str],
        journal: Journal,
        progress: Callable[[str], None],
        sleep: Callable[[float], None],
        check_stop: Callable[[str], None],
    ) -> None:
        self.client, self.user, self.dexes = client, user, tuple(dexes)
        self.journal, self.progress, self.sleep, self.check_stop = journal, progress, sleep, check_stop
        self.spot = False
        self.mode: str | None = None

    def know(self, snapshot: Snapshot) -> None:
        """What the first snapshot says about later reads: the account mode, whether spot matters."""
        raw_mode = snapshot.raw.get("userAbstraction")
        self.mode = raw_mode if isinstance(raw_mode, str) else None
        self.spot = self.spot or bool(snapshot.spot_assets)

    def read(self, *, open_orders: bool = False) -> Snapshot:
        self.check_stop("before reading the account")
        return self.client.read_snapshot(
            self.user,
            spot=self.spot,
            open_orders=open_orders,
            mode=self.mode,
            dexes=self.dexes,
            network_label=self.client.network,
        )

    def refresh(self, snap: Snapshot, *, positions: bool = True, prices: bool = False) -> Snapshot:
        """Only what a run changes, a tenth of a full read's weight (and fresh mids when asked)."""
        self.check_stop("before reading the account")
        spot = self.spot or snap.unified
        return self.client.refresh_snapshot(snap, positions=positions, spot=spot and positions, prices=prices)

    def verified(self, expected: dict[str, Decimal], snap: Snapshot, *, prices: bool = False) -> Snapshot:
        return verified_read(
            lambda: self.refresh(snap, prices=prices),
            expected,
            journal=self.journal,
            progress=self.progress,
            sleep=self.sleep,
        )
