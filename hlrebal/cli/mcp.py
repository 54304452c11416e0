"""``hlrebal mcp``: serve hlrebal's tools to an LLM client over stdio (needs ``hlrebal[mcp]``).

Nothing is imported at module level beyond Typer and the shared options: the MCP SDK, the
server and the library load only when the server starts.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hlrebal.cli.common import approval_limits, err_console, guarded
from hlrebal.cli.options import (
    AddressOpt,
    ApiUrlOpt,
    ConfigOpt,
    DemoOpt,
    FeeRateOpt,
    JournalOpt,
    KeyFileOpt,
    MaxAgeOpt,
    MaxDevOpt,
    MaxLevOpt,
    MaxOrderOpt,
    MaxPlanAgeOpt,
    MaxPriceMoveOpt,
    MaxRoundsOpt,
    MaxSlipOpt,
    MaxTurnoverOpt,
    NetworkOpt,
    ProfileOpt,
    SlipStepOpt,
    VaultOpt,
    flags_from,
)


def mcp_cmd(
    allow_execute: Annotated[
        bool,
        typer.Option("--allow-execute", help="Let the execute_plan tool place orders (off: read and plan only)."),
    ] = False,
    demo: DemoOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    key_file: KeyFileOpt = None,
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    max_price_move: MaxPriceMoveOpt = None,
    max_plan_age: MaxPlanAgeOpt = None,
    max_leverage: MaxLevOpt = None,
    fee_rate: FeeRateOpt = None,
    max_turnover: MaxTurnoverOpt = None,
    max_order_value: MaxOrderOpt = None,
    max_price_deviation: MaxDevOpt = None,
    max_slippage: MaxSlipOpt = None,
    slippage_step: SlipStepOpt = None,
    max_rounds: MaxRoundsOpt = None,
    max_snapshot_age: MaxAgeOpt = None,
) -> None:
    """Serve the account, schema, plan, execute_plan and journal tools over stdio (MCP)."""
    flags = flags_from(locals())

    def body() -> None:
        from importlib.util import find_spec

        from hlrebal.errors import BadInputError

        if find_spec("mcp") is None:
            raise BadInputError(
                "the MCP server needs the mcp package, which is not installed",
                hint="pip install 'hlrebal[mcp]'",
            )
        from hlrebal.mcp.desk import Desk
        from hlrebal.mcp.server import serve

        limits = approval_limits(max_price_move, max_plan_age)
        desk = Desk(
            flags=flags,
            demo=demo,
            key_file=key_file,
            config=config,
            profile=profile,
            journal=journal,
            allow_execute=allow_execute,
            max_price_move=limits.max_price_move,
            max_plan_age=limits.max_plan_age,
        )
        settings = desk.settings()  # a bad configuration is exit 2 now, not a tool error later
        where = "the demo account" if demo else f"{settings.network_label} ({settings.base_url})"
        mode = "execution allowed (execute_plan places orders)" if allow_execute else "read and plan only"
        err_console().print(f"hlrebal MCP server on stdio: {where}; {mode}", markup=False)
        serve(desk)

    guarded(False, body)
