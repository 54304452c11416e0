"""One execution run from start to end: lock, journal, reconcile, read, plan, confirm, execute.

The command line supplies a :class:`RunUI` (what to show, how to ask); this module decides the order
of things and keeps the journal honest: ``run_start`` first, ``run_end`` last with the exit code,
whatever happens in between (an error, a refusal, Ctrl-C).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hlrebal import planner
from hlrebal.approval import ApprovedPlan, Limits, check_account, check_age, check_unchanged, execution_policy
from hlrebal.config import Resolved, state_dir
from hlrebal.errors import ExitCode, GuardError, HlrebalError
from hlrebal.execution import ExecutionReport, Executor, new_run_id, outcome_of, reconcile
from hlrebal.execution.reconciliation import reconcile_twaps
from hlrebal.execution.scope import Scope
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.journal import Journal, RunLock, refused_dust, unresolved_orders, unresolved_twaps
from hlrebal.policy import Policy
from hlrebal.render import plan_json
from hlrebal.session import Connection
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Document, Targets


class RunUI(Protocol):
    """What the run needs from whoever drives it (the CLI, or a test)."""

    def notice(self, message: str) -> None: ...

    def progress(self, message: str) -> None: ...

    def show_plan(self, plan: planner.Plan) -> None: ...

    def confirm(self, plan: planner.Plan) -> bool: ...

    def reconfirm(self, plan: planner.Plan, why: str) -> bool: ...

    def should_stop(self) -> bool: ...


@dataclass
class RunResult:
    report: ExecutionReport
    confirmed: planner.Plan
    journal: Path


def default_journal(resolved: Resolved) -> Path:
    return resolved.settings.journal or (state_dir() / "journal.jsonl")


def execute_run(
    conn: Connection,
    targets: Document,
    resolved: Resolved,
    ui: RunUI,
    *,
    journal_file: Path,
    assume_yes: bool,
    cancel_open_orders: bool = False,
    settings: ExecutionSettings | None = None,
    approved: ApprovedPlan | None = None,
    limits: Limits | None = None,
) -> RunResult:
    """Run one execution; raises domain errors (lock held, bad targets, not confirmed) unchanged.

    ``settings`` (the style and its timers) default to the resolved configuration's. With
    ``approved`` (``execute --plan FILE``, the MCP server's ``execute_plan``) the run trades that
    plan, not a new one: after the checks of :mod:`hlrebal.approval` (the plan's account and
    network, its age, the account unchanged, prices within ``limits``), its orders go as given and
    later rounds finish only its own trades (:class:`hlrebal.execution.scope.Scope`).
    """
    assert conn.client is not None and conn.key is not None
    settings = settings or resolved.execution
    ui.notice(_signer_notice(conn))
    run_id = new_run_id()
    # The journal opens first, so that even a run refused for a held lock leaves its outcome there.
    with Journal(journal_file, run_id) as journal:
        _record_start(journal, conn, targets, resolved, settings, approved)
        try:
            with RunLock(state_dir(), conn.user):
                before = conn.client.log.copy()
                conn.client.log.stage = "start"
                reconciled = _reconcile_earlier_runs(conn, journal, journal_file, ui)
                basis = _plan_to_confirm(conn, targets, resolved, approved, limits)
                confirmed = basis.plan
                journal.record("plan", round=0, plan=plan_json(confirmed))
                ui.show_plan(confirmed)
                if not confirmed.is_empty and not assume_yes and not ui.confirm(confirmed):
                    raise GuardError("not confirmed: no order was sent")
                executor = Executor(
                    client=conn.client,
                    user=conn.user,
                    targets=basis.weights,
                    policy=basis.policy,
                    journal=journal,
                    progress=ui.progress,
                    should_stop=ui.should_stop,
                    reconfirm=None if assume_yes else ui.reconfirm,
                    cancel_open_orders=cancel_open_orders,
                    refused_dust=refused_dust(journal_file, conn.user, conn.client.base_url),
                    # usdClassTransfer is user-signed: only the account's own key, never a vault's leader
                    can_transfer=conn.signer == conn.user and conn.vault is None,
                    run_id=run_id,
                    settings=settings,
                    scope=Scope.of(confirmed) if approved is not None else None,
                )
                report = executor.run(confirmed, basis.snapshot)
                report.reconciled = reconciled
                report.count_requests(conn.client.log.since(before))  # the whole run, its first read included
        except BaseException as e:
            _record_failure(journal, e)
            raise
        _record_end(journal, report)
    return RunResult(report=report, confirmed=confirmed, journal=journal_file)


def _signer_notice(conn: Connection) -> str:
    """Which key signs, for whom, on which network: said before anything is read or sent."""
    assert conn.key is not None
    if conn.signer == conn.user:
        relation = "the account itself"
    elif conn.vault is not None:
        relation = f"trading vault/sub-account {conn.vault} as its leader or the leader's API wallet"
    else:
        relation = f"an API wallet of {conn.user}"
    signer = f"signer {conn.signer}, {relation}"
    return f"signing with the key from {conn.key.source} ({signer}); network {conn.network_label}"


def _record_start(
    journal: Journal,
    conn: Connection,
    targets: Document,
    resolved: Resolved,
    settings: ExecutionSettings,
    approved: ApprovedPlan | None,
) -> None:
    """The run_start record: who, where, with which key source, document, policy and style."""
    assert conn.client is not None and conn.key is not None
    journal.record(
        "run_start",
        account=conn.user,
        signer=conn.signer,
        vault=conn.vault,
        network=conn.network_label,
        base_url=conn.client.base_url,
        key_source=conn.key.source,
        targets=targets.source,
        targets_sha256=targets.sha256,
        document=targets.kind,
        selected_strategy=targets.strategy,
        reasoning=targets.reasoning,
        plan_hash=approved.plan_hash if approved is not None else None,
        plan_file=approved.source if approved is not None else None,
        policy=resolved.policy.model_dump(mode="json"),
        execution=settings.model_dump(mode="json"),
    )


@dataclass(frozen=True)
class _Basis:
    """What a run confirms and executes: the account read, the plan, and what later rounds re-plan to."""

    snapshot: Snapshot
    plan: planner.Plan
    weights: Targets
    policy: Policy


def _plan_to_confirm(
    conn: Connection, targets: Document, resolved: Resolved, approved: ApprovedPlan | None, limits: Limits | None
) -> _Basis:
    """A fresh plan of the document on a fresh read, or the approved plan after its checks."""
    if approved is None:
        snap = conn.read(spot=targets.mentions_spot, dexes=targets.dexes)
        planner.check_document(snap, targets, resolved.policy)
        confirmed = planner.plan_document(snap, targets, resolved.policy)
        # Later rounds re-plan the rest: direct actions as the sizes their coins end at.
        weights, policy = planner.planning_basis(snap, targets, resolved.policy)
        return _Basis(snap, confirmed, weights, policy)
    snap, confirmed = _approved_read(conn, approved, limits or Limits())
    policy = execution_policy(approved, resolved.policy)
    weights, _ = planner.planning_basis(approved.snapshot, targets, policy)
    return _Basis(snap, confirmed, weights, policy)


def _record_failure(journal: Journal, e: BaseException) -> None:
    """run_end for a run that raised: its exit code, outcome and first line; marked as journaled."""
    interrupted = isinstance(e, KeyboardInterrupt)
    code = getattr(e, "exit_code", ExitCode.INTERRUPTED if interrupted else 1)
    message = str(e).split("\n")[0] or ("interrupted" if interrupted else type(e).__name__)
    journal.record("run_end", exit_code=int(code), outcome=outcome_of(code), message=message)
    if isinstance(e, HlrebalError):
        e.journaled = True


def _record_end(journal: Journal, report: ExecutionReport) -> None:
    """run_end for a run that ended: its outcome, costs, requests and warnings."""
    journal.record(
        "run_end",
        exit_code=int(report.exit_code),
        outcome=report.outcome,
        message=report.message,
        fees=report.fees,
        traded_notional=report.traded_notional,
        costs=report.costs.as_json(),
        requests=report.requests,
        request_weight=report.request_weight,
        warnings=report.warnings,
    )


def _reconcile_earlier_runs(conn: Connection, journal: Journal, journal_file: Path, ui: RunUI) -> list[dict[str, Any]]:
    """Before planning: resolve the orders earlier (killed) runs left without a result, cancelling
    those that may rest, and cancel and count the TWAPs they left running."""
    assert conn.client is not None
    pending = unresolved_orders(journal_file, conn.user, conn.client.base_url)
    twaps = unresolved_twaps(journal_file, conn.user, conn.client.base_url)
    reconciled: list[dict[str, Any]] = []
    if pending:
        ui.notice(f"resolving {len(pending)} order(s) an earlier run left without a result")
        reconciled = reconcile(conn.client, conn.user, journal, pending)
    if twaps:
        ui.notice(f"cancelling and counting {len(twaps)} TWAP(s) an earlier run left running")
        reconciled += reconcile_twaps(conn.client, conn.user, journal, twaps)
    return reconciled


def _approved_read(conn: Connection, approved: ApprovedPlan, limits: Limits) -> tuple[Snapshot, planner.Plan]:
    """The live account, checked against the approved plan's (exit 2 or 4 when it is not the same),
    and the plan to send: the approved one, as it is."""
    check_account(approved, conn.user, conn.network_label)
    check_age(approved, time.time(), limits.max_plan_age)
    basis = approved.snapshot
    snap = conn.read(spot=basis.has_spot_state or approved.document.mentions_spot, dexes=tuple(basis.dexes))
    check_unchanged(approved, snap, limits.max_price_move)
    # Checked against this read: the approved trades (sizes, limit prices) go as they are.
    return snap, approved.plan.model_copy(update={"snapshot_time": snap.time})


def record_failed_run(
    journal_file: Path, error: HlrebalError, *, targets: str | None, account: str | None, network: str | None = None
) -> None:
    """A run that failed before it could start (bad targets, configuration, key) still leaves its
    outcome in the journal, so that a monitor reading it sees every cron run."""
    if getattr(error, "journaled", False):
        return
    try:
        with Journal(journal_file, new_run_id()) as journal:
            journal.record("run_start", account=account, network=network, targets=targets, failed_before_start=True)
            journal.record(
                "run_end",
                exit_code=int(error.exit_code),
                outcome=outcome_of(error.exit_code),
                message=error.message.split("\n")[0],
            )
    except HlrebalError:
        pass  # the journal itself is the problem: the error on stderr says enough
