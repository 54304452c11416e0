"""hlrebal: deterministic portfolio rebalancing for Hyperliquid.

Import nothing heavy here: ``hlrebal --help`` must stay fast, so the SDK, eth_account and the
simulator are imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
