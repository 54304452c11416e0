"""Money moving in and between accounts: deposits (``sim.fund``), usdClassTransfer, sendAsset,
each written to the ledger that userNonFundingLedgerUpdates answers from."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlrebal.sim import rules
from hlrebal.sim.accounts import Account, free_spot, leverage_for, perp_summary
from hlrebal.sim.numbers import ZERO, fmt, fmt_usd
from hlrebal.sim.placement import Placement
from hlrebal.sim.records import LedgerUpdate


class Transfers(Placement):
    """Deposits and transfers, on top of order placement."""

    def log_ledger(self, address: str, delta: dict[str, Any]) -> None:
        """One userNonFundingLedgerUpdates entry for ``address``, now."""
        self.ledger.append(LedgerUpdate(address.lower(), self.now(), delta, self.new_hash()))

    def fund(self, address: str, usdc: Decimal, dex: str = "") -> None:
        """Credit USDC: to the perp ledger, or to the one spot balance in unified mode; with
        ``dex``, to that builder dex's own clearinghouse (in its collateral token)."""
        if not self.market.has_dex(dex):
            raise ValueError(f"unknown perp dex {dex!r}")
        acct = self.ensure_account(address)
        if dex:
            book = acct.clearinghouse(dex)
            assert book is not None
            book.perp_raw += usdc
        elif acct.pooled:
            token = self.market.usdc().name
            acct.spot[token] = acct.spot.get(token, ZERO) + usdc
        else:
            acct.perp_raw += usdc
        self.log_ledger(acct.address, {"type": "deposit", "usdc": fmt_usd(usdc)})

    def fund_spot(self, address: str, token: str, amount: Decimal) -> None:
        if token not in self.market.token_by_name:
            raise ValueError(f"unknown spot token {token!r}")
        acct = self.ensure_account(address)
        acct.spot[token] = acct.spot.get(token, ZERO) + amount
        if token != self.market.usdc().name:
            pair = self.market.pair_for_token(token)
            px = pair.book_mid if pair is not None else None
            if px is not None:
                acct.spot_entry_ntl[token] = acct.spot_entry_ntl.get(token, ZERO) + amount * px
        # GUESS: a token appearing from nowhere has no exact ledger type; spotGenesis is the closest
        self.log_ledger(acct.address, {"type": "spotGenesis", "token": token, "amount": fmt(amount)})

    def set_mode(self, address: str, mode: str) -> None:
        """Switch account mode. Entering unified/portfolio moves the perp cash (all but the
        positions' entry notional) into the one spot USDC balance."""
        acct = self.ensure_account(address)
        was_pooled = acct.pooled
        acct.mode = mode  # type: ignore[assignment]
        if acct.pooled and not was_pooled:
            entry_ntl = sum(
                (
                    p.szi * p.entry_px
                    for p in acct.positions.values()
                    if leverage_for(acct, self.market.perp_by_name[p.coin], self.config.default_leverage).is_cross
                ),
                ZERO,
            )
            usdc = self.market.usdc().name
            moved = acct.perp_raw + entry_ntl
            acct.spot[usdc] = acct.spot.get(usdc, ZERO) + moved
            acct.perp_raw -= moved

    def usd_class_transfer(self, acct: Account, amount: Decimal, to_perp: bool) -> str | None:
        """Move USDC between the perp and spot ledgers (standard mode only)."""
        if acct.pooled:
            return rules.UNIFIED_DISABLED
        if amount <= 0:
            return rules.INVALID_AMOUNT
        usdc = self.market.usdc().name
        if to_perp:
            if amount > free_spot(self.market, acct, self.orders_of(acct.address), usdc, self.config.default_leverage):
                return rules.TRANSFER_BALANCE
            acct.spot[usdc] = acct.spot.get(usdc, ZERO) - amount
            acct.perp_raw += amount
        else:
            summary = perp_summary(self.market, acct, self.orders_of(acct.address), self.config.default_leverage)
            if amount > summary.withdrawable:
                return rules.TRANSFER_BALANCE
            acct.perp_raw -= amount
            acct.spot[usdc] = acct.spot.get(usdc, ZERO) + amount
        self.log_ledger(acct.address, {"type": "accountClassTransfer", "usdc": fmt_usd(amount), "toPerp": to_perp})
        return None

    def send_asset(
        self,
        acct: Account,
        destination: str,
        source: str,
        target: str,
        token: str,
        amount: Decimal,
        nonce: int = 0,
    ) -> str | None:
        """sendAsset: ``token`` from ``acct``'s ``source`` ("spot", "" the main perp dex, or a
        builder dex) to ``destination``'s ``target``. A perp dex side must be in its collateral
        token; a pooled (unified/portfolio) account's main perp side is its spot balance."""
        market = self.market
        if token not in market.token_by_name:
            return rules.SEND_ASSET_UNKNOWN_TOKEN.format(token=token)
        for dex in (source, target):
            if dex != "spot" and not market.has_dex(dex):
                return rules.SEND_ASSET_DEX.format(dex=dex)
            if dex != "spot" and market.collateral_name(dex) != token:
                return rules.SEND_ASSET_TOKEN.format(dex=dex or '""', token=token)
        orders = self.orders_of(acct.address)
        if source == "spot" or (source == "" and acct.pooled):
            have = free_spot(market, acct, orders, token, self.config.default_leverage)
        else:
            book = acct.clearinghouse(source)
            assert book is not None
            have = perp_summary(market, book, orders, self.config.default_leverage).withdrawable
        if amount > have:
            return rules.SEND_ASSET_BALANCE
        receiver = self.ensure_account(destination)
        self._move(acct, source, token, -amount)
        self._move(receiver, target, token, amount)
        delta = {
            "type": "send",
            "user": acct.address,
            "destination": receiver.address,
            "sourceDex": source,
            "destinationDex": target,
            "token": token,
            "amount": fmt(amount),
            "usdcValue": fmt_usd(self._usdc_value(token, amount)),
            "fee": "0.0",
            "nativeTokenFee": "0.0",
            "nonce": nonce,
            "feeToken": "",
        }
        self.log_ledger(acct.address, delta)
        if receiver.address != acct.address:
            self.log_ledger(receiver.address, delta)
        return None

    def _usdc_value(self, token: str, amount: Decimal) -> Decimal:
        if token == self.market.usdc().name:
            return amount
        pair = self.market.pair_for_token(token)
        px = pair.book_mid if pair is not None else None
        return amount * px if px is not None else ZERO

    def _move(self, acct: Account, dex: str, token: str, amount: Decimal) -> None:
        if dex == "spot" or (dex == "" and acct.pooled):
            acct.spot[token] = acct.spot.get(token, ZERO) + amount
        else:
            book = acct.clearinghouse(dex)
            assert book is not None
            book.perp_raw += amount
