"""Talking to Hyperliquid (or any compatible endpoint): the client side's only importer of the SDK.

* Reads: a whole snapshot in a handful of info requests, through the SDK's ``Info`` built with
  ``skip_ws=True`` and placeholder metadata, so that it makes no start-up requests of its own; every
  SDK object carries an explicit ``timeout`` (the SDK's default is none, and a cron job must never
  hang). Reads retry on 429, 5xx, timeouts and dropped connections with bounded backoff, then fail
  with :class:`~hlrebal.errors.ExchangeError` (exit 3).
* Writes: order batches, leverage, cancels and transfers signed with the SDK's signing helpers, with
  strictly rising nonces and ``expiresAfter``. An order request whose answer is lost is never sent
  again here: :class:`OrderAnswerLost` tells the executor to reconcile by client order id.

Every way the SDK can fail is mapped here: ``ClientError`` and ``ServerError``; the ``KeyError`` or
``TypeError`` it raises on a 4xx JSON body without ``code``/``msg``; raw ``requests`` exceptions; and
the ``{"error": "Could not parse JSON…"}`` it returns for a non-JSON 200.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from hlrebal.errors import BadInputError, ExchangeError
from hlrebal.snapshot import Snapshot

if TYPE_CHECKING:
    from hlrebal.keys import SigningKey

MAINNET_URL = "https://api.hyperliquid.xyz"
DEFAULT_TIMEOUT = 10.0
DEFAULT_DELAYS = (0.25, 0.75, 2.0)
_EMPTY_META: dict[str, Any] = {"universe": []}
_EMPTY_SPOT_META: dict[str, Any] = {"universe": [], "tokens": []}


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


@dataclass
class RequestLog:
    """Counts of requests made, by kind ("info.clearinghouseState", "exchange.order")."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def total(self, prefix: str) -> int:
        return sum(n for k, n in self.counts.items() if k.startswith(prefix))


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


