"""The configuration file ``hlrebal config init`` writes."""

from __future__ import annotations

CONFIG_TEMPLATE = """\
# hlrebal configuration. Precedence: flag > target file policy > environment (HLREBAL_*) > profile > this file.
# Unknown keys are errors. Keep this file private (mode 0600): it may name your key file.

# network = "mainnet"            # or "testnet"; or api_url = "http://127.0.0.1:3001" for a local sim
# account_address = "0x..."      # the account (master, sub-account or vault) whose state is read
# key_file = "~/.config/hlrebal/agent.key"   # the signing key (an API wallet is best); mode 0600
# key_env = "MY_HL_KEY"          # or: the name of an environment variable holding the key
# targets = "targets.json"       # relative paths are resolved against this file's folder
# journal = "~/hlrebal-journal.jsonl"
# log_file = "~/hlrebal.log"

[policy]
# band = 0.05                    # absolute weight drift that triggers a trade
# band_relative = 0.25           # threshold = min(band, band_relative x |target|); "off": band alone
# trade_to = "target"            # or "edge": trade back only to the band's edge
# untargeted = "close"           # or "keep": perp positions absent from the targets
# min_trade_value = 10
# slippage = 0.005
# max_leverage = 1.0             # safety limits: only here, in the environment or as flags
# max_turnover = 1.0
# max_price_deviation = 0.02
# max_slippage = 0.02
# max_rounds = 3

[execution]
# style = "taker"                # "maker": post-only at the touch first; "twap": slices over time
# requote_seconds = 5            # maker: how often resting orders follow the touch
# patience = 120                 # maker: seconds a phase rests before taker rounds finish it
# twap_minutes = 30              # twap: duration of each native TWAP order (5 or more)

# [profiles.testnet]
# network = "testnet"
# account_address = "0x..."
# key_file = "~/.config/hlrebal/testnet.key"
# [profiles.testnet.policy]
# band = 0.02
"""
