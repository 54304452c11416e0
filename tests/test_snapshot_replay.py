"""A saved snapshot replays the plan the live account gives, spot targets included."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hlrebal.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_targets"
runner = CliRunner()


def _plan(*args: str) -> dict:
    r = runner.invoke(app, ["plan", str(SAMPLES / "whole_account.json"), "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_a_snapshot_of_an_account_with_only_usdc_on_spot_replays_spot_targets(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    r = runner.invoke(app, ["snapshot", "--demo", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "spotMetaAndAssetCtxs" in json.loads(out.read_text())  # the demo holds only USDC on spot
    live, saved = _plan("--demo"), _plan("--snapshot", str(out))
    assert [(t["coin"], t["side"], t["size"]) for t in saved["trades"]] == [
        (t["coin"], t["side"], t["size"]) for t in live["trades"]
    ]
    assert any(t["coin"] == "HYPE/USDC" for t in saved["trades"])


def test_a_snapshot_without_the_spot_market_says_so_for_a_spot_pair(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert runner.invoke(app, ["snapshot", "--demo", "-o", str(out)]).exit_code == 0
    doc = json.loads(out.read_text())
    del doc["spotMetaAndAssetCtxs"]
    out.write_text(json.dumps(doc))
    r = runner.invoke(app, ["plan", str(SAMPLES / "whole_account.json"), "--snapshot", str(out)])
    assert r.exit_code == 2
    assert "HYPE/USDC: is a spot pair, but the account was read without the spot market" in r.stderr
    assert "did you mean" not in r.stderr
