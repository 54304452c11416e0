"""Resolution: every layer merged by precedence into validated settings, policy and execution
settings, with the source of every value."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hlrebal.config.layers import (
    _DEFAULT_POLICY,
    _DEFAULT_SETTINGS,
    Layer,
    _check_url,
    _env_layer,
    _load_toml,
    _split_layer,
)
from hlrebal.config.paths import default_config_path
from hlrebal.config.settings import _ADDRESS, CONNECTION_KEYS, Resolved, Settings
from hlrebal.errors import ConfigError
from hlrebal.execution_settings import EXECUTION_KEYS, ExecutionSettings
from hlrebal.policy import PLANNING_KEYS, POLICY_KEYS, Policy
from hlrebal.validation import Invalid


def resolve(
    *,
    flags: Mapping[str, Any] | None = None,
    target_policy: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    profile: str | None = None,
) -> Resolved:
    """Merge every layer into validated settings and policy, remembering each value's source.

    ``flags`` holds only the options the user actually gave (None values are ignored). Layers, lowest
    first: the file's top level, the profile, HLREBAL_* variables, the target file's policy block
    (planning keys only), the flags.
    """
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    explicit = config_path is not None or bool(env.get("HLREBAL_CONFIG"))
    path = config_path or (Path(env["HLREBAL_CONFIG"]) if env.get("HLREBAL_CONFIG") else default_config_path())
    path = path.expanduser()
    doc = _load_toml(path, explicit)
    file_conn, file_pol, file_exe = _split_layer(doc, f"{path} (top level)")
    profile_flag = profile is not None
    profile = profile or env.get("HLREBAL_PROFILE") or None
    prof_conn, prof_pol, prof_exe = _profile_layers(doc, path, profile)
    env_conn, env_pol, env_names, env_exe = _env_layer(env)
    if profile_flag:
        _check_profile_account(profile, prof_conn, env_conn, flags)
    flag_conn, flag_pol, flag_exe = _flag_layers(flags)

    sources: dict[str, str] = {}
    file_label, prof_label = f"file {path}", f"profile {profile}"
    merged_conn = _merge(
        ((file_conn, file_label), (prof_conn, prof_label), (env_conn, "env"), (flag_conn, "flag")),
        sources, env_names, "", endpoint=True,
    )  # fmt: skip
    planning = {k: v for k, v in (target_policy or {}).items() if k in PLANNING_KEYS}
    merged_pol = _merge(
        ((file_pol, file_label), (prof_pol, prof_label), (env_pol, "env"), (planning, "target file"),
         (flag_pol, "flag")),
        sources, env_names, "policy.",
    )  # fmt: skip
    merged_exe = _merge(
        ((file_exe, file_label), (prof_exe, prof_label), (env_exe, "env"), (flag_exe, "flag")),
        sources, env_names, "execution.",
    )  # fmt: skip
    _check_connection(merged_conn, sources, path)
    return Resolved(
        settings=_settings(merged_conn, sources),
        policy=_policy(merged_pol, sources),
        sources=sources,
        config_path=path,
        profile=profile,
        execution=_execution(merged_exe, sources),
    )


def _profile_layers(doc: Mapping[str, Any], path: Path, profile: str | None) -> tuple[Layer, Layer, Layer]:
    """The chosen profile's connection, policy and execution values (empty without one).

    Every profile is checked, not only the one in use: a mistake in the cron profile must show up
    when the file is edited and tried, not at 3 a.m.
    """
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: profiles: must be tables like [profiles.NAME]")
    checked: dict[str, tuple[Layer, Layer, Layer]] = {}
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: profiles.{name}: must be a table ([profiles.{name}])")
        checked[name] = _split_layer(table, f"{path} [profiles.{name}]")
    if not profile:
        return {}, {}, {}
    if profile not in profiles:
        if not path.exists():
            raise ConfigError(
                f"profile {profile!r} needs a configuration file, and there is none at {path}",
                hint=f"run `hlrebal config init` and add a [profiles.{profile}] table to it",
            )
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"profile {profile!r} is not defined in {path} (profiles there: {known})",
            hint=f"add a [profiles.{profile}] table to the configuration file",
        )
    return checked[profile]


def _check_profile_account(profile: str | None, prof_conn: Layer, env_conn: Layer, flags: Mapping[str, Any]) -> None:
    """``--profile X`` naming one account while HLREBAL_ACCOUNT_ADDRESS names another is a mistake
    to stop on, not to settle by precedence (unless ``--address`` decides)."""
    if (
        "account_address" in prof_conn
        and "account_address" in env_conn
        and str(prof_conn["account_address"]).lower() != str(env_conn["account_address"]).lower()
        and "account_address" not in flags
    ):
        raise ConfigError(
            f"--profile {profile} names account {prof_conn['account_address']} but HLREBAL_ACCOUNT_ADDRESS "
            f"is {env_conn['account_address']}",
            hint="unset HLREBAL_ACCOUNT_ADDRESS or pass --address explicitly",
        )


def _flag_layers(flags: Mapping[str, Any]) -> tuple[Layer, Layer, Layer]:
    """The flags the user gave, split into connection, policy and execution values."""
    unknown = set(flags) - set(CONNECTION_KEYS) - POLICY_KEYS - EXECUTION_KEYS
    if unknown:
        raise ConfigError(f"internal: unknown flag settings {sorted(unknown)}")
    if "network" in flags and "api_url" in flags:
        raise ConfigError("--network and --api-url were both given; use one of them")
    return (
        {k: v for k, v in flags.items() if k in CONNECTION_KEYS},
        {k: v for k, v in flags.items() if k in POLICY_KEYS},
        {k: v for k, v in flags.items() if k in EXECUTION_KEYS},
    )


def _merge(
    layers: Iterable[tuple[Layer, str]],
    sources: dict[str, str],
    env_names: Mapping[str, str],
    prefix: str,
    *,
    endpoint: bool = False,
) -> Layer:
    """Higher layers win key by key; ``sources`` learns where each value came from (``prefix`` +
    key). With ``endpoint``, network and api_url name one thing: a layer that sets one drops the
    other from every lower layer."""
    merged: Layer = {}
    for layer, label in layers:
        if endpoint:
            for one, other in (("network", "api_url"), ("api_url", "network")):
                if one in layer and other not in layer:
                    merged.pop(other, None)
                    sources.pop(other, None)
        for k, v in layer.items():
            merged[k] = v
            sources[prefix + k] = f"env {env_names[k]}" if label == "env" else label
    return merged


def _check_connection(merged: Layer, sources: Mapping[str, str], path: Path) -> None:
    """The endpoint's URL and the addresses checked; paths from the file made relative to it."""
    if merged.get("api_url"):
        merged["api_url"] = str(merged["api_url"]).rstrip("/")
        _check_url(merged["api_url"], sources.get("api_url", "flag"))
    for key in ("account_address", "vault"):
        value = merged.get(key)
        if value is not None and not _ADDRESS.match(str(value)):
            raise ConfigError(f"{key} from {sources[key]}: {value!r} is not a 0x-prefixed 40-hex-digit address")
    if merged.get("targets") and sources.get("targets", "").startswith(("file", "profile")):
        # Cron starts in $HOME: a relative targets path in the file means "next to the file".
        t = Path(str(merged["targets"])).expanduser()
        merged["targets"] = t if t.is_absolute() else (path.parent / t)
    for key in ("key_file", "journal", "log_file"):
        if merged.get(key):
            value = Path(str(merged[key])).expanduser()
            if not value.is_absolute() and sources.get(key, "").startswith(("file", "profile")):
                value = path.parent / value  # like targets: relative to the file, not to cron's $HOME
            merged[key] = value


