"""One layer at a time: the TOML file and its profiles, and the HLREBAL_* environment, each read and
checked on its own so that an error names where the value came from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hlrebal.config.settings import _ADDRESS, _URL, CONNECTION_KEYS, CONTROL_ENV, ENV_PREFIX, Settings
from hlrebal.errors import ConfigError
from hlrebal.execution_settings import EXECUTION_KEYS, ExecutionSettings
from hlrebal.policy import POLICY_KEYS, Policy, check_value_kind
from hlrebal.validation import Checked, Invalid, base_type, check_value

_DEFAULT_SETTINGS = Settings()


_DEFAULT_POLICY = Policy()


#: the class whose fields check one layer's values, and the order they are checked in
_CHECKED: dict[str, tuple[type[Checked], tuple[str, ...]]] = {
    "policy": (Policy, tuple(sorted(POLICY_KEYS))),
    "execution": (ExecutionSettings, tuple(sorted(EXECUTION_KEYS))),
    "connection": (Settings, CONNECTION_KEYS),
}


def _load_toml(path: Path, explicit: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            import tomllib  # only when there is a file to read: most runs have none

            try:
                return tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"{path}: invalid TOML: {e}") from None
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: no such configuration file") from None
        return {}
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
        if isinstance(v, bool) and base_type(ExecutionSettings, k) is not bool:
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
    """Each value of one layer checked against its field (the first failure, in field order, is said)."""
    cls, order = _CHECKED[which]
    for key in order:
        if key in values and values[key] is not None:
            try:
                check_value(cls, key, values[key])
            except Invalid as e:
                raise ConfigError(f"{where}: {prefix}{key}: {e.msg}") from None


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
