"""Approved plans: a plan written with the account state it was made from, read back and checked,
so that one step proposes, a person (or a second model) reviews, and only that exact plan runs.

A plan file (``hlrebal plan ... -o FILE``) is the plan document of ``plan --json`` (with its
``plan_hash``) plus a ``basis``: the target or action document's text and the raw snapshot the plan
was made from. Reading it back checks, before anything is connected:

* the ``plan_hash`` matches the plan's content (an edited trade, limit or size: exit 2);
* planning the basis again gives exactly that plan (an edited basis, or a plan made by another
  version of hlrebal: exit 2), which also gives back the plan itself, exact to the last digit.

Before execution the live account is compared with the basis (:func:`check_unchanged`): positions
and token balances must agree to the lot, cash to :data:`CASH_TOLERANCE` of equity, each traded
coin's reference price within ``max_price_move``, and the plan must be younger than
``max_plan_age``; otherwise exit 4 and nothing is sent.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hlrebal.errors import BadInputError, GuardError, HlrebalError
from hlrebal.inputs import DOCUMENT_LIMIT, decode_text, loads, parse_float, read_limited
from hlrebal.market import fmt_decimal
from hlrebal.planner import Plan, plan_document
from hlrebal.policy import PLANNING_KEYS, Policy
from hlrebal.render import plan_hash, plan_json
from hlrebal.snapshot import CASH_TOKEN, Snapshot
from hlrebal.targets import Document, parse_document

PLAN_FILE_VERSION = 1
#: how far a cash balance (perp USDC, spot USDC) may move, as a fraction of equity, and the plan
#: still count as made from this account: funding is paid every hour, and on a unified account
#: the one balance moves with unrealised PnL
CASH_TOLERANCE = Decimal("0.001")
DEFAULT_MAX_PRICE_MOVE = Decimal("0.01")
DEFAULT_MAX_PLAN_AGE = Decimal(600)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Limits:
    """How far the account may have moved since an approved plan was made and still be traded."""

    max_price_move: Decimal = DEFAULT_MAX_PRICE_MOVE
    """The largest move of a traded coin's reference price, as a fraction (0.01 is 1%)."""
    max_plan_age: Decimal = DEFAULT_MAX_PLAN_AGE
    """Seconds since the account state the plan was made from was read."""

    @classmethod
    def of(cls, max_price_move: object = None, max_plan_age: object = None) -> Limits:
        """Limits from user values (strings, numbers; None for the default); exit 2 for a value
        that is not a number above 0."""
        return cls(
            max_price_move=_positive(max_price_move, "--max-price-move", DEFAULT_MAX_PRICE_MOVE, fraction=True),
            max_plan_age=_positive(max_plan_age, "--max-plan-age", DEFAULT_MAX_PLAN_AGE),
        )


def _positive(value: object, flag: str, default: Decimal, *, fraction: bool = False) -> Decimal:
    """A number above 0; with ``fraction``, below 0.5 too: a price move of 5 is 500%, which would
    switch the check off, so it is refused as the percentage it most likely is."""
    if value is None:
        return default
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or number <= 0:
        raise BadInputError(f"{flag} {str(value)!r}: must be a number above 0")
    if fraction and number >= Decimal("0.5"):
        raise BadInputError(
            f"{flag} {str(value)!r}: must be a fraction below 0.5",
            hint=f"fractions, not percentages: write {flag} 0.02 for 2%",
        )
    return number


class PlanFileError(BadInputError):
    """A plan file that cannot be executed as written (exit 2)."""

    kind = "plan_file"


@dataclass(frozen=True)
class ApprovedPlan:
    """A plan with what it was made from: the document, the account state, the plan's own JSON."""

    plan: Plan
    document: Document
    snapshot: Snapshot
    document_text: str
    source: str
    """Where it came from: the plan file, or the MCP server's memory."""

    @property
    def plan_hash(self) -> str:
        return str(plan_json(self.plan)["plan_hash"])


def approve(plan: Plan, document: Document, snapshot: Snapshot, document_text: str, source: str) -> ApprovedPlan:
    """A plan made just now, kept with its basis (``plan -o`` writes one; the MCP server holds them)."""
    return ApprovedPlan(plan, document, snapshot, document_text, source)


def plan_file_doc(approved: ApprovedPlan) -> dict[str, Any]:
    """The plan file's JSON: the plan document, then its basis."""
    doc = plan_json(approved.plan)
    doc["basis"] = {
        "version": PLAN_FILE_VERSION,
        "document": approved.document_text,
        "document_source": approved.document.source,
        "document_sha256": approved.document.sha256,
        "snapshot": approved.snapshot.to_raw(),
    }
    return doc


