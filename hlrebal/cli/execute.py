"""``hlrebal execute`` and the execution flow it shares with ``plan --execute``: plan, confirm,
execute, verify.

The flow resolves the settings first (they name the log file and the journal), then loads the targets,
checks that someone can confirm, connects with a signer and hands the run to
:func:`hlrebal.runner.execute_run` with the terminal's :class:`~hlrebal.cli.ui.CliRun`; whatever
happens, the outcome reaches the log and the journal.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hlrebal.cli.common import (
    approval_limits,
    guarded,
    load_document_arg,
    out_console,
    print_json,
    resolve_settings,
)
from hlrebal.cli.options import (
    AddressOpt,
    ApiUrlOpt,
    BandOpt,
    BandRelOpt,
    CancelOpenOpt,
    ConfigOpt,
    DemoOpt,
    ExtractJsonOpt,
    FeeRateOpt,
    JournalOpt,
    JsonOpt,
    KeyFileOpt,
    LeverageOpt,
    LogFileOpt,
    MaxAgeOpt,
    MaxDevOpt,
    MaxLevOpt,
    MaxOrderOpt,
    MaxPlanAgeOpt,
    MaxPriceMoveOpt,
    MaxRoundsOpt,
    MaxSlipOpt,
    MaxTurnoverOpt,
    MinTradeOpt,
    NetworkOpt,
    PatienceOpt,
    ProfileOpt,
    QuietOpt,
    RequoteOpt,
    SlippageOpt,
    SlipStepOpt,
    SnapshotOpt,
    StyleOpt,
    TargetsArg,
    TradeToOpt,
    TwapMinutesOpt,
    UntargetedOpt,
    UntargetedSpotOpt,
    VaultOpt,
    YesOpt,
    flags_from,
)
from hlrebal.cli.ui import CliRun, live_status

if TYPE_CHECKING:
    from hlrebal.approval import ApprovedPlan, Limits
    from hlrebal.config import Resolved
    from hlrebal.runner import RunResult
    from hlrebal.targets import Document


PlanFileOpt = Annotated[
    Path | None,
    typer.Option("--plan", help="Execute exactly this plan, written by `hlrebal plan ... -o FILE` (give no TARGETS)."),
]
#: the settings a saved plan keeps from when it was made
PLANNING_FLAGS = ("band", "band_relative", "trade_to", "untargeted", "untargeted_spot", "min_trade_value", "slippage",
                  "leverage")  # fmt: skip


def execute_cmd(
    targets: TargetsArg = None,
    plan_file: PlanFileOpt = None,
    extract_json: ExtractJsonOpt = False,
    max_price_move: MaxPriceMoveOpt = None,
    max_plan_age: MaxPlanAgeOpt = None,
    yes: YesOpt = False,
    demo: DemoOpt = False,
    json_out: JsonOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    key_file: KeyFileOpt = None,
    journal: JournalOpt = None,
    cancel_open_orders: CancelOpenOpt = False,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    snapshot: SnapshotOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    band: BandOpt = None,
    band_relative: BandRelOpt = None,
    trade_to: TradeToOpt = None,
    untargeted: UntargetedOpt = None,
    untargeted_spot: UntargetedSpotOpt = None,
    min_trade_value: MinTradeOpt = None,
    slippage: SlippageOpt = None,
    max_leverage: MaxLevOpt = None,
    fee_rate: FeeRateOpt = None,
    leverage: LeverageOpt = None,
    max_turnover: MaxTurnoverOpt = None,
    max_order_value: MaxOrderOpt = None,
    max_price_deviation: MaxDevOpt = None,
    max_slippage: MaxSlipOpt = None,
    slippage_step: SlipStepOpt = None,
    max_rounds: MaxRoundsOpt = None,
    max_snapshot_age: MaxAgeOpt = None,
    style: StyleOpt = None,
    requote_seconds: RequoteOpt = None,
    patience: PatienceOpt = None,
    twap_minutes: TwapMinutesOpt = None,
) -> None:
    """Plan, confirm (or --yes), place the orders, read the account back and report how close it got;
    with --plan FILE, execute exactly a plan made and reviewed before."""
    flags = flags_from(locals())

    def body() -> None:
        limits = _plan_options(plan_file, targets, extract_json, flags, max_price_move, max_plan_age)
        execute_flow(
            command="execute",
            targets=targets,
            snapshot=snapshot,
            demo=demo,
            yes=yes,
            json_out=json_out,
            key_file=key_file,
            journal_path=journal,
            cancel_open_orders=cancel_open_orders,
            config=config,
            profile=profile,
            flags=flags,
            quiet=quiet,
            log_file=log_file,
            extract_json=extract_json,
            plan_file=plan_file,
            limits=limits,
        )

    guarded(json_out, body)


def _plan_options(
    plan_file: Path | None,
    targets: Path | None,
    extract_json: bool,
    flags: dict[str, Any],
    max_price_move: str | None,
    max_plan_age: str | None,
) -> Limits | None:
    """--plan's own limits, and the options that cannot go with it (or without it): exit 2."""
    from hlrebal.errors import BadInputError

    if plan_file is None:
        if max_price_move is not None or max_plan_age is not None:
            raise BadInputError("--max-price-move and --max-plan-age apply to --plan FILE only")
        return None
    if targets is not None or extract_json:
        raise BadInputError(
            "--plan executes a saved plan: give no TARGETS (nor --extract-json)",
            hint="the plan file holds the document it was made from",
        )
    planning = [f"--{k.replace('_', '-')}" for k in PLANNING_FLAGS if k in flags]
    if planning:
        raise BadInputError(
            f"{', '.join(planning)}: a saved plan keeps the planning settings it was made with",
            hint="make a new plan with them: `hlrebal plan TARGETS ... -o FILE`",
        )
    limits: Limits = approval_limits(max_price_move, max_plan_age)
    return limits


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def execute_flow(
    *,
    command: str,
    targets: Path | None,
    snapshot: Path | None,
    demo: bool,
    yes: bool,
    json_out: bool,
    key_file: Path | None,
    journal_path: Path | None,
    cancel_open_orders: bool,
    config: Path | None,
    profile: str | None = None,
    flags: dict[str, Any],
    quiet: bool = False,
    log_file: Path | None = None,
    extract_json: bool = False,
    plan_file: Path | None = None,
    limits: Limits | None = None,
) -> None:
    """Plan, confirm, execute, verify: shared by `execute` and `plan --execute` (``command`` names
    which, so that messages name the flags the user typed)."""
    from hlrebal.errors import BadInputError, GuardError, HlrebalError
    from hlrebal.runner import default_journal, record_failed_run

    if snapshot is not None:
        flag = "--execute cannot be used with --snapshot" if command != "execute" else "execute cannot use --snapshot"
        raise BadInputError(
            f"a saved snapshot is never traded on: {flag}",
            hint="plan from it offline with `hlrebal plan TARGETS --snapshot FILE`; execution reads the live account",
        )
    # Settings first (they name the log file and the journal), then the targets: a run that fails
    # on either still leaves its outcome in the log and the journal.
    base = resolve_settings(flags=flags, targets=None, config=config, profile=profile)
    ui = CliRun(quiet=quiet, json_out=json_out, log_file=log_file or base.settings.log_file)
    journal_file = journal_path or default_journal(base)
    tg: Document | None = None
    try:
        tg, approved = _document(targets, plan_file, config, profile, extract_json)
        resolved = resolve_settings(flags=flags, targets=tg, config=config, profile=profile)
        if not yes and (str(targets) == "-" or not _interactive()):
            where = (
                "the document came from standard input, which cannot answer a prompt"
                if str(targets) == "-"
                else "not running in a terminal"
            )
            raise GuardError(
                f"no confirmation: {where} and --yes was not given; no order was sent",
                hint="add --yes for unattended runs (cron, agents), after checking the plan with `hlrebal plan`",
            )
        result = _run(
            ui,
            tg,
            resolved,
            demo=demo,
            key_file=key_file,
            journal_file=journal_file,
            yes=yes,
            cancel_open_orders=cancel_open_orders,
            approved=approved,
            limits=limits,
        )
        _report(ui, result, json_out=json_out, quiet=quiet)
    except HlrebalError as e:
        ui.log(f"error (exit {int(e.exit_code)}): {e.message}")
        record_failed_run(
            journal_file,
            e,
            targets=tg.source if tg is not None else (str(targets or plan_file or base.settings.targets or "") or None),
            account=base.settings.vault or base.settings.account_address,
            network="demo" if demo else base.network_label,
        )
        raise
    except KeyboardInterrupt:
        ui.log("interrupted (exit 130)")
        raise
    finally:
        ui.close()


