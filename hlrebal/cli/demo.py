"""The paper exchanges: ``hlrebal demo`` (the built-in demo account) and ``hlrebal sim`` (the local
Hyperliquid-compatible exchange, served over HTTP)."""

from __future__ import annotations

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
            fail(BadInputError(f"--fund {item!r}: expected ADDRESS:USDC, e.g. 0xabc…:10000"), False)
        funding.append((address.lower(), value))

    err_console().print(
        f"hlrebal sim on http://{host}:{port} (Ctrl-C to stop); use: hlrebal plan TARGETS "
        f"--api-url http://{host}:{port} --address 0x…",
        markup=False,
    )
    try:
        serve(host=host, port=port, snapshot=snapshot, state=state, fund=funding)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
