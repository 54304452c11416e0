"""The rounds: guards, phase 1, the re-plan of phase 2 against the margin actually freed, the
read-back, and another round for what did not fill.

Each round:

1. guards (turnover over the whole run, order size, price against oracle, open orders);
2. phase 1: every reducing order, worked by the round's style (the taker style: ONE bulk request
   of reduce-only IOC orders at the planned limits), each with a client order id written to the
   journal before the request goes out;
3. phase 2: the account is read again and the increases re-planned against it (margin that phase 1
   did or did not free is respected; coins whose reduction did not complete open nothing new);
   leverage is set and cash moved where the plan needs it; then the style works the increases;
4. the account is read back and planned again: if trades remain and the round filled something,
   another round runs with fresh prices and a wider slippage (up to ``max_slippage``, at most
   ``max_rounds`` rounds). Coins traded in round 1 keep their goal even inside the band.

The executor prints nothing: progress goes to a callback, the outcome into an
:class:`~hlrebal.execution.models.ExecutionReport`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hlrebal.errors import ExchangeError, ExitCode, GuardError, Interrupted
from hlrebal.exchange import ExchangeClient
from hlrebal.execution import guards
from hlrebal.execution.costs import arrival_prices, settle
from hlrebal.execution.models import ExecutionReport, OrderReport, RoundReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.execution.readback import expect_fills, holdings, position_goals, verified_read
from hlrebal.execution.style import PhaseJob, Style
from hlrebal.execution.taker import Taker
from hlrebal.execution.transfers import blocked_note, make_transfers, sized_without_transfers
from hlrebal.journal import Journal
from hlrebal.planner import Plan, Trade, plan
from hlrebal.policy import Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Targets

_ZERO = Decimal(0)


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
        self.desk = OrderDesk(
            client=client,
            user=user,
            journal=journal,
            report=self.report,
            run_id=self.run_id,
            progress=progress,
            check_stop=self._check_stop,
            refused_dust=self.refused_dust,
            clock=clock,
            sleep=sleep,
        )
        self.taker: Style = Taker()
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

    def _refresh(self, snap: Snapshot, *, positions: bool = True, prices: bool = False) -> Snapshot:
        """Re-read only what a run changes (positions; spot balances when spot or a unified account
        is involved) and, when asked, fresh mids: a tenth of a full read's weight."""
        self._check_stop("before reading the account")
        spot = self._spot or snap.unified
        return self.client.refresh_snapshot(snap, positions=positions, spot=spot and positions, prices=prices)

    def _verified_read(self, expected: dict[str, Decimal], snap: Snapshot, *, prices: bool = False) -> Snapshot:
        return verified_read(
            lambda: self._refresh(snap, prices=prices),
            expected,
            journal=self.journal,
            progress=self.progress,
            sleep=self.sleep,
        )

    def _stage(self, name: str) -> None:
        self.client.log.stage = name

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

    def _guard(self, trades: Sequence[Trade], snap: Snapshot) -> None:
        guards.check_trades(
            trades, snap, self.policy, equity=self._start_equity or snap.equity, turnover_done=self._turnover_done
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
        errors = self.desk.idempotent(lambda: self.client.cancel(cancels), "cancelling open orders")
        self.journal.record("cancelled", orders=[{"coin": o.coin, "oid": o.oid} for o in clashing], errors=errors)
        return self._read()

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

            self.desk.idempotent(set_it, f"setting {t.coin} leverage")
            self.journal.record("leverage", coin=t.coin, leverage=t.leverage, margin=mode)
            self.report.leverage_set.append(f"{t.coin} {t.leverage}x {mode}")
            done.add(t.coin)

    def _work(self, style: Style, trades: Sequence[Trade], n: int, phase: int, snap: Snapshot) -> list[OrderReport]:
        if not trades:
            return []
        job = PhaseJob(
            trades=trades,
            round=n,
            phase=phase,
            snapshot=snap,
            policy=self._policy_for_round(n),
            desk=self.desk,
            guard=self._guard,
        )
        return style.work(job)

    def _style_for_round(self, n: int) -> Style:
        return self.taker

    # ------------------------------------------------------------------ the run

    def run(self, confirmed: Plan, snapshot: Snapshot) -> ExecutionReport:
        """Execute until the plan is empty, nothing fills, or ``max_rounds`` is reached."""
        report = self.report
        before = self.client.log.copy()
        self._start_equity = snapshot.equity
        raw_mode = snapshot.raw.get("userAbstraction")
        self._mode = raw_mode if isinstance(raw_mode, str) else None
        self._spot = self._spot or bool(snapshot.spot_assets)
        snap, current = snapshot, self._drop_refused_dust(confirmed)
        if confirmed.transfers and not self.can_transfer:
            current = self._plan(snap, self._policy_for_round(1))
        try:
            for n in range(1, self.policy.max_rounds + 1):
                snap, more = self._round(n, confirmed, snap, current)
                if not more:
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
            report.outcome = "partial" if sent_any else "error"
            report.message = e.message
        self._stage("costs")
        settle(
            self.client,
            self.user,
            report,
            self.policy,
            arrival_prices(snapshot),
            estimated_fees=confirmed.summary.estimated_fees,
        )
        self._stage("")
        report.count_requests(self.client.log.since(before))
        return report

    def _round(self, n: int, confirmed: Plan, snap: Snapshot, current: Plan) -> tuple[Snapshot, bool]:
        """One round; returns the snapshot read back and whether another round should run."""
        report = self.report
        round_policy = self._policy_for_round(n)
        if n == 1:
            snap, current = self._fresh_first_round(confirmed, snap, current, round_policy)
        else:
            self._stage("next round")
            snap = self._refresh(snap, positions=False, prices=True)
            current = self._plan(snap, round_policy)
        if current.is_empty:
            report.final_plan, report.final_snapshot = current, snap
            return snap, False
        snap = self._open_orders_guard(current, snap)
        if snap.time != current.snapshot_time:
            current = self._plan(snap, round_policy)
        self._guard(current.trades, snap)
        style = self._style_for_round(n)
        rnd = RoundReport(number=n, slippage=round_policy.slippage, planned=len(current.trades), style=style.name)
        report.rounds.append(rnd)
        if n == 1:
            self._goals = position_goals(current, snap)
        self.journal.record(
            "plan", round=n, slippage=round_policy.slippage, trades=[_trade_doc(t) for t in current.trades]
        )
        expected = holdings(snap)
        self._stage("phase 1")
        sent1 = self._work(style, current.phase(1), n, 1, snap)
        self._turnover_done += expect_fills(sent1, expected)
        self._stage("between phases")
        snap, phase2 = self._replan_phase2(n, current, snap, sent1, expected, rnd)
        self._stage("phase 2")
        sent2 = self._work(style, phase2, n, 2, snap)
        self._turnover_done += expect_fills(sent2, expected)
        sent = sent1 + sent2
        rnd.sent = len(sent)
        rnd.filled = sum(1 for o in sent if o.filled_size > 0)
        rnd.notional_filled = sum((o.filled_size * (o.avg_price or _ZERO) for o in sent), _ZERO)
        self._stage("read-back")
        snap = self._verified_read(expected, snap)
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
        self.progress(f"round {n}: {rnd.filled}/{rnd.sent} order(s) filled, {len(after.trades)} trade(s) remain")
        if after.is_empty:
            return snap, False
        if rnd.filled == 0:
            rnd.note += "nothing filled: stopping. "
            return snap, False
        return snap, True

    def _replan_phase2(
        self,
        n: int,
        current: Plan,
        snap: Snapshot,
        sent1: list[OrderReport],
        expected: dict[str, Decimal],
        rnd: RoundReport,
    ) -> tuple[Snapshot, list[Trade]]:
        """Phase 2 against the account as phase 1 left it; leverage and transfers made ready."""
        round_policy = self._policy_for_round(n)
        phase2 = list(current.phase(2))
        plan2 = current
        if phase2 and sent1 and phase1_done_as_planned(current, sent1, snap):
            # Phase 1 freed exactly the margin the plan counted on, with room to spare: fresh mids
            # are enough to re-plan (and guard) the increases; the read-back checks both phases.
            snap = self._refresh(snap, positions=False, prices=True)
            plan2 = self._plan(snap, round_policy)
            phase2 = list(plan2.phase(2))
            self._guard(phase2, snap)
        elif (phase2 or current.transfers) and sent1:
            snap = self._verified_read(expected, snap, prices=True)
            plan2 = self._plan(snap, round_policy, count_phase1_margin=False)
            unfinished = {t.coin for t in plan2.phase(1)}
            phase2 = [t for t in plan2.phase(2) if t.coin not in unfinished]
            held_back = sorted({t.coin for t in plan2.phase(2) if t.coin in unfinished})
            if held_back:
                rnd.note += f"increases held back until reductions finish: {', '.join(held_back)}. "
            if plan2.summary.margin_scaled:
                note = "phase 2 scaled down to the margin and cash actually free after phase 1"
                rnd.note += note + ". "
                self.report.warnings.append(f"round {n}: {note}")
            self._guard(phase2, snap)
        if phase2 and plan2.transfers:
            snap, phase2 = self._transfer(plan2, snap, phase2, n, round_policy)
        if phase2:
            self._set_leverage(phase2, snap)
        return snap, phase2

    def _transfer(
        self, p: Plan, snap: Snapshot, phase2: list[Trade], n: int, policy: Policy
    ) -> tuple[Snapshot, list[Trade]]:
        snap, why = make_transfers(self.desk, self._read, p, snap, n)
        if why is None:
            return snap, phase2
        self.report.warnings.append(f"round {n}: {why}; phase 2 sized to the cash each side has")
        return snap, sized_without_transfers(self._plan(snap, policy, count_phase1_margin=False, allow_transfers=False))

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
        why = guards.materially_different(confirmed, fresh)
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
            report.blocked_transfers = [blocked_note(t.amount, t.direction) for t in blocked]
        if (final is None or final.is_empty) and not blocked:
            report.exit_code, report.outcome = ExitCode.OK, "done"
            report.message = "the account is at its targets" if report.orders else "nothing to do"
            return
        remaining = ", ".join(f"{t.coin} {t.side} {t.size}" for t in final.trades) if final is not None else ""
        if report.blocked_transfers:
            remaining = "; ".join([*filter(None, [remaining]), *report.blocked_transfers]) + ", then run again"
        report.exit_code = ExitCode.PARTIAL
        if report.orders and not report.any_filled:
            report.outcome, report.message = "partial", f"orders were sent and nothing filled; remaining: {remaining}"
        else:
            report.outcome = "partial"
            report.message = f"trades remain after {len(report.rounds)} round(s): {remaining}"


#: share of the margin a plan counts as free that phase 2 may need for the light re-plan between
#: the phases (the rest covers what phase 1's fills cost in slippage and fees beyond the estimate)
MARGIN_HEADROOM = Decimal("0.9")


def phase1_done_as_planned(current: Plan, sent1: Sequence[OrderReport], snap: Snapshot) -> bool:
    """Every reduction filled in full on a perp-only standard account whose phase 2 fits its margin
    with room to spare: then the margin phase 1 freed is the margin the plan counted on."""
    if len(sent1) != len(current.phase(1)) or any(o.filled_size != o.size for o in sent1):
        return False
    if current.transfers or snap.unified or any(t.kind == "spot" or ":" in t.coin for t in current.trades):
        return False
    s = current.summary
    return not s.margin_scaled and s.margin_required <= s.margin_available * MARGIN_HEADROOM


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
