"""Hostile and mistaken target files: every one is exit 2 with a message that names the problem, no
traceback, nothing hanging, and names shown with invisible characters escaped."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hlrebal.cli import app
from hlrebal.errors import TargetFileError
from hlrebal.inputs import TARGETS_LIMIT, read_limited, short_number, shown
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
    assert str(parse_targets('\ufeff{"BTC": 0.5}').cash) == "0.5"
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


# --------------------------------------------------------------------------- the limits, exactly


def read(source: str | Path, limit: int = 10, **kwargs: object) -> bytes:
    return read_limited(source, what="target file", limit=limit, error=TargetFileError, **kwargs)  # type: ignore[arg-type]


def refused(source: str | Path, limit: int = 10, **kwargs: object) -> str:
    with pytest.raises(TargetFileError) as info:
        read(source, limit, **kwargs)
    return str(info.value)


def test_a_file_of_exactly_the_limit_is_read_whole_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"0123456789")
    assert read(path) == b"0123456789"
    path = write(tmp_path, b"0123456789A")
    assert refused(path) == f"{path}: is 11 bytes, more than the limit of 10 for a target file"


def test_a_file_whose_size_is_not_known_ahead_is_cut_at_the_limit() -> None:
    # /proc files are regular files that report a size of 0: the read itself must stop at the limit
    assert os.stat("/proc/self/status").st_size == 0
    assert refused("/proc/self/status") == "/proc/self/status: more than 10 bytes, the limit for a target file"
    assert read("/proc/self/status", 1 << 16).startswith(b"Name:")


def test_standard_input_is_read_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert read("-", stdin=lambda: io.BytesIO(b"0123456789")) == b"0123456789"
    message = refused("-", stdin=lambda: io.BytesIO(b"0123456789A"))
    assert message == "standard input: more than 10 bytes, the limit for a target file"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"BTC": 1}')))
    assert read("-") == b'{"BTC": 1}'


def test_a_path_through_a_file_cannot_be_read(tmp_path: Path) -> None:
    path = write(tmp_path, "{}") / "t.json"
    assert refused(path) == f"{path}: cannot be read (Not a directory)"


def _looks_regular(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make ``path`` pass the check before opening, as if it were swapped right after the check."""
    small = path.with_name("small.json")
    small.write_text("{}")
    regular, real_stat = os.stat(small), os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: regular if Path(p) == path else real_stat(p, *a, **k))


def test_a_file_removed_after_the_check_cannot_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gone.json"
    _looks_regular(monkeypatch, path)
    assert refused(path) == f"{path}: cannot be read (No such file or directory)"


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "t.fifo"
    os.mkfifo(fifo)
    _looks_regular(monkeypatch, fifo)
    outcome: list[str] = []

    def reader() -> None:
        outcome.append(refused(fifo))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():  # stuck in open(), waiting for a writer: let it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail("opening the file waited for a writer")
    assert outcome == [f"{fifo}: is not a regular file (a pipe, device or socket cannot be a target file)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\\x07", "'a\\\\x07'"),  # a backslash written in the file is not an escape made by hlrebal
        ("a\x07", "'a\\x07'"),
        ("a b", "'a b'"),  # an ordinary space stays
        ("a\u00a0b", "'a\\xa0b'"),  # other spaces do not
        ("a\u3000b", "'a\\u3000b'"),
        ("a\u2028b\u2029", "'a\\u2028b\\u2029'"),  # line and paragraph separators
        ("a\u00adb", "'a\\xadb'"),  # soft hyphen (invisible)
        ("\U000e0001x", "'\\U000e0001x'"),  # a tag character beyond the basic plane
        ("\u0100\U00010000", "'\u0100\U00010000'"),  # letters at the escape boundaries are letters
        ("it's", '"it\'s"'),
        ("x" * 80, "'" + "x" * 80 + "'"),
        ("x" * 81, "'" + "x" * 79 + "…'"),
    ],
)
def test_names_are_shown_escaped_and_cut(text: str, expected: str) -> None:
    assert shown(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1" * 24, "1" * 24),
        ("1" * 25, "1" * 23 + "…"),
        (Decimal("1E+5"), "100000"),
        (Decimal("1E+23"), "1" + "0" * 23),  # 24 characters: still plain
        (Decimal("1E+24"), "1.000000e+24"),
        (Decimal("1E-23"), "1.000000e-23"),
        (Decimal("1E+9999999"), "1.000000e+9999999"),  # never written out
        (12345, "12345"),
        (Decimal("sNaN"), "sNaN"),
    ],
)
def test_numbers_in_messages_are_short(value: Decimal | str | int, expected: str) -> None:
    assert short_number(value) == expected
