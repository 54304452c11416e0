"""Untrusted input: reading user-given files within limits, parsing their JSON within limits, and
showing untrusted text safely in messages.

Target files, snapshots, plans and history files come from users, scripts and LLM agents. Whatever
they hold, hlrebal answers with a clear message and exit code 2 in well under a second: only
regular files are read (a FIFO or ``/dev/zero`` would block or never end), never more than a
documented size, numbers with absurd exponents or digit counts are refused before any arithmetic
(``1e9999999`` formatted as a plain decimal is ten million digits), nesting deeper than Python can
parse is a message rather than a traceback, and names are shown with control and invisible
characters escaped, so that a message cannot hide what a file says.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hlrebal.errors import BadInputError

#: largest target file read (a target file with a thousand coins is about 30 KB)
TARGETS_LIMIT = 1 << 20
#: largest snapshot, plan or history file read (a whole mainnet snapshot is about 1 MB)
DOCUMENT_LIMIT = 64 << 20
#: numbers in user documents must lie within these powers of ten (or be zero)
MAX_EXPONENT = 15
MIN_EXPONENT = -30
#: the longest integer literal accepted (ids and times have at most 20 digits)
MAX_INT_DIGITS = 30

STDIN = "-"


class HugeNumber(Exception):
    """Internal: a JSON number outside the accepted range (carries the literal, shortened)."""


def shown(text: str, limit: int = 80) -> str:
    """``text`` quoted, with control, format (zero-width) and other invisible characters escaped,
    and cut to ``limit`` characters: safe to put in a message about a file's content."""
    import unicodedata  # only when there is something to show (about 0.4 ms to load)

    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch == "\\":
            out.append("\\\\")
        elif cat[0] == "C" or cat in ("Zl", "Zp") or (cat == "Zs" and ch != " "):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    body = "".join(out)
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    return f"'{body}'" if "'" not in body else f'"{body}"'


def short_number(value: Decimal | str | int, limit: int = 24) -> str:
    """A number as a message shows it: plain when short, else in scientific form, never huge."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    try:
        d = Decimal(value)
        plain = format(d.normalize(), "f") if -limit < d.adjusted() < limit else ""
    except (InvalidOperation, ValueError, OverflowError):
        return str(value)[:limit]
    if plain and len(plain) <= limit:
        return plain
    return format(d, ".6e")


def read_limited(
    source: str | Path,
    *,
    what: str,
    limit: int,
    error: type[BadInputError],
    stdin: Callable[[], Any] | None = None,
) -> bytes:
    """The bytes of a regular file (or of standard input for ``-``), at most ``limit`` of them.

    Raises ``error`` (exit 2) naming the file: missing, a directory, not a regular file, too large,
    unreadable.
    """
    name = str(source)
    if name == STDIN:
        stream = (stdin or (lambda: sys.stdin.buffer))()
        data: bytes = stream.read(limit + 1)
        if len(data) > limit:
            raise error(f"standard input: more than {limit:,} bytes, the limit for a {what}")
        return data
    path = Path(source)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{name}: no such {what}") from None
    except OSError as e:
        raise error(f"{name}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{name}: is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{name}: is not a regular file (a pipe, device or socket cannot be a {what})")
    if st.st_size > limit:
        raise error(f"{name}: is {st.st_size:,} bytes, more than the limit of {limit:,} for a {what}")
    try:
        # O_NONBLOCK: should the file have been swapped for a FIFO since the check, opening it
        # must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise error(f"{name}: cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise error(f"{name}: is not a regular file (a pipe, device or socket cannot be a {what})")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise error(f"{name}: more than {limit:,} bytes, the limit for a {what}")
    return data


def decode_text(data: bytes, source: str, error: type[BadInputError]) -> str:
    """UTF-8 text, with a leading byte-order mark dropped (editors on Windows write one)."""
    try:
        # As the "utf-8-sig" codec does, without loading it on every start.
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{source}: is not UTF-8 text") from None


def parse_float(text: str) -> Decimal:
    """JSON ``parse_float`` hook: an exact Decimal, refused when its exponent is absurd."""
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what a Decimal can hold (1e99999999999999999999)
        raise HugeNumber(text) from None
    if value and not MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise HugeNumber(text)
    return value


def parse_int(text: str) -> int:
    """JSON ``parse_int`` hook: refuses integers longer than any id, time or count."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise HugeNumber(text)
    return int(text)


def loads(
    text: str,
    source: str,
    error: type[BadInputError],
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
    floats: Callable[[str], Any] = parse_float,
) -> Any:
    """``json.loads`` with the limits above; every failure is ``error`` naming the file.

    Exceptions raised by ``object_pairs_hook`` or ``parse_constant`` other than the ones handled
    here propagate unchanged (callers use them for their own messages).
    """
    try:
        return json.loads(
            text,
            object_pairs_hook=object_pairs_hook,
            parse_float=floats,
            parse_int=parse_int,
            parse_constant=parse_constant,
        )
    except HugeNumber as e:
        raise error(
            f"{source}: the number {short_number(str(e.args[0]))} is out of range "
            f"(numbers must lie between 1e{MIN_EXPONENT} and 1e{MAX_EXPONENT}, or be 0)"
        ) from None
    except json.JSONDecodeError as e:
        raise error(f"{source}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise error(f"{source}: the JSON is nested too deeply to be a hlrebal document") from None
    except ValueError as e:  # e.g. an integer beyond Python's digit limit
        raise error(f"{source}: invalid JSON: {short_number(str(e), 120)}") from None
