"""The README's first command: the demo plan of the seed's 40/30/30 reaches the targets it names,
with no warning, under the default policy."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from hlrebal.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_the_quickstart_plan_reaches_every_target_without_a_warning() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "hlrebal plan sample_targets/balanced.json --demo" in readme
    r = CliRunner().invoke(app, ["plan", str(ROOT / "sample_targets" / "balanced.json"), "--demo", "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["warnings"] == []
    targets = {"BTC": Decimal("0.4"), "ETH": Decimal("0.3"), "USDC": Decimal("0.3")}
    lines = {a["coin"]: a for a in doc["assets"]}
    assert set(lines) == set(targets)
    for coin, target in targets.items():
        assert Decimal(lines[coin]["target_weight"]) == target
        assert abs(Decimal(lines[coin]["projected_weight"]) - target) < Decimal("0.0005"), coin
