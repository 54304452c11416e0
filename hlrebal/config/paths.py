"""Where hlrebal keeps its files: configuration, data (keys, the demo) and state (journal, locks)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hlrebal.config.settings import APP_NAME


def home(env: Mapping[str, str] | None = None) -> Path | None:
    """``HLREBAL_HOME``: one folder for config, data and state (tests and portable installs)."""
    value = (os.environ if env is None else env).get("HLREBAL_HOME")
    return Path(value).expanduser() if value else None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    h = home(env)
    if h is not None:
        return h / "config"
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    h = home()
    if h is not None:
        return h / "data"
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def state_dir() -> Path:
    h = home()
    if h is not None:
        return h / "state"
    from platformdirs import user_state_path

    return user_state_path(APP_NAME)


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "config.toml"
