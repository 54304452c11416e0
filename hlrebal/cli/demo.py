"""The paper exchanges: ``hlrebal demo`` (the built-in demo account) and ``hlrebal sim`` (the local
Hyperliquid-compatible exchange, served over HTTP)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

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
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3001,
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
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


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
