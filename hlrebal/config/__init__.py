"""Settings from flags, the environment, a TOML configuration file and its profiles.

Precedence, highest first::

    command-line flag > target file policy (planning preferences only) > environment (HLREBAL_*)
      > profile ([profiles.NAME]) > configuration file (top level) > built-in default

Every layer is validated on its own, so an error names the flag, the variable or the file and key it
came from. Unknown keys and unknown ``HLREBAL_*`` variables are errors, never ignored: a misspelt
setting that is silently dropped is how a cron job silently does the wrong thing.

The room: :mod:`~hlrebal.config.settings` (the resolved model and the endpoints),
:mod:`~hlrebal.config.paths` (where files live), :mod:`~hlrebal.config.layers` (the file, its
profiles and the environment, each checked), :mod:`~hlrebal.config.merge` (the merge: `resolve`) and
:mod:`~hlrebal.config.template` (what ``config init`` writes).
"""

from typing import Any

from hlrebal.config.merge import resolve
from hlrebal.config.paths import config_dir, data_dir, default_config_path, home, state_dir
from hlrebal.config.settings import (
    APP_NAME,
    CONNECTION_KEYS,
    CONTROL_ENV,
    ENV_PREFIX,
    MAINNET_URL,
    TESTNET_URL,
    Resolved,
    Settings,
)


def __getattr__(name: str) -> Any:
    # What `config init` writes, imported only by it.
    if name == "CONFIG_TEMPLATE":
        from hlrebal.config.template import CONFIG_TEMPLATE

        return CONFIG_TEMPLATE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APP_NAME",
    "CONFIG_TEMPLATE",
    "CONNECTION_KEYS",
    "CONTROL_ENV",
    "ENV_PREFIX",
    "MAINNET_URL",
    "TESTNET_URL",
    "Resolved",
    "Settings",
    "config_dir",
    "data_dir",
    "default_config_path",
    "home",
    "resolve",
    "state_dir",
]
