"""`config show` lists every effective value, the execution settings included, with their sources."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app

runner = CliRunner()


def test_config_show_lists_the_execution_settings_and_their_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HLREBAL_STYLE", "maker")
    r = runner.invoke(app, ["config", "show", "--json"])
    assert r.exit_code == 0, r.output
    execution = json.loads(r.stdout)["execution"]
    assert execution["style"] == {"value": "maker", "source": "env HLREBAL_STYLE"}
    assert execution["patience"]["source"] == "default" and execution["twap_minutes"]["value"] == 30
    table = runner.invoke(app, ["config", "show"], env={"COLUMNS": "160"})
    assert "execution.style" in table.stdout and "env HLREBAL_STYLE" in table.stdout
