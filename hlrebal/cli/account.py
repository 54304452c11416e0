"""Reading the account: ``hlrebal account`` (show it), ``hlrebal snapshot`` (save it to a file) and
``hlrebal journal`` (the runs recorded so far)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hlrebal.cli.common import err_console, guarded, out_console, print_json, resolve_settings
from hlrebal.cli.options import (
    AddressOpt,
    ApiUrlOpt,
    ConfigOpt,
    DemoOpt,
    JournalOpt,
    JsonOpt,
    KeyFileOpt,
    NetworkOpt,
    ProfileOpt,
    SnapshotOpt,
    VaultOpt,
)


def account(
    snapshot: SnapshotOpt = None,
    demo: DemoOpt = False,
    json_out: JsonOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    key_file: KeyFileOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Show the account: equity, positions with leverage and weights, open orders.

    Reading needs no key; without --address, the account is the one the key signs for."""

    def body() -> None:
        from hlrebal import render
        from hlrebal.session import connect

        flags = {"network": network, "api_url": api_url, "account_address": address, "vault": vault}
        resolved = resolve_settings(flags=flags, targets=None, config=config, profile=profile)
        with connect(resolved, snapshot_file=snapshot, demo=demo, key_file=key_file) as conn:
            snap = conn.read()
        if json_out:
            print_json(render.account_json(snap))
        else:
            out_console().print(render.account_renderable(snap))

    guarded(json_out, body)


def snapshot_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write the snapshot to.")],
    demo: DemoOpt = False,
    network: NetworkOpt = None,
    api_url: ApiUrlOpt = None,
    address: AddressOpt = None,
    vault: VaultOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Save the account and market as a snapshot file, so `plan --snapshot FILE` replays it offline."""

    def body() -> None:
        from hlrebal.session import connect
        from hlrebal.snapshot import save_snapshot

        flags = {"network": network, "api_url": api_url, "account_address": address, "vault": vault}
        resolved = resolve_settings(flags=flags, targets=None, config=config, profile=profile)
        with connect(resolved, demo=demo) as conn:
            # The spot market always (one request more): a snapshot replays spot targets too.
            snap = conn.read(spot=True)
        save_snapshot(snap, output)
        err_console().print(
            f"saved snapshot of {snap.user} ({snap.network}, {len(snap.positions)} position(s)) to {output}",
            markup=False,
        )

    guarded(False, body)


def journal_cmd(
    last: Annotated[int, typer.Option("--last", min=1, help="How many recent runs to show (1 or more).")] = 10,
    json_out: JsonOpt = False,
    journal: JournalOpt = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Show recent runs from the journal: when, which account, orders sent and filled, outcome."""

    def body() -> None:
        from hlrebal import render
        from hlrebal.config import state_dir
        from hlrebal.journal import summarize_runs

        resolved = resolve_settings(flags={}, targets=None, config=config, profile=profile)
        path = journal or resolved.settings.journal or (state_dir() / "journal.jsonl")
        runs = summarize_runs(path, last)
        if json_out:
            print_json({"version": 1, "kind": "journal", "path": str(path), "runs": runs})
        else:
            out_console().print(render.journal_renderable(path, runs))

    guarded(json_out, body)
