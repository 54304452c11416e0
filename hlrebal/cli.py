"""The command-line interface: the only place that prints, prompts and sets exit codes.

Each command is a few lines that call the library and turn its domain errors into a message and an
exit code (see the README's table). Nothing heavy is imported at module level: ``hlrebal --help``
must not pay for pydantic, the SDK or eth_account.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from hlrebal.config import Resolved
    from hlrebal.errors import HlrebalError
    from hlrebal.targets import Targets

app = typer.Typer(
    name="hlrebal",
    help="Bring a Hyperliquid account to a target allocation: plan, confirm, execute, verify.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")

# --------------------------------------------------------------------------- shared options

TargetsArg = Annotated[
    Path | None,
    typer.Argument(help="Target-allocation JSON file (default: the configuration's `targets`).", show_default=False),
]
SnapshotOpt = Annotated[
    Path | None, typer.Option("--snapshot", help="Plan from a saved snapshot file instead of the live account.")
]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the built-in demo paper account (no keys, no network).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
NetworkOpt = Annotated[
    str | None, typer.Option("--network", help="mainnet or testnet (default mainnet).", show_default=False)
]
ApiUrlOpt = Annotated[
    str | None, typer.Option("--api-url", help="Any Hyperliquid-compatible endpoint, e.g. a local `hlrebal sim serve`.")
]
AddressOpt = Annotated[
    str | None, typer.Option("--address", help="Account address to read (env HLREBAL_ACCOUNT_ADDRESS).")
]
VaultOpt = Annotated[
    str | None, typer.Option("--vault", help="Vault or sub-account address to read and trade (env HLREBAL_VAULT).")
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="File holding the signing key (mode 0600). Never pass a key on the command line."),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: confirm the plan (for cron).")]
JournalOpt = Annotated[Path | None, typer.Option("--journal", help="Journal file (default: in the state directory).")]
CancelOpenOpt = Annotated[
    bool, typer.Option("--cancel-open-orders", help="Cancel open orders on traded coins first instead of refusing.")
]
MaxTurnoverOpt = Annotated[
    str | None, typer.Option("--max-turnover", metavar="X", help="Cap on traded notional / equity [1].")
]
MaxOrderOpt = Annotated[
    str | None, typer.Option("--max-order-value", metavar="USD", help="Cap on one order's value [off].")
]
MaxDevOpt = Annotated[
    str | None, typer.Option("--max-price-deviation", metavar="FRACTION", help="Reference vs oracle price [0.02].")
]
MaxSlipOpt = Annotated[
    str | None, typer.Option("--max-slippage", metavar="FRACTION", help="Widest slippage of any round [0.02].")
]
SlipStepOpt = Annotated[
    str | None, typer.Option("--slippage-step", metavar="FRACTION", help="Slippage added per round [0.0025].")
]
MaxRoundsOpt = Annotated[int | None, typer.Option("--max-rounds", metavar="N", help="Most execution rounds [3].")]
MaxAgeOpt = Annotated[
    str | None, typer.Option("--max-snapshot-age", metavar="SECONDS", help="Re-read prices older than this [10].")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing unless there is something to do or an error (cron).")
]
LogFileOpt = Annotated[Path | None, typer.Option("--log-file", help="Append a timestamped log of the run here.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Configuration file (TOML).")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Profile of the configuration file to use.")]
BandOpt = Annotated[
    str | None, typer.Option("--band", metavar="FRACTION", help="Absolute weight drift that triggers a trade [0.05].")
]
BandRelOpt = Annotated[
    str | None,
    typer.Option("--band-relative", metavar="FRACTION", help="Threshold = min(band, this x |target|) [off]."),
]
TradeToOpt = Annotated[
    str | None, typer.Option("--trade-to", metavar="target|edge", help="Trade to the target or the band edge.")
]
UntargetedOpt = Annotated[
    str | None, typer.Option("--untargeted", metavar="close|keep", help="Positions absent from the targets [close].")
]
MinTradeOpt = Annotated[
    str | None, typer.Option("--min-trade-value", metavar="USD", help="Smallest order worth sending [10].")
]
SlippageOpt = Annotated[
    str | None, typer.Option("--slippage", metavar="FRACTION", help="Limit price distance [0.005].")
]
MaxLevOpt = Annotated[
    str | None, typer.Option("--max-leverage", metavar="X", help="Cap on gross exposure, sum of |weights| [1].")
]
FeeRateOpt = Annotated[str | None, typer.Option("--fee-rate", metavar="FRACTION", help="Perp taker fee [0.00045].")]
LeverageOpt = Annotated[
    int | None, typer.Option("--leverage", metavar="N", help="Leverage to set on traded perps [unset].")
]


def _err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _fail(error: HlrebalError, json_mode: bool) -> NoReturn:
    from hlrebal.render import error_json

    code = int(error.exit_code)
    if json_mode:
        sys.stdout.write(json.dumps(error_json(error.kind, error.message, code, error.hint), indent=2) + "\n")
    from rich.markup import escape

    _err_console().print(f"[bold red]error:[/] {escape(error.message)}", markup=True, highlight=False)
    if error.hint:
        _err_console().print(f"hint: {error.hint}", markup=False)
    raise typer.Exit(code)


def _guarded(json_mode: bool, body: Callable[[], T]) -> T:
    """Run a command body, mapping domain errors to messages and exit codes."""
    from hlrebal.errors import ExitCode, HlrebalError, Interrupted

    try:
        return body()
    except HlrebalError as e:
        _fail(e, json_mode)
    except KeyboardInterrupt:
        _fail(Interrupted("interrupted"), json_mode)
    except typer.Exit:
        raise
    except Exception as e:  # the CLI is the one place that catches everything: no traceback, exit 1
        if os.environ.get("HLREBAL_DEBUG"):
            raise
        err = HlrebalError(
            f"internal error: {type(e).__name__}: {e}",
            hint="this is a bug in hlrebal; rerun with HLREBAL_DEBUG=1 for a traceback and report it",
        )
        err.exit_code = ExitCode.INTERNAL
        _fail(err, json_mode)


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


#: command parameters that are settings, and the setting each one sets
_FLAG_SETTINGS = {
    **{
        key: key
        for key in (
            "band",
            "band_relative",
            "trade_to",
            "untargeted",
            "min_trade_value",
            "slippage",
            "max_leverage",
            "fee_rate",
            "leverage",
            "max_turnover",
            "max_order_value",
            "max_price_deviation",
            "max_slippage",
            "slippage_step",
            "max_rounds",
            "max_snapshot_age",
            "network",
            "api_url",
            "vault",
        )
    },
    "address": "account_address",
}


def _flags_from(params: dict[str, Any]) -> dict[str, Any]:
    """The settings a command's parameters set (those the user gave), by setting name."""
    return {setting: params[name] for name, setting in _FLAG_SETTINGS.items() if params.get(name) is not None}


