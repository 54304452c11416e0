"""Settings from flags, the environment, a TOML configuration file and its profiles.

Precedence, highest first::

    command-line flag > target file policy (planning preferences only) > environment (HLREBAL_*)
      > profile ([profiles.NAME]) > configuration file (top level) > built-in default

Every layer is validated on its own, so an error names the flag, the variable or the file and key it
came from. Unknown keys and unknown ``HLREBAL_*`` variables are errors, never ignored: a misspelt
setting that is silently dropped is how a cron job silently does the wrong thing.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from hlrebal.errors import ConfigError
from hlrebal.execution_settings import EXECUTION_KEYS, ExecutionSettings
from hlrebal.policy import NULLABLE_KEYS, OFF_WORDS, PLANNING_KEYS, POLICY_KEYS, Policy, check_value_kind

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


class Settings(BaseModel):
    """Where to connect and whose account: the resolved, validated connection settings.

    A plain pydantic model: the layers (file, profile, environment, target file, flags) are merged
    by :func:`resolve`, which also remembers where each value came from; pydantic-settings has no
    place for the target file's layer between the environment and the flags, nor for per-value
    sources, and importing it cost every command about 0.1 s.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    network: Literal["mainnet", "testnet"] = "mainnet"
    api_url: str | None = None
    account_address: str | None = None
    vault: str | None = None
    key_file: Path | None = None
    key_env: str | None = None
    targets: Path | None = None
    journal: Path | None = None
    log_file: Path | None = None


