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

from hlrebal.errors import ExchangeError, ExitCode, GuardError, Interrupted
from hlrebal.exchange import ExchangeClient
from hlrebal.execution import guards, preflight
from hlrebal.execution.costs import arrival_prices, settle
from hlrebal.execution.maker import Maker
from hlrebal.execution.models import ExecutionReport, OrderReport, RoundReport
from hlrebal.execution.orders import OrderDesk
from hlrebal.execution.preparation import (
    cancel_clashing,
    conclude,
    drop_refused_dust,
    phase1_done_as_planned,
    set_leverage,
    trade_doc,
)
from hlrebal.execution.readback import AccountReader, expect_fills, holdings, position_goals
from hlrebal.execution.safety import DeadMansSwitch, end_resting
from hlrebal.execution.scope import Scope, filled_by_coin
from hlrebal.execution.style import PhaseJob, Style
from hlrebal.execution.taker import Taker
from hlrebal.execution.transfers import make_transfers, sized_without_transfers
from hlrebal.execution.twap import Twap
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.journal import Journal
from hlrebal.planner import Plan, Trade, plan
from hlrebal.policy import Policy
from hlrebal.snapshot import AssetMarket, Snapshot
from hlrebal.targets import Targets

_ZERO = Decimal(0)


def _estimate_for_traded(confirmed: Plan, traded: Decimal) -> Decimal:
    """The plan's fee estimate for the notional the run actually traded: a run stopped halfway
    (Ctrl-C, a guard, a TWAP cut short) compares its fees with half the estimate, not all of it."""
    planned = confirmed.summary.traded_notional
    estimate = confirmed.summary.estimated_fees
    return (estimate * traded / planned).quantize(Decimal("0.000001")) if planned > 0 else estimate


