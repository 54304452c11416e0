"""The options commands share, declared once, and the table of which of them are settings.

A new shared flag (``--style``, ``--plan FILE``) is declared here as an ``Annotated`` type and, if it
sets a setting, named in :data:`FLAG_SETTINGS`; the commands then take it as a parameter. Nothing but
Typer is imported: every command module imports this one at start-up.
"""

# No `from __future__ import annotations`: Typer reads the parameters' types at every start, and
# evaluating them from strings (a compile and an eval each) costs about 1 ms a run.
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer


def _choices(*values: str) -> Callable[[str], list[str]]:
    """Shell completion for an option whose values are words (validated by the configuration)."""

    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return complete


TargetsArg = Annotated[
    Path | None,
    typer.Argument(
        help="Target-allocation or direct-actions JSON file; - reads standard input (default: the "
        "configuration's `targets`).",
        show_default=False,
    ),
]
ExtractJsonOpt = Annotated[
    bool,
    typer.Option(
        "--extract-json",
        help="TARGETS is an LLM's free-text answer: use the one JSON object in it (fenced or bare).",
    ),
]
SnapshotOpt = Annotated[
    Path | None,
    typer.Option("--snapshot", help="Use a saved snapshot file (`hlrebal snapshot`) instead of the live account."),
]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the built-in demo paper account (no keys, no network).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
NetworkOpt = Annotated[
    str | None,
    typer.Option(
        "--network",
        metavar="mainnet|testnet",
        help="mainnet or testnet (default mainnet).",
        show_default=False,
        autocompletion=_choices("mainnet", "testnet"),
    ),
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
    typer.Option(
        "--band-relative",
        metavar="FRACTION|off",
        help="Threshold = min(band, this x |target|); off: the band alone [0.25].",
        autocompletion=_choices("0.25", "off"),
    ),
]
TradeToOpt = Annotated[
    str | None,
    typer.Option(
        "--trade-to",
        metavar="target|edge",
        help="Trade to the target or the band edge [target].",
        autocompletion=_choices("target", "edge"),
    ),
]
UntargetedOpt = Annotated[
    str | None,
    typer.Option(
        "--untargeted",
        metavar="close|keep",
        help="Perp positions absent from the targets [close].",
        autocompletion=_choices("close", "keep"),
    ),
]
UntargetedSpotOpt = Annotated[
    str | None,
    typer.Option(
        "--untargeted-spot",
        metavar="keep|close",
        help="Spot tokens absent from the targets [keep].",
        autocompletion=_choices("keep", "close"),
    ),
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

StyleOpt = Annotated[
    str | None,
    typer.Option(
        "--style",
        metavar="taker|maker|twap",
        help="How orders are placed: taker (IOC sweeps), maker (post-only at the touch first), twap [taker].",
        autocompletion=_choices("taker", "maker", "twap"),
    ),
]
RequoteOpt = Annotated[
    str | None,
    typer.Option("--requote-seconds", metavar="SECONDS", help="maker: how often resting orders follow the touch [5]."),
]
PatienceOpt = Annotated[
    str | None,
    typer.Option("--patience", metavar="SECONDS", help="maker: seconds a phase rests before taker rounds [120]."),
]
TwapMinutesOpt = Annotated[
    int | None, typer.Option("--twap-minutes", metavar="N", help="twap: duration of each TWAP order [30].")
]

MaxPriceMoveOpt = Annotated[
    str | None,
    typer.Option(
        "--max-price-move",
        metavar="FRACTION",
        help="With --plan: refuse when a traded coin's price moved more than this since the plan [0.01].",
    ),
]
MaxPlanAgeOpt = Annotated[
    str | None,
    typer.Option("--max-plan-age", metavar="SECONDS", help="With --plan: refuse a plan older than this [600]."),
]


#: command parameters that are settings, and the setting each one sets
FLAG_SETTINGS = {
    **{
        key: key
        for key in (
            "band",
            "band_relative",
            "trade_to",
            "untargeted",
            "untargeted_spot",
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
            "style",
            "requote_seconds",
            "patience",
            "twap_minutes",
            "network",
            "api_url",
            "vault",
        )
    },
    "address": "account_address",
}


def flags_from(params: dict[str, Any]) -> dict[str, Any]:
    """The settings a command's parameters set (those the user gave), by setting name."""
    return {setting: params[name] for name, setting in FLAG_SETTINGS.items() if params.get(name) is not None}
