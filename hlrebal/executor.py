"""Running a plan through an exchange: phases, fills, re-planning, guards and the journal.

Each round:

1. guards (turnover over the whole run, order size, price against oracle, open orders);
2. leverage set where the policy names one, before any increase;
3. phase 1: every reducing order in ONE bulk request, reduce-only IOC at the planned limits, each
   with a client order id written to the journal before the request goes out;
4. phase 2: the account is read again and the increases re-planned against it (margin that phase 1
   did or did not free is respected; coins whose reduction did not complete open nothing new), then
   sent in ONE bulk request;
5. the account is read back and planned again: if trades remain and the round filled something,
   another round runs with fresh prices and a wider slippage (up to ``max_slippage``, at most
   ``max_rounds`` rounds). Coins traded in round 1 keep their goal even inside the band.

An order request whose answer is lost is never sent again: after its ``expiresAfter`` has passed (so
it can no longer fill late), every order of it is asked for by client order id, and the next step
re-reads the account. The executor prints nothing: progress goes to a callback, the outcome into an
:class:`ExecutionReport`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from hlrebal.errors import ExchangeError, ExitCode, GuardError, HlrebalError, Interrupted
from hlrebal.exchange import ExchangeClient, OrderAnswerLost, OrderOutcome, OrderSpec
from hlrebal.journal import Journal, is_min_value_refusal
from hlrebal.market import SPOT_TAKER_FEE
from hlrebal.planner import Plan, Trade, plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Targets

EXPIRES_AFTER_MS = 5_000
MATERIAL_TURNOVER_CHANGE = Decimal("0.10")
_ZERO = Decimal(0)


@dataclass
class OrderReport:
    """One order as asked and as filled."""

    round: int
    phase: int
    cloid: str
    coin: str
    side: Literal["buy", "sell"]
    action: str
    reduce_only: bool
    size: Decimal
    reference_price: Decimal
    limit_price: Decimal
    status: str = "sent"
    filled_size: Decimal = _ZERO
    avg_price: Decimal | None = None
    fee: Decimal | None = None
    oid: int | None = None
    error: str | None = None
    dust: bool = False

    @property
    def slippage_bps(self) -> Decimal | None:
        """Fill price against the reference, in basis points (positive = paid away)."""
        if self.avg_price is None or self.filled_size == 0:
            return None
        signed = (self.avg_price - self.reference_price) / self.reference_price
        return (signed if self.side == "buy" else -signed) * 10_000


@dataclass
class RoundReport:
    number: int
    slippage: Decimal
    planned: int
    sent: int = 0
    filled: int = 0
    notional_filled: Decimal = _ZERO
    note: str = ""


@dataclass
class ExecutionReport:
    """What a run did and where it left the account."""

    run_id: str
    exit_code: ExitCode = ExitCode.OK
    outcome: str = "done"
    message: str = ""
    orders: list[OrderReport] = field(default_factory=list)
    rounds: list[RoundReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    final_plan: Plan | None = None
    final_snapshot: Snapshot | None = None
    leverage_set: list[str] = field(default_factory=list)
    reconciled: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    blocked_transfers: list[str] = field(default_factory=list)

    @property
    def fees(self) -> Decimal:
        return sum((o.fee or _ZERO for o in self.orders), _ZERO)

    @property
    def traded_notional(self) -> Decimal:
        return sum((o.filled_size * (o.avg_price or _ZERO) for o in self.orders), _ZERO)

    @property
    def any_filled(self) -> bool:
        return any(o.filled_size > 0 for o in self.orders)


def materially_different(confirmed: Plan, fresh: Plan) -> str | None:
    """Why ``fresh`` is not the plan the user confirmed (a side changed, turnover moved > 10%)."""
    sides = {(t.coin, t.phase): t.side for t in confirmed.trades}
    for t in fresh.trades:
        if (t.coin, t.phase) in sides and sides[(t.coin, t.phase)] != t.side:
            return f"{t.coin} now {t.side}s instead of {sides[(t.coin, t.phase)]}ing"
    before, after = confirmed.summary.turnover, fresh.summary.turnover
    if before > 0 and abs(after - before) / before > MATERIAL_TURNOVER_CHANGE:
        return f"turnover moved from {before * 100:.2f}% to {after * 100:.2f}%"
    if before == 0 and after > 0:
        return "the confirmed plan had no trades"
    return None


class Executor:
    """Runs the rounds. Construct once per run; call :meth:`run`."""

    def __init__(
        self,
        *,
        client: ExchangeClient,
        user: str,
        targets: Targets,
        policy: Policy,
        journal: Journal,
        progress: Callable[[str], None] = lambda _: None,
        should_stop: Callable[[], bool] = lambda: False,
        reconfirm: Callable[[Plan, str], bool] | None = None,
        cancel_open_orders: bool = False,
        refused_dust: dict[str, str] | None = None,
        can_transfer: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        run_id: str | None = None,
    ) -> None:
        self.client = client
        self.user = user
        self.targets = targets
        self.policy = policy
        self.journal = journal
        self.progress = progress
        self.should_stop = should_stop
        self.reconfirm = reconfirm
        self.cancel_open_orders = cancel_open_orders
        self.refused_dust = dict(refused_dust or {})
        self.can_transfer = can_transfer
        self._spot = targets.mentions_spot
        self._mode: str | None = None
        self.clock = clock
        self.sleep = sleep
        self.run_id = run_id or journal.run_id
        self.report = ExecutionReport(run_id=self.run_id)
        self._order_seq = 0
        self._turnover_done = _ZERO
        self._start_equity: Decimal | None = None
        self._goals: dict[str, Decimal] = {}

    # ------------------------------------------------------------------ helpers

    def _check_stop(self, where: str) -> None:
        if self.should_stop():
            self.journal.record("interrupted", where=where)
            raise Interrupted(f"interrupted {where}; nothing more was sent")

    def _read(self, *, open_orders: bool = False) -> Snapshot:
        self._check_stop("before reading the account")
        return self.client.read_snapshot(
            self.user,
            spot=self._spot,
            open_orders=open_orders,
            mode=self._mode,
            dexes=self.targets.dexes,
            network_label=self.client.network,
        )

    def _plan(
        self, snap: Snapshot, policy: Policy, *, count_phase1_margin: bool = True, allow_transfers: bool | None = None
    ) -> Plan:
        result = plan(
            snap,
            self.targets,
            policy,
            goals=self._goals,
            count_phase1_margin=count_phase1_margin,
            allow_transfers=self.can_transfer if allow_transfers is None else allow_transfers,
        )
        return self._drop_refused_dust(result)

    def _drop_refused_dust(self, p: Plan) -> Plan:
        """A dust close the exchange refused before is reported, not retried on every run."""
        if not self.refused_dust:
            return p
        keep: list[Trade] = []
        for t in p.trades:
            refused = self.refused_dust.get(t.coin)
            if t.dust and refused is not None and Decimal(refused) == t.size:
                message = (
                    f"{t.coin}: the exchange refused to close this ${t.notional:.2f} dust position "
                    f"({t.size}); it is reported, not retried"
                )
                if message not in self.report.warnings:
                    self.report.warnings.append(message)
                continue
            keep.append(t)
        return p.model_copy(update={"trades": tuple(keep)}) if len(keep) != len(p.trades) else p

    def _policy_for_round(self, n: int) -> Policy:
        p = self.policy
        slip = min(p.slippage + p.slippage_step * (n - 1), p.max_slippage)
        return p.model_copy(update={"slippage": slip})

    def _next_cloid(self, n_round: int, phase: int) -> str:
        self._order_seq += 1
        return f"0x{self.run_id[:16]}{n_round:02x}{phase:02x}{self._order_seq:012x}"

    # ------------------------------------------------------------------ guards

    def _guards(self, p: Plan, snap: Snapshot) -> None:
        policy = self.policy
        equity = self._start_equity or snap.equity
        planned = sum((t.size * t.reference_price for t in p.trades), _ZERO)
        turnover = (self._turnover_done + planned) / equity
        if turnover > policy.max_turnover:
            raise GuardError(
                f"turnover {turnover * 100:.1f}% of equity over this run would exceed max_turnover "
                f"{policy.max_turnover * 100:.1f}%",
                hint="raise --max-turnover if this much trading is intended",
            )
        for t in p.trades:
            if policy.max_order_value is not None and t.notional > policy.max_order_value:
                raise GuardError(
                    f"{t.coin} {t.side} of ${t.notional:,.2f} exceeds max_order_value ${policy.max_order_value:,.2f}",
                    hint="raise --max-order-value or trade in smaller steps",
                )
            market = snap.market_of(t.coin)
            if market is not None and market.oracle is not None and market.oracle > 0:
                deviation = abs(t.reference_price - market.oracle) / market.oracle
                if deviation > policy.max_price_deviation:
                    raise GuardError(
                        f"{t.coin}: reference price {t.reference_price} is {deviation * 100:.2f}% from the oracle "
                        f"price {market.oracle} (max_price_deviation {policy.max_price_deviation * 100:.2f}%)",
                        hint="the book may be thin or moving fast; wait, or raise --max-price-deviation",
                    )

    def _open_orders_guard(self, p: Plan, snap: Snapshot) -> Snapshot:
        traded = {t.coin for t in p.trades}
        clashing = [o for o in snap.open_orders if snap.spot_aliases.get(o.coin, o.coin) in traded]
        if not clashing:
            return snap
        coins = ", ".join(sorted({o.coin for o in clashing}))
        if not self.cancel_open_orders:
            raise GuardError(
                f"the account has {len(clashing)} open order(s) on traded coins ({coins}): they hold margin and "
                "could fill during the rebalance",
                hint="cancel them, or pass --cancel-open-orders to have hlrebal cancel them first",
            )
        self._check_stop("before cancelling open orders")
        self.progress(f"cancelling {len(clashing)} open order(s) on {coins}")
        cancels = [(m.asset_id, o.oid) for o in clashing if (m := snap.market_of(o.coin)) is not None]
        errors = self._idempotent(lambda: self.client.cancel(cancels), "cancelling open orders")
        self.journal.record("cancelled", orders=[{"coin": o.coin, "oid": o.oid} for o in clashing], errors=errors)
        return self._read()

    # ------------------------------------------------------------------ orders

    def _set_leverage(self, trades: Sequence[Trade], snap: Snapshot) -> None:
        if self.policy.leverage is None:
            return
        done: set[str] = set()
        for t in trades:
            if t.leverage is None or t.coin in done:
                continue
            position = snap.positions.get(t.coin)
            if position is not None and position.leverage == t.leverage and position.is_cross == t.is_cross:
                continue
            self._check_stop("before setting leverage")
            mode = "cross" if t.is_cross else "isolated"
            self.progress(f"setting {t.coin} leverage to {t.leverage}x {mode}")
            asset, leverage, is_cross, coin = t.asset_id, t.leverage, t.is_cross, t.coin

            def set_it(
                asset: int = asset, leverage: int = leverage, is_cross: bool = is_cross, coin: str = coin
            ) -> None:
                self.client.update_leverage(asset, leverage, is_cross=is_cross, coin=coin)

            self._idempotent(set_it, f"setting {t.coin} leverage")
            self.journal.record("leverage", coin=t.coin, leverage=t.leverage, margin=mode)
            self.report.leverage_set.append(f"{t.coin} {t.leverage}x {mode}")
            done.add(t.coin)

    def _idempotent(self, action: Callable[[], Any], what: str) -> Any:
        """Run an action that is safe to repeat (set leverage, cancel): a lost answer is retried."""
        for attempt in range(3):
            try:
                return action()
            except OrderAnswerLost as e:
                if attempt == 2:
                    raise
                self.progress(f"{what}: {e.message}; trying again (it is safe to repeat)")
                self.sleep(0.5 * (attempt + 1))
                self._check_stop(f"before retrying {what}")
        return None

    def _send(self, trades: Sequence[Trade], n_round: int, phase: int) -> list[OrderReport]:
        """One bulk request for ``trades``; every order journaled before, every status after."""
        if not trades:
            return []
        self._check_stop(f"before the phase {phase} orders of round {n_round}")
        specs: list[OrderSpec] = []
        reports: list[OrderReport] = []
        for t in trades:
            cloid = self._next_cloid(n_round, phase)
            specs.append(
                OrderSpec(
                    coin=t.coin,
                    asset=t.asset_id,
                    is_buy=t.is_buy,
                    size=t.size,
                    limit_px=t.limit_price,
                    reduce_only=t.reduce_only,
                    cloid=cloid,
                )
            )
            reports.append(
                OrderReport(
                    round=n_round,
                    phase=phase,
                    cloid=cloid,
                    coin=t.coin,
                    side=t.side,
                    action=t.action.value,
                    reduce_only=t.reduce_only,
                    size=t.size,
                    reference_price=t.reference_price,
                    limit_price=t.limit_price,
                    dust=t.dust,
                )
            )
        expires = int(self.clock() * 1000) + EXPIRES_AFTER_MS
        for spec, rep in zip(specs, reports, strict=True):
            self.journal.record(
                "order_sent",
                cloid=spec.cloid,
                round=n_round,
                phase=phase,
                coin=spec.coin,
                asset=spec.asset,
                side=rep.side,
                action=rep.action,
                size=spec.size,
                limit_price=spec.limit_px,
                reference_price=rep.reference_price,
                reduce_only=spec.reduce_only,
                dust=rep.dust,
                expires_after=expires,
            )
        self.report.orders.extend(reports)
        self.progress(f"round {n_round} phase {phase}: sending {len(specs)} order(s) in one request")
        try:
            outcomes = self.client.place_orders(specs, expires_after=expires)
        except OrderAnswerLost as e:
            self.progress(f"round {n_round} phase {phase}: {e.message}; asking for each order by client id")
            self.journal.record("answer_lost", round=n_round, phase=phase, error=e.message)
            outcomes = self._recover(specs, expires)
        for rep, out in zip(reports, outcomes, strict=True):
            self._apply(rep, out)
            self.journal.record(
                "order_result",
                cloid=rep.cloid,
                coin=rep.coin,
                status=rep.status,
                filled_size=rep.filled_size,
                avg_price=rep.avg_price,
                oid=rep.oid,
                error=rep.error,
            )
        return reports

    def _recover(self, specs: Sequence[OrderSpec], expires: int) -> list[OrderOutcome]:
        """After a lost answer: wait until the request has expired (and a margin for clocks that
        disagree), then ask for every cloid; sizes and prices come from the account's fills."""
        wait = expires / 1000 - self.clock() + EXPIRY_MARGIN_S
        if wait > 0:
            self.sleep(wait)
        return resolve_orders(self.client, self.user, [spec.cloid for spec in specs])

    def _apply(self, rep: OrderReport, out: OrderOutcome) -> None:
        rep.status = "partial" if out.status == "filled" and out.filled_size < rep.size else out.status
        rep.filled_size = out.filled_size
        rep.avg_price = out.avg_px
        rep.oid = out.oid
        rep.error = out.error
        if rep.dust and out.status == "error" and out.error and is_min_value_refusal(out.error):
            self.refused_dust[rep.coin] = format(rep.size, "f")
            self.report.warnings.append(
                f"{rep.coin}: the exchange will not close this dust position ({rep.size}) with a reduce-only "
                f"order below $10 ({out.error}); it is left as it is and not retried"
            )

    def _account(self, sent: Sequence[OrderReport], expected: dict[str, Decimal]) -> None:
        """Count what filled: turnover over the run, and the holdings the next read must show."""
        for o in sent:
            if o.filled_size <= 0:
                continue
            self._turnover_done += o.filled_size * o.reference_price
            signed = o.filled_size if o.side == "buy" else -o.filled_size
            if "/" in o.coin and o.side == "buy":
                signed = o.filled_size * (1 - SPOT_TAKER_FEE)  # the spot fee is paid in the token
            expected[o.coin] = expected.get(o.coin, _ZERO) + signed

    def _verified_read(self, expected: dict[str, Decimal]) -> Snapshot:
        """Read the account and check it shows the fills the exchange reported; a read that lags (or
        belongs to another account) is read once more, then the run stops rather than trade on it."""
        for attempt in range(2):
            snap = self._read()
            wrong = _mismatches(snap, expected)
            if not wrong:
                return snap
            if attempt == 0:
                self.progress("the account read back does not show the reported fills yet; reading again")
                self.sleep(READ_BACK_PAUSE_S)
        self.journal.record("inconsistent_read", mismatches=wrong)
        raise InconsistentAccount(
            "the account read back does not match the fills the exchange reported ("
            + "; ".join(wrong)
            + "): not trading on it",
            hint="check the account (and that the key trades the address you gave), then run again",
        )

    def _transfer(
        self, p: Plan, snap: Snapshot, phase2: list[Trade], n: int, policy: Policy
    ) -> tuple[Snapshot, list[Trade]]:
        """Make the plan's cash transfers before phase 2; when one cannot be made, size phase 2 to
        the cash each side has and report the transfer the owner must make."""
        for t in p.transfers:
            if t.blocked:
                note = f"the owner must transfer ${t.amount:,.2f} USDC {t.direction} (an API wallet or vault cannot)"
                if note not in self.report.blocked_transfers:
                    self.report.blocked_transfers.append(note)
                continue
            self._check_stop("before a transfer")
            self.progress(f"round {n}: moving ${t.amount:,.2f} USDC {t.direction}")
            before = snap.spot_usdc
            self.journal.record("transfer_sent", round=n, amount=t.amount, to_perp=t.to_perp)
            try:
                self.client.usd_class_transfer(t.amount, to_perp=t.to_perp)
                self.journal.record("transfer_result", round=n, status="ok")
                self.report.transfers.append(f"{t.amount} USDC {t.direction}")
            except OrderAnswerLost as e:
                # No id to ask for: the balances say whether it happened. Never resend it blindly.
                snap = self._read()
                moved = abs(snap.spot_usdc - before) >= t.amount / 2
                self.journal.record("transfer_result", round=n, status="ok" if moved else "unknown", error=e.message)
                if moved:
                    self.report.transfers.append(f"{t.amount} USDC {t.direction}")
                else:
                    return self._without_transfers(snap, policy, n, f"the answer to a transfer was lost ({e.message})")
            except ExchangeError as e:
                self.journal.record("transfer_result", round=n, status="error", error=e.message)
                snap = self._read()
                return self._without_transfers(snap, policy, n, f"a transfer was refused: {e.message}")
        return snap, phase2

    def _without_transfers(self, snap: Snapshot, policy: Policy, n: int, why: str) -> tuple[Snapshot, list[Trade]]:
        self.report.warnings.append(f"round {n}: {why}; phase 2 sized to the cash each side has")
        p = self._plan(snap, policy, count_phase1_margin=False, allow_transfers=False)
        unfinished = {t.coin for t in p.phase(1)}
        return snap, [t for t in p.phase(2) if t.coin not in unfinished]

    # ------------------------------------------------------------------ the run

    def run(self, confirmed: Plan, snapshot: Snapshot) -> ExecutionReport:
        """Execute until the plan is empty, nothing fills, or ``max_rounds`` is reached."""
        report = self.report
        self._start_equity = snapshot.equity
        raw_mode = snapshot.raw.get("userAbstraction")
        self._mode = raw_mode if isinstance(raw_mode, str) else None
        self._spot = self._spot or bool(snapshot.spot_assets)
        snap, current = snapshot, self._drop_refused_dust(confirmed)
        if confirmed.transfers and not self.can_transfer:
            current = self._plan(snap, self._policy_for_round(1))
        try:
            for n in range(1, self.policy.max_rounds + 1):
                round_policy = self._policy_for_round(n)
                if n == 1:
                    snap, current = self._fresh_first_round(confirmed, snap, current, round_policy)
                else:
                    current = self._plan(snap, round_policy)
                if current.is_empty:
                    report.final_plan, report.final_snapshot = current, snap
                    break
                snap = self._open_orders_guard(current, snap)
                if snap.time != current.snapshot_time:
                    current = self._plan(snap, round_policy)
                self._guards(current, snap)
                rnd = RoundReport(number=n, slippage=round_policy.slippage, planned=len(current.trades))
                report.rounds.append(rnd)
                if n == 1:
                    self._goals = _position_goals(current, snap)
                self.journal.record(
                    "plan", round=n, slippage=round_policy.slippage, trades=[_trade_doc(t) for t in current.trades]
                )
                expected = _holdings(snap)
                phase1 = list(current.phase(1))
                sent1 = self._send(phase1, n, 1)
                self._account(sent1, expected)
                phase2 = list(current.phase(2))
                plan2 = current
                if (phase2 or current.transfers) and sent1:
                    snap = self._verified_read(expected)
                    plan2 = self._plan(snap, round_policy, count_phase1_margin=False)
                    unfinished = {t.coin for t in plan2.phase(1)}
                    phase2 = [t for t in plan2.phase(2) if t.coin not in unfinished]
                    held_back = sorted({t.coin for t in plan2.phase(2) if t.coin in unfinished})
                    if held_back:
                        rnd.note += f"increases held back until reductions finish: {', '.join(held_back)}. "
                    if plan2.summary.margin_scaled:
                        note = "phase 2 scaled down to the margin and cash actually free after phase 1"
                        rnd.note += note + ". "
                        report.warnings.append(f"round {n}: {note}")
                    self._guards(plan2.model_copy(update={"trades": tuple(phase2)}), snap)
                if phase2 and plan2.transfers:
                    snap, phase2 = self._transfer(plan2, snap, phase2, n, round_policy)
                if phase2:
                    self._set_leverage(phase2, snap)
                sent2 = self._send(phase2, n, 2)
                self._account(sent2, expected)
                sent = sent1 + sent2
                rnd.sent = len(sent)
                rnd.filled = sum(1 for o in sent if o.filled_size > 0)
                rnd.notional_filled = sum((o.filled_size * (o.avg_price or _ZERO) for o in sent), _ZERO)
                snap = self._verified_read(expected)
                after = self._plan(snap, self._policy_for_round(n + 1))
                report.final_plan, report.final_snapshot = after, snap
                self.journal.record(
                    "round",
                    round=n,
                    sent=rnd.sent,
                    filled=rnd.filled,
                    notional_filled=rnd.notional_filled,
                    remaining=len(after.trades),
                )
                self.progress(
                    f"round {n}: {rnd.filled}/{rnd.sent} order(s) filled, {len(after.trades)} trade(s) remain"
                )
                if after.is_empty:
                    break
                if rnd.filled == 0:
                    rnd.note += "nothing filled: stopping. "
                    break
            self._finish()
        except Interrupted as e:
            report.exit_code, report.outcome, report.message = ExitCode.INTERRUPTED, "interrupted", e.message
        except GuardError as e:
            # A guard's refusal is exit 4 (what stopped the run matters most to a monitor); the
            # message says when orders had already gone out.
            report.exit_code, report.outcome = ExitCode.GUARD, "refused"
            report.message = f"stopped by a guard after orders were placed: {e.message}" if report.orders else e.message
            if e.hint:
                report.message += f" ({e.hint})"
        except ExchangeError as e:
            sent_any = bool(report.orders)
            report.exit_code = ExitCode.PARTIAL if sent_any else ExitCode.EXCHANGE
            report.outcome = "partial" if sent_any else "exchange_error"
            report.message = e.message
        self._fill_fees()
        return report

    def _fresh_first_round(
        self, confirmed: Plan, snap: Snapshot, current: Plan, policy: Policy
    ) -> tuple[Snapshot, Plan]:
        """Round 1 trades on the confirmed plan unless its prices are stale; then re-read and re-plan."""
        age = self.clock() - snap.time / 1000
        if age <= float(self.policy.max_snapshot_age):
            return snap, current
        self.progress(f"prices are {age:.0f} s old: reading the account again before sending")
        fresh_snap = self._read(open_orders=True)
        fresh = self._plan(fresh_snap, policy)
        why = materially_different(confirmed, fresh)
        if why:
            self.journal.record("replanned", reason=why)
            if self.reconfirm is not None and not self.reconfirm(fresh, why):
                raise GuardError(f"the plan changed after confirmation ({why}) and was not confirmed again")
            self.report.warnings.append(f"the plan was re-made before sending: {why}")
        return fresh_snap, fresh

    def _finish(self) -> None:
        report = self.report
        final = report.final_plan
        blocked = [t for t in final.transfers if t.blocked] if final is not None else []
        if blocked:  # the latest amounts: what is still missing now, not what was missing mid-run
            report.blocked_transfers = [
                f"the owner must transfer ${t.amount:,.2f} USDC {t.direction} (an API wallet or vault cannot)"
                for t in blocked
            ]
        if (final is None or final.is_empty) and not blocked:
            report.exit_code, report.outcome = ExitCode.OK, "done"
            report.message = "the account is at its targets" if report.orders else "nothing to do"
            return
        remaining = ", ".join(f"{t.coin} {t.side} {t.size}" for t in final.trades) if final is not None else ""
        if report.blocked_transfers:
            remaining = "; ".join([*filter(None, [remaining]), *report.blocked_transfers]) + ", then run again"
        report.exit_code = ExitCode.PARTIAL
        if report.orders and not report.any_filled:
            report.outcome, report.message = (
                "nothing_filled",
                f"orders were sent and nothing filled; remaining: {remaining}",
            )
        else:
            report.outcome, report.message = (
                "partial",
                f"trades remain after {len(report.rounds)} round(s): {remaining}",
            )

    def _fill_fees(self) -> None:
        """Realised fees from the account's fills (one request), else estimated from the fee rate."""
        filled = [o for o in self.report.orders if o.filled_size > 0 and o.oid is not None]
        if not filled:
            return
        by_oid: dict[int, Decimal] = {}
        try:
            for fill in self.client.user_fills(self.user):
                oid = fill.get("oid")
                if isinstance(oid, int):
                    by_oid[oid] = by_oid.get(oid, _ZERO) + Decimal(str(fill.get("fee", "0")))
        except (ExchangeError, HlrebalError):
            by_oid = {}
        for o in filled:
            if o.oid in by_oid:
                o.fee = by_oid[o.oid]
            elif o.avg_price is not None:
                o.fee = o.filled_size * o.avg_price * self.policy.fee_rate