def save_plan(approved: ApprovedPlan, path: str | Path) -> None:
    """Write a plan file atomically (a temporary file, then a rename); a missing folder is exit 2."""
    target = Path(path)
    if not target.parent.is_dir():
        raise PlanFileError(
            f"{path}: the folder {target.parent} does not exist", hint="create it first, or write the plan elsewhere"
        )
    if target.is_dir():
        raise PlanFileError(f"{path}: is a directory; give a file name with -o")
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as e:
        raise PlanFileError(f"{path}: cannot be written ({e.strerror})") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(plan_file_doc(approved), f, indent=1)
        f.write("\n")
    tmp.replace(target)


def load_plan(path: str | Path) -> ApprovedPlan:
    """Read a plan file and check it (see the module's docstring). Raises :class:`PlanFileError`."""
    source = str(path)
    raw = read_limited(path, what="plan file", limit=DOCUMENT_LIMIT, error=PlanFileError)
    # Snapshot numbers stay as the exchange sent them (floats, once in range), as a snapshot file's.
    doc = loads(decode_text(raw, source, PlanFileError), source, PlanFileError, floats=_in_range_float)
    return approved_from_doc(doc, source)


def _in_range_float(text: str) -> float:
    parse_float(text)
    return float(text)


def approved_from_doc(doc: Any, source: str) -> ApprovedPlan:
    """The approved plan a plan file's JSON holds, checked against its hash and its basis."""
    if not isinstance(doc, dict) or doc.get("kind") != "plan":
        raise PlanFileError(
            f'{source}: is not a plan file (no "kind": "plan")', hint="write one with `hlrebal plan TARGETS -o FILE`"
        )
    basis = doc.get("basis")
    if not isinstance(basis, dict):
        raise PlanFileError(
            f"{source}: has no basis (the account state it was made from): a plan printed by `plan --json` "
            "cannot be executed",
            hint="write the plan with `hlrebal plan TARGETS -o FILE`, review it, then `hlrebal execute --plan FILE`",
        )
    if doc.get("plan_hash") != plan_hash(doc):
        raise PlanFileError(
            f"{source}: its content does not match its plan_hash: the plan was changed after it was made",
            hint="make and review a new plan; an edited plan is never executed",
        )
    text, doc_source, snap_raw = basis.get("document"), basis.get("document_source"), basis.get("snapshot")
    if basis.get("version") != PLAN_FILE_VERSION or not isinstance(text, str) or not isinstance(snap_raw, dict):
        raise PlanFileError(f"{source}: its basis is not one this hlrebal writes (version {basis.get('version')!r})")
    document = parse_document(text, str(doc_source or source))
    snapshot = Snapshot.from_raw(snap_raw, f"{source} (basis)")
    try:
        policy = Policy(**doc.get("policy", {}))
        remade = plan_document(snapshot, document, policy)
    except (HlrebalError, ValueError, TypeError):
        remade = None
    expected = {k: v for k, v in doc.items() if k != "basis"}
    if remade is None or plan_json(remade) != expected:
        raise PlanFileError(
            f"{source}: the plan does not follow from the account state stored with it (the file was changed, "
            "or made by another version of hlrebal)",
            hint="make and review a new plan with this hlrebal",
        )
    return ApprovedPlan(remade, document, snapshot, text, source)


# --------------------------------------------------------------------------- before execution


def execution_policy(approved: ApprovedPlan, current: Policy) -> Policy:
    """The policy an approved plan runs under: the planning preferences it was made with, and the
    safety limits and exchange settings configured now (a plan file cannot raise them)."""
    made = approved.plan.policy
    return current.model_copy(update={key: getattr(made, key) for key in PLANNING_KEYS})


def check_account(approved: ApprovedPlan, user: str, network: str) -> None:
    """The plan must be for the account and network execution connects to (exit 2 otherwise)."""
    p = approved.plan
    if p.user.lower() != user.lower() or p.network != network:
        raise PlanFileError(
            f"{approved.source}: the plan is for {p.user} on {p.network}, but this run trades {user} on {network}",
            hint="connect to the plan's account (--demo, --network, --api-url, --address as when it was made)",
        )


def check_age(approved: ApprovedPlan, now: float, max_plan_age: Decimal) -> None:
    """Refuse (exit 4) a plan whose account state is older than ``max_plan_age`` seconds."""
    age = Decimal(str(now)) - Decimal(approved.plan.snapshot_time) / 1000
    if age > max_plan_age:
        raise GuardError(
            f"the plan is {age:.0f} s old, more than --max-plan-age {fmt_decimal(max_plan_age)} s: no order was sent",
            hint="make and review a fresh plan (or raise --max-plan-age)",
        )


