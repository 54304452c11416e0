"""A local Hyperliquid-compatible exchange for tests, the demo and rehearsals.

``with Simulator(snapshot=...) as sim:`` serves /info and /exchange on 127.0.0.1 so that the
unmodified hyperliquid-python-sdk can read accounts and place signed orders against it. See
hlrebal/sim/README.md for the model and its limits. Importing this package imports neither the
SDK nor eth_account: signatures are checked with lazily imported SDK helpers.
"""

from hlrebal.sim.clock import ManualClock
from hlrebal.sim.config import BookConfig, DexConfig, FlowConfig, SimConfig
from hlrebal.sim.simulator import Simulator

__all__ = ["BookConfig", "DexConfig", "FlowConfig", "ManualClock", "SimConfig", "Simulator"]
