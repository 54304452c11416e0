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

The room: :mod:`~hlrebal.exchange.client` (the client: transport, retries, signing, actions),
:mod:`~hlrebal.exchange.reads` (snapshots and re-reads), :mod:`~hlrebal.exchange.wire` (order
specs and outcomes, answers checked) and :mod:`~hlrebal.exchange.budget` (request weights, the log).
"""

from hlrebal.exchange.budget import DEFAULT_INFO_WEIGHT, ORDERS_PER_WEIGHT, RequestLog, exchange_weight, info_weight
from hlrebal.exchange.client import DEFAULT_DELAYS, DEFAULT_TIMEOUT, MAINNET_URL, ExchangeClient
from hlrebal.exchange.wire import (
    LocalTransport,
    OrderAnswerLost,
    OrderOutcome,
    OrderSpec,
    Retryable,
    address_of,
    decimal_to_wire_float,
)

__all__ = [
    "DEFAULT_DELAYS",
    "DEFAULT_INFO_WEIGHT",
    "DEFAULT_TIMEOUT",
    "MAINNET_URL",
    "ORDERS_PER_WEIGHT",
    "ExchangeClient",
    "LocalTransport",
    "OrderAnswerLost",
    "OrderOutcome",
    "OrderSpec",
    "RequestLog",
    "Retryable",
    "address_of",
    "decimal_to_wire_float",
    "exchange_weight",
    "info_weight",
]