def check_unchanged(approved: ApprovedPlan, live: Snapshot, max_price_move: Decimal) -> None:
    """Refuse (exit 4) when the live account is not the one the plan was made from, or a traded
    coin's price moved more than ``max_price_move`` (a fraction) since."""
    changes = account_changes(approved.snapshot, live)
    if changes:
        shown = "; ".join(changes[:5]) + ("; ..." if len(changes) > 5 else "")
        raise GuardError(
            f"the account changed since the plan was made ({shown}): no order was sent",
            hint="make and review a new plan from the account as it is now",
        )
    moved = price_moves(approved.plan, live, max_price_move)
    if moved:
        raise GuardError(
            f"prices moved more than --max-price-move {fmt_decimal(max_price_move)} since the plan was made "
            f"({'; '.join(moved)}): no order was sent",
            hint="make and review a new plan at today's prices (or raise --max-price-move)",
        )


def account_changes(stored: Snapshot, live: Snapshot) -> list[str]:
    """What differs between two reads of an account beyond lot rounding (and, for cash, beyond
    :data:`CASH_TOLERANCE` of equity; cash is counted without the positions' value, so that a price
    move is not taken for a deposit)."""
    out: list[str] = []
    for coin in sorted(set(stored.positions) | set(live.positions)):
        before, after = _szi(stored, coin), _szi(live, coin)
        if abs(after - before) >= _lot(live, coin):
            out.append(f"{coin} position {fmt_decimal(before)} -> {fmt_decimal(after)}")
    for token in sorted((set(stored.spot_balances) | set(live.spot_balances)) - {CASH_TOKEN}):
        before, after = _balance(stored, token), _balance(live, token)
        pair = live.spot_pair_of(token) or stored.spot_pair_of(token)
        if abs(after - before) >= (Decimal(1).scaleb(-pair.sz_decimals) if pair else Decimal("1e-8")):
            out.append(f"{token} balance {fmt_decimal(before)} -> {fmt_decimal(after)}")
    tolerance = CASH_TOLERANCE * max(stored.equity, _ZERO)
    for what, before, after in _cash(stored, live):
        if abs(after - before) > tolerance:
            out.append(f"{what} {before:,.2f} -> {after:,.2f}")
    return out


def _cash(stored: Snapshot, live: Snapshot) -> list[tuple[str, Decimal, Decimal]]:
    """Each cash balance, before and after: on a unified account the one USDC balance (less the
    perp positions' value it holds), on a standard one perp USDC and spot USDC; each builder dex's."""
    out = []
    if stored.unified or live.unified:
        out.append(("USDC", stored.spot_usdc - _held(stored, ""), live.spot_usdc - _held(live, "")))
    else:
        out.append(("perp USDC", stored.account_value - _held(stored, ""), live.account_value - _held(live, "")))
        out.append(("spot USDC", stored.spot_usdc, live.spot_usdc))
    for dex in sorted(set(stored.dexes) | set(live.dexes)):
        before = (stored.dexes[dex].account_value if dex in stored.dexes else _ZERO) - _held(stored, dex)
        after = (live.dexes[dex].account_value if dex in live.dexes else _ZERO) - _held(live, dex)
        out.append((f"dex {dex} USDC", before, after))
    return out


def price_moves(p: Plan, live: Snapshot, limit: Decimal) -> list[str]:
    """Traded coins whose reference price now is more than ``limit`` away from the plan's."""
    out = []
    for coin in dict.fromkeys(t.coin for t in p.trades):
        planned = next(t.reference_price for t in p.trades if t.coin == coin)
        market = live.market_of(coin)
        now = market.reference_price if market is not None else None
        if now is None:
            out.append(f"{coin} has no price now")
        elif abs(now - planned) / planned > limit:
            out.append(f"{coin} {fmt_decimal(planned)} -> {fmt_decimal(now)} ({(now - planned) / planned * 100:+.2f}%)")
    return out


def _szi(snap: Snapshot, coin: str) -> Decimal:
    position = snap.positions.get(coin)
    return position.szi if position is not None else _ZERO


def _lot(snap: Snapshot, coin: str) -> Decimal:
    market = snap.assets.get(coin)
    return Decimal(1).scaleb(-market.sz_decimals) if market is not None else Decimal("1e-8")


def _balance(snap: Snapshot, token: str) -> Decimal:
    balance = snap.spot_balances.get(token)
    return balance.total if balance is not None else _ZERO


def _held(snap: Snapshot, dex: str) -> Decimal:
    """The value of a perp clearinghouse's positions at the mark ("" the main one)."""
    value = _ZERO
    for coin, position in snap.positions.items():
        market = snap.assets.get(coin)
        if market is not None and market.dex == dex:
            value += position.szi * (market.mark or market.reference_price or _ZERO)
    return value
