"""What goes over the wire and comes back: order specs and outcomes, the errors of a request, the
exact float an order is sent as, and the checks of the exchange's answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from hlrebal.errors import BadInputError, ExchangeError

if TYPE_CHECKING:
    from hlrebal.keys import SigningKey


class Retryable(Exception):
    """Internal: a temporary failure worth another try (429, 5xx, timeout, dropped connection)."""


class OrderAnswerLost(ExchangeError):
    """An /exchange request may or may not have been processed: its answer never arrived.

    The executor must reconcile by client order id (orderStatus) or by re-reading the account;
    sending the same orders again could place them twice.
    """

    kind = "answer_lost"


#: an in-process exchange: (endpoint "info" or "exchange", body) -> (HTTP status, answer)
LocalTransport = Callable[[str, dict[str, Any]], tuple[int, Any]]


@dataclass(frozen=True)
class OrderSpec:
    """One order of a batch, exactly as the plan says (Decimal until the wire)."""

    coin: str
    asset: int
    is_buy: bool
    size: Decimal
    limit_px: Decimal
    reduce_only: bool
    cloid: str
    tif: Literal["Ioc", "Gtc", "Alo"] = "Ioc"


@dataclass(frozen=True)
class OrderOutcome:
    """What the exchange said about one order of a batch."""

    cloid: str
    status: Literal["filled", "resting", "error"]
    filled_size: Decimal = Decimal(0)
    avg_px: Decimal | None = None
    oid: int | None = None
    error: str | None = None


def decimal_to_wire_float(value: Decimal, what: str) -> float:
    """Decimal -> the SDK's float, checked to round-trip exactly through its wire format."""
    from hyperliquid.utils.signing import float_to_wire

    as_float = float(value)
    try:
        wire = float_to_wire(as_float)
    except ValueError:
        raise BadInputError(f"{what} {value} cannot be sent exactly (more than 8 decimals)") from None
    if Decimal(wire) != value:
        raise BadInputError(f"{what} {value} would be sent as {wire}: refusing an inexact order")
    return as_float


def address_of(key: SigningKey) -> str:
    """The address a private key signs as (lowercase)."""
    import eth_account

    try:
        return str(eth_account.Account.from_key(key.secret.get_secret_value()).address).lower()
    except (ValueError, TypeError):
        raise BadInputError(f"the key from {key.source} is not a valid secp256k1 private key") from None


def expect(value: Any, kind: type, what: str) -> Any:
    """``value`` when it is a ``kind``; else an ExchangeError naming the request (exit 3)."""
    if not isinstance(value, kind):
        raise ExchangeError(f"unexpected answer to {what}: expected a JSON {kind.__name__}, got {short(repr(value))}")
    return value


def cancel_errors(answer: Any) -> list[str | None]:
    statuses = answer.get("response", {}).get("data", {}).get("statuses", [])
    return [s.get("error") if isinstance(s, dict) else None for s in statuses]


def nonzero(value: Any) -> bool:
    try:
        return Decimal(str(value)) != 0
    except ArithmeticError:
        return True


def expect_ok(answer: Any, what: str) -> None:
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        message = answer.get("response") if isinstance(answer, dict) else answer
        raise ExchangeError(f"the exchange refused {what}: {short(str(message))}")


def order_outcomes(answer: Any, orders: Sequence[OrderSpec]) -> list[OrderOutcome]:
    if isinstance(answer, dict) and answer.get("status") == "err":
        message = str(answer.get("response"))
        return [OrderOutcome(cloid=o.cloid, status="error", error=message) for o in orders]
    try:
        statuses = answer["response"]["data"]["statuses"]
    except (KeyError, TypeError):
        raise ExchangeError(f"unexpected answer to an order request: {short(repr(answer))}") from None
    if len(statuses) != len(orders):
        raise ExchangeError(f"the exchange answered {len(statuses)} statuses for {len(orders)} orders")
    out = []
    for o, s in zip(orders, statuses, strict=True):
        if "filled" in s:
            f = s["filled"]
            out.append(
                OrderOutcome(
                    cloid=o.cloid,
                    status="filled",
                    filled_size=Decimal(str(f["totalSz"])),
                    avg_px=Decimal(str(f["avgPx"])),
                    oid=int(f["oid"]),
                )
            )
        elif "resting" in s:
            out.append(OrderOutcome(cloid=o.cloid, status="resting", oid=int(s["resting"]["oid"])))
        else:
            out.append(OrderOutcome(cloid=o.cloid, status="error", error=str(s.get("error", s))))
    return out


def short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
