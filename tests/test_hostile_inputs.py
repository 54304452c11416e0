"""Hostile and mistaken target files: every one is exit 2 with a message that names the problem, no
traceback, nothing hanging, and names shown with invisible characters escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.errors import TargetFileError
from hlrebal.inputs import TARGETS_LIMIT, short_number, shown
from hlrebal.targets import load_targets, parse_targets

from factories import btc_80_20

runner = CliRunner()


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    p = tmp_path / "snap.json"
    p.write_text(json.dumps(btc_80_20()))
    return p


def plan(path: Path, snap: Path) -> tuple[int, str]:
    r = runner.invoke(app, ["plan", str(path), "--snapshot", str(snap)])
    assert "Traceback" not in r.output
    return r.exit_code, r.stderr


def write(tmp_path: Path, text: str | bytes, name: str = "t.json") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_weights_written_as_percentages_get_the_fraction_hint(tmp_path: Path, snap: Path) -> None:
    code, err = plan(write(tmp_path, '{"BTC": 40, "ETH": 30}'), snap)
    assert code == 2
    assert "weights are fractions of equity: write 0.40 for 40%" in err
    code, err = plan(write(tmp_path, '{"BTC": 40, "ETH": 30, "USDC": 30}'), snap)
    assert code == 2 and "sum to 100" in err and "write 0.40 for 40%" in err


def test_ordinary_sum_errors_do_not_mention_percentages(tmp_path: Path, snap: Path) -> None:
    code, err = plan(write(tmp_path, '{"BTC": 0.4, "ETH": 0.3, "USDC": 0.2}'), snap)
    assert code == 2 and "sum to 0.9" in err and "40%" not in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"BTC": 1e9999999}', "1e9999999 is out of range"),
        ('{"BTC": 1e-9999999}', "out of range"),
        # exponents beyond what a Decimal can hold at all
        ('{"BTC": 1e99999999999999999999}', "1e99999999999999999999 is out of range"),
        ('{"BTC": 0.4, "ETH": -2.5E-99999999999999999999}', "out of range"),
        ('{"BTC": 0.4, "USDC": 0.6, "x": ' + "9" * 5000 + "}", "out of range"),
        ('{"target_allocation": {"BTC": 0.4}, "policy": {"min_trade_value": 1e9999999}}', "out of range"),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
    ],
)
def test_absurd_numbers_and_nesting_are_refused_with_a_short_message(
    tmp_path: Path, snap: Path, text: str, fragment: str
) -> None:
    code, err = plan(write(tmp_path, text), snap)
    assert code == 2, err
    assert fragment in err
    assert len(err) < 600  # the number is never echoed in full


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, snap: Path) -> None:
    fifo = tmp_path / "targets.fifo"
    os.mkfifo(fifo)
    # In a subprocess with a timeout: a regression would block forever on open().
    r = subprocess.run(
        [sys.executable, "-m", "hlrebal", "plan", str(fifo), "--snapshot", str(snap)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "HLREBAL_HOME": str(tmp_path / "home")},
    )
    assert r.returncode == 2
    assert "is not a regular file" in r.stderr


def test_a_device_is_refused(snap: Path) -> None:
    with pytest.raises(TargetFileError, match="not a regular file"):
        load_targets("/dev/zero")


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path, snap: Path) -> None:
    big = write(tmp_path, '{"BTC": 0.5' + " " * TARGETS_LIMIT + "}")
    code, err = plan(big, snap)
    assert code == 2 and "more than the limit of 1,048,576" in err


def test_a_directory_and_a_missing_file_are_named(tmp_path: Path, snap: Path) -> None:
    assert plan(tmp_path, snap) == (2, plan(tmp_path, snap)[1])
    assert "is a directory" in plan(tmp_path, snap)[1]
    assert "no such target file" in plan(tmp_path / "nope.json", snap)[1]


def test_a_utf8_bom_is_read(tmp_path: Path, snap: Path) -> None:
    p = write(tmp_path, b"\xef\xbb\xbf" + b'{"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}')
    assert str(load_targets(p).weights["ETH"]) == "0.3"
    assert str(parse_targets("\ufeff{\"BTC\": 0.5}").cash) == "0.5"
    code, _ = plan(p, snap)
    assert code == 0


def test_names_with_invisible_characters_are_refused_and_shown_escaped(tmp_path: Path, snap: Path) -> None:
    code, err = plan(write(tmp_path, '{"BTC\\u200b": 0.4, "USDC": 0.6}'), snap)
    assert code == 2
    assert "'BTC\\u200b'" in err and "\u200b" not in err
    code, err = plan(write(tmp_path, '{"ETH\\u001b[31m": 0.4}'), snap)
    assert code == 2 and "\\x1b" in err and "\x1b" not in err
    code, err = plan(write(tmp_path, '{"target_allocation": {"BTC": 0.4}, "policy": {"band\\u0000": 1}}'), snap)
    assert code == 2 and "\\x00" in err


def test_shown_and_short_number_keep_messages_small_and_honest() -> None:
    assert shown("BTC") == "'BTC'"
    assert shown("a\u202eb") == "'a\\u202eb'"  # right-to-left override, which could disguise a name
    assert shown("x" * 500).endswith("…'") and len(shown("x" * 500)) <= 82
    assert short_number("1" * 100).endswith("…") and len(short_number("1" * 100)) == 24
    from decimal import Decimal

    assert short_number(Decimal("0.4")) == "0.4"
    assert short_number(Decimal("1E+40")) == "1.000000e+40"


def test_a_snapshot_file_gets_the_same_limits(tmp_path: Path, snap: Path) -> None:
    targets = write(tmp_path, '{"BTC": 0.5}', "t2.json")
    fifo = tmp_path / "snap.fifo"
    os.mkfifo(fifo)
    code, err = plan(targets, fifo)
    assert code == 2 and "is not a regular file" in err
    deep = write(tmp_path, "[" * 100_000, "deep.json")
    code, err = plan(targets, deep)
    assert code == 2 and "nested too deeply" in err
    huge = write(tmp_path, '{"user": 1e99999}', "huge.json")
    code, err = plan(targets, huge)
    assert code == 2 and "out of range" in err
    code, err = plan(targets, tmp_path / "missing.json")
    assert code == 2 and "no such snapshot file" in err


def test_snapshot_into_a_missing_folder_is_exit_2_with_a_hint(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "snap.json"
    r = runner.invoke(app, ["snapshot", "--demo", "-o", str(target)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "does not exist" in r.stderr and "hint:" in r.stderr
    r = runner.invoke(app, ["snapshot", "--demo", "-o", str(tmp_path)])
    assert r.exit_code == 2 and "is a directory" in r.stderr