def _document(
    targets: Path | None, plan_file: Path | None, config: Path | None, profile: str | None, extract_json: bool
) -> tuple[Document, ApprovedPlan | None]:
    """The document to execute, and the approved plan when it comes from ``--plan FILE``."""
    if plan_file is not None:
        from hlrebal.approval import load_plan

        approved = load_plan(plan_file)
        return approved.document, approved
    document, _ = load_document_arg(targets, config, profile, extract=extract_json)
    return document, None


def _run(
    ui: CliRun,
    tg: Document,
    resolved: Resolved,
    *,
    demo: bool,
    key_file: Path | None,
    journal_file: Path,
    yes: bool,
    cancel_open_orders: bool,
    approved: ApprovedPlan | None = None,
    limits: Limits | None = None,
) -> RunResult:
    """Connect with a signer and run: lock, journal, plan, confirm, orders, read-back (the runner's job)."""
    from hlrebal.runner import execute_run
    from hlrebal.session import connect

    with connect(resolved, demo=demo, key_file=key_file, need_signer=True) as conn:
        ui.network = conn.network_label
        ui.log(f"run: targets {tg.source} (sha256 {tg.sha256[:12]}), account {conn.user}")
        if approved is not None:
            ui.log(f"run: the approved plan {approved.plan_hash} from {approved.source}")
        with ui.stop, live_status(ui):
            return execute_run(
                conn,
                tg,
                resolved,
                ui,
                journal_file=journal_file,
                assume_yes=yes,
                cancel_open_orders=cancel_open_orders,
                approved=approved,
                limits=limits,
            )