def _resolve(
    *,
    flags: dict[str, Any],
    targets: Targets | None,
    config: Path | None,
    profile: str | None,
) -> Resolved:
    from hlrebal.config import resolve

    return resolve(
        flags=flags,
        target_policy=targets.policy if targets is not None else None,
        config_path=config,
        profile=profile,
    )


def _load_targets(path: Path | None, config: Path | None, profile: str | None) -> Targets:
    from hlrebal.errors import BadInputError
    from hlrebal.targets import load_targets

    if path is None:
        resolved = _resolve(flags={}, targets=None, config=config, profile=profile)
        if resolved.settings.targets is None:
            raise BadInputError(
                "no target file given",
                hint="pass TARGETS (e.g. sample_targets/balanced.json) or set `targets` in the configuration",
            )
        path = resolved.settings.targets
    return load_targets(path)


class _StopFlag:
    """Ctrl-C and SIGTERM during execution: remember them, stop before the next request."""

    def __init__(self) -> None:
        self.raised = False
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.raised

    def _handle(self, signum: int, frame: Any) -> None:
        self.raised = True
        _err_console().print("stopping before the next request (signal received)", markup=False)

    def __enter__(self) -> _StopFlag:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """At a prompt Ctrl-C must leave at once (nothing is in flight), not wait for an answer."""
        import signal

        if not self._previous:
            yield
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, self._handle)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _confirm(question: str) -> bool:
    from rich.prompt import Confirm

    return Confirm.ask(question, console=_err_console(), default=False)


