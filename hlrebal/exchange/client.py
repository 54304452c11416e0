"""The client of one Hyperliquid-compatible endpoint: the transport (the SDK's ``Info.post``, or an
in-process exchange), bounded retries, the request log, signing, and every action hlrebal sends."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlrebal.errors import BadInputError, ExchangeError
from hlrebal.exchange import reads
from hlrebal.exchange.budget import RequestLog, exchange_weight
from hlrebal.exchange.wire import (
    LocalTransport,
    OrderAnswerLost,
    OrderOutcome,
    OrderSpec,
    Retryable,
    cancel_errors,
    decimal_to_wire_float,
    expect,
    expect_ok,
    order_outcomes,
    short,
)
from hlrebal.snapshot import Snapshot

if TYPE_CHECKING:
    from hlrebal.keys import SigningKey

MAINNET_URL = "https://api.hyperliquid.xyz"
DEFAULT_TIMEOUT = 10.0
DEFAULT_DELAYS = (0.25, 0.75, 2.0)
_EMPTY_META: dict[str, Any] = {"universe": []}
_EMPTY_SPOT_META: dict[str, Any] = {"universe": [], "tokens": []}


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
            raise ExchangeError(f"the exchange refused the request (HTTP {status}): {short(str(answer))}")
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
            raise ExchangeError(f"the exchange refused the request (HTTP {e.status_code}): {short(message)}") from None
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
        """The whole account and its market, in as few info requests as the account needs
        (:func:`hlrebal.exchange.reads.read_snapshot`)."""
        return reads.read_snapshot(
            self, user, spot=spot, open_orders=open_orders, mode=mode, dexes=dexes, network_label=network_label
        )

    def refresh_snapshot(
        self,
        previous: Snapshot,
        *,
        positions: bool = True,
        spot: bool = False,
        prices: bool = False,
        markets: bool = False,
    ) -> Snapshot:
        """``previous`` with only what changes during a run read again
        (:func:`hlrebal.exchange.reads.refresh_snapshot`)."""
        return reads.refresh_snapshot(self, previous, positions=positions, spot=spot, prices=prices, markets=markets)

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
        return expect(value, kind, what)

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
        orders = payload.get("action", {}).get("orders")
        n = len(orders) if isinstance(orders, list) else 0
        self.log.add(f"exchange.{kind}", weight=exchange_weight(n), actions=max(n, 1))
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
        return order_outcomes(answer, orders)

    def update_leverage(self, asset: int, leverage: int, *, is_cross: bool, coin: str) -> None:
        action = {"type": "updateLeverage", "asset": asset, "isCross": is_cross, "leverage": leverage}
        answer = self._exchange("updateLeverage", self._signed_l1(action, expires_after=None))
        expect_ok(answer, f"setting {coin} leverage to {leverage}x {'cross' if is_cross else 'isolated'}")

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
        expect_ok(answer, f"moving {amount} USDC {'to perp' if to_perp else 'to spot'}")

    def cancel(self, cancels: Sequence[tuple[int, int]]) -> list[str | None]:
        """Cancel (asset, oid) pairs in one request; returns an error (or None) per cancel."""
        action = {"type": "cancel", "cancels": [{"a": a, "o": o} for a, o in cancels]}
        answer = self._exchange("cancel", self._signed_l1(action, expires_after=None))
        expect_ok(answer, "cancelling open orders")
        return cancel_errors(answer)

    def cancel_by_cloid(self, cancels: Sequence[tuple[int, str]]) -> list[str | None]:
        """Cancel (asset, client order id) pairs in one request; returns an error (or None) per cancel."""
        action = {"type": "cancelByCloid", "cancels": [{"asset": a, "cloid": c} for a, c in cancels]}
        answer = self._exchange("cancelByCloid", self._signed_l1(action, expires_after=None))
        expect_ok(answer, "cancelling orders by client order id")
        return cancel_errors(answer)

    def schedule_cancel(self, time_ms: int | None) -> None:
        """The dead man's switch: every open order of the account is cancelled at ``time_ms`` (at
        least 5 s ahead); ``None`` clears it."""
        action: dict[str, Any] = {"type": "scheduleCancel"}
        if time_ms is not None:
            action["time"] = time_ms
        answer = self._exchange("scheduleCancel", self._signed_l1(action, expires_after=None))
        expect_ok(
            answer, "setting the dead man's switch (scheduleCancel)" if time_ms else "clearing the dead man's switch"
        )

    def twap_order(
        self, *, asset: int, coin: str, is_buy: bool, size: Decimal, reduce_only: bool, minutes: int, randomize: bool
    ) -> int:
        """A native TWAP (``twapOrder``): the SDK 0.24 has no method for it, so the action is signed
        with the SDK's L1 signing helper and posted as every other action. Returns its TWAP id;
        raises ExchangeError with the exchange's reason when refused, OrderAnswerLost when the
        answer never came (the caller looks it up in twapHistory, never resends it)."""
        from hyperliquid.utils.signing import float_to_wire

        wire_size = float_to_wire(decimal_to_wire_float(size, f"{coin} TWAP size"))
        twap = {"a": asset, "b": is_buy, "s": wire_size, "r": reduce_only, "m": minutes, "t": randomize}
        answer = self._exchange("twapOrder", self._signed_l1({"type": "twapOrder", "twap": twap}, expires_after=None))
        expect_ok(answer, f"a {coin} TWAP")
        status = answer.get("response", {}).get("data", {}).get("status", {})
        if isinstance(status, dict) and isinstance(status.get("running"), dict):
            twap_id = status["running"].get("twapId")
            if isinstance(twap_id, int):
                return twap_id
        reason = status.get("error") if isinstance(status, dict) else None
        raise ExchangeError(f"the exchange refused a {coin} TWAP: {short(str(reason or status))}")

    def twap_cancel(self, asset: int, twap_id: int) -> str | None:
        """``twapCancel``: None when cancelled, else the exchange's reason (already finished...)."""
        action = {"type": "twapCancel", "a": asset, "t": twap_id}
        answer = self._exchange("twapCancel", self._signed_l1(action, expires_after=None))
        expect_ok(answer, f"cancelling TWAP {twap_id}")
        status = answer.get("response", {}).get("data", {}).get("status")
        return str(status["error"]) if isinstance(status, dict) and "error" in status else None

    def user_twap_slice_fills(self, user: str) -> list[dict[str, Any]]:
        """``userTwapSliceFills``: ``[{"fill": {...}, "twapId": N}]``, newest first."""
        fills: list[dict[str, Any]] = self._expect(
            self.info({"type": "userTwapSliceFills", "user": user.lower()}), list, "userTwapSliceFills"
        )
        return fills

    def twap_history(self, user: str) -> list[dict[str, Any]]:
        """``twapHistory``: an entry when each TWAP starts and one when it ends (its status)."""
        entries: list[dict[str, Any]] = self._expect(
            self.info({"type": "twapHistory", "user": user.lower()}), list, "twapHistory"
        )
        return entries

    def user_rate_limit(self, user: str) -> dict[str, Any] | None:
        """``userRateLimit``: ``{cumVlm, nRequestsUsed, nRequestsCap}`` of the address budget; None
        where the endpoint does not know the request."""
        try:
            answer = self.info({"type": "userRateLimit", "user": user.lower()})
        except ExchangeError as e:
            if "HTTP 4" in e.message:
                return None
            raise
        return answer if isinstance(answer, dict) else None

    def l2_book(self, coin: str) -> dict[str, Any]:
        """The book of ``coin`` (its wire name: "BTC", "@107", "xyz:XYZ100"), best levels first."""
        book: dict[str, Any] = self._expect(self.info({"type": "l2Book", "coin": coin}), dict, f"l2Book ({coin})")
        return book

    def open_orders(self, user: str, dex: str = "") -> list[dict[str, Any]]:
        """The account's resting orders on one perp dex ("": the main dex, with spot)."""
        orders: list[dict[str, Any]] = self._expect(
            self.info({"type": "openOrders", "user": user.lower(), "dex": dex}), list, "openOrders"
        )
        return orders
