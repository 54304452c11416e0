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


def test_a_key_after_the_execution_table_is_named_in_it_with_where_it_belongs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hlrebal.config import resolve
    from hlrebal.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text('[execution]\nstyle = "maker"\napi_url = "http://127.0.0.1:1"\n')
    with pytest.raises(ConfigError) as e:
        resolve(config_path=path, env={})
    assert e.value.message == f"{path} [execution]: api_url: unknown execution key"
    assert e.value.hint == (
        "api_url belongs above the [execution] table (TOML puts every key after a table's header in it)"
    )
    path.write_text('[profiles.cron.execution]\nstlye = "maker"\n')
    with pytest.raises(ConfigError) as e:
        resolve(config_path=path, env={})
    assert e.value.message.startswith(f"{path} [profiles.cron.execution]: stlye: unknown execution key")
    assert e.value.hint is None


def test_a_profile_without_a_configuration_file_says_there_is_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hlrebal.config import resolve
    from hlrebal.errors import ConfigError

    with pytest.raises(ConfigError) as e:  # the default file, in the test's empty HLREBAL_HOME
        resolve(env={}, profile="cron")
    assert "needs a configuration file, and there is none at" in e.value.message
    assert e.value.hint == "run `hlrebal config init` and add a [profiles.cron] table to it"
