"""Configuration: precedence of flags, target file policy, environment, profile, file and defaults.

Every test passes ``env=`` explicitly to ``resolve`` and writes its configuration under ``tmp_path``;
the autouse fixture in conftest points HLREBAL_HOME (the default configuration folder) at a fresh
temporary folder.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hlrebal.config import MAINNET_URL, TESTNET_URL, Resolved, default_config_path, resolve
from hlrebal.errors import ConfigError, ExitCode
from hlrebal.policy import PLANNING_KEYS, Policy

D = Decimal
ADDR_A = "0x" + "a1" * 20
ADDR_B = "0x" + "b2" * 20
ADDR_C = "0x" + "c3" * 20


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def origin(res: Resolved, key: str) -> str:
    return res.sources.get(key, "default")


def refused(**kwargs: Any) -> str:
    kwargs.setdefault("env", {})
    with pytest.raises(ConfigError) as info:
        resolve(**kwargs)
    assert info.value.exit_code == ExitCode.BAD_INPUT == 2
    return str(info.value)


# --------------------------------------------------------------------------- defaults


class TestDefaults:
    def test_nothing_configured(self) -> None:
        res = resolve(env={})
        assert res.policy == Policy()
        assert res.settings.network == "mainnet"
        assert res.settings.api_url is None
        assert res.settings.account_address is None
        assert res.base_url == MAINNET_URL
        assert res.network_label == "mainnet"
        assert res.profile is None
        assert res.sources == {}
        assert origin(res, "policy.band") == "default"

    def test_default_values(self) -> None:
        p = resolve(env={}).policy
        assert p.band == D("0.05")
        assert p.band_relative == D("0.25")  # the 5/25 rule
        assert p.trade_to == "target"
        assert p.untargeted == "close"
        assert p.min_trade_value == D(10)
        assert p.slippage == D("0.005")
        assert p.max_leverage == D(1)
        assert p.fee_rate == D("0.00045")
        assert p.leverage is None

    @pytest.mark.parametrize(
        ("target", "band_relative", "threshold"),
        [
            ("0.10", "0.25", "0.025"),  # 25% of a 10% target is tighter than 5 points
            ("-0.10", "0.25", "0.025"),  # shorts alike
            ("0.02", "0.25", "0.005"),
            ("0.20", "0.25", "0.05"),  # exactly the band either way
            ("0.40", "0.25", "0.05"),  # a large target keeps the absolute band
            ("0", "0.25", "0"),  # a zero target trades any holding
            ("0.10", "off", "0.05"),  # the absolute band alone
            ("0.01", "off", "0.05"),
        ],
    )
    def test_the_threshold_is_the_smaller_of_the_band_and_its_relative_form(
        self, target: str, band_relative: str, threshold: str
    ) -> None:
        policy = Policy(band=D("0.05"), band_relative=band_relative)
        assert policy.threshold(D(target)) == D(threshold)

    def test_missing_default_file_is_fine(self) -> None:
        assert not default_config_path().exists()
        res = resolve(env={})
        assert res.config_path == default_config_path()

    def test_default_file_is_read(self) -> None:
        path = default_config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("band = 0.02\n")
        res = resolve(env={})
        assert res.policy.band == D("0.02")
        assert origin(res, "policy.band") == f"file {path}"

    def test_default_file_lives_under_hlrebal_home(self) -> None:
        home = Path(os.environ["HLREBAL_HOME"])  # set per test by the autouse fixture in conftest
        assert default_config_path() == home / "config" / "config.toml"


# --------------------------------------------------------------------------- precedence


FULL_CONFIG = f"""
band = 0.01
network = "testnet"
account_address = "{ADDR_A}"
journal = "/var/log/top.jsonl"

