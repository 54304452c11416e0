"""``hlrebal plan``: the trades that would bring the account to its targets (or make a document's
direct actions); ``-o FILE`` writes them as a plan file for ``hlrebal execute --plan FILE``;
``--execute`` places them through the execution flow of :mod:`hlrebal.cli.execute`."""

# No `from __future__ import annotations`: Typer reads the parameters' types at every start, and
# evaluating them from strings (a compile and an eval each) costs about 1 ms a run.
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hlrebal.cli.common import (
    err_console,
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

if TYPE_CHECKING:
    from hlrebal.planner import Plan
    from hlrebal.snapshot import Snapshot
    from hlrebal.targets import Document


def plan(
    targets: TargetsArg = None,
    snapshot: SnapshotOpt = None,
    demo: DemoOpt = False,
    json_out: JsonOpt = False,
    execute: Annotated[bool, typer.Option("--execute", help="Place the plan after confirmation.")] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Also write the plan, with the account state it was made from, for `execute --plan FILE`.",
        ),
    ] = None,
    extract_json: ExtractJsonOpt = False,
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
    style: StyleOpt = None,
    requote_seconds: RequoteOpt = None,
    patience: PatienceOpt = None,
    twap_minutes: TwapMinutesOpt = None,
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
        if execute and output is not None:
            raise BadInputError(
                "-o writes a plan to review and execute later; --execute places it now",
                hint="use one of them: `plan -o FILE` then `execute --plan FILE`, or `plan --execute`",
            )
        if execute:
            from hlrebal.cli.execute import execute_flow  # the flow, its prompts and its progress

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
                extract_json=extract_json,
            )
            return
        document, text = load_document_arg(targets, config, profile, extract=extract_json)
        resolved = resolve_settings(flags=flags, targets=document, config=config, profile=profile)
        with connect(resolved, snapshot_file=snapshot, demo=demo, key_file=key_file) as conn:
            snap = conn.read(spot=document.mentions_spot, dexes=document.dexes)
        planner.check_document(snap, document, resolved.policy)
        result = planner.plan_document(snap, document, resolved.policy)
        if output is not None:
            again = _connection_args(demo=demo, flags=flags, profile=profile, config=config, key_file=key_file)
            _save(output, result, document, snap, text, again, from_snapshot=snapshot is not None)
        if json_out:
            print_json(render.plan_json(result))
        elif not (quiet and result.is_empty):
            out_console().print(render.plan_renderable(result))

    guarded(json_out, body)


def _connection_args(
    *, demo: bool, flags: dict[str, object], profile: str | None, config: Path | None, key_file: Path | None
) -> str:
    """The options that name the account's endpoint and key, as the user gave them, so that the
    hint's `execute --plan` command reaches the same account."""
    parts = ["--demo"] if demo else []
    for flag, key in (("--network", "network"), ("--api-url", "api_url")):
        if flags.get(key) is not None:
            parts.append(f"{flag} {flags[key]}")
    for flag, value in (("--profile", profile), ("--config", config), ("--key-file", key_file)):
        if value is not None:
            parts.append(f"{flag} {value}")
    return "".join(f" {p}" for p in parts)


def _save(
    output: Path, result: "Plan", document: "Document", snap: "Snapshot", text: str, again: str, *, from_snapshot: bool
) -> None:
    """Write the plan file and say so on stderr (stdout keeps the plan itself), with the command
    that executes it on the same account."""
    from hlrebal.approval import approve, save_plan

    approved = approve(result, document, snap, text, str(output))
    save_plan(approved, output)
    command = f"hlrebal execute --plan {output}{again}"
    live = " with the live account's connection options" if from_snapshot and not again else ""
    err_console().print(
        f"saved plan {approved.plan_hash[:16]} to {output}; review it, then run `{command}`{live}", markup=False
    )