class _CliRun:
    """The CLI's side of a run: stderr progress (live on a terminal), prompts, --quiet, --log-file."""

    def __init__(self, *, quiet: bool, json_out: bool, log_file: Path | None, network: str = "") -> None:
        self.quiet = quiet
        self.json_out = json_out
        self.err = _err_console()
        self.network = network
        self.stop = _StopFlag()
        self._log = None
        self._status: Any = None
        self.live = False
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._log = os.fdopen(fd, "a", encoding="utf-8")

    def log(self, message: str) -> None:
        if self._log is not None:
            import datetime as dt

            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._log.write(f"{stamp} {message}\n")
            self._log.flush()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def notice(self, message: str) -> None:
        self.log(message)
        if not self.quiet:
            self.err.print(message, markup=False, highlight=False)

    def progress(self, message: str) -> None:
        self.log(message)
        if self.quiet:
            return
        # The spinner starts with the first order-side progress, after any prompt has been answered.
        if self._status is None and self.live:
            self._status = self.err.status(message)
            self._status.start()
        if self._status is not None:
            self._status.update(message)
        self.err.print(("  " if self._status is not None else "") + message, markup=False, highlight=False)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def show_plan(self, plan: Any) -> None:
        from hlrebal import render

        self.log(f"plan: {len(plan.trades)} trade(s), turnover {plan.summary.turnover * 100:.2f}%")
        if self.json_out or (self.quiet and plan.is_empty):
            return
        _out_console().print(render.plan_renderable(plan))

    def confirm(self, plan: Any) -> bool:
        with self.stop.suspended():
            return _confirm(f"Place these {len(plan.trades)} order(s) on {self.network}?")

    def reconfirm(self, plan: Any, why: str) -> bool:
        from hlrebal import render

        self._stop_status()
        self.err.print(f"the plan changed since you confirmed it: {why}", markup=False)
        self.err.print(render.plan_renderable(plan))
        with self.stop.suspended():
            return _confirm("Place the new plan?")

    def should_stop(self) -> bool:
        return self.stop()


def _execute_flow(
    *,
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
) -> None:
    """Plan, confirm, execute, verify: shared by `execute` and `plan --execute`."""
    from hlrebal import render
    from hlrebal.errors import BadInputError, ExitCode, GuardError, HlrebalError
    from hlrebal.runner import default_journal, execute_run, record_failed_run
    from hlrebal.session import connect

    if snapshot is not None:
        raise BadInputError("a saved snapshot is never traded on: --execute cannot be used with --snapshot")
    # Settings first (they name the log file and the journal), then the targets: a run that fails
    # on either still leaves its outcome in the log and the journal.
    base = _resolve(flags=flags, targets=None, config=config, profile=profile)
    ui = _CliRun(quiet=quiet, json_out=json_out, log_file=log_file or base.settings.log_file)
    journal_file = journal_path or default_journal(base)
    tg = None
    try:
        tg = _load_targets(targets, config, profile)
        resolved = _resolve(flags=flags, targets=tg, config=config, profile=profile)
        if not yes and not _interactive():
            raise GuardError(
                "no confirmation: not running in a terminal and --yes was not given; no order was sent",
                hint="add --yes for unattended runs (cron), after checking the plan with `hlrebal plan`",
            )
        with connect(resolved, demo=demo, key_file=key_file, need_signer=True) as conn:
            ui.network = conn.network_label
            ui.log(f"run: targets {tg.source} (sha256 {tg.sha256[:12]}), account {conn.user}")
            with ui.stop, _live_status(ui):
                result = execute_run(
                    conn,
                    tg,
                    resolved,
                    ui,
                    journal_file=journal_file,
                    assume_yes=yes,
                    cancel_open_orders=cancel_open_orders,
                )
        report = result.report
        ui.log(f"{report.outcome}: {report.message} (exit {int(report.exit_code)})")
        for warning in report.warnings:
            ui.log(f"warning: {warning}")
        if json_out:
            _print_json(render.execution_json(report, result.confirmed))
        elif not (quiet and not report.orders and report.exit_code == ExitCode.OK):
            _out_console().print(render.execution_renderable(report))
        if report.exit_code != ExitCode.OK:
            raise typer.Exit(int(report.exit_code))
    except HlrebalError as e:
        ui.log(f"error (exit {int(e.exit_code)}): {e.message}")
        record_failed_run(
            journal_file,
            e,
            targets=tg.source if tg is not None else (str(targets) if targets else None),
            account=base.settings.vault or base.settings.account_address,
        )
        raise
    except KeyboardInterrupt:
        ui.log("interrupted (exit 130)")
        raise
    finally:
        ui.close()