[profiles.live]
band = 0.02
account_address = "{ADDR_B}"
journal = "/var/log/live.jsonl"
"""


class TestPrecedence:
    """flag > target file policy > environment > profile > file top level > default."""

    LAYERS = ("flag", "target", "env", "profile", "file")

    def resolve_with(self, tmp_path: Path, layers: set[str]) -> Resolved:
        text = "[profiles.live]\n" if "file" not in layers else "band = 0.01\n[profiles.live]\n"
        if "profile" in layers:
            text += "band = 0.02\n"
        path = write(tmp_path, text)
        return resolve(
            flags={"band": D("0.05")} if "flag" in layers else {},
            target_policy={"band": D("0.04")} if "target" in layers else None,
            env={"HLREBAL_BAND": "0.03"} if "env" in layers else {},
            config_path=path,
            profile="live",
        )

    @pytest.mark.parametrize(
        ("layers", "band", "source"),
        [
            ({"flag", "target", "env", "profile", "file"}, "0.05", "flag"),
            ({"target", "env", "profile", "file"}, "0.04", "target file"),
            ({"env", "profile", "file"}, "0.03", "env HLREBAL_BAND"),
            ({"profile", "file"}, "0.02", "profile live"),
            ({"file"}, "0.01", "file"),
            (set(), "0.05", "default"),
            ({"flag", "file"}, "0.05", "flag"),
            ({"target", "profile"}, "0.04", "target file"),
            ({"env", "file"}, "0.03", "env HLREBAL_BAND"),
        ],
    )
    def test_band(self, tmp_path: Path, layers: set[str], band: str, source: str) -> None:
        res = self.resolve_with(tmp_path, layers)
        assert res.policy.band == D(band)
        if source == "file":
            assert origin(res, "policy.band") == f"file {tmp_path / 'config.toml'}"
        else:
            assert origin(res, "policy.band") == source

    def test_connection_settings_layer_the_same_way(self, tmp_path: Path) -> None:
        path = write(tmp_path, FULL_CONFIG)
        res = resolve(env={}, config_path=path)
        assert res.settings.account_address == ADDR_A
        assert origin(res, "account_address") == f"file {path}"

        res = resolve(env={}, config_path=path, profile="live")
        assert res.settings.account_address == ADDR_B
        assert origin(res, "account_address") == "profile live"
        assert res.settings.network == "testnet"  # not in the profile: the file's value shows through
        assert origin(res, "network") == f"file {path}"

        res = resolve(env={"HLREBAL_JOURNAL": "/tmp/env.jsonl"}, config_path=path, profile="live")
        assert res.settings.journal == Path("/tmp/env.jsonl")
        assert origin(res, "journal") == "env HLREBAL_JOURNAL"

        res = resolve(
            env={"HLREBAL_ACCOUNT_ADDRESS": ADDR_C},
            config_path=path,
            flags={"account_address": ADDR_A},
        )
        assert res.settings.account_address == ADDR_A
        assert origin(res, "account_address") == "flag"

    def test_each_value_keeps_its_own_source(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "band = 0.01\nslippage = 0.004\n[policy]\nmax_rounds = 5\n"
            '[profiles.live]\ntrade_to = "edge"\n[profiles.live.policy]\nuntargeted = "keep"\n',
        )
        res = resolve(
            flags={"max_leverage": D(2)},
            target_policy={"band_relative": D("0.25")},
            env={"HLREBAL_FEE_RATE": "0.0004", "HLREBAL_NETWORK": "testnet"},
            config_path=path,
            profile="live",
        )
        p = res.policy
        assert (p.band, p.slippage, p.max_rounds) == (D("0.01"), D("0.004"), 5)
        assert (p.trade_to, p.untargeted) == ("edge", "keep")
        assert (p.max_leverage, p.band_relative, p.fee_rate) == (D(2), D("0.25"), D("0.0004"))
        assert res.settings.network == "testnet"
        file_label = f"file {path}"
        assert res.sources == {
            "policy.band": file_label,
            "policy.slippage": file_label,
            "policy.max_rounds": file_label,
            "policy.trade_to": "profile live",
            "policy.untargeted": "profile live",
            "policy.max_leverage": "flag",
            "policy.band_relative": "target file",
            "policy.fee_rate": "env HLREBAL_FEE_RATE",
            "network": "env HLREBAL_NETWORK",
        }
        assert origin(res, "policy.min_trade_value") == "default"

    def test_flags_given_as_none_are_ignored(self) -> None:
        res = resolve(flags={"band": None, "network": None}, env={"HLREBAL_BAND": "0.03"})
        assert res.policy.band == D("0.03")
        assert origin(res, "policy.band") == "env HLREBAL_BAND"

    def test_empty_environment_value_is_unset(self, tmp_path: Path) -> None:
        path = write(tmp_path, "band = 0.01\n")
        res = resolve(env={"HLREBAL_BAND": ""}, config_path=path)
        assert res.policy.band == D("0.01")

    def test_environment_values_are_parsed(self) -> None:
        res = resolve(
            env={
                "HLREBAL_MAX_LEVERAGE": "2.5",
                "HLREBAL_LEVERAGE": "3",
                "HLREBAL_TRADE_TO": "edge",
                "HLREBAL_MAX_ROUNDS": "4",
                "HLREBAL_ACCOUNT_ADDRESS": ADDR_A,
            }
        )
        assert res.policy.max_leverage == D("2.5")
        assert res.policy.leverage == 3
        assert res.policy.trade_to == "edge"
        assert res.policy.max_rounds == 4
        assert res.settings.account_address == ADDR_A

    def test_values_stay_exact_decimals(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'band = "0.1"\nslippage = 0.003\n')
        res = resolve(env={}, config_path=path)
        assert res.policy.band == Decimal("0.1")
        assert res.policy.slippage == Decimal("0.003")


class TestTargetPolicyLayer:
    def test_every_planning_key_may_come_from_the_target_file(self) -> None:
        values = {
            "band": D("0.02"),
            "band_relative": D("0.3"),
            "trade_to": "edge",
            "untargeted": "keep",
            "untargeted_spot": "close",
            "min_trade_value": D(20),
            "slippage": D("0.01"),
            "leverage": 2,
        }
        assert set(values) == PLANNING_KEYS
        res = resolve(target_policy=values, env={})
        for key, value in values.items():
            assert getattr(res.policy, key) == value
            assert origin(res, f"policy.{key}") == "target file"

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("max_leverage", D(10)),
            ("max_turnover", D(50)),
            ("fee_rate", D(0)),
            ("max_slippage", D("0.4")),
            ("max_order_value", D(10**9)),
            ("max_price_deviation", D(1)),
            ("max_rounds", 20),
            ("max_snapshot_age", D(3600)),
            ("slippage_step", D("0.1")),
        ],
    )
    def test_target_file_cannot_override_safety_limits(self, tmp_path: Path, key: str, value: Any) -> None:
        res = resolve(target_policy={key: value}, env={})
        assert getattr(res.policy, key) == getattr(Policy(), key)
        assert origin(res, f"policy.{key}") == "default"

    def test_safety_limit_from_lower_layers_survives_target_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[policy]\nmax_turnover = 0.5\n")
        res = resolve(
            target_policy={"max_leverage": D(10), "max_turnover": D(3)},
            env={"HLREBAL_MAX_LEVERAGE": "1.5"},
            config_path=path,
        )
        assert res.policy.max_leverage == D("1.5")
        assert origin(res, "policy.max_leverage") == "env HLREBAL_MAX_LEVERAGE"
        assert res.policy.max_turnover == D("0.5")

    def test_target_file_value_out_of_range_names_the_target_file(self) -> None:
        message = refused(target_policy={"band": D(2)})
        assert "policy.band" in message
        assert "target file" in message


# --------------------------------------------------------------------------- unknown keys


class TestUnknownKeys:
    def test_unknown_top_level_key(self, tmp_path: Path) -> None:
        path = write(tmp_path, "bnad = 0.1\n")
        message = refused(config_path=path)
        assert str(path) in message
        assert "bnad" in message
        assert "unknown key" in message
        assert "did you mean 'band'" in message

    def test_unknown_key_in_policy_table(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[policy]\nmax_levrage = 2\n")
        message = refused(config_path=path)
        assert str(path) in message
        assert "policy.max_levrage" in message
        assert "unknown policy key" in message
        assert "did you mean 'max_leverage'" in message

    def test_unknown_key_in_profile(self, tmp_path: Path) -> None:
        path = write(tmp_path, f'[profiles.live]\naccount = "{ADDR_A}"\n')
        message = refused(config_path=path, profile="live")
        assert str(path) in message
        assert "[profiles.live]" in message
        assert "account" in message
        assert "unknown key" in message

    def test_unknown_key_in_profile_policy_table(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.live.policy]\nbands = 0.1\n")
        message = refused(config_path=path, profile="live")
        assert "[profiles.live]" in message
        assert "policy.bands" in message

    def test_profiles_cannot_nest(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.live.profiles.inner]\nband = 0.1\n")
        message = refused(config_path=path, profile="live")
        assert "profiles" in message
        assert "unknown key" in message

    @pytest.mark.parametrize(
        ("name", "suggestion"),
        [
            ("HLREBAL_BANDD", "HLREBAL_BAND"),
            ("HLREBAL_MAX_LEVERGE", "HLREBAL_MAX_LEVERAGE"),
            ("HLREBAL_ADDRESS", None),
            ("HLREBAL_POLICY", None),
        ],
    )
    def test_unknown_environment_variable(self, name: str, suggestion: str | None) -> None:
        message = refused(env={name: "1"})
        assert name in message
        assert "unknown" in message
        if suggestion:
            assert suggestion in message

    def test_unknown_environment_variable_even_when_empty(self) -> None:
        assert "HLREBAL_BANDD" in refused(env={"HLREBAL_BANDD": ""})

    def test_control_and_foreign_variables_are_not_settings(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.live]\nband = 0.02\n")
        res = resolve(
            env={
                "HLREBAL_CONFIG": str(path),
                "HLREBAL_PROFILE": "live",
                "HLREBAL_HOME": str(tmp_path),
                "HLREBAL_PRIVATE_KEY": "0x" + "11" * 32,
                "HLREBAL_DEBUG": "1",
                "PATH": "/usr/bin",
                "HOME": "/root",
                "hlrebal_band": "0.4",
            }
        )
        assert res.policy.band == D("0.02")


# --------------------------------------------------------------------------- wrong types


class TestWrongTypes:
    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ('band = "wide"\n', "policy.band"),
            ("band = [0.1]\n", "policy.band"),
            ("[policy]\nmax_rounds = 2.5\n", "policy.max_rounds"),
            ('[policy]\ntrade_to = "middle"\n', "policy.trade_to"),
            ("[policy]\nband = -0.1\n", "policy.band"),
            ("[policy]\nmax_leverage = 0\n", "policy.max_leverage"),
            ('network = "moonnet"\n', "network"),
            ("network = 1\n", "network"),
            ("account_address = 5\n", "account_address"),
            ('targets = ["a.json"]\n', "targets"),
        ],
    )
    def test_in_the_file(self, tmp_path: Path, text: str, key: str) -> None:
        path = write(tmp_path, text)
        message = refused(config_path=path)
        assert str(path) in message
        assert key in message

    def test_in_a_profile(self, tmp_path: Path) -> None:
        path = write(tmp_path, '[profiles.live]\nslippage = "lots"\n')
        message = refused(config_path=path, profile="live")
        assert f"{path} [profiles.live]" in message
        assert "slippage" in message

    def test_policy_must_be_a_table(self, tmp_path: Path) -> None:
        path = write(tmp_path, "policy = 5\n")
        message = refused(config_path=path)
        assert str(path) in message
        assert "policy" in message
        assert "table" in message

    def test_profiles_must_be_tables(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'profiles = "live"\n')
        message = refused(config_path=path)
        assert str(path) in message
        assert "profiles" in message

    def test_profile_must_be_a_table(self, tmp_path: Path) -> None:
        path = write(tmp_path, '[profiles]\nlive = "testnet"\n')
        message = refused(config_path=path, profile="live")
        assert "profiles.live" in message

    @pytest.mark.parametrize("text", ["[policy]\nmax_rounds = true\n", "leverage = true\n"])
    def test_boolean_for_an_integer_in_the_file(self, tmp_path: Path, text: str) -> None:
        path = write(tmp_path, text)
        message = refused(config_path=path)
        assert str(path) in message

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("HLREBAL_BAND", "wide"),
            ("HLREBAL_MAX_ROUNDS", "three"),
            ("HLREBAL_LEVERAGE", "2.5"),
            ("HLREBAL_NETWORK", "moonnet"),
            ("HLREBAL_TRADE_TO", "all"),
            ("HLREBAL_SLIPPAGE", "0.9"),
        ],
    )
    def test_in_the_environment(self, name: str, value: str) -> None:
        message = refused(env={name: value})
        assert f"environment variable {name}" in message
        assert name.removeprefix("HLREBAL_").lower() in message

    @pytest.mark.parametrize(
        ("flags", "key"),
        [({"band": "wide"}, "band"), ({"slippage": D(-1)}, "slippage"), ({"max_rounds": 0}, "max_rounds")],
    )
    def test_in_a_flag(self, flags: dict[str, Any], key: str) -> None:
        message = refused(flags=flags)
        assert f"policy.{key}" in message
        assert "flag" in message

    @pytest.mark.parametrize(
        ("where", "kwargs_of"),
        [
            ("file", lambda p: {"config_path": p}),
            ("env", lambda p: {"env": {"HLREBAL_ACCOUNT_ADDRESS": "0x1234"}}),
            ("flag", lambda p: {"flags": {"account_address": "alice"}}),
        ],
    )
    def test_bad_address_names_its_source(self, tmp_path: Path, where: str, kwargs_of: Any) -> None:
        path = write(tmp_path, 'account_address = "0xnothex"\n')
        message = refused(**kwargs_of(path))
        assert "account_address" in message
        assert "address" in message
        expected = {"file": str(path), "env": "HLREBAL_ACCOUNT_ADDRESS", "flag": "flag"}[where]
        assert expected in message

    def test_bad_vault_address(self) -> None:
        message = refused(env={"HLREBAL_VAULT": "my-vault"})
        assert "vault" in message
        assert "HLREBAL_VAULT" in message

    def test_unknown_flag_setting(self) -> None:
        assert "bnad" in refused(flags={"bnad": D(1)})


# --------------------------------------------------------------------------- the file itself


class TestConfigFile:
    def test_missing_explicit_file(self, tmp_path: Path) -> None:
        path = tmp_path / "nope.toml"
        message = refused(config_path=path)
        assert str(path) in message
        assert "no such configuration file" in message

    def test_missing_file_named_by_hlrebal_config(self, tmp_path: Path) -> None:
        path = tmp_path / "nope.toml"
        message = refused(env={"HLREBAL_CONFIG": str(path)})
        assert str(path) in message

    def test_hlrebal_config_selects_the_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, "band = 0.02\n", "other.toml")
        res = resolve(env={"HLREBAL_CONFIG": str(path)})
        assert res.config_path == path
        assert res.policy.band == D("0.02")

    def test_explicit_path_wins_over_hlrebal_config(self, tmp_path: Path) -> None:
        a = write(tmp_path, "band = 0.02\n", "a.toml")
        b = write(tmp_path, "band = 0.03\n", "b.toml")
        res = resolve(env={"HLREBAL_CONFIG": str(b)}, config_path=a)
        assert res.policy.band == D("0.02")
        assert res.config_path == a

    def test_invalid_toml(self, tmp_path: Path) -> None:
        path = write(tmp_path, "band = [0.1\n")
        message = refused(config_path=path)
        assert str(path) in message
        assert "invalid TOML" in message

    def test_directory_instead_of_file(self, tmp_path: Path) -> None:
        message = refused(config_path=tmp_path)
        assert str(tmp_path) in message

    def test_empty_file_is_fine(self, tmp_path: Path) -> None:
        res = resolve(env={}, config_path=write(tmp_path, ""))
        assert res.policy == Policy()


# --------------------------------------------------------------------------- profiles


class TestProfiles:
    def test_unknown_profile_lists_the_known_ones(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.main]\nband = 0.1\n[profiles.testnet]\nband = 0.2\n")
        message = refused(config_path=path, profile="mian")
        assert "'mian'" in message
        assert str(path) in message
        assert "main, testnet" in message

    def test_unknown_profile_when_none_defined(self, tmp_path: Path) -> None:
        path = write(tmp_path, "band = 0.1\n")
        message = refused(config_path=path, profile="live")
        assert "'live'" in message
        assert "none" in message

    def test_unknown_profile_from_environment(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.main]\n")
        assert "'ghost'" in refused(config_path=path, env={"HLREBAL_PROFILE": "ghost"})

    def test_hlrebal_profile_selects_a_profile(self, tmp_path: Path) -> None:
        path = write(tmp_path, '[profiles.tn]\nnetwork = "testnet"\nband = 0.02\n')
        res = resolve(config_path=path, env={"HLREBAL_PROFILE": "tn"})
        assert res.profile == "tn"
        assert res.settings.network == "testnet"
        assert res.policy.band == D("0.02")
        assert origin(res, "policy.band") == "profile tn"

    def test_explicit_profile_wins_over_hlrebal_profile(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.a]\nband = 0.01\n[profiles.b]\nband = 0.02\n")
        res = resolve(config_path=path, profile="a", env={"HLREBAL_PROFILE": "b"})
        assert res.profile == "a"
        assert res.policy.band == D("0.01")

    def test_profiles_not_selected_are_not_used(self, tmp_path: Path) -> None:
        path = write(tmp_path, "band = 0.03\n[profiles.live]\nband = 0.02\n")
        res = resolve(config_path=path, env={})
        assert res.policy.band == D("0.03")
        assert res.profile is None

    def test_explicit_profile_account_differs_from_environment(self, tmp_path: Path) -> None:
        path = write(tmp_path, f'[profiles.live]\naccount_address = "{ADDR_A}"\n')
        message = refused(config_path=path, profile="live", env={"HLREBAL_ACCOUNT_ADDRESS": ADDR_B})
        assert "live" in message
        assert ADDR_A in message
        assert ADDR_B in message
        assert "HLREBAL_ACCOUNT_ADDRESS" in message

    def test_same_account_in_other_case_is_fine(self, tmp_path: Path) -> None:
        path = write(tmp_path, f'[profiles.live]\naccount_address = "{ADDR_A}"\n')
        shouted = "0x" + ADDR_A[2:].upper()
        res = resolve(config_path=path, profile="live", env={"HLREBAL_ACCOUNT_ADDRESS": shouted})
        assert res.settings.account_address is not None
        assert res.settings.account_address.lower() == ADDR_A

    def test_address_flag_settles_the_conflict(self, tmp_path: Path) -> None:
        path = write(tmp_path, f'[profiles.live]\naccount_address = "{ADDR_A}"\n')
        res = resolve(
            config_path=path,
            profile="live",
            env={"HLREBAL_ACCOUNT_ADDRESS": ADDR_B},
            flags={"account_address": ADDR_C},
        )
        assert res.settings.account_address == ADDR_C

    def test_profile_without_account_takes_the_environment_account(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[profiles.live]\nband = 0.02\n")
        res = resolve(config_path=path, profile="live", env={"HLREBAL_ACCOUNT_ADDRESS": ADDR_B})
        assert res.settings.account_address == ADDR_B

    def test_profile_settings(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            f'[profiles.vault]\nnetwork = "testnet"\naccount_address = "{ADDR_A}"\nvault = "{ADDR_B}"\n'
            'key_env = "MY_HL_KEY"\nkey_file = "~/keys/agent.key"\n',
        )
        res = resolve(config_path=path, profile="vault", env={})
        s = res.settings
        assert (s.network, s.account_address, s.vault, s.key_env) == ("testnet", ADDR_A, ADDR_B, "MY_HL_KEY")
        assert s.key_file == Path("~/keys/agent.key").expanduser()
        assert res.base_url == TESTNET_URL
        assert res.network_label == "testnet"


# --------------------------------------------------------------------------- targets path


class TestTargetsPath:
    def test_relative_targets_in_file_resolves_against_its_folder(self, tmp_path: Path) -> None:
        folder = tmp_path / "etc" / "hlrebal"
        folder.mkdir(parents=True)
        path = write(folder, 'targets = "targets/main.json"\n')
        res = resolve(config_path=path, env={})
        assert res.settings.targets == folder / "targets" / "main.json"

    def test_relative_targets_in_profile_resolves_against_the_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, '[profiles.live]\ntargets = "live.json"\n')
        res = resolve(config_path=path, profile="live", env={})
        assert res.settings.targets == tmp_path / "live.json"

    def test_absolute_targets_unchanged(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'targets = "/srv/targets.json"\n')
        assert resolve(config_path=path, env={}).settings.targets == Path("/srv/targets.json")

    def test_home_relative_targets_expanded(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'targets = "~/targets.json"\n')
        assert resolve(config_path=path, env={}).settings.targets == Path("~/targets.json").expanduser()

    def test_environment_and_flag_targets_are_not_moved(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'targets = "file.json"\n')
        res = resolve(config_path=path, env={"HLREBAL_TARGETS": "env.json"})
        assert res.settings.targets == Path("env.json")
        res = resolve(config_path=path, env={}, flags={"targets": "flag.json"})
        assert res.settings.targets == Path("flag.json")


# --------------------------------------------------------------------------- network and URL


class TestNetwork:
    def test_network_and_api_url_flags_together(self) -> None:
        message = refused(flags={"network": "testnet", "api_url": "http://127.0.0.1:3001"})
        assert "--network" in message
        assert "--api-url" in message

    @pytest.mark.parametrize(
        ("url", "base", "label"),
        [
            ("http://127.0.0.1:3001/", "http://127.0.0.1:3001", "custom"),
            ("http://localhost:3001", "http://localhost:3001", "custom"),
            ("http://127.0.0.1:3001//", "http://127.0.0.1:3001", "custom"),
            (MAINNET_URL, MAINNET_URL, "mainnet"),
            (MAINNET_URL + "/", MAINNET_URL, "mainnet"),
            (TESTNET_URL + "/", TESTNET_URL, "testnet"),
        ],
    )
    def test_api_url(self, url: str, base: str, label: str) -> None:
        res = resolve(flags={"api_url": url}, env={})
        assert res.settings.api_url == base
        assert res.base_url == base
        assert res.network_label == label

    def test_api_url_from_environment_loses_its_slash(self) -> None:
        res = resolve(env={"HLREBAL_API_URL": "http://127.0.0.1:3001/"})
        assert res.base_url == "http://127.0.0.1:3001"
        assert res.network_label == "custom"

    def test_network_testnet(self) -> None:
        res = resolve(env={"HLREBAL_NETWORK": "testnet"})
        assert res.base_url == TESTNET_URL
        assert res.network_label == "testnet"

    def test_api_url_flag_replaces_network_from_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'network = "testnet"\n')
        res = resolve(config_path=path, env={}, flags={"api_url": "http://127.0.0.1:3001"})
        assert res.base_url == "http://127.0.0.1:3001"
        assert res.network_label == "custom"
        assert "network" not in res.sources
        assert origin(res, "api_url") == "flag"

    def test_network_flag_replaces_api_url_from_lower_layers(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'api_url = "http://127.0.0.1:3001"\n')
        res = resolve(config_path=path, env={}, flags={"network": "testnet"})
        assert res.base_url == TESTNET_URL
        assert res.network_label == "testnet"
        assert res.settings.api_url is None
        res = resolve(env={"HLREBAL_API_URL": "http://127.0.0.1:3001"}, flags={"network": "mainnet"})
        assert res.base_url == MAINNET_URL

    def test_profile_network_replaces_file_api_url(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'api_url = "http://127.0.0.1:3001"\n[profiles.tn]\nnetwork = "testnet"\n')
        res = resolve(config_path=path, profile="tn", env={})
        assert res.base_url == TESTNET_URL
        assert res.network_label == "testnet"

    def test_environment_network_replaces_file_api_url(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'api_url = "http://127.0.0.1:3001"\n')
        res = resolve(config_path=path, env={"HLREBAL_NETWORK": "testnet"})
        assert res.base_url == TESTNET_URL

    def test_environment_api_url_replaces_file_network(self, tmp_path: Path) -> None:
        path = write(tmp_path, 'network = "testnet"\n')
        res = resolve(config_path=path, env={"HLREBAL_API_URL": "http://127.0.0.1:3001"})
        assert res.base_url == "http://127.0.0.1:3001"
        assert res.network_label == "custom"


# --------------------------------------------------------------------------- policy coherence


class TestPolicyCoherence:
    def test_slippage_above_max_slippage(self) -> None:
        message = refused(flags={"slippage": D("0.03")})
        assert "slippage 0.03" in message
        assert "max_slippage 0.02" in message
        assert "slippage (flag)" in message
        assert "max_slippage (default)" in message

    def test_slippage_from_target_file_above_max_slippage(self) -> None:
        message = refused(target_policy={"slippage": D("0.1")})
        assert "slippage (target file)" in message

    def test_raising_max_slippage_allows_it(self, tmp_path: Path) -> None:
        path = write(tmp_path, "[policy]\nmax_slippage = 0.05\n")
        res = resolve(flags={"slippage": D("0.03")}, config_path=path, env={})
        assert res.policy.slippage == D("0.03")
        assert res.policy.max_slippage == D("0.05")

    def test_slippage_equal_to_max_slippage_is_fine(self) -> None:
        res = resolve(env={"HLREBAL_SLIPPAGE": "0.02"})
        assert res.policy.slippage == res.policy.max_slippage

    @pytest.mark.parametrize(
        ("kwargs", "source"),
        [
            ({"flags": {"min_trade_value": D(5)}}, "flag"),
            ({"env": {"HLREBAL_MIN_TRADE_VALUE": "9.99"}}, "HLREBAL_MIN_TRADE_VALUE"),
            ({"target_policy": {"min_trade_value": D(1)}}, "target file"),
        ],
    )
    def test_min_trade_value_below_exchange_minimum(self, kwargs: dict[str, Any], source: str) -> None:
        message = refused(**kwargs)
        assert "min_trade_value" in message
        assert "greater than or equal to 10" in message
        assert source in message

    def test_min_trade_value_below_ten_in_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, "min_trade_value = 5\n")
        message = refused(config_path=path)
        assert "min_trade_value" in message
        assert str(path) in message

    def test_min_trade_value_of_ten_is_fine(self) -> None:
        assert resolve(flags={"min_trade_value": D(10)}, env={}).policy.min_trade_value == D(10)


class TestOffAndEndpoints:
    """`off` turns an optional setting off wherever it is written; endpoints and profile addresses
    are checked where they are written, whether the profile is in use or not."""

    def test_band_relative_off_restores_the_absolute_band_from_every_layer(self, tmp_path: Path) -> None:
        assert resolve(env={}).policy.band_relative == D("0.25")
        assert resolve(env={}, flags={"band_relative": "off"}).policy.band_relative is None
        assert resolve(env={"HLREBAL_BAND_RELATIVE": "OFF"}).policy.band_relative is None
        cfg = write(tmp_path, '[policy]\nband_relative = "off"\n')
        assert resolve(env={}, config_path=cfg).policy.band_relative is None
        assert resolve(env={}, target_policy={"band_relative": None}).policy.band_relative is None
        assert resolve(env={}, flags={"max_order_value": "off"}).policy.max_order_value is None

    def test_off_in_a_target_file_policy_and_in_the_schema(self) -> None:
        from hlrebal.targets import parse_targets, schema

        t = parse_targets('{"target_allocation": {"BTC": 0.5}, "policy": {"band_relative": "off"}}')
        assert t.policy == {"band_relative": None}
        prop = schema()["oneOf"][0]["properties"]["policy"]["properties"]["band_relative"]
        assert {"const": "off", "description": "unset (the same as null)"} in prop["anyOf"]

    @pytest.mark.parametrize("url", ["127.0.0.1:3001", "localhost", "ftp://x", "http://", "http:// space"])
    def test_an_api_url_without_http_is_bad_input_with_a_hint(self, url: str) -> None:
        with pytest.raises(ConfigError) as info:
            resolve(env={}, flags={"api_url": url})
        assert info.value.exit_code == ExitCode.BAD_INPUT
        assert "is not an http:// or https:// URL" in info.value.message and info.value.hint
        assert "--api-url" in info.value.message
        with pytest.raises(ConfigError, match="env HLREBAL_API_URL"):
            resolve(env={"HLREBAL_API_URL": url})

    def test_good_api_urls_pass(self) -> None:
        for url in ("http://127.0.0.1:3001", "https://api.hyperliquid.xyz/", "http://[::1]:3001"):
            assert resolve(env={}, flags={"api_url": url}).base_url == url.rstrip("/")

    def test_a_placeholder_address_in_an_unused_profile_is_refused(self, tmp_path: Path) -> None:
        cfg = write(tmp_path, f'account_address = "{ADDR_A}"\n[profiles.cron]\naccount_address = "0x..."\n')
        message = refused(config_path=cfg)
        assert "[profiles.cron]" in message and "account_address" in message and "'0x...'" in message
        cfg = write(tmp_path, '[profiles.cron]\napi_url = "localhost:3001"\n')
        assert "is not an http:// or https:// URL" in refused(config_path=cfg)


def test_the_unvalidated_defaults_are_the_validated_ones() -> None:
    """resolve() hands out ready-made defaults when nothing is set (no validator to build): they
    must be exactly what validating nothing gives."""
    from hlrebal.config import Settings

    res = resolve(env={})
    assert res.policy == Policy() and res.policy.model_dump() == Policy().model_dump()
    assert res.settings == Settings() and res.settings.model_dump() == Settings().model_dump()
