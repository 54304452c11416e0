"""One exception hierarchy for hlrebal.

Every class carries the process exit code the CLI uses for it (see the README's exit-code table), and
every message says what the user should do next. Vendor errors are converted where they arise
(``raise ... from e``); nothing below the CLI catches a bare ``Exception``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, stable for cron jobs and monitors."""

    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    EXCHANGE = 3
    GUARD = 4
    PARTIAL = 5
    INTERRUPTED = 130


class HlrebalError(Exception):
    """Base class: a failure the user can act on, with its exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL
    #: short machine-readable kind, used in ``--json`` error documents
    kind: str = "internal"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: set once the error's run_end is in the journal (so it is not recorded twice)
        self.journaled = False

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class BadInputError(HlrebalError):
    """Usage errors, bad target files, bad configuration, bad keys (exit 2)."""

    exit_code = ExitCode.BAD_INPUT
    kind = "bad_input"


class TargetFileError(BadInputError):
    """A target-allocation file that cannot be used as written."""

    kind = "target_file"


class SnapshotError(BadInputError):
    """A snapshot file (or response) that does not have the shape Hyperliquid gives."""

    kind = "snapshot"


class ConfigError(BadInputError):
    """A configuration file, profile or environment variable that is wrong."""

    kind = "config"


class KeyError_(BadInputError):
    """A signing key that is missing, malformed or stored unsafely.

    Named with a trailing underscore so that it never shadows the builtin ``KeyError``.
    The message must never contain the key itself.
    """

    kind = "key"


class ExchangeError(HlrebalError):
    """The exchange could not be reached, or refused, before any order was placed (exit 3)."""

    exit_code = ExitCode.EXCHANGE
    kind = "exchange"


class GuardError(HlrebalError):
    """A safety guard refused to go on: turnover cap, stale prices, lock held, no confirmation (exit 4)."""

    exit_code = ExitCode.GUARD
    kind = "guard"


class PartialError(HlrebalError):
    """Orders were placed but the target was not reached (exit 5)."""

    exit_code = ExitCode.PARTIAL
    kind = "partial"


class Interrupted(HlrebalError):
    """The user pressed Ctrl-C or the process got SIGTERM (exit 130)."""

    exit_code = ExitCode.INTERRUPTED
    kind = "interrupted"