def _report(ui: CliRun, result: RunResult, *, json_out: bool, quiet: bool) -> None:
    """The run's report on stdout (and in the log); a run that did not end done exits with its code."""
    from hlrebal import render
    from hlrebal.errors import ExitCode
    from hlrebal.market import fmt_decimal
    from hlrebal.render.numbers import usd

    report = result.report
    for o in report.orders:
        if o.filled_size > 0:
            price = fmt_decimal(o.avg_price) if o.avg_price is not None else "?"
            fee = usd(o.fee or Decimal(0))
            ui.log(f"fill: {o.coin} {o.side} {fmt_decimal(o.filled_size)} at {price}, fee {fee} ({o.status})")
    costs = report.costs
    if costs.notional:
        total_bps = costs.bps(costs.total_usd) or 0
        ui.log(
            f"cost: {usd(costs.total_usd)} ({total_bps:.1f} bps of {usd(costs.notional)}: "
            f"shortfall {usd(costs.shortfall_usd)}, fees {usd(costs.fees_usd)})"
        )
    ui.log(f"{report.outcome}: {report.message} (exit {int(report.exit_code)})")
    for warning in report.warnings:
        ui.log(f"warning: {warning}")
    if json_out:
        print_json(render.execution_json(report, result.confirmed))
    elif not (quiet and not report.orders and report.exit_code == ExitCode.OK):
        out_console().print(render.execution_renderable(report))
    if report.exit_code != ExitCode.OK:
        raise typer.Exit(int(report.exit_code))
