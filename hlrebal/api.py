"""The library surface for agents and scripts: load, read, plan, execute. Prints nothing.

Everything here raises the error hierarchy of :mod:`hlrebal.errors` (each error carries the exit
code the command line would use, a message and a hint) and returns the same values the command
line renders::

    import hlrebal

    snapshot = hlrebal.read_snapshot("0x…")                      # or hlrebal.load_snapshot("snap.json")
    targets = hlrebal.load_targets({"target_allocation": {"BTC": 0.4, "USDC": 0.6}})
    plan = hlrebal.plan(snapshot, targets, hlrebal.Policy(band=0.03))
    report = hlrebal.execute(targets, key_file="~/.config/hlrebal/agent.key")

:func:`plan` is pure (the snapshot, the document and the policy in; the plan out). :func:`read_snapshot`
and :func:`execute` resolve their settings as the command line does: the arguments given here
(as flags), then the environment (``HLREBAL_*``), then the configuration file and its profiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlrebal.approval import ApprovedPlan, Limits
from hlrebal.errors import BadInputError, HlrebalError
from hlrebal.policy import PLANNING_KEYS, Policy
from hlrebal.snapshot import Snapshot
from hlrebal.targets import Document, extract_json, mapping_text, parse_document

if TYPE_CHECKING:
    from hlrebal.config import Resolved
    from hlrebal.execution import ExecutionReport
    from hlrebal.planner import Plan

#: what :func:`load_targets` accepts: a path, a mapping (the parsed JSON), or JSON text
TargetsSource = str | Path | Mapping[str, Any]


def load_targets(source: TargetsSource | Document, *, extract: bool = False) -> Document:
    """A validated target-allocation or direct-action document.

    ``source`` is a path (``Path``, or a ``str`` that does not start with ``{``), a mapping (the
    document as Python values; numbers may be ``int``, ``float`` or ``Decimal``), or JSON text.
    With ``extract=True`` a ``str`` is an LLM's free-text answer and the one JSON object in it is
    used (none or several: :class:`~hlrebal.errors.TargetFileError`). An already loaded document
    is returned as it is. Raises :class:`~hlrebal.errors.TargetFileError` (exit code 2).
    """
    from hlrebal.targets import ActionDocument, Targets, load_document

    if isinstance(source, Targets | ActionDocument):
        return source
    if isinstance(source, Mapping):
        return parse_document(mapping_text(source, "<mapping>"), "<mapping>")
    if isinstance(source, str) and (extract or source.lstrip().startswith("{")):
        text = extract_json(source, "<text>") if extract else source
        return parse_document(text, "<text>")
    return load_document(Path(source).expanduser(), extract=extract)


def load_snapshot(path: str | Path) -> Snapshot:
    """A snapshot file (``hlrebal snapshot -o FILE``). Raises :class:`~hlrebal.errors.SnapshotError`."""
    from hlrebal.snapshot import load_snapshot as load

    return load(Path(path).expanduser())


def read_snapshot(
    address: str | None = None,
    *,
    network: str | None = None,
    api_url: str | None = None,
    vault: str | None = None,
    demo: bool = False,
    key_file: str | Path | None = None,
    config: str | Path | None = None,
    profile: str | None = None,
    dexes: Sequence[str] = (),
) -> Snapshot:
    """One fresh snapshot of an account and its market (reading needs no key).

    ``network`` is ``"mainnet"`` or ``"testnet"``; ``api_url`` any compatible endpoint (a local
    ``hlrebal sim serve``); ``demo=True`` the built-in paper account. Unset arguments come from the
    environment and the configuration file, as on the command line. The spot market is always read
    (so that any document can be planned against the snapshot); ``dexes`` names builder-deployed
    perp dexes to read too. Raises :class:`~hlrebal.errors.ExchangeError` (exit 3) when the endpoint
    cannot be read.
    """
    from hlrebal.session import connect

    resolved = _settings(address=address, network=network, api_url=api_url, vault=vault, config=config, profile=profile)
    with connect(resolved, demo=demo, key_file=_path(key_file)) as conn:
        return conn.read(spot=True, dexes=tuple(dexes))


def effective_policy(document: Document, policy: Policy | None = None) -> Policy:
    """The policy a plan is made under: the defaults, then the document's planning preferences,
    then every field ``policy`` sets explicitly (``Policy(band=0.03)`` sets only ``band``)."""
    given = policy.model_dump(include=policy.model_fields_set) if policy is not None else {}
    merged = {**{k: v for k, v in document.policy.items() if k in PLANNING_KEYS}, **given}
    try:
        return Policy(**merged)
    except ValueError as e:
        raise BadInputError(f"policy: {e}") from None


def plan(snapshot: Snapshot, targets: TargetsSource | Document, policy: Policy | None = None) -> Plan:
    """The plan that brings ``snapshot``'s account to ``targets`` (weights or direct actions).

    Pure and deterministic: no network, no clock. ``targets`` is a loaded document or anything
    :func:`load_targets` accepts; the policy is :func:`effective_policy`. Raises
    :class:`~hlrebal.errors.TargetFileError` (exit 2) for coins the market does not list, or
    weights beyond ``max_leverage``.
    """
    from hlrebal import planner

    document = load_targets(targets)
    effective = effective_policy(document, policy)
    planner.check_document(snapshot, document, effective)
    return planner.plan_document(snapshot, document, effective)


def execute(
    targets: TargetsSource | Document | ApprovedPlan,
    *,
    address: str | None = None,
    network: str | None = None,
    api_url: str | None = None,
    vault: str | None = None,
    demo: bool = False,
    key_file: str | Path | None = None,
    policy: Policy | None = None,
    journal: str | Path | None = None,
    config: str | Path | None = None,
    profile: str | None = None,
    cancel_open_orders: bool = False,
    progress: Callable[[str], None] | None = None,
    max_price_move: Decimal | str | None = None,
    max_plan_age: Decimal | str | None = None,
) -> ExecutionReport:
    """Plan and execute, unattended (calling this is the confirmation), and read the account back.

    ``targets`` may also be an :class:`~hlrebal.approval.ApprovedPlan` (:func:`hlrebal.load_plan`):
    then exactly that plan is executed, as ``hlrebal execute --plan FILE`` does, once the account is
    checked to be the one it was made from and prices within ``max_price_move`` (default 0.01) of
    the plan's, the plan younger than ``max_plan_age`` seconds (default 600); otherwise
    :class:`~hlrebal.errors.GuardError` (exit 4) and nothing is sent.

    Everything runs as ``hlrebal execute --yes`` runs it: the run lock, the journal (``journal``,
    default in the state directory), reconciliation of an earlier run's orders, the guards, phases
    and rounds. ``policy`` fields set explicitly act as flags (safety limits included: they may be
    set here, never from the document); ``progress`` receives what the command line prints on stderr.

    Returns the :class:`~hlrebal.execution.ExecutionReport` (``hlrebal.render.execution_json``
    turns it into the ``--json`` document): ``report.exit_code`` and ``report.outcome`` say how it
    ended, as the command line's exit code would (``done``; ``partial`` when orders were placed but
    the targets not reached; ``refused`` when a guard of the run stopped it, such as the turnover
    cap). What fails before the run can start is raised: bad input (exit 2), the exchange unreachable
    (3), the account's lock held (4).
    """
    from hlrebal.runner import default_journal, execute_run, record_failed_run
    from hlrebal.session import connect

    flags = policy.model_dump(include=policy.model_fields_set) if policy is not None else {}

    def settings(document: Document | None) -> Resolved:
        return _settings(
            address=address, network=network, api_url=api_url, vault=vault, config=config, profile=profile,
            document=document, policy=flags,
        )  # fmt: skip

    # As on the command line: the settings first (they name the journal), then the document, so
    # that a run refused for its document is in the journal too.
    base = settings(None)
    journal_file = _path(journal) or default_journal(base)
    document: Document | None = None
    approved = targets if isinstance(targets, ApprovedPlan) else None
    limits = Limits.of(max_price_move, max_plan_age)
    try:
        document = targets.document if isinstance(targets, ApprovedPlan) else load_targets(targets)
        resolved = settings(document)
        with connect(resolved, demo=demo, key_file=_path(key_file), need_signer=True) as conn:
            result = execute_run(
                conn,
                document,
                resolved,
                Unattended(progress),
                journal_file=journal_file,
                assume_yes=True,
                cancel_open_orders=cancel_open_orders,
                approved=approved,
                limits=limits,
            )
    except HlrebalError as e:
        account = base.settings.vault or base.settings.account_address
        network = "demo" if demo else base.network_label
        record_failed_run(
            journal_file, e, targets=document.source if document else None, account=account, network=network
        )
        raise
    return result.report


class Unattended:
    """The run's UI for a library call: no prompts (the call confirms), progress to a callback."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self._progress = progress or (lambda _: None)

    def notice(self, message: str) -> None:
        self._progress(message)

    def progress(self, message: str) -> None:
        self._progress(message)

    def show_plan(self, plan: Plan) -> None:
        pass

    def confirm(self, plan: Plan) -> bool:
        return True

    def reconfirm(self, plan: Plan, why: str) -> bool:
        return True

    def should_stop(self) -> bool:
        return False


def _path(value: str | Path | None) -> Path | None:
    return Path(value).expanduser() if value is not None else None


def _settings(
    *,
    address: str | None,
    network: str | None,
    api_url: str | None,
    vault: str | None,
    config: str | Path | None,
    profile: str | None,
    document: Document | None = None,
    policy: Mapping[str, Any] | None = None,
) -> Resolved:
    from hlrebal.config import resolve

    connection = {"account_address": address, "network": network, "api_url": api_url, "vault": vault}
    flags = {**{k: v for k, v in connection.items() if v is not None}, **(policy or {})}
    return resolve(
        flags=flags,
        target_policy=document.policy if document is not None else None,
        config_path=_path(config),
        profile=profile,
    )
