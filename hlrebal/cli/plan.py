"""``hlrebal plan``: the trades that would bring the account to its targets; ``--execute`` places them
through the execution flow of :mod:`hlrebal.cli.execute`."""

from __future__ import annotations

from typing import Annotated

import typer

from hlrebal.cli.common import guarded, load_targets_arg, out_console, print_json, resolve_settings
from hlrebal.cli.execute import execute_flow
from hlrebal.cli.options import (
    AddressOpt,
    ApiUrlOpt,
    BandOpt,
    BandRelOpt,
    CancelOpenOpt,
    ConfigOpt,
    DemoOpt,
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
    MaxRoundsOpt,
    MaxSlipOpt,
    MaxTurnoverOpt,
    MinTradeOpt,
    NetworkOpt,
    ProfileOpt,
    QuietOpt,
    SlippageOpt,
    SlipStepOpt,
    SnapshotOpt,
    TargetsArg,
    TradeToOpt,
    UntargetedOpt,
    UntargetedSpotOpt,
    VaultOpt,
    YesOpt,
    flags_from,
)


def plan(
    targets: TargetsArg = None,
    snapshot: SnapshotOpt = None,
    demo: DemoOpt = False,
    json_out: JsonOpt = False,
    execute: Annotated[bool, typer.Option("--execute", help="Place the plan after confirmation.")] = False,
    yes: YesOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    key_file: KeyFileOpt = None,
    journal: JournalOpt = None,
    cancel_open_orders: CancelOpenOpt = False,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
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
) -> None:
    """Show the trades that would bring the account to TARGETS; with --execute, place them."""
    flags = flags_from(locals())

    def body() -> None:
        from hlrebal import planner, render
        from hlrebal.errors import BadInputError
        from hlrebal.session import connect

        if yes and not execute:
            raise BadInputError(
                "--yes confirms orders, and `hlrebal plan` places none without --execute",
                hint="add --execute to place the plan, or run `hlrebal execute --yes`",
            )
        if execute:
            execute_flow(
                command="plan --execute",
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
            )
            return
        tg = load_targets_arg(targets, config, profile)
        resolved = resolve_settings(flags=flags, targets=tg, config=config, profile=profile)
        with connect(resolved, snapshot_file=snapshot, demo=demo, key_file=key_file) as conn:
            snap = conn.read(spot=tg.mentions_spot, dexes=tg.dexes)
        planner.check_targets(snap, tg, resolved.policy)
        result = planner.plan(snap, tg, resolved.policy)
        if json_out:
            print_json(render.plan_json(result))
        elif not (quiet and result.is_empty):
            out_console().print(render.plan_renderable(result))

    guarded(json_out, body)