#: orderStatus statuses under which an order may have filled (fully or in part)
_MAY_HAVE_FILLED = frozenset({"filled", "canceled", "open", "marginCanceled"})
#: after an order request's expiresAfter, how long to wait for clocks that disagree
EXPIRY_MARGIN_S = 1.5


def status_to_outcome(
    cloid: str, answer: dict[str, Any], fills: dict[int, tuple[Decimal, Decimal]] | None = None
) -> OrderOutcome:
    """Turn an orderStatus answer into what the order did.

    Only an order the exchange accepted (filled, canceled after a partial fill, open) can have
    filled; every reject status (``iocCancelRejected``, ``perpMarginRejected``, ...) filled nothing,
    whatever its sizes say. The filled size and average price come from the account's fills for the
    order id (``fills``: oid -> (size, notional)) when given, as orderStatus carries no average price.
    """
    if answer.get("status") != "order":
        return OrderOutcome(cloid=cloid, status="error", error="never placed (the exchange does not know it)")
    order = answer.get("order", {})
    inner = order.get("order", {})
    status = str(order.get("status", ""))
    oid = inner.get("oid") if isinstance(inner.get("oid"), int) else None
    if status not in _MAY_HAVE_FILLED:
        return OrderOutcome(cloid=cloid, status="error", error=f"order {status or 'rejected'}", oid=oid)
    if fills is not None and oid is not None:
        size, notional = fills.get(oid, (_ZERO, _ZERO))
        avg = notional / size if size > 0 else None
    else:
        try:
            orig = Decimal(str(inner.get("origSz", "0")))
            left = Decimal(str(inner.get("sz", "0")))
        except ArithmeticError:
            orig = left = _ZERO
        size = orig - left if status != "filled" else orig
        size = max(size, _ZERO)
        px = inner.get("avgPx") or inner.get("limitPx")
        avg = Decimal(str(px)) if px is not None and size > 0 else None
    if status == "open":
        return OrderOutcome(cloid=cloid, status="resting", filled_size=size, avg_px=avg, oid=oid)
    if size > 0:
        return OrderOutcome(cloid=cloid, status="filled", filled_size=size, avg_px=avg, oid=oid)
    return OrderOutcome(cloid=cloid, status="error", error=f"order {status}, nothing filled", oid=oid)