def _partial_model(name: str, base: type[BaseModel], keys: list[str]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for key in keys:
        f = base.model_fields[key]
        annotation = Annotated[f.annotation, *f.metadata] if f.metadata else f.annotation
        fields[key] = (Optional[annotation], None)  # noqa: UP045
    model: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    return model


_DEFAULT_SETTINGS = Settings.model_construct()
_DEFAULT_POLICY = Policy.model_construct()


@functools.cache
def _partial(which: str) -> type[BaseModel]:
    """The model that checks one layer's values ("policy", "execution" or "connection"), made when
    first needed: most runs have no configuration file and no HLREBAL_* variables, so never need them."""
    if which == "policy":
        return _partial_model("PartialPolicy", Policy, sorted(POLICY_KEYS))
    if which == "execution":
        return _partial_model("PartialExecution", ExecutionSettings, sorted(EXECUTION_KEYS))
    return _partial_model("PartialConnection", Settings, list(CONNECTION_KEYS))


@dataclass(frozen=True)
class Resolved:
    """The outcome of resolution: settings, policy, and where each value came from."""

    settings: Settings
    policy: Policy
    sources: dict[str, str] = field(default_factory=dict)
    config_path: Path | None = None
    profile: str | None = None
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
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


def _load_toml(path: Path, explicit: bool) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: no such configuration file") from None
        return {}
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None


def _split_layer(table: Mapping[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split a file table (top level or a profile) into connection, policy and execution values,
    checking keys."""
    conn: dict[str, Any] = {}
    pol: dict[str, Any] = {}
    exe: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("profiles",) and where.endswith("(top level)"):
            continue
        if key == "execution" or key in EXECUTION_KEYS:
            _execution_values(key, value, where, exe)
            continue
        if isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: must not be a boolean")
        if key == "policy":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: policy: must be a table ([policy])")
            for pk, pv in value.items():
                if pk not in POLICY_KEYS:
                    raise ConfigError(f"{where}: policy.{pk}: unknown policy key{_did_you_mean(pk, POLICY_KEYS)}")
                problem = check_value_kind(pk, pv)
                if problem:
                    raise ConfigError(f"{where}: policy.{pk}: {problem}")
                pol[pk] = pv
        elif key in CONNECTION_KEYS:
            conn[key] = value
        elif key in POLICY_KEYS:
            pol[key] = value
        else:
            known = set(CONNECTION_KEYS) | POLICY_KEYS | EXECUTION_KEYS | {"policy", "execution", "profiles"}
            raise ConfigError(f"{where}: {key}: unknown key{_did_you_mean(key, known)}")
    _validate_partial("connection", conn, where, "")
    _validate_partial("policy", pol, where, "policy.")
    _validate_partial("execution", exe, where, "execution.")
    for key in ("account_address", "vault"):
        # Checked in every profile, not only the one in use: a placeholder left in the cron profile
        # must show up when the file is tried, not at 3 a.m.
        if key in conn and not _ADDRESS.match(str(conn[key])):
            raise ConfigError(f"{where}: {key}: {conn[key]!r} is not a 0x-prefixed 40-hex-digit address")
    if "api_url" in conn:
        _check_url(str(conn["api_url"]), where)
    return conn, pol, exe


def _execution_values(key: str, value: Any, where: str, out: dict[str, Any]) -> None:
    """``style = "maker"`` at the top level or in an ``[execution]`` table."""
    if key == "execution" and not isinstance(value, dict):
        raise ConfigError(f"{where}: execution: must be a table ([execution])")
    items = value.items() if key == "execution" else [(key, value)]
    for k, v in items:
        if k not in EXECUTION_KEYS:
            # In TOML every key after a [execution] header belongs to that table: say so when the
            # key is one the top level (or a profile) would take.
            misplaced = k in CONNECTION_KEYS or k in POLICY_KEYS
            table = where[:-1] + ".execution]" if where.endswith("]") else where.replace(" (top level)", " [execution]")
            raise ConfigError(
                f"{table}: {k}: unknown execution key{_did_you_mean(k, EXECUTION_KEYS)}",
                hint=f"{k} belongs above the [execution] table (TOML puts every key after a table's header in it)"
                if misplaced
                else None,
            )
        if isinstance(v, bool) and ExecutionSettings.model_fields[k].annotation is not bool:
            raise ConfigError(f"{where}: execution.{k}: must not be a boolean")
        out[k] = v


def _check_url(url: str, origin: str) -> None:
    """An endpoint the SDK can post to; ``origin`` says where it was given ("flag", a file...)."""
    if not _URL.match(url):
        from hlrebal.inputs import shown

        what = "--api-url" if origin == "flag" else f"api_url from {origin}"
        raise ConfigError(
            f"{what}: {shown(url)} is not an http:// or https:// URL",
            hint="write the whole URL, e.g. http://127.0.0.1:3001 for a local `hlrebal sim serve`",
        )


def _validate_partial(which: str, values: Mapping[str, Any], where: str, prefix: str) -> None:
    if not values:
        return
    # "off" unsets an optional policy value (Policy itself reads it so; the partial models do not).
    values = {k: None if k in NULLABLE_KEYS and str(v).strip().lower() in OFF_WORDS else v for k, v in values.items()}
    try:
        _partial(which).model_validate(values)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {prefix}{loc}: {first['msg']}") from None


def _did_you_mean(key: str, known: set[str] | frozenset[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, Any]]:
    conn: dict[str, Any] = {}
    pol: dict[str, Any] = {}
    exe: dict[str, Any] = {}
    names: dict[str, str] = {}
    known = {ENV_PREFIX + k.upper() for k in (*CONNECTION_KEYS, *POLICY_KEYS, *EXECUTION_KEYS)} | CONTROL_ENV
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in CONTROL_ENV:
            continue
        if name not in known:
            raise ConfigError(
                f"environment variable {name}: unknown hlrebal setting{_did_you_mean(name, known)}; "
                "unset it or fix its name"
            )
        if value == "":
            continue
        key = name[len(ENV_PREFIX) :].lower()
        (pol if key in POLICY_KEYS else exe if key in EXECUTION_KEYS else conn)[key] = value
        names[key] = name
    for key, value in conn.items():
        _validate_partial("connection", {key: value}, f"environment variable {names[key]}", "")
    for key, value in pol.items():
        _validate_partial("policy", {key: value}, f"environment variable {names[key]}", "")
    for key, value in exe.items():
        _validate_partial("execution", {key: value}, f"environment variable {names[key]}", "")
    return conn, pol, names, exe


Layer = dict[str, Any]


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
    except ValidationError as e:
        first = e.errors()[0]
        key = str(first["loc"][0])
        raise ConfigError(f"{key} from {sources.get(key, 'default')}: {first['msg']}") from None


def _policy(merged: Layer, sources: Mapping[str, str]) -> Policy:
    try:
        return Policy(**merged) if merged else _DEFAULT_POLICY
    except ValidationError as e:
        first = e.errors()[0]
        loc = [str(p) for p in first["loc"] if p]
        if loc:
            key = loc[0]
            raise ConfigError(
                f"policy.{key} from {sources.get('policy.' + key, 'default')}: {first['msg']}",
                hint=_fraction_hint(key, merged.get(key)),
            ) from None
        involved = ", ".join(f"{k} ({sources.get('policy.' + k, 'default')})" for k in _keys_in(first["msg"]))
        raise ConfigError(
            f"policy: {first['msg'].removeprefix('Value error, ')}" + (f" [{involved}]" if involved else "")
        ) from None


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
    except ValidationError as e:
        key = str(e.errors()[0]["loc"][0])
        message = e.errors()[0]["msg"]
        raise ConfigError(f"execution.{key} from {sources.get('execution.' + key, 'default')}: {message}") from None


def _keys_in(message: str) -> list[str]:
    return [k for k in sorted(POLICY_KEYS) if re.search(rf"\b{k}\b", message)]


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