class ExchangeClient:
    """Reads and (once a signer is attached) writes against one Hyperliquid-compatible endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        network: str,
        timeout: float = DEFAULT_TIMEOUT,
        delays: Sequence[float] = DEFAULT_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        local: LocalTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.network = network
        self.timeout = timeout
        self.delays = tuple(delays)
        self.sleep = sleep
        self.clock = clock
        self.log = RequestLog()
        self._local = local
        self._sdk_info: Any = None
        self._last_status: list[int] = [0]
        self._wallet: Any = None
        self._vault: str | None = None
        self._last_nonce = 0
        self.is_mainnet = self.base_url == MAINNET_URL

    # ------------------------------------------------------------------ low level

    def _remember_status(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self._last_status[0] = response.status_code

    @property
    def _info(self) -> Any:
        """The SDK's ``Info`` (made on first use: importing the SDK costs a read that never posts)."""
        if self._sdk_info is None:
            from hyperliquid.info import Info

            # Placeholder metadata: the Info object must not fetch meta/spotMeta on construction. The
            # client never asks the SDK to map names (it sends asset ids), so the placeholders suffice.
            self._sdk_info = Info(
                self.base_url, skip_ws=True, meta=_EMPTY_META, spot_meta=_EMPTY_SPOT_META, timeout=self.timeout
            )
            self._sdk_info.session.hooks["response"].append(self._remember_status)
        return self._sdk_info

    def _post_local(self, path: str, payload: dict[str, Any]) -> Any:
        """One request to an in-process exchange (the demo's simulator), mapped like HTTP answers."""
        assert self._local is not None
        status, answer = self._local(path.strip("/"), payload)
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status} from the exchange")
        if status >= 400:
            raise ExchangeError(f"the exchange refused the request (HTTP {status}): {_short(str(answer))}")
        return answer

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        """One POST through the SDK, every failure mapped to Retryable or ExchangeError."""
        if self._local is not None:
            return self._post_local(path, payload)
        import requests
        from hyperliquid.utils.error import ClientError, ServerError

        self._last_status[0] = 0
        try:
            answer = self._info.post(path, payload)
        except ServerError as e:
            raise Retryable(f"HTTP {e.status_code} from the exchange") from None
        except ClientError as e:
            if e.status_code == 429:
                raise Retryable("HTTP 429: rate limited") from None
            message = e.error_message if isinstance(e.error_message, str) else str(e.error_message)
            raise ExchangeError(f"the exchange refused the request (HTTP {e.status_code}): {_short(message)}") from None
        except (KeyError, TypeError, AttributeError):
            # The SDK indexes err["code"] / err["msg"] of any 4xx JSON body; other bodies blow up.
            status = self._last_status[0]
            if status == 429:
                raise Retryable("HTTP 429: rate limited") from None
            raise ExchangeError(
                f"the exchange refused the request (HTTP {status or '4xx'}) with an unexpected body"
            ) from None
        except requests.exceptions.Timeout:
            raise Retryable(f"no answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError:
            raise Retryable("the connection failed or was dropped") from None
        except requests.exceptions.RequestException as e:
            raise ExchangeError(f"the request to {self.base_url} failed: {type(e).__name__}") from None
        if (
            isinstance(answer, dict)
            and set(answer) == {"error"}
            and str(answer["error"]).startswith("Could not parse JSON")
        ):
            raise Retryable("the exchange answered with something that is not JSON")
        return answer

    def info(self, body: dict[str, Any]) -> Any:
        """An info request with bounded retries on temporary failures."""
        kind = f"info.{body.get('type')}"
        last = ""
        for attempt in range(len(self.delays) + 1):
            self.log.add(kind)
            try:
                return self._post("/info", body)
            except Retryable as e:
                last = str(e)
                if attempt < len(self.delays):
                    self.sleep(self.delays[attempt])
        raise ExchangeError(
            f"could not read {body.get('type')} from {self.base_url} after {len(self.delays) + 1} attempts: {last}",
            hint="check the network and --api-url / --network; the exchange may be down or rate limiting",
        )

    # ------------------------------------------------------------------ reads

    def read_snapshot(
        self,
        user: str,
        *,
        spot: bool = False,
        open_orders: bool = True,
        mode: str | None = None,
        dexes: Sequence[str] = (),
        network_label: str | None = None,
    ) -> Snapshot:
        """The whole account and its market, in as few info requests as the account needs.

        Always: metaAndAssetCtxs, clearinghouseState, spotClearinghouseState (the spot balances
        count in equity) and, unless ``open_orders=False``, openOrders. Only when needed:
        spotMetaAndAssetCtxs (``spot`` targets, or spot tokens held) and userAbstraction (the
        account mode matters only when it holds spot balances; ``mode`` passes a known answer).
        At most 6 requests. The executor's re-reads skip open orders and the mode. Builder-deployed
        perp dexes named in ``dexes`` cost perpDexs once, then a metaAndAssetCtxs and a
        clearinghouseState each.
        """
        user = user.lower()
        doc: dict[str, Any] = {"version": 1, "user": user, "network": network_label or self.network}
        doc["metaAndAssetCtxs"] = self._expect(self.info({"type": "metaAndAssetCtxs"}), list, "metaAndAssetCtxs")
        doc["clearinghouseState"] = self._expect(
            self.info({"type": "clearinghouseState", "user": user, "dex": ""}), dict, "clearinghouseState"
        )
        spot_state = self._expect(
            self.info({"type": "spotClearinghouseState", "user": user}), dict, "spotClearinghouseState"
        )
        doc["spotClearinghouseState"] = spot_state
        balances = [b for b in spot_state.get("balances", []) if isinstance(b, dict) and _nonzero(b.get("total"))]
        if spot or any(b.get("coin") != "USDC" for b in balances):
            doc["spotMetaAndAssetCtxs"] = self._expect(
                self.info({"type": "spotMetaAndAssetCtxs"}), list, "spotMetaAndAssetCtxs"
            )
        if mode is not None:
            doc["userAbstraction"] = mode
        elif balances:
            answer = self._user_abstraction(user)
            if answer is not None:
                doc["userAbstraction"] = answer
        if open_orders:
            doc["openOrders"] = self._expect(
                self.info({"type": "openOrders", "user": user, "dex": ""}), list, "openOrders"
            )
        if dexes:
            listing = self._expect(self.info({"type": "perpDexs"}), list, "perpDexs")
            known = {d.get("name") for d in listing if isinstance(d, dict)}
            missing = [d for d in dexes if d not in known]
            if missing:
                raise BadInputError(
                    f"no builder-deployed perp dex named {', '.join(map(repr, missing))} on {self.base_url}",
                    hint=f"dexes listed there: {', '.join(sorted(str(k) for k in known)) or 'none'}",
                )
            doc["perpDexs"] = listing
            doc["dexes"] = {
                dex: {
                    "metaAndAssetCtxs": self._expect(
                        self.info({"type": "metaAndAssetCtxs", "dex": dex}), list, f"metaAndAssetCtxs ({dex})"
                    ),
                    "clearinghouseState": self._expect(
                        self.info({"type": "clearinghouseState", "user": user, "dex": dex}),
                        dict,
                        f"clearinghouseState ({dex})",
                    ),
                }
                for dex in dexes
            }
        doc["time"] = int(self.clock() * 1000)
        return Snapshot.from_raw(doc, f"{self.base_url} ({user})")

    def user_role(self, address: str) -> dict[str, Any] | None:
        """``userRole``: {"role": "agent", "data": {"user": …}} for an API wallet, "user", "vault",
        "subAccount" or "missing"; None where the endpoint does not know the request."""
        try:
            answer = self.info({"type": "userRole", "user": address.lower()})
        except ExchangeError as e:
            if "HTTP 4" in e.message:
                return None
            raise
        return answer if isinstance(answer, dict) else None

    def _user_abstraction(self, user: str) -> Any:
        """The account mode, where the endpoint knows the request; None where it does not."""
        try:
            return self.info({"type": "userAbstraction", "user": user})
        except ExchangeError as e:
            if "HTTP 4" in e.message or "HTTP 422" in e.message:
                return None
            raise

    def order_status(self, user: str, cloid: str) -> dict[str, Any]:
        """orderStatus by client order id: ``{"status": "order", ...}`` or ``{"status": "unknownOid"}``."""
        answer = self.info({"type": "orderStatus", "user": user.lower(), "oid": cloid})
        result: dict[str, Any] = self._expect(answer, dict, "orderStatus")
        return result

    def user_fills(self, user: str) -> list[dict[str, Any]]:
        fills: list[dict[str, Any]] = self._expect(
            self.info({"type": "userFills", "user": user.lower()}), list, "userFills"
        )
        return fills

    @staticmethod
    def _expect(value: Any, kind: type, what: str) -> Any:
        if not isinstance(value, kind):
            raise ExchangeError(
                f"unexpected answer to {what}: expected a JSON {kind.__name__}, got {_short(repr(value))}"
            )
        return value

    # ------------------------------------------------------------------ signing

    def attach_signer(self, key: SigningKey, *, vault: str | None = None) -> str:
        """Use ``key`` to sign from now on; returns the signer's address (an agent's or the account's)."""
        import eth_account

        try:
            self._wallet = eth_account.Account.from_key(key.secret.get_secret_value())
        except (ValueError, TypeError):
            # eth_account's messages can echo the input: say nothing of it.
            raise BadInputError(f"the key from {key.source} is not a valid secp256k1 private key") from None
        self._vault = vault.lower() if vault else None
        return str(self._wallet.address).lower()

    @property
    def signer(self) -> str | None:
        return None if self._wallet is None else str(self._wallet.address).lower()

    def next_nonce(self) -> int:
        """A millisecond nonce strictly above every one this client used before."""
        nonce = max(int(self.clock() * 1000), self._last_nonce + 1)
        self._last_nonce = nonce
        return nonce

    def _signed_l1(self, action: dict[str, Any], *, expires_after: int | None) -> dict[str, Any]:
        from hyperliquid.utils.signing import sign_l1_action

        if self._wallet is None:
            raise BadInputError("no signing key: orders need --key-file, HLREBAL_PRIVATE_KEY or a configured key")
        nonce = self.next_nonce()
        signature = sign_l1_action(self._wallet, action, self._vault, nonce, expires_after, self.is_mainnet)
        return {
            "action": action,
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": self._vault,
            "expiresAfter": expires_after,
        }

    def _exchange(self, kind: str, payload: dict[str, Any]) -> Any:
        """POST one signed action. Never retried here: a lost answer is the caller's to reconcile."""
        self.log.add(f"exchange.{kind}")
        try:
            return self._post("/exchange", payload)
        except Retryable as e:
            article = "an" if kind[:1].lower() in "aeiou" else "a"
            raise OrderAnswerLost(f"the answer to {article} {kind} request was lost: {e}") from None

    def place_orders(self, orders: Sequence[OrderSpec], *, expires_after: int | None) -> list[OrderOutcome]:
        """Send all ``orders`` in ONE bulk request and read every status (a batch can be "ok" with
        failed orders inside). Raises :class:`OrderAnswerLost` when the answer never arrived."""
        from hyperliquid.utils.signing import order_request_to_order_wire, order_wires_to_order_action
        from hyperliquid.utils.types import Cloid

        if not orders:
            return []
        wires = []
        for o in orders:
            request = {
                "coin": o.coin,
                "is_buy": o.is_buy,
                "sz": decimal_to_wire_float(o.size, f"{o.coin} size"),
                "limit_px": decimal_to_wire_float(o.limit_px, f"{o.coin} limit price"),
                "order_type": {"limit": {"tif": o.tif}},
                "reduce_only": o.reduce_only,
                "cloid": Cloid.from_str(o.cloid),
            }
            wires.append(order_request_to_order_wire(request, o.asset))
        action = order_wires_to_order_action(wires)
        answer = self._exchange("order", self._signed_l1(action, expires_after=expires_after))
        return _order_outcomes(answer, orders)

    def update_leverage(self, asset: int, leverage: int, *, is_cross: bool, coin: str) -> None:
        action = {"type": "updateLeverage", "asset": asset, "isCross": is_cross, "leverage": leverage}
        answer = self._exchange("updateLeverage", self._signed_l1(action, expires_after=None))
        _expect_ok(answer, f"setting {coin} leverage to {leverage}x {'cross' if is_cross else 'isolated'}")

    def usd_class_transfer(self, amount: Decimal, *, to_perp: bool) -> None:
        """Move USDC between the perp and spot balances: a user-signed action (the account's own key;
        an API wallet cannot sign it and a vault cannot make it). Raises OrderAnswerLost when the
        answer never arrived (the caller re-reads balances before trusting either outcome)."""
        from hyperliquid.utils.signing import sign_usd_class_transfer_action

        if self._wallet is None:
            raise BadInputError("no signing key: transfers need the account's own key")
        if self._vault is not None:
            raise BadInputError("a vault or sub-account signer cannot make usdClassTransfer")
        nonce = self.next_nonce()
        action = {
            "type": "usdClassTransfer",
            "amount": format(amount.normalize(), "f"),
            "toPerp": to_perp,
            "nonce": nonce,
        }
        signature = sign_usd_class_transfer_action(self._wallet, action, self.is_mainnet)
        payload = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None, "expiresAfter": None}
        answer = self._exchange("usdClassTransfer", payload)
        _expect_ok(answer, f"moving {amount} USDC {'to perp' if to_perp else 'to spot'}")

    def cancel(self, cancels: Sequence[tuple[int, int]]) -> list[str | None]:
        """Cancel (asset, oid) pairs in one request; returns an error (or None) per cancel."""
        action = {"type": "cancel", "cancels": [{"a": a, "o": o} for a, o in cancels]}
        answer = self._exchange("cancel", self._signed_l1(action, expires_after=None))
        _expect_ok(answer, "cancelling open orders")
        statuses = answer.get("response", {}).get("data", {}).get("statuses", [])
        return [s.get("error") if isinstance(s, dict) else None for s in statuses]


def _nonzero(value: Any) -> bool:
    try:
        return Decimal(str(value)) != 0
    except ArithmeticError:
        return True


def _expect_ok(answer: Any, what: str) -> None:
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        message = answer.get("response") if isinstance(answer, dict) else answer
        raise ExchangeError(f"the exchange refused {what}: {_short(str(message))}")


def _order_outcomes(answer: Any, orders: Sequence[OrderSpec]) -> list[OrderOutcome]:
    if isinstance(answer, dict) and answer.get("status") == "err":
        message = str(answer.get("response"))
        return [OrderOutcome(cloid=o.cloid, status="error", error=message) for o in orders]
    try:
        statuses = answer["response"]["data"]["statuses"]
    except (KeyError, TypeError):
        raise ExchangeError(f"unexpected answer to an order request: {_short(repr(answer))}") from None
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


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