def fills_by_oid(client: ExchangeClient, user: str) -> dict[int, tuple[Decimal, Decimal]]:
    """The account's recent fills summed per order id: oid -> (size, notional)."""
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for fill in client.user_fills(user):
        oid = fill.get("oid")
        if not isinstance(oid, int):
            continue
        sz = Decimal(str(fill.get("sz", "0")))
        px = Decimal(str(fill.get("px", "0")))
        size, notional = out.get(oid, (_ZERO, _ZERO))
        out[oid] = (size + sz, notional + sz * px)
    return out


def resolve_orders(client: ExchangeClient, user: str, cloids: Sequence[str]) -> list[OrderOutcome]:
    """What became of orders whose answer was lost: orderStatus by cloid, fills from userFills."""
    answers = [client.order_status(user, cloid) for cloid in cloids]
    fills = fills_by_oid(client, user) if any(a.get("status") == "order" for a in answers) else {}
    return [status_to_outcome(cloid, answer, fills) for cloid, answer in zip(cloids, answers, strict=True)]


def reconcile(
    client: ExchangeClient,
    user: str,
    journal: Journal,
    pending: Sequence[Any],
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Resolve orders an earlier run sent without recording a result; record each answer.

    An order of a run killed a moment ago may still be on its way: wait until every pending order's
    ``expiresAfter`` has passed (it can no longer be placed) before asking about it.
    """
    latest = max((int(p.entry.get("expires_after") or 0) for p in pending), default=0)
    wait = latest / 1000 + EXPIRY_MARGIN_S - clock()
    if wait > 0:
        sleep(wait)
    results = []
    for order, outcome in zip(pending, resolve_orders(client, user, [p.cloid for p in pending]), strict=True):
        entry = journal.record(
            "reconciled",
            cloid=order.cloid,
            coin=order.coin,
            of_run=order.run,
            status=outcome.status,
            filled_size=outcome.filled_size,
            avg_price=outcome.avg_px,
            error=outcome.error,
        )
        results.append(entry)
    return results


READ_BACK_PAUSE_S = 0.5


class InconsistentAccount(ExchangeError):
    """The account read back contradicts the fills the exchange reported (exit 5 once orders are out)."""

    kind = "inconsistent_account"


def _holdings(snap: Snapshot) -> dict[str, Decimal]:
    """Perp position sizes and spot token balances (by pair), as the executor tracks them."""
    out = {coin: pos.szi for coin, pos in snap.positions.items()}
    for pair, market in snap.spot_assets.items():
        balance = snap.spot_balances.get(market.base or "")
        out[pair] = balance.total if balance is not None else _ZERO
    return out


def _mismatches(snap: Snapshot, expected: dict[str, Decimal]) -> list[str]:
    """Coins whose holding differs from the expected by more than a lot (and, for spot, the fee)."""
    actual = _holdings(snap)
    wrong = []
    for coin, want in expected.items():
        got = actual.get(coin, _ZERO)
        market = snap.market_of(coin)
        lot = Decimal(1).scaleb(-market.sz_decimals) if market is not None else Decimal("0.000001")
        tolerance = lot + (abs(want) * Decimal("0.002") if "/" in coin else _ZERO)
        if abs(got - want) > tolerance:
            wrong.append(f"{coin}: expected {format(want.normalize(), 'f')}, read {format(got.normalize(), 'f')}")
    return wrong


def _position_goals(p: Plan, snap: Snapshot) -> dict[str, Decimal]:
    """The position size each traded coin is meant to end at: what later rounds finish."""
    sizes = {coin: pos.szi for coin, pos in snap.positions.items()}
    for pair, market in snap.spot_assets.items():
        balance = snap.spot_balances.get(market.base or "")
        if balance is not None:
            sizes[pair] = balance.total
    for t in p.trades:
        sizes[t.coin] = sizes.get(t.coin, _ZERO) + t.signed_size
    return {t.coin: sizes[t.coin] for t in p.trades}


def new_run_id() -> str:
    """16 hex digits: the prefix of every client order id of the run."""
    return secrets.token_hex(8)


def _trade_doc(t: Trade) -> dict[str, Any]:
    return {
        "coin": t.coin,
        "phase": t.phase,
        "action": t.action.value,
        "side": t.side,
        "size": t.size,
        "limit_price": t.limit_price,
        "reference_price": t.reference_price,
        "reduce_only": t.reduce_only,
        "dust": t.dust,
    }
