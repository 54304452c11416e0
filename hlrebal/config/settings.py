"""The resolved settings: the connection model, what resolution returns, and the endpoints."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from hlrebal.execution_settings import ExecutionSettings
from hlrebal.policy import Policy
from hlrebal.validation import Checked, setting
from hlrebal.values import Value, value_class
from hlrebal.values import field as value_field

APP_NAME = "hlrebal"


ENV_PREFIX = "HLREBAL_"


MAINNET_URL = "https://api.hyperliquid.xyz"


TESTNET_URL = "https://api.hyperliquid-testnet.xyz"


_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


#: connection and file settings (not policy); each may appear in the file, a profile or HLREBAL_<KEY>
CONNECTION_KEYS: tuple[str, ...] = (
    "network",
    "api_url",
    "account_address",
    "vault",
    "key_file",
    "key_env",
    "targets",
    "journal",
    "log_file",
)


#: environment variables that are not settings of a layer but steer the resolution itself
CONTROL_ENV = frozenset({"HLREBAL_CONFIG", "HLREBAL_PROFILE", "HLREBAL_HOME", "HLREBAL_PRIVATE_KEY", "HLREBAL_DEBUG"})


@value_class
class Settings(Checked):
    """Where to connect and whose account: the resolved, validated connection settings.

    A checked value (:mod:`hlrebal.validation`): the layers (file, profile, environment, target file, flags) are merged
    by :func:`resolve`, which also remembers where each value came from; pydantic-settings has no
    place for the target file's layer between the environment and the flags, nor for per-value
    sources, and importing it cost every command about 0.1 s.
    """

    network: Literal["mainnet", "testnet"] = setting("mainnet")
    api_url: str | None = setting(None)
    account_address: str | None = setting(None)
    vault: str | None = setting(None)
    key_file: Path | None = setting(None)
    key_env: str | None = setting(None)
    targets: Path | None = setting(None)
    journal: Path | None = setting(None)
    log_file: Path | None = setting(None)


@value_class
class Resolved(Value):
    """The outcome of resolution: settings, policy, and where each value came from."""

    settings: Settings
    policy: Policy
    sources: dict[str, str] = value_field(default_factory=dict)
    config_path: Path | None = None
    profile: str | None = None
    execution: ExecutionSettings = value_field(default_factory=ExecutionSettings)
    """How the plan is traded: the style and its timers (``[execution]``, ``HLREBAL_STYLE``, ...)."""

    @property
    def base_url(self) -> str:
        """The API base URL (no trailing slash: the SDK signs as mainnet only for the exact URL)."""
        if self.settings.api_url:
            return self.settings.api_url.rstrip("/")
        return TESTNET_URL if self.settings.network == "testnet" else MAINNET_URL

    @property
    def network_label(self) -> str:
        if self.settings.api_url:
            url = self.base_url
            if url == MAINNET_URL:
                return "mainnet"
            if url == TESTNET_URL:
                return "testnet"
            return "custom"
        return self.settings.network
