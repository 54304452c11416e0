"""Every run leaves its outcome: failures before the start, lock refusals, crashes; config paths."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.config import resolve, state_dir
from hlrebal.journal import RunLock, read_entries, summarize_runs
from hlrebal.sim import Simulator
from hlrebal.targets import schema

from factories import make_snapshot

runner = CliRunner()
KEY = "0x" + "2b" * 32
USER = Account.from_key(KEY).address.lower()


def test_a_run_failing_before_it_starts_is_in_the_journal_and_the_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    journal, log = tmp_path / "j.jsonl", tmp_path / "run.log"
    r = runner.invoke(
        app, ["execute", str(bad), "--demo", "--yes", "--quiet", "--journal", str(journal), "--log-file", str(log)]
    )
    assert r.exit_code == 2
    entries = list(read_entries(journal))
    assert [e["event"] for e in entries] == ["run_start", "run_end"]
    assert entries[-1]["exit_code"] == 2 and "invalid JSON" in entries[-1]["message"]
    assert entries[-1]["outcome"] == "error" and entries[0]["failed_before_start"] is True
    assert "error (exit 2)" in log.read_text()
    assert summarize_runs(journal, 5)[-1]["exit_code"] == 2


def test_a_run_refused_for_a_held_lock_is_in_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    key = tmp_path / "k"
    key.write_text(KEY)
    key.chmod(0o600)
    doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=USER)
    with Simulator(snapshot=doc) as sim, RunLock(state_dir(), USER):
        r = runner.invoke(
            app,
            [
                "execute",
                str(Path(__file__).parent.parent / "sample_targets/balanced.json"),
                "--api-url",
                sim.url,
                "--key-file",
                str(key),
                "--journal",
                str(journal),
                "--yes",
            ],
        )
    assert r.exit_code == 4
    runs = summarize_runs(journal, 5)
    assert runs[-1]["exit_code"] == 4 and runs[-1]["account"] == USER
    assert runs[-1]["outcome"] == "refused"


def test_a_fill_found_by_reconciliation_counts_for_the_run_that_sent_it(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    lines = [
        {"ts": 1, "run": "a", "event": "run_start", "account": USER},
        {"ts": 2, "run": "a", "event": "order_sent", "cloid": "0x1", "coin": "BTC"},
        {"ts": 3, "run": "b", "event": "run_start", "account": USER},
        {"ts": 4, "run": "b", "event": "reconciled", "cloid": "0x1", "of_run": "a", "filled_size": "0.5"},
        {"ts": 5, "run": "b", "event": "run_end", "exit_code": 0},
    ]
    journal.write_text("".join(json.dumps(x) + "\n" for x in lines))
    runs = {r["run"]: r for r in summarize_runs(journal, 5)}
    assert (runs["a"]["orders_sent"], runs["a"]["orders_filled"]) == (1, 1)
    assert (runs["b"]["orders_sent"], runs["b"]["orders_filled"]) == (0, 0)


def test_relative_paths_in_the_configuration_are_relative_to_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text('key_file = "agent.key"\njournal = "journal.jsonl"\nlog_file = "logs/run.log"\n')
    settings = resolve(config_path=path, env={}).settings
    assert settings.key_file == folder / "agent.key"
    assert settings.journal == folder / "journal.jsonl"
    assert settings.log_file == folder / "logs" / "run.log"
    flagged = resolve(config_path=path, env={"HLREBAL_JOURNAL": "j.jsonl"}).settings
    assert flagged.journal == Path("j.jsonl")  # from the environment: as given


def test_the_schema_allows_null_only_where_the_loader_does() -> None:
    props = schema()["oneOf"][0]["properties"]["policy"]["properties"]
    nullable = {k for k, v in props.items() if any(o.get("type") == "null" for o in v.get("anyOf", []))}
    assert nullable == {"band_relative", "leverage"}