def patient_style(settings: ExecutionSettings, switch: DeadMansSwitch) -> Style | None:
    """The style that works round 1 when the run is patient (maker, twap); None for taker."""
    if settings.style == "maker":
        return Maker(settings, switch)
    if settings.style == "twap":
        return Twap(settings)
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
        settings: ExecutionSettings | None = None,
        scope: Scope | None = None,
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
        self.reader = AccountReader(client, user, targets.dexes, journal, progress, sleep, self._check_stop)
        self.reader.spot = targets.mentions_spot
        self.clock = clock
        self.sleep = sleep
        self.run_id = run_id or journal.run_id
        self.report = ExecutionReport(run_id=self.run_id, style=(settings or ExecutionSettings()).style)
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
            stopping=should_stop,
        )
        #: an approved plan executed as given (``Scope.of(plan)``): only its coins, sides and sizes
        self.scope = scope
        self.settings = settings or ExecutionSettings()
        self.switch = DeadMansSwitch(
            client, journal, margin=self.settings.switch_margin, clock=clock, progress=progress
        )
        self.taker: Style = Taker()
        self.patient = patient_style(self.settings, self.switch)
        #: the largest share of a trade one order of the current round carries (max_order_value)
        self._order_share = Decimal(1)
        #: rounds before the taker rounds: 1 when a patient style works round 1
        self._patient_rounds = 1 if self.patient is not None else 0
        self._turnover_done = _ZERO
        self._start_equity: Decimal | None = None
        self._goals: dict[str, Decimal] = {}
        self._markets: dict[str, AssetMarket] = {}

    # ------------------------------------------------------------------ helpers

    def _check_stop(self, where: str) -> None:
        if self.should_stop():
            self.journal.record("interrupted", where=where)
            raise Interrupted(f"interrupted {where}; nothing more was sent")

    def _read(self, *, open_orders: bool = False) -> Snapshot:
        return self.reader.read(open_orders=open_orders)

    def _refresh(self, snap: Snapshot, *, positions: bool = True, prices: bool = False) -> Snapshot:
        return self.reader.refresh(snap, positions=positions, prices=prices)

    def _verified_read(self, expected: dict[str, Decimal], snap: Snapshot, *, prices: bool = False) -> Snapshot:
        return self.reader.verified(expected, snap, prices=prices)

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
        if self.scope is not None:
            result = self.scope.restrict(result, filled_by_coin(self.report.orders))
        return drop_refused_dust(result, self.refused_dust, self.report.warnings)

    def _policy_for_round(self, n: int) -> Policy:
        """The policy of round ``n``: the slippage widens with every taker round (a patient first
        round is not counted: the first taker round after it starts at the base slippage)."""
        p = self.policy
        taker_round = max(n - self._patient_rounds, 1)
        slip = min(p.slippage + p.slippage_step * (taker_round - 1), p.max_slippage)
        return p.model_copy(update={"slippage": slip})

    def _guard(self, trades: Sequence[Trade], snap: Snapshot, filled: Decimal = _ZERO) -> Snapshot:
        """The run's guards, turnover counted from the equity at the start of the run. A price off
        the oracle is checked once more against a fresh read of the markets before it is refused;
        returns the snapshot to go on with (its markets read again, when they were)."""
        equity = self._start_equity or snap.equity
        done = self._turnover_done + filled
        share = self._order_share
        try:
            guards.check_trades(trades, snap, self.policy, equity=equity, turnover_done=done, order_share=share)
        except guards.OracleGuardError:
            snap = self.client.refresh_snapshot(snap, positions=False, markets=True)
            guards.check_trades(trades, snap, self.policy, equity=equity, turnover_done=done, order_share=share)
        return snap

    def _work(
        self, style: Style, trades: Sequence[Trade], n: int, phase: int, snap: Snapshot
    ) -> tuple[list[OrderReport], Snapshot]:
        """The style works one phase; returns its reports and the snapshot it ended with (a style
        that read the markets again hands them on)."""
        if not trades:
            return [], snap
        job = PhaseJob(
            trades=trades,
            round=n,
            phase=phase,
            snapshot=snap,
            policy=self._policy_for_round(n),
            desk=self.desk,
            guard=self._guard,
        )
        return style.work(job), job.snapshot

    def _style_for_round(self, n: int) -> Style:
        return self.patient if self.patient is not None and n <= self._patient_rounds else self.taker

    def _end_resting(self) -> None:
        """Cancel what this run still has resting, check with openOrders, clear the switch."""
        mine = [o for o in self.report.orders if o.tif != "Ioc" and o.oid is not None]
        if not mine and self.switch.armed_until is None:
            return
        self._stage("end")
        dexes = sorted({m.dex for o in mine if (m := self._markets.get(o.coin)) is not None} | {""})
        if not end_resting(self.desk, mine, self.switch, dexes):
            self.report.warnings.append(
                "could not confirm that none of this run's orders still rest: check the account's open orders "
                "(the dead man's switch cancels them at its time)"
            )

    # ------------------------------------------------------------------ the run

    def run(self, confirmed: Plan, snapshot: Snapshot) -> ExecutionReport:
        """Execute until the plan is empty, nothing fills, or ``max_rounds`` is reached."""
        report = self.report
        before = self.client.log.copy()
        self._start_equity = snapshot.equity
        self.reader.know(snapshot)
        snap, current = snapshot, drop_refused_dust(confirmed, self.refused_dust, self.report.warnings)
        if confirmed.transfers and not self.can_transfer:
            current = self._plan(snap, self._policy_for_round(1))
        self._markets = {**snapshot.assets, **snapshot.spot_assets}
        try:
            if self.patient is not None and not current.is_empty:
                self._stage("preflight")
                budget = self.client.user_rate_limit(self.user)
                if budget is None:
                    report.warnings.append(
                        "the endpoint does not answer userRateLimit: the request budget is unchecked"
                    )
                else:
                    preflight.check(current, self.policy, self.settings, budget)
            for n in range(1, self.policy.max_rounds + self._patient_rounds + 1):
                snap, more = self._round(n, confirmed, snap, current)
                if not more:
                    break
            conclude(report)
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
        self._end_resting()
        self._stage("costs")
        settle(
            self.client,
            self.user,
            report,
            self.policy,
            arrival_prices(snapshot),
            estimated_fees=_estimate_for_traded(confirmed, report.traded_notional),
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
        if cancel_clashing(self.desk, current, snap, allowed=self.cancel_open_orders):
            snap = self._read()
        if snap.time != current.snapshot_time:
            current = self._plan(snap, round_policy)
        style = self._style_for_round(n)
        self._order_share = guards.order_share(style.name, self.settings.twap_minutes)
        snap = self._guard(current.trades, snap)
        rnd = RoundReport(number=n, slippage=round_policy.slippage, planned=len(current.trades), style=style.name)
        report.rounds.append(rnd)
        if n == 1:
            self._goals = position_goals(current, snap)
        self.journal.record(
            "plan",
            round=n,
            style=style.name,
            slippage=round_policy.slippage,
            trades=[trade_doc(t) for t in current.trades],
        )
        expected = holdings(snap)
        self._stage("phase 1")
        sent1, snap = self._work(style, current.phase(1), n, 1, snap)
        self._turnover_done += expect_fills(sent1, expected)
        self._stage("between phases")
        snap, phase2 = self._replan_phase2(n, current, snap, sent1, expected, rnd)
        self._stage("phase 2")
        sent2, snap = self._work(style, phase2, n, 2, snap)
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
        partly = sum(1 for o in sent if 0 < o.filled_size < o.size)
        some = f" ({partly} partly)" if partly else ""
        self.progress(f"round {n}: {rnd.filled}/{rnd.sent} order(s) filled{some}, {len(after.trades)} trade(s) remain")
        if after.is_empty:
            return snap, False
        if rnd.filled == 0 and style is self.taker:
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
            snap = self._guard(phase2, snap)
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
            snap = self._guard(phase2, snap)
        if phase2 and plan2.transfers:
            snap, phase2 = self._transfer(plan2, snap, phase2, n, round_policy)
        if phase2:
            set_leverage(self.desk, phase2, snap, self.policy)
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
        if age <= float(self.policy.max_snapshot_age) or self.scope is not None:
            return snap, current  # an approved plan goes as given: its limits bound what it costs
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