def _settings(merged: Layer, sources: Mapping[str, str]) -> Settings:
    try:
        # Nothing set anywhere: the defaults need no validation (nor a validator built).
        return Settings(**merged) if merged else _DEFAULT_SETTINGS
    except Invalid as e:
        key = str(e.key)
        raise ConfigError(f"{key} from {sources.get(key, 'default')}: {e.msg}") from None


def _policy(merged: Layer, sources: Mapping[str, str]) -> Policy:
    try:
        return Policy(**merged) if merged else _DEFAULT_POLICY
    except Invalid as e:
        if e.key:
            raise ConfigError(
                f"policy.{e.key} from {sources.get('policy.' + e.key, 'default')}: {e.msg}",
                hint=_fraction_hint(e.key, merged.get(e.key)),
            ) from None
        involved = ", ".join(f"{k} ({sources.get('policy.' + k, 'default')})" for k in _keys_in(e.msg))
        raise ConfigError(f"policy: {e.msg}" + (f" [{involved}]" if involved else "")) from None


#: Policy values that are fractions: 5 for 5% is the likely mistake behind one of them at 1 or more.
_FRACTIONS = frozenset(
    {"band", "band_relative", "slippage", "max_slippage", "max_price_deviation", "slippage_step", "fee_rate"}
)


def _fraction_hint(key: str, value: object) -> str | None:
    """'fractions, not percentages' when a fraction-valued option was given as a percentage."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if key in _FRACTIONS and number.is_finite() and number >= 1:
        return f"{key} is a fraction, not a percentage: write {number / 100} for {number}%"
    return None


def _execution(merged: Layer, sources: Mapping[str, str]) -> ExecutionSettings:
    try:
        return ExecutionSettings(**merged)
    except Invalid as e:
        key = str(e.key)
        raise ConfigError(f"execution.{key} from {sources.get('execution.' + key, 'default')}: {e.msg}") from None


def _keys_in(message: str) -> list[str]:
    return [k for k in sorted(POLICY_KEYS) if re.search(rf"\b{k}\b", message)]
