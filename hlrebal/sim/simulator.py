"""The Simulator: a local Hyperliquid-compatible exchange, its Python control surface and its
HTTP server, with one lock around all state."""

from __future__ import annotations

import threading
import traceback
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlrebal.sim import actions, info, seed
from hlrebal.sim import state as state_io
from hlrebal.sim.clock import ManualClock, wall_clock
from hlrebal.sim.config import BookConfig, DexConfig, SimConfig
from hlrebal.sim.engine import Vault
from hlrebal.sim.faults import Fault, FaultPlan
from hlrebal.sim.numbers import fmt, to_decimal
from hlrebal.sim.rules import DESERIALIZE
from hlrebal.sim.simfaults import FaultControls
from hlrebal.sim.simviews import SimViews

if TYPE_CHECKING:  # the HTTP server (http.server) is imported when one starts: the demo reads in process
    from hlrebal.sim.server import SimServer

MODES = {
    "standard": "standard",
    "unified": "unified",
    "portfolio": "portfolio",
    "default": "default",
    "disabled": "standard",
    "unifiedAccount": "unified",
    "portfolioMargin": "portfolio",
}


class Simulator(FaultControls, SimViews):
    """A local exchange speaking Hyperliquid's /info and /exchange.

    ``snapshot``: a path or dict in the snapshot format, or None for the default market.
    ``state``: a state file; when it exists the sim starts from it (the snapshot is then
    ignored), and ``autosave`` writes it after every state-changing request or call.
    ``clock``: a callable returning epoch milliseconds (default: the wall clock); pass a
    ``ManualClock`` to move time only by hand. ``sim.advance(seconds)`` moves the sim's time
    forward with any clock and runs what falls due (TWAP slices, scheduled cancels, funding,
    market flow, history replay).
    The HTTP server starts on ``with Simulator(...) as sim`` or ``start()``; a started sim
    also runs due timers in the background every ``config.tick_seconds``.
    """

    def __init__(
        self,
        snapshot: str | Path | dict[str, Any] | None = None,
        config: SimConfig | None = None,
        state: str | Path | None = None,
        autosave: bool = False,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self._base_clock = clock or wall_clock
        self._offset_ms = 0
        self.state_path = Path(state) if state is not None else None
        self.autosave = autosave
        self._lock = threading.RLock()
        if self.state_path is not None and self.state_path.exists():
            self.engine = state_io.load(self.state_path, self.config, self.clock)
            seed.add_config_dexes(self.engine.market, self.config)
        else:
            self.engine = seed.build_engine(snapshot, self.config, self.clock)
            if self.autosave and self.state_path is not None:
                state_io.save(self.engine, self.state_path)
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        self._faults = FaultPlan()
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._ticking = threading.Event()

    def clock(self) -> int:
        """The sim's time in epoch milliseconds: its clock plus what ``advance`` added."""
        return self._base_clock() + self._offset_ms

    @property
    def now(self) -> int:
        return self.clock()

    def advance(self, seconds: float) -> int:
        """Move the sim's time forward by ``seconds`` and run whatever falls due; returns the
        new time. (SDK nonces are wall-clock: more than two days ahead makes them too old.)"""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            if isinstance(self._base_clock, ManualClock):
                self._base_clock.advance(seconds)
            else:
                self._offset_ms += round(seconds * 1000)
        self.tick()
        return self.clock()

    def tick(self) -> bool:
        """Run the timers due by now; returns whether anything ran."""
        with self._lock:
            ran = self.engine.tick()
            if ran:
                self._changed()
            return ran

    def _tick_loop(self) -> None:
        while not self._ticking.wait(self.config.tick_seconds):
            try:
                self.tick()
            except Exception:  # a timer bug must not kill the ticker silently: keep it for the test
                self.errors.append(traceback.format_exc())

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> Simulator:
        """Start the HTTP server (idempotent)."""
        if self._server is None:
            from hlrebal.sim.server import SimServer

            self._server = SimServer((self.config.host, self.config.port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                name="hlrebal-sim",
                kwargs={"poll_interval": 0.01},
                daemon=True,
            )
            self._thread.start()
        if self._ticker is None and self.config.tick_seconds > 0:
            self._ticking.clear()
            self._ticker = threading.Thread(target=self._tick_loop, name="hlrebal-sim-ticker", daemon=True)
            self._ticker.start()
        return self

    def stop(self) -> None:
        """Stop the HTTP server and the ticker (idempotent)."""
        if self._ticker is not None:
            self._ticking.set()
            self._ticker.join(timeout=5)
            self._ticker = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    close = stop

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for the SDK: "http://127.0.0.1:<port>"."""
        if self._server is None:
            raise RuntimeError("the simulator is not started: use `with Simulator(...) as sim` or start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ---- request path (called by the HTTP handler) -----------------------------------------

    def _request_kind(self, endpoint: str, body: Any) -> str | None:
        if endpoint == "info":
            return body.get("type") if isinstance(body, dict) and isinstance(body.get("type"), str) else None
        return actions.action_type(body)

    def _arrive(self, endpoint: str, kind: str | None, count: bool = True) -> None:
        if count:
            self.counts[f"{endpoint}.{kind or 'invalid'}"] += 1
        if self.config.refill == "per_request":
            self.engine.market.refill()
        self.engine.tick()

    def _begin(self, endpoint: str, body: Any) -> tuple[Fault | None, float]:
        with self._lock:
            kind = self._request_kind(endpoint, body)
            self._arrive(endpoint, kind)
            if endpoint == "exchange":
                self._resting_fills(kind, body)
            fault = self._faults.take(endpoint, kind)
            if fault is not None:
                self.counts["http.drop" if fault.kind == "drop" else f"http.{fault.status}"] += 1
            return fault, self._faults.delay(endpoint)

    def _process(self, endpoint: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            try:
                if endpoint == "info":
                    if not isinstance(body, dict):
                        return 422, DESERIALIZE
                    try:
                        return 200, info.answer(self.engine, body)
                    except info.UnknownDex:
                        return (200, None) if self.config.unknown_dex == "null" else (500, "")
                outcome = actions.handle(self.engine, body)
                self.engine.tick()  # what the action started and is due now (a TWAP's first slice)
                if self.autosave:
                    self._save_if_configured()
                return 200, outcome.payload
            except (info.BadRequest, actions.BadRequest):
                return 422, DESERIALIZE
            except Exception:  # an internal bug must reach the test as a 500, with the trace kept
                self.errors.append(traceback.format_exc())
                return 500, "internal simulator error"

    def _end(self) -> None:
        with self._lock:
            for move in self._faults.answered():
                self.engine.set_price(move.coin, move.mid, None, None)

    def handle(self, endpoint: str, body: Any) -> tuple[int, Any]:
        """Process one body without HTTP, faults, latency or counting: (HTTP status, payload)."""
        if endpoint not in ("info", "exchange"):
            raise ValueError("endpoint must be 'info' or 'exchange'")
        with self._lock:
            self._arrive(endpoint, self._request_kind(endpoint, body), count=False)
            result = self._process(endpoint, body)
        self._end()
        return result

    # ---- accounts and market -------------------------------------------------------------

    def _changed(self) -> None:
        if self.autosave:
            self._save_if_configured()

    def _save_if_configured(self) -> None:
        if self.state_path is not None:
            state_io.save(self.engine, self.state_path)

    def fund(self, address: str, usdc: Decimal | str | int | float, dex: str = "") -> None:
        """Add USDC to an account (perp side; the one spot balance in unified mode). ``dex``: to
        that builder dex's own clearinghouse instead (its collateral token)."""
        with self._lock:
            self.engine.fund(address, to_decimal(usdc), dex)
            self._changed()

    def add_dex(
        self,
        name: str,
        assets: list[tuple[str, int, int, Decimal | str | int | float]] | tuple[Any, ...] = (),
        collateral_token: int = 0,
        fee_multiplier: Decimal | str | int | float = 1,
        info: dict[str, Any] | None = None,
    ) -> list[int]:
        """List a builder-deployed (HIP-3) perp dex after the existing ones. ``assets``:
        (coin without the prefix, szDecimals, maxLeverage, price) tuples, traded as "name:COIN".
        ``info``: extra perpDexs fields (fullName, deployer, ...). Returns the assets' ids."""
        config = DexConfig(
            name=name,
            assets=tuple(assets),
            collateral_token=collateral_token,
            fee_multiplier=to_decimal(fee_multiplier),
            info=dict(info or {}),
        )
        with self._lock:
            dex = self.engine.market.add_dex(seed.dex_from_config(config))
            self._changed()
            return [asset.asset_id for asset in dex.perps]

    def fund_spot(self, address: str, token: str, amount: Decimal | str | int | float) -> None:
        """Add a spot balance ("USDC", "HYPE", ...)."""
        with self._lock:
            self.engine.fund_spot(address, token, to_decimal(amount))
            self._changed()

    def approve_agent(self, account: str, agent_address: str, name: str = "") -> None:
        """Same effect as an approveAgent signed by ``account``."""
        with self._lock:
            self.engine.approve_agent(account, agent_address, name)
            self._changed()

    def set_vault_leader(self, vault_address: str, leader_address: str, kind: str = "vault") -> None:
        """Let ``leader_address`` (or its agent) trade ``vault_address`` through vaultAddress.
        ``kind="subaccount"`` also lets the leader move the sub-account's USDC (usdClassTransfer)."""
        if kind not in ("vault", "subaccount"):
            raise ValueError("kind must be 'vault' or 'subaccount'")
        with self._lock:
            self.engine.ensure_account(vault_address)
            self.engine.ensure_account(leader_address)
            self.engine.vaults[vault_address.lower()] = Vault(leader=leader_address.lower(), kind=kind)
            self._changed()

    def set_account_mode(self, address: str, mode: str) -> None:
        """ "standard", "unified" or "portfolio" (wire names such as "unifiedAccount" accepted)."""
        if mode not in MODES:
            raise ValueError(f"unknown account mode {mode!r}")
        with self._lock:
            self.engine.set_mode(address, MODES[mode])
            self._changed()

    def set_price(
        self,
        coin: str,
        mid: Decimal | str | int | float,
        mark: Decimal | str | int | float | None = None,
        oracle: Decimal | str | int | float | None = None,
    ) -> None:
        """Move a coin's prices (mark and oracle default to mid) and rebuild its book. Resting
        orders the new book crosses fill at their limit price."""
        with self._lock:
            self.engine.set_price(
                self._coin(coin),
                to_decimal(mid),
                to_decimal(mark) if mark is not None else None,
                to_decimal(oracle) if oracle is not None else None,
            )
            self._changed()

    def set_funding_rate(self, coin: str, rate: Decimal | str | float) -> None:
        """A perp's hourly funding rate (its context's ``funding``; paid each hour when
        ``SimConfig(funding=True)``)."""
        with self._lock:
            asset = self.engine.market.perp_by_name.get(coin)
            if asset is None:
                raise ValueError(f"unknown perp {coin!r}")
            asset.ctx["funding"] = fmt(to_decimal(rate))
            self._changed()

    def set_book(
        self,
        coin: str,
        spread: Decimal | str | float | None = None,
        level_notional: Decimal | str | int | float | None = None,
        levels: int | None = None,
        level_step: Decimal | str | float | None = None,
    ) -> None:
        """Override one coin's book shape (None: the SimConfig value) and refill it."""
        with self._lock:
            coin = self._coin(coin)
            self.engine.market.book_overrides[coin] = BookConfig(
                spread=to_decimal(spread) if spread is not None else None,
                level_notional=to_decimal(level_notional) if level_notional is not None else None,
                levels=levels,
                level_step=to_decimal(level_step) if level_step is not None else None,
            )
            self.engine.market.refill(coin)
            self._changed()

    def refill(self, coin: str | None = None) -> None:
        """Bring back consumed book depth (one coin or all)."""
        with self._lock:
            self.engine.market.refill(self._coin(coin) if coin is not None else None)

    # ---- state -------------------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> None:
        """Write the state atomically (to ``path``, else to the ``state`` file)."""
        target = Path(path) if path is not None else self.state_path
        if target is None:
            raise ValueError("no path given and the simulator has no state file")
        with self._lock:
            state_io.save(self.engine, target)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    def _coin(self, name: str) -> str:
        """The exchange's name of a coin: "BTC", "@107" (also given as "HYPE/USDC")."""
        inst = self.engine.market.resolve(name)
        if inst is None:
            raise ValueError(f"unknown coin {name!r}")
        return inst.coin

    def set_rate_limit(
        self,
        address: str,
        used: int | None = None,
        cap: int | None = None,
        cum_vlm: Decimal | str | int | float | None = None,
    ) -> None:
        """Set an address's request budget: requests ``used`` so far, a fixed ``cap`` (instead
        of 10000 + 1 per USDC traded), or its traded volume ``cum_vlm``."""
        with self._lock:
            acct = self.engine.ensure_account(address)
            if used is not None:
                acct.requests_used = used
            if cap is not None:
                acct.requests_cap = cap
            if cum_vlm is not None:
                acct.cum_vlm = to_decimal(cum_vlm)
            self._changed()
