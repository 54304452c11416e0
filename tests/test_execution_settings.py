"""The execution style and its timers come from the configuration file (top level, [execution] or a
profile), the environment (HLREBAL_STYLE, ...) and flags, in that order of precedence; never from a
target file; a wrong key or value names where it came from."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from hlrebal.config import resolve
from hlrebal.errors import ConfigError
from hlrebal.execution_settings import ExecutionSettings


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_are_todays_taker_behaviour(tmp_path: Path) -> None:
    resolved = resolve(config_path=config(tmp_path, ""), env={})
    assert resolved.execution == ExecutionSettings()
    assert resolved.execution.style == "taker" and not resolved.execution.patient
    assert (resolved.execution.requote_seconds, resolved.execution.patience) == (D(5), D(120))


def test_flag_beats_environment_beats_profile_beats_file(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        'style = "twap"\npatience = 30\n[execution]\nrequote_seconds = 2\n'
        '[profiles.slow]\nstyle = "maker"\ntwap_minutes = 60\n',
    )
    file_only = resolve(config_path=path, env={})
    assert (file_only.execution.style, file_only.execution.patience, file_only.execution.requote_seconds) == (
        "twap",
        D(30),
        D(2),
    )
    profiled = resolve(config_path=path, env={}, profile="slow")
    assert (profiled.execution.style, profiled.execution.twap_minutes) == ("maker", 60)
    env = resolve(config_path=path, env={"HLREBAL_STYLE": "taker", "HLREBAL_PATIENCE": "10"}, profile="slow")
    assert (env.execution.style, env.execution.patience) == ("taker", D(10))
    assert env.sources["execution.style"] == "env HLREBAL_STYLE"
    flagged = resolve(config_path=path, env={"HLREBAL_STYLE": "taker"}, flags={"style": "maker"})
    assert flagged.execution.style == "maker" and flagged.sources["execution.style"] == "flag"
    assert flagged.sources["execution.requote_seconds"].startswith("file ")


@pytest.mark.parametrize(
    ("text", "env", "fragment"),
    [
        ('[execution]\nstlye = "maker"\n', {}, "[execution]: stlye: unknown execution key (did you mean 'style'?)"),
        ('style = "patient"\n', {}, "execution.style"),
        ("[execution]\npatience = -1\n", {}, "execution.patience"),
        ("", {"HLREBAL_TWAP_MINUTES": "2"}, "HLREBAL_TWAP_MINUTES"),
        ("execution = 3\n", {}, "execution: must be a table"),
        ("[execution]\npatience = true\n", {}, "must not be a boolean"),
    ],
)
def test_bad_execution_settings_say_where_they_came_from(
    tmp_path: Path, text: str, env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as e:
        resolve(config_path=config(tmp_path, text), env=env)
    assert fragment in str(e.value)


def test_a_target_file_cannot_choose_the_style(tmp_path: Path) -> None:
    resolved = resolve(config_path=config(tmp_path, ""), env={}, target_policy={"style": "maker"})
    assert resolved.execution.style == "taker"
