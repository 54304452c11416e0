"""What the MCP server's tools do, without the MCP SDK: read the account, give the schema, plan a
document, execute an approved plan, show the journal. Each returns a JSON document (the same ones
``--json`` prints) and raises the error hierarchy; :mod:`hlrebal.mcp.server` turns those into tool
results and tool errors.

The desk is made once per server, from the options ``hlrebal mcp`` was started with: the same
configuration, profiles, keys and guards as the command line. Plans it makes are kept in memory by
their ``plan_hash`` (the most recent :data:`KEPT_PLANS`), so that ``execute_plan`` can run exactly a
plan an earlier ``plan`` call showed, and nothing else.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlrebal.approval import DEFAULT_MAX_PLAN_AGE, DEFAULT_MAX_PRICE_MOVE, ApprovedPlan, approve
from hlrebal.errors import BadInputError, GuardError

if TYPE_CHECKING:
    from hlrebal.config import Resolved
    from hlrebal.targets import Document

#: plans a server remembers for ``execute_plan`` (older ones must be planned again)
KEPT_PLANS = 32
MIN_PREFIX = 12
"""The shortest plan_hash prefix execute_plan takes (the plan table shows 16 digits)."""


@dataclass
class Desk:
    """The server's settings and the plans it has made."""

    flags: dict[str, Any] = field(default_factory=dict)
    """Settings from ``hlrebal mcp``'s own flags (network, api_url, address, vault, safety limits)."""
    demo: bool = False
    key_file: Path | None = None
    config: Path | None = None
    profile: str | None = None
    journal: Path | None = None
    allow_execute: bool = False
    max_price_move: Decimal = DEFAULT_MAX_PRICE_MOVE
    max_plan_age: Decimal = DEFAULT_MAX_PLAN_AGE
    plans: OrderedDict[str, ApprovedPlan] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ settings

    def settings(self, document: Document | None = None) -> Resolved:
        from hlrebal.config import resolve

        return resolve(
            flags=self.flags,
            target_policy=document.policy if document is not None else None,
            config_path=self.config,
            profile=self.profile,
        )

    def journal_file(self) -> Path:
        from hlrebal.runner import default_journal

        return self.journal or default_journal(self.settings())

    # ------------------------------------------------------------------ the tools

    def account(self) -> dict[str, Any]:
        """Equity, positions, spot balances, their weights, open orders (``hlrebal account --json``)."""
        from hlrebal.render import account_json
        from hlrebal.session import connect

        with connect(self.settings(), demo=self.demo, key_file=self.key_file) as conn:
            return account_json(conn.read(spot=True))

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of target and direct-action documents (``hlrebal schema``)."""
        from hlrebal.targets import schema

        return schema()

    def plan(self, document: Mapping[str, Any] | str, policy: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The plan for a document (a JSON object, JSON text, or an answer with one JSON object in
        it), with optional planning preferences; the plan document with its ``plan_hash``."""
        from hlrebal import planner
        from hlrebal.render import plan_json
        from hlrebal.session import connect

        doc, text = _document(document, policy)
        resolved = self.settings(doc)
        with connect(resolved, demo=self.demo, key_file=self.key_file) as conn:
            snap = conn.read(spot=doc.mentions_spot, dexes=doc.dexes)
        planner.check_document(snap, doc, resolved.policy)
        made = planner.plan_document(snap, doc, resolved.policy)
        approved = approve(made, doc, snap, text, "an earlier plan call")
        shown = plan_json(made)
        with self._lock:
            self.plans[approved.plan_hash] = approved
            self.plans.move_to_end(approved.plan_hash)
            while len(self.plans) > KEPT_PLANS:
                self.plans.popitem(last=False)
        return shown

    def approved(self, plan_hash: str) -> ApprovedPlan:
        """The plan an earlier ``plan`` call made, by its hash or a unique prefix of 12 or more of its
        digits; refused unless execution is allowed."""
        if not self.allow_execute:
            raise GuardError(
                "execution is disabled: this server was started without --allow-execute; nothing was sent",
                hint="restart the server with `hlrebal mcp --allow-execute` to let it place orders",
            )
        wanted = plan_hash.strip().lower()
        with self._lock:
            found = self.plans.get(wanted)
            # The plan table shows 16 digits of the hash: a unique prefix of 12 or more names a plan
            # this server made as surely as the whole hash does.
            matches = [p for h, p in self.plans.items() if len(wanted) >= MIN_PREFIX and h.startswith(wanted)]
        if found is None and len(matches) > 1:
            raise BadInputError(
                f"plan_hash {plan_hash[:16]!r} starts {len(matches)} plans this server made",
                hint="pass the whole plan_hash the plan tool returned",
            )
        found = found or (matches[0] if matches else None)
        if found is None:
            raise BadInputError(
                f"no plan with plan_hash {plan_hash[:16]!r} was made by this server (it keeps the last {KEPT_PLANS})",
                hint="call the plan tool first and pass the plan_hash it returns",
            )
        return found

    def execute_plan(self, plan_hash: str) -> dict[str, Any]:
        """Execute an approved plan exactly (``hlrebal execute --plan``), once: the execution report."""
        from hlrebal.api import Unattended
        from hlrebal.approval import Limits
        from hlrebal.errors import HlrebalError
        from hlrebal.render import execution_json
        from hlrebal.runner import execute_run, record_failed_run
        from hlrebal.session import connect

        approved = self.approved(plan_hash)
        with self._lock:  # a plan runs at most once, whatever becomes of the run
            self.plans.pop(approved.plan_hash, None)
        resolved = self.settings(approved.document)
        journal_file = self.journal_file()
        try:
            with connect(resolved, demo=self.demo, key_file=self.key_file, need_signer=True) as conn:
                result = execute_run(
                    conn,
                    approved.document,
                    resolved,
                    Unattended(None),
                    journal_file=journal_file,
                    assume_yes=True,
                    approved=approved,
                    limits=Limits(self.max_price_move, self.max_plan_age),
                )
        except HlrebalError as e:
            account = resolved.settings.vault or resolved.settings.account_address
            network = "demo" if self.demo else resolved.network_label
            record_failed_run(journal_file, e, targets=approved.document.source, account=account, network=network)
            raise
        return execution_json(result.report, result.confirmed)

    def journal_runs(self, last: int = 10) -> dict[str, Any]:
        """The recent runs of the journal (``hlrebal journal --json``)."""
        from hlrebal.journal import summarize_runs

        if last < 1:
            raise BadInputError(f"last must be 1 or more, not {last}")
        path = self.journal_file()
        return {"version": 1, "kind": "journal", "path": str(path), "runs": summarize_runs(path, last)}


def _document(document: Mapping[str, Any] | str, policy: Mapping[str, Any] | None) -> tuple[Document, str]:
    """The document a plan call names (with the call's planning preferences over its own), and
    its JSON text."""
    import json

    from hlrebal.targets import extract_json, mapping_text, parse_document

    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else extract_json(document, "document")
    elif isinstance(document, Mapping):
        text = mapping_text(document, "document")
    else:
        raise BadInputError("document: must be a JSON object (or text holding one)")
    doc = parse_document(text, "document")
    if not policy:
        return doc, text
    if not isinstance(policy, Mapping):
        raise BadInputError("policy: must be a JSON object of planning preferences")
    raw = json.loads(text, parse_float=Decimal)
    if "target_allocation" in raw or "actions" in raw:
        raw["policy"] = {**raw.get("policy", {}), **policy}
    else:  # the bare shape: a policy needs the weights under target_allocation
        raw = {"target_allocation": raw, "policy": dict(policy)}
    text = mapping_text(raw, "document")
    return parse_document(text, "document"), text