@contextmanager
def _live_status(ui: _CliRun) -> Iterator[None]:
    """A spinner on stderr while orders are in flight, only on a terminal and never with --quiet."""
    ui.live = not ui.quiet and ui.err.is_terminal
    try:
        yield
    finally:
        ui.live = False
        ui._stop_status()


# --------------------------------------------------------------------------- commands


@app.command()
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
    flags = _flags_from(locals())

    def body() -> None:
        from hlrebal import planner, render
        from hlrebal.session import connect

        if execute:
            _execute_flow(
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
        tg = _load_targets(targets, config, profile)
        resolved = _resolve(flags=flags, targets=tg, config=config, profile=profile)
        with connect(resolved, snapshot_file=snapshot, demo=demo, key_file=key_file) as conn:
            snap = conn.read(spot=tg.mentions_spot, dexes=tg.dexes)
        planner.check_targets(snap, tg, resolved.policy)
        result = planner.plan(snap, tg, resolved.policy)
        if json_out:
            _print_json(render.plan_json(result))
        elif not (quiet and result.is_empty):
            _out_console().print(render.plan_renderable(result))

    _guarded(json_out, body)


@app.command("execute")
def execute_cmd(
    targets: TargetsArg = None,
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
    """Plan, confirm (or --yes), place the orders, read the account back and report how close it got."""
    flags = _flags_from(locals())
    _guarded(
        json_out,
        lambda: _execute_flow(
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
        ),
    )


@app.command("journal")
def journal_cmd(
    last: Annotated[int, typer.Option("--last", help="How many recent runs to show.")] = 10,
    json_out: JsonOpt = False,
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Show recent runs from the journal: when, which account, orders sent and filled, outcome."""

    def body() -> None:
        from hlrebal import render
        from hlrebal.config import state_dir
        from hlrebal.journal import summarize_runs

        resolved = _resolve(flags={}, targets=None, config=config, profile=profile)
        path = journal or resolved.settings.journal or (state_dir() / "journal.jsonl")
        runs = summarize_runs(path, last)
        if json_out:
            _print_json({"version": 1, "kind": "journal", "path": str(path), "runs": runs})
        else:
            _out_console().print(render.journal_renderable(path, runs))

    _guarded(json_out, body)


@app.command()
def account(
    snapshot: SnapshotOpt = None,
    demo: DemoOpt = False,
    json_out: JsonOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Show the account: equity, positions with leverage and weights, open orders."""

    def body() -> None:
        from hlrebal import render
        from hlrebal.session import connect

        flags = {"network": network, "api_url": api_url, "account_address": address, "vault": vault}
        resolved = _resolve(flags=flags, targets=None, config=config, profile=profile)
        with connect(resolved, snapshot_file=snapshot, demo=demo) as conn:
            snap = conn.read()
        if json_out:
            _print_json(render.account_json(snap))
        else:
            _out_console().print(render.account_renderable(snap))

    _guarded(json_out, body)


@app.command("snapshot")
def snapshot_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write the snapshot to.")],
    demo: DemoOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Save the account and market as a snapshot file, so `plan --snapshot FILE` replays it offline."""

    def body() -> None:
        from hlrebal.session import connect
        from hlrebal.snapshot import save_snapshot

        flags = {"network": network, "api_url": api_url, "account_address": address, "vault": vault}
        resolved = _resolve(flags=flags, targets=None, config=config, profile=profile)
        with connect(resolved, demo=demo) as conn:
            snap = conn.read()
        save_snapshot(snap, output)
        _err_console().print(
            f"saved snapshot of {snap.user} ({snap.network}, {len(snap.positions)} position(s)) to {output}",
            markup=False,
        )

    _guarded(False, body)


config_app = typer.Typer(help="The configuration file and the effective settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Print the effective settings and where each comes from (secrets redacted)."""

    def body() -> None:
        from hlrebal import render

        resolved = _resolve(flags={}, targets=None, config=config, profile=profile)
        doc = render.settings_json(resolved, private_key_set=bool(os.environ.get("HLREBAL_PRIVATE_KEY")))
        if json_out:
            _print_json(doc)
        else:
            _out_console().print(render.settings_renderable(doc))

    _guarded(json_out, body)


@config_app.command("init")
def config_init(
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration template (mode 0600) to the default path or --config."""

    def body() -> None:
        from hlrebal.config import CONFIG_TEMPLATE, default_config_path
        from hlrebal.errors import ConfigError

        path = (config or default_config_path()).expanduser()
        if path.exists() and not force:
            raise ConfigError(f"{path} already exists", hint="edit it, or pass --force to overwrite it")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(CONFIG_TEMPLATE)
        os.replace(tmp, path)
        os.chmod(path, 0o600)
        _err_console().print(f"wrote {path} (mode 0600)", markup=False)

    _guarded(False, body)


demo_app = typer.Typer(help="The built-in demo paper account.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("reset")
def demo_reset() -> None:
    """Start the demo account over from the bundled snapshot (forgets its state and key)."""
    from hlrebal.demo import reset_demo

    existed = reset_demo()
    _err_console().print("demo account reset" if existed else "the demo account had no state yet", markup=False)


sim_app = typer.Typer(help="The local Hyperliquid-compatible exchange.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")


@sim_app.command("serve")
def sim_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3001,
    snapshot: Annotated[Path | None, typer.Option(help="Snapshot file seeding the market and its account.")] = None,
    state: Annotated[Path | None, typer.Option(help="State file: loaded if it exists, saved as it changes.")] = None,
    fund: Annotated[
        list[str] | None,
        typer.Option(help="Give an address perp USDC to trade with, as ADDRESS:USDC (repeatable)."),
    ] = None,
) -> None:
    """Run the simulator until Ctrl-C; point hlrebal at it with --api-url http://HOST:PORT."""
    from decimal import Decimal, InvalidOperation

    from hlrebal.errors import BadInputError
    from hlrebal.sim.serve import serve

    funding = []
    for item in fund or []:
        address, _, amount = item.partition(":")
        try:
            value = Decimal(amount)
        except InvalidOperation:
            value = Decimal(-1)
        if not (address.startswith("0x") and len(address) == 42) or not value.is_finite() or value <= 0:
            _fail(BadInputError(f"--fund {item!r}: expected ADDRESS:USDC, e.g. 0xabc…:10000"), False)
        funding.append((address.lower(), value))

    _err_console().print(
        f"hlrebal sim on http://{host}:{port} (Ctrl-C to stop); use: hlrebal plan TARGETS "
        f"--api-url http://{host}:{port} --address 0x…",
        markup=False,
    )
    try:
        serve(host=host, port=port, snapshot=snapshot, state=state, fund=funding)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def schema() -> None:
    """Print the JSON Schema of a target file."""
    from hlrebal.targets import schema as target_schema

    sys.stdout.write(json.dumps(target_schema(), indent=2) + "\n")


def _version_callback(value: bool) -> None:
    if value:
        from hlrebal import __version__

        sys.stdout.write(f"hlrebal {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """hlrebal: deterministic portfolio rebalancing for Hyperliquid."""


def main() -> None:
    """Console-script entry point.

    With ``--json`` anywhere on the command line, usage errors (an unknown option, a value of the
    wrong type) are JSON documents on stdout too, with the same exit code (2).
    """
    if "--json" not in sys.argv[1:]:
        app()
        return
    try:
        result = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as e:
        from hlrebal.render import error_json

        code = int(getattr(e, "exit_code", 2))
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        sys.stdout.write(json.dumps(error_json("usage", message, code), indent=2) + "\n")
        sys.stderr.write(f"error: {message}\n")
        sys.exit(code)
    sys.exit(result if isinstance(result, int) else 0)
