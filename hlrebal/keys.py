"""Finding the signing key, safely.

The key comes from ``--key-file PATH``, else ``HLREBAL_PRIVATE_KEY``, else the configuration's
``key_file`` (or the variable named by ``key_env``); never from a command-line value, which would land
in shell history and ``ps``. A key file readable by group or others is refused. The key itself is
held as a ``SecretStr`` and never appears in any message, log, journal or exception: errors say where
the key came from and what is wrong with it, never what it is.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hlrebal.errors import KeyError_

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class SecretStr:
    """A string that never shows itself: ``repr``, ``str`` and formatting give ``**********``; only
    :meth:`get_secret_value` returns it (the interface of pydantic's ``SecretStr``, without its
    import on every start)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself: for signing, never for output."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __format__(self, spec: str) -> str:
        return "**********"

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SigningKey:
    """A private key and where it came from (for the output: "key from --key-file ~/agent.key")."""

    secret: SecretStr
    source: str

    def __repr__(self) -> str:
        return f"SigningKey(source={self.source!r}, secret=**********)"


def normalize_key(raw: str, source: str) -> SecretStr:
    """Validate a hex private key (with or without 0x) and return it as ``0x…`` in a SecretStr."""
    text = raw.strip()
    if text.startswith(("0x", "0X")):
        text = text[2:]
    if not _HEX64.match(text):
        # Say what is wrong without echoing anything of the value.
        raise KeyError_(
            f"the key from {source} is not a private key: expected 64 hexadecimal digits "
            f"(optionally prefixed with 0x), got {len(text)} characters",
            hint="the file must hold only the key; an address (40 digits) is not a key",
        )
    return SecretStr("0x" + text.lower())


def check_private(path: Path, source: str) -> None:
    """Refuse a key file readable or writable by group or others."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyError_(f"key file {path} ({source}) does not exist") from None
    except OSError as e:
        raise KeyError_(f"key file {path} ({source}) cannot be read ({e.strerror})") from None
    if not stat.S_ISREG(mode):
        raise KeyError_(f"key file {path} ({source}) is not a regular file")
    if mode & 0o077:
        raise KeyError_(
            f"key file {path} is accessible by group or others (mode {stat.S_IMODE(mode):04o})",
            hint=f"restrict it to yourself: chmod 600 {path}",
        )


def read_key_file(path: Path, source: str) -> SigningKey:
    path = path.expanduser()
    check_private(path, source)
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise KeyError_(f"key file {path} ({source}) is not text") from None
    except OSError as e:
        raise KeyError_(f"key file {path} ({source}) cannot be read ({e.strerror})") from None
    return SigningKey(normalize_key(raw, f"{source} {path}"), f"{source} {path}")


def find_key(
    *,
    key_file_flag: Path | None,
    config_key_file: Path | None,
    config_key_env: str | None,
    config_key_source: str = "configuration",
    env: Mapping[str, str] | None = None,
) -> SigningKey | None:
    """The signing key by precedence, or None when no source holds one."""
    env = os.environ if env is None else env
    if key_file_flag is not None:
        return read_key_file(key_file_flag, "--key-file")
    value = env.get("HLREBAL_PRIVATE_KEY")
    if value:
        return SigningKey(normalize_key(value, "HLREBAL_PRIVATE_KEY"), "environment HLREBAL_PRIVATE_KEY")
    if config_key_file is not None:
        return read_key_file(config_key_file, f"key_file ({config_key_source})")
    if config_key_env:
        value = env.get(config_key_env)
        if not value:
            raise KeyError_(f"key_env ({config_key_source}) names the variable {config_key_env}, which is not set")
        return SigningKey(normalize_key(value, f"environment {config_key_env}"), f"environment {config_key_env}")
    return None


def write_key_file(path: Path, secret: SecretStr) -> None:
    """Write a key file with mode 0600 from the start (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret.get_secret_value() + "\n")
