"""Configuration through the CLI: `config show` / `config init`, precedence, profiles, cron-style runs."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.sim import Simulator

from factories import make_snapshot

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
OWNER_KEY = "0x" + "7a" * 32
USER = Account.from_key(OWNER_KEY).address.lower()


def show(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    r = runner.invoke(app, ["config", "show", "--json", *args], env=env)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_init_writes_a_private_template_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "c" / "config.toml"
    r = runner.invoke(app, ["config", "init", "--config", str(path)])
    assert r.exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = show("--config", str(path))
    assert doc["policy"]["band"] == {"value": "0.05", "source": "default"}
    again = runner.invoke(app, ["config", "init", "--config", str(path)])
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "band = 0.02\nslippage = 0.004\nmax_turnover = 0.5\n")
    doc = show("--config", str(path), env={"HLREBAL_SLIPPAGE": "0.003"})
    assert doc["policy"]["band"] == {"value": "0.02", "source": f"file {path}"}
    assert doc["policy"]["slippage"] == {"value": "0.003", "source": "env HLREBAL_SLIPPAGE"}
    assert doc["policy"]["max_turnover"]["value"] == "0.5"
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952")))
    r = runner.invoke(
        app,
        [
            "plan",
            str(ROOT / "sample_targets/balanced.json"),
            "--snapshot",
            str(snap),
            "--config",
            str(path),
            "--slippage",
            "0.001",
            "--json",
        ],
        env={"HLREBAL_SLIPPAGE": "0.003"},
    )
    policy = json.loads(r.stdout)["policy"]
    assert policy["slippage"] == "0.001" and policy["band"] == "0.02"


def test_profiles_select_account_network_and_policy(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        f'account_address = "{USER}"\n[profiles.rehearsal]\nnetwork = "testnet"\n'
        "[profiles.rehearsal.policy]\nband = 0.01\n",
    )
    base = show("--config", str(path))
    assert base["endpoint"]["network"] == "mainnet" and base["policy"]["band"]["value"] == "0.05"
    prof = show("--config", str(path), "--profile", "rehearsal")
    assert prof["endpoint"] == {"url": "https://api.hyperliquid-testnet.xyz", "network": "testnet"}
    assert prof["policy"]["band"] == {"value": "0.01", "source": "profile rehearsal"}
    assert show("--config", str(path), env={"HLREBAL_PROFILE": "rehearsal"})["profile"] == "rehearsal"


def test_explicit_profile_against_a_stray_account_variable_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'[profiles.main]\naccount_address = "{USER}"\n')
    r = runner.invoke(
        app,
        ["config", "show", "--config", str(path), "--profile", "main"],
        env={"HLREBAL_ACCOUNT_ADDRESS": "0x" + "12" * 20},
    )
    assert r.exit_code == 2 and "HLREBAL_ACCOUNT_ADDRESS" in r.stderr


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("bandd = 0.1\n", ["bandd", "did you mean 'band'"]),
        ("[policy]\nmax_levrage = 2\n", ["policy.max_levrage"]),
        ("[profiles.x]\nnetwrk = 'testnet'\n", ["profiles.x", "netwrk"]),
        ("band = 'wide'\n", ["band", "decimal"]),
        ("max_rounds = true\n", ["max_rounds", "boolean"]),
        ("network = 'moonnet'\n", ["network"]),
        ("band = [\n", ["invalid TOML"]),
    ],
)
def test_configuration_mistakes_are_exit_2_naming_key_and_file(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write_config(tmp_path, text)
    r = runner.invoke(app, ["config", "show", "--config", str(path)])
    assert r.exit_code == 2
    assert str(path) in r.stderr
    for fragment in fragments:
        assert fragment in r.stderr


def test_unknown_environment_variable_is_an_error() -> None:
    r = runner.invoke(app, ["config", "show"], env={"HLREBAL_BNAD": "0.1"})
    assert r.exit_code == 2 and "HLREBAL_BNAD" in r.stderr


def test_config_show_never_prints_a_secret(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'key_env = "MY_HL_KEY"\n')
    r = runner.invoke(app, ["config", "show", "--config", str(path)], env={"HLREBAL_PRIVATE_KEY": OWNER_KEY})
    assert r.exit_code == 0
    assert OWNER_KEY[2:12] not in r.stdout + r.stderr
    assert "redacted" in r.stdout and "MY_HL_KEY" in r.stdout
    doc = show("--config", str(path), env={"HLREBAL_PRIVATE_KEY": OWNER_KEY, "MY_HL_KEY": OWNER_KEY})
    assert OWNER_KEY[2:12] not in json.dumps(doc)


def test_relative_targets_path_is_resolved_next_to_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "mine.json").write_text('{"BTC": 0.4, "ETH": 0.3}')
    path = write_config(folder, 'targets = "mine.json"\n')
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952")))
    r = runner.invoke(app, ["plan", "--snapshot", str(snap), "--config", str(path), "--json"])
    assert r.exit_code == 0, r.stderr
    assert [t["coin"] for t in json.loads(r.stdout)["trades"]] == ["BTC", "ETH"]


def test_cron_style_runs_from_a_profile_against_the_sim(tmp_path: Path) -> None:
    """`hlrebal execute --yes --quiet` with everything in the configuration: the exit codes cron sees."""
    key = tmp_path / "agent.key"
    key.write_text(OWNER_KEY)
    key.chmod(0o600)
    targets = tmp_path / "targets.json"
    targets.write_text('{"target_allocation": {"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}}')
    doc = make_snapshot({"BTC": ("0.93458", 10)}, cash="19999.952", user=USER)
    with Simulator(snapshot=doc) as sim:
        path = write_config(
            tmp_path,
            f'[profiles.cron]\napi_url = "{sim.url}"\nkey_file = "{key}"\ntargets = "targets.json"\n'
            f'journal = "{tmp_path / "journal.jsonl"}"\n',
        )
        cron = ["execute", "--yes", "--quiet", "--config", str(path), "--profile", "cron"]
        first = runner.invoke(app, cron)
        assert first.exit_code == 0, first.stderr
        assert "Orders" in first.stdout
        second = runner.invoke(app, cron)
        assert (second.exit_code, second.stdout, second.stderr) == (0, "", "")
        sim.set_price("ETH", "4200")  # the market moves: ETH drifts past its band
        third = runner.invoke(app, cron)
        assert third.exit_code == 0 and "ETH" in third.stdout
        sim.set_book("BTC", spread=0.2)
        sim.set_price("BTC", "60000")  # a crash: BTC must be bought, but nothing matches
        fourth = runner.invoke(app, cron)
        assert fourth.exit_code == 5
        no_yes = runner.invoke(app, ["execute", "--config", str(path), "--profile", "cron"])
        assert no_yes.exit_code == 4
    down = runner.invoke(app, cron)
    assert down.exit_code == 3 and "could not read" in down.stderr
