"""Reading one field of a raw info response: numbers as Decimal, whole numbers as int.

Every reader names the key it read (``where``), so a malformed snapshot is refused with the exact
field at fault rather than a traceback.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


class Bad(Exception):
    """Internal: a field with the wrong shape; turned into a SnapshotError naming the key."""


def dec(value: Any, where: str, *, optional: bool = False) -> Decimal | None:
    """A decimal field (the API sends numbers as strings); None only when ``optional``."""
    if value is None:
        if optional:
            return None
        raise Bad(f"{where}: missing")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Bad(f"{where}: expected a number as a string, got {value!r}")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise Bad(f"{where}: not a number: {value!r}") from None
    if not out.is_finite():
        raise Bad(f"{where}: not a finite number: {value!r}")
    return out


def whole(value: Any, where: str, *, minimum: int = 0) -> int:
    """An integer field (szDecimals, maxLeverage, oid, ...), refused with its key when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Bad(f"{where}: expected a whole number, got {value!r}")
    if value < minimum:
        raise Bad(f"{where}: expected at least {minimum}, got {value!r}")
    return value


def req(value: Any, where: str) -> Decimal:
    """A decimal field that must be there."""
    out = dec(value, where)
    assert out is not None
    return out
