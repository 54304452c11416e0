"""The paper exchanges: ``hlrebal demo`` (the built-in demo account) and ``hlrebal sim`` (the local
Hyperliquid-compatible exchange, served over HTTP)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hlrebal.errors import BadInputError

from hlrebal.cli.common import err_console, fail

demo_app = typer.Typer(help="The built-in demo paper account.", no_args_is_help=True)


@demo_app.command("reset")
def demo_reset() -> None:
    """Start the demo account over from the bundled snapshot (forgets its state and key)."""
    from hlrebal.demo import reset_demo

    existed = reset_demo()
    err_console().print("demo account reset" if existed else "the demo account had no state yet", markup=False)


sim_app = typer.Typer(help="The local Hyperliquid-compatible exchange.", no_args_is_help=True)


@sim_app.command("serve")
def sim_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 3001,
    snapshot: Annotated[Path | None, typer.Option(help="Snapshot file seeding the market and its account.")] = None,
    state: Annotated[Path | None, typer.Option(help="State file: loaded if it exists, saved as it changes.")] = None,
    fund: Annotated[
        list[str] | None,
        typer.Option(help="Give an address perp USDC to trade with, as ADDRESS:USDC (repeatable)."),
    ] = None,
    demo_key: Annotated[
        Path | None,
        typer.Option(help="Serve the demo account, owned by a throwaway key kept in this file (made if missing)."),
    ] = None,
    market_flow: Annotated[
        bool, typer.Option("--market-flow", help="Moving prices and anonymous takers instead of fixed books.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the market flow and the synthetic history.")] = 0,
    twap_slice_seconds: Annotated[
        float, typer.Option(min=0.001, help="Seconds between two TWAP sub-orders (the exchange: 30).")
    ] = 30.0,
    history: Annotated[
        Path | None,
        typer.Option(help="History file (hlrebal history fetch): candles and funding served, prices replayed."),
    ] = None,
    history_speed: Annotated[
        float, typer.Option(min=0.001, help="History seconds replayed per second (60: an hourly candle a minute).")
    ] = 1.0,
) -> None:
    """Run the simulator until Ctrl-C; point hlrebal at it with --api-url http://HOST:PORT."""
    from hlrebal.errors import BadInputError
    from hlrebal.sim import SimConfig
    from hlrebal.sim.config import FlowConfig
    from hlrebal.sim.history_file import HistoryError
    from hlrebal.sim.serve import serve

    funding = [_fund_option(item) for item in fund or []]
    config = SimConfig(
        funding=True,
        flow=FlowConfig(seed=seed) if market_flow else None,
        twap_slice_seconds=twap_slice_seconds,
        history=str(history) if history is not None else None,
        history_seed=seed,
        history_speed=history_speed,
    )

    def announce(lines: list[str]) -> None:
        for line in lines:
            err_console().print(line, markup=False)

    from hlrebal.errors import HlrebalError

    try:
        _check_seed_files(snapshot, state)
    except HlrebalError as e:
        fail(e, False)
    try:
        serve(
            host=host,
            port=port,
            snapshot=snapshot,
            state=state,
            config=config,
            fund=funding,
            key_file=demo_key,
            announce=announce,
        )
    except HistoryError as e:
        fail(BadInputError(f"--history {history}: {e}"), False)
    except OSError as e:
        fail(_listen_error(e, host, port), False)
    except (ValueError, KeyError, TypeError, ArithmeticError) as e:
        # A state or snapshot file whose JSON is fine but whose content the sim cannot seed from.
        what = f"--state {state}" if state is not None and state.exists() else f"--snapshot {snapshot}"
        fail(BadInputError(f"{what}: the simulator cannot start from it ({type(e).__name__}: {e})"), False)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _check_seed_files(snapshot: Path | None, state: Path | None) -> None:
    """The snapshot must be one hlrebal reads, and an existing state file a JSON object: checked
    before anything listens, so that nothing is announced that then fails."""
    from hlrebal.errors import BadInputError
    from hlrebal.inputs import DOCUMENT_LIMIT, decode_text, loads, read_limited

    if snapshot is not None:
        from hlrebal.snapshot import load_snapshot

        load_snapshot(snapshot)  # SnapshotError (exit 2) names the file and the problem
    if state is not None and state.exists():
        source = f"--state {state}"
        doc = loads(
            decode_text(
                read_limited(state, what="state file", limit=DOCUMENT_LIMIT, error=BadInputError), source, BadInputError
            ),
            source,
            BadInputError,
        )
        if not isinstance(doc, dict):
            raise BadInputError(f"{source}: not a simulator state file (a JSON object)")


def _listen_error(e: OSError, host: str, port: int) -> BadInputError:
    """Why the simulator could not listen, said as what to do."""
    import errno
    import socket

    from hlrebal.errors import BadInputError

    if e.errno == errno.EADDRINUSE:
        return BadInputError(f"port {port} on {host} is already in use", hint="pick another with --port")
    if e.errno == errno.EACCES:
        return BadInputError(f"not allowed to listen on {host}:{port}", hint="use a port above 1023")
    if e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(e, socket.gaierror):
        return BadInputError(f"cannot listen on {host!r}: no such local address", hint="use --host 127.0.0.1")
    return BadInputError(f"cannot listen on {host}:{port}: {e.strerror or e}")


def _fund_option(item: str) -> tuple[str, Decimal]:
    """ADDRESS:USDC from --fund (exit 2 when it is not)."""
    from hlrebal.errors import BadInputError

    address, _, amount = item.partition(":")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        value = Decimal(-1)
    if not (address.startswith("0x") and len(address) == 42) or not value.is_finite() or value <= 0:
        fail(BadInputError(f"--fund {item!r}: expected ADDRESS:USDC, e.g. 0xabc…:10000"), False)
    return address.lower(), value
