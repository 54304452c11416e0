"""The signing key: where it is found, which key files are refused, and what the messages say.

A key file must be private to its owner: every one of the group and other permission bits (0o077)
is refused on its own, while the owner's bits are free. Messages say where the key came from and
what is wrong, never the key itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hlrebal.errors import ExitCode, KeyError_
from hlrebal.keys import SecretStr, SigningKey, check_private, find_key, normalize_key, read_key_file, write_key_file

HEX = "ab" * 16 + "CD" * 16  # 64 hex digits, mixed case
KEY = "0x" + HEX.lower()
OTHER = "0x" + "12" * 32


def key_file(folder: Path, text: str, mode: int = 0o600, name: str = "agent.key") -> Path:
    path = folder / name
    path.write_text(text)
    path.chmod(mode)
    return path


def refusal(call: object, *args: object, **kwargs: object) -> KeyError_:
    with pytest.raises(KeyError_) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    err = info.value
    assert err.exit_code == ExitCode.BAD_INPUT
    return err


# --------------------------------------------------------------------------- the key's text


@pytest.mark.parametrize(
    "raw",
    [HEX, "0x" + HEX, "0X" + HEX, f"  0x{HEX}\n", f"\t0X{HEX.upper()} \r\n", HEX.upper()],
)
def test_a_key_is_read_with_or_without_its_prefix_and_given_back_lower_case(raw: str) -> None:
    assert normalize_key(raw, "test").get_secret_value() == KEY


@pytest.mark.parametrize(
    ("raw", "length"),
    [
        ("0x" + "ab" * 20, 40),  # an address, not a key
        (HEX[:-1], 63),
        (HEX + "a", 65),
        ("0x" + HEX[:-1] + "g", 64),  # not hexadecimal
        ("", 0),
        ("0x0x" + HEX[4:], 62),  # only one prefix is removed
        ("x0" + HEX[2:], 64),
    ],
)
def test_what_is_not_a_key_is_refused_without_echoing_it(raw: str, length: int) -> None:
    err = refusal(normalize_key, raw, "the vault's file")
    assert err.message == (
        "the key from the vault's file is not a private key: expected 64 hexadecimal digits "
        f"(optionally prefixed with 0x), got {length} characters"
    )
    assert err.hint == "the file must hold only the key; an address (40 digits) is not a key"
    body = raw.removeprefix("0x")
    if len(body) > 8:
        assert body not in str(err) and body[:16] not in str(err)


def test_the_key_never_shows_in_its_repr() -> None:
    key = SigningKey(normalize_key(HEX, "test"), "environment X")
    assert repr(key) == "SigningKey(source='environment X', secret=**********)"
    assert HEX.lower() not in repr(key) and HEX.lower() not in str(key)


def test_a_secret_shows_only_stars_but_has_its_length_as_pydantics() -> None:
    secret = SecretStr("0x" + HEX)
    assert (repr(secret), str(secret), f"{secret}", f"{secret:>20}") == (
        "SecretStr('**********')",
        "**********",
        "**********",
        "**********",
    )
    assert len(secret) == 2 + len(HEX) and secret.get_secret_value() == "0x" + HEX
    assert secret == SecretStr("0x" + HEX) and secret != SecretStr("0x") and secret != "0x" + HEX
    assert hash(secret) == hash(SecretStr("0x" + HEX)) and len({secret, SecretStr("0x" + HEX), SecretStr("0x")}) == 2
    assert hash(secret) == hash("0x" + HEX)  # as pydantic's SecretStr hashes


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("bit", [0o040, 0o020, 0o010, 0o004, 0o002, 0o001])
def test_every_group_or_other_permission_bit_is_refused(tmp_path: Path, bit: int) -> None:
    path = key_file(tmp_path, KEY, 0o600 | bit)
    err = refusal(check_private, path, "--key-file")
    assert err.message == f"key file {path} is accessible by group or others (mode {0o600 | bit:04o})"
    assert err.hint == f"restrict it to yourself: chmod 600 {path}"
    # and reading the key goes through the same check
    refusal(read_key_file, path, "--key-file")


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700, 0o200])
def test_the_owners_own_bits_are_free(tmp_path: Path, mode: int) -> None:
    path = key_file(tmp_path, KEY, mode)
    check_private(path, "--key-file")  # no error
    if mode & 0o400:
        assert read_key_file(path, "--key-file").secret.get_secret_value() == KEY


def test_a_missing_key_file_says_so_with_its_source(tmp_path: Path) -> None:
    path = tmp_path / "nope.key"
    err = refusal(read_key_file, path, "key_file (profile main)")
    assert err.message == f"key file {path} (key_file (profile main)) does not exist"


def test_a_folder_is_not_a_key_file(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    err = refusal(read_key_file, folder, "--key-file")
    assert err.message == f"key file {folder} (--key-file) is not a regular file"


def test_a_path_through_a_file_cannot_be_read(tmp_path: Path) -> None:
    path = key_file(tmp_path, KEY) / "agent.key"  # a file used as a folder
    err = refusal(read_key_file, path, "--key-file")
    assert err.message == f"key file {path} (--key-file) cannot be read (Not a directory)"


def test_an_unreadable_key_file_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = key_file(tmp_path, KEY)

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")  # what a non-root user gets for mode 0200

    monkeypatch.setattr(Path, "read_text", denied)
    err = refusal(read_key_file, path, "--key-file")
    assert err.message == f"key file {path} (--key-file) cannot be read (Permission denied)"


def test_a_binary_key_file_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "agent.key"
    path.write_bytes(b"\xff\xfe" + KEY.encode())
    path.chmod(0o600)
    err = refusal(read_key_file, path, "--key-file")
    assert err.message == f"key file {path} (--key-file) is not text"


def test_a_malformed_key_file_names_the_file(tmp_path: Path) -> None:
    path = key_file(tmp_path, "0x" + "ab" * 20)
    err = refusal(read_key_file, path, "--key-file")
    assert err.message.startswith(f"the key from --key-file {path} is not a private key")


def test_a_key_file_under_home_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    key_file(tmp_path, KEY + "\n")
    key = read_key_file(Path("~/agent.key"), "--key-file")
    assert key.secret.get_secret_value() == KEY
    assert key.source == f"--key-file {tmp_path / 'agent.key'}"


# --------------------------------------------------------------------------- where the key comes from


def find(**kwargs: object) -> SigningKey | None:
    args: dict[str, object] = {"key_file_flag": None, "config_key_file": None, "config_key_env": None, "env": {}}
    args.update(kwargs)
    return find_key(**args)  # type: ignore[arg-type]


def test_the_flag_wins_over_the_environment_and_the_configuration(tmp_path: Path) -> None:
    flag = key_file(tmp_path, KEY, name="flag.key")
    config = key_file(tmp_path, OTHER, name="config.key")
    env = {"HLREBAL_PRIVATE_KEY": OTHER, "MY_KEY": OTHER}
    key = find(key_file_flag=flag, config_key_file=config, config_key_env="MY_KEY", env=env)
    assert key is not None and key.secret.get_secret_value() == KEY
    assert key.source == f"--key-file {flag}"


def test_the_environment_wins_over_the_configuration(tmp_path: Path) -> None:
    config = key_file(tmp_path, OTHER, name="config.key")
    key = find(config_key_file=config, config_key_env="MY_KEY", env={"HLREBAL_PRIVATE_KEY": HEX, "MY_KEY": OTHER})
    assert key is not None and key.secret.get_secret_value() == KEY
    assert key.source == "environment HLREBAL_PRIVATE_KEY"


def test_a_bad_key_in_the_environment_names_the_variable() -> None:
    err = refusal(find, env={"HLREBAL_PRIVATE_KEY": "0x1234"})
    assert err.message.startswith("the key from HLREBAL_PRIVATE_KEY is not a private key")


def test_the_configured_key_file_comes_next(tmp_path: Path) -> None:
    config = key_file(tmp_path, KEY, name="config.key")
    key = find(config_key_file=config, config_key_env="MY_KEY", config_key_source="profile main", env={"MY_KEY": OTHER})
    assert key is not None and key.secret.get_secret_value() == KEY
    assert key.source == f"key_file (profile main) {config}"


def test_a_bad_configured_key_file_names_its_source(tmp_path: Path) -> None:
    config = key_file(tmp_path, KEY, 0o644, name="config.key")
    assert "accessible by group or others (mode 0644)" in refusal(find, config_key_file=config).message
    missing = tmp_path / "missing.key"
    err = refusal(find, config_key_file=missing)
    assert err.message == f"key file {missing} (key_file (configuration)) does not exist"


def test_then_the_variable_the_configuration_names() -> None:
    key = find(config_key_env="MY_KEY", env={"MY_KEY": "0x" + HEX})
    assert key is not None and key.secret.get_secret_value() == KEY
    assert key.source == "environment MY_KEY"
    err = refusal(find, config_key_env="MY_KEY", env={"MY_KEY": "zz"})
    assert err.message.startswith("the key from environment MY_KEY is not a private key")


@pytest.mark.parametrize("env", [{}, {"MY_KEY": ""}, {"OTHER": HEX}])
def test_a_configured_variable_that_is_not_set_is_an_error(env: dict[str, str]) -> None:
    err = refusal(find, config_key_env="MY_KEY", env=env)
    assert err.message == "key_env (configuration) names the variable MY_KEY, which is not set"
    err = refusal(find, config_key_env="MY_KEY", config_key_source="HLREBAL_KEY_ENV", env=env)
    assert err.message == "key_env (HLREBAL_KEY_ENV) names the variable MY_KEY, which is not set"


def test_no_source_means_no_key() -> None:
    assert find() is None
    assert find(env={"HLREBAL_PRIVATE_KEY": ""}) is None


def test_the_process_environment_is_read_unless_one_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HLREBAL_PRIVATE_KEY", HEX)
    key = find_key(key_file_flag=None, config_key_file=None, config_key_env=None)
    assert key is not None and key.secret.get_secret_value() == KEY
    assert find(env={}) is None


# --------------------------------------------------------------------------- writing a key file


def test_a_written_key_file_is_private_from_the_start_and_reads_back(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        path = tmp_path / "new" / "nested" / "agent.key"
        write_key_file(path, normalize_key(HEX, "test"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == (KEY + "\n").encode()
    assert read_key_file(path, "demo key").secret.get_secret_value() == KEY


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = key_file(tmp_path, OTHER)
    with pytest.raises(FileExistsError):
        write_key_file(path, normalize_key(HEX, "test"))
    assert path.read_text() == OTHER
