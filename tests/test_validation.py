"""Checked settings against pydantic, their oracle: every field of the policy, the execution settings
and the connection settings takes what pydantic's lax mode took, gives the same value, and refuses
what it refused with the same message (the documented messages depend on it), while a plan never
imports pydantic at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from hlrebal.config.settings import Settings
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.policy import NULLABLE_KEYS, OFF_WORDS, Policy
from hlrebal.validation import Checked, Invalid, check_value, keys_of, rule_of

ROOT = Path(__file__).resolve().parents[1]
CLASSES: tuple[type[Checked], ...] = (Policy, ExecutionSettings, Settings)
FIELDS = [(cls, key) for cls in CLASSES for key in sorted(keys_of(cls))]


def oracle(cls: type[Checked], key: str) -> TypeAdapter[Any]:
    """pydantic's validator for one field: its annotation with the field's bounds."""
    import typing

    rule = rule_of(cls, key)
    bounds = {b: getattr(rule, b) for b in ("ge", "gt", "le", "lt") if getattr(rule, b) is not None}
    annotation = typing.get_type_hints(cls)[key]
    return TypeAdapter(Annotated[annotation, Field(**bounds)] if bounds else annotation)


ORACLES = {(cls, key): oracle(cls, key) for cls, key in FIELDS}

numbers_as_text = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(repr),
    st.sampled_from(["", " ", "1e3", "1E-2", "0x10", "1_000", "+5", "-0", "0.50", " 3 ", "3.0", "3.5", "nan",
                     "-inf", "Infinity", "1e9999999", "9" * 5000, "٣", "１", "1,5", "true", "yes", "OFF", "off",
                     "none", " off", "taker", "maker", "twap", "target", "edge", "keep", "close", "mainnet",
                     "testnet", "Mainnet"]),
)  # fmt: skip
values = st.one_of(
    numbers_as_text,
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def ours(cls: type[Checked], key: str, value: Any) -> tuple[bool, Any]:
    try:
        return True, check_value(cls, key, value)
    except Invalid as e:
        return False, e.msg


def theirs(cls: type[Checked], key: str, value: Any) -> tuple[bool, Any]:
    if cls is Policy and key in NULLABLE_KEYS and isinstance(value, str) and value.strip().lower() in OFF_WORDS:
        return True, None  # Policy's own "off" rule (a before-validator when it was a pydantic model)
    try:
        return True, ORACLES[cls, key].validate_python(value)
    except ValidationError as e:
        return False, e.errors()[0]["msg"]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and str(a) == str(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(("cls", "key"), FIELDS, ids=[f"{c.__name__}.{k}" for c, k in FIELDS])
@settings(max_examples=150, deadline=None)
@given(value=values)
@example(value="0.05")
@example(value=True)
@example(value=None)
@example(value="1e3")
@example(value="1_000")
@example(value="٣")
@example(value=float("nan"))
@example(value=2**63)
@example(value=Decimal("4503599627370496.5"))
@example(value=Decimal("1.0000000000000000001"))
@example(value=Decimal("sNaN"))
@example(value=-(2.0**63))
@example(value="9" * 4301)
def test_each_field_takes_and_refuses_what_pydantic_did(cls: type[Checked], key: str, value: Any) -> None:
    ok, got = ours(cls, key, value)
    their_ok, expected = theirs(cls, key, value)
    assert ok == their_ok, f"{cls.__name__}.{key}={value!r}: ours {got!r}, pydantic {expected!r}"
    assert same(got, expected), f"{cls.__name__}.{key}={value!r}: ours {got!r}, pydantic {expected!r}"


def test_a_setting_given_is_checked_and_remembered_a_default_is_not() -> None:
    p = Policy(band="0.03", max_rounds="5", leverage="off")
    assert (p.band, p.max_rounds, p.leverage) == (Decimal("0.03"), 5, None)
    assert p.model_fields_set == {"band", "max_rounds", "leverage"}
    assert Policy().model_fields_set == frozenset()
    assert p == Policy(band=Decimal("0.03"), max_rounds=5) and hash(p) == hash(Policy(band=0.03, max_rounds=5))
    with pytest.raises(Invalid, match="band: Input should be less than 1") as info:
        Policy(band=1)
    assert (info.value.key, info.value.msg) == ("band", "Input should be less than 1")
    with pytest.raises(Invalid, match="is above max_slippage") as rule:
        Policy(slippage="0.03")
    assert rule.value.key is None
    with pytest.raises(TypeError, match="unexpected keyword argument 'bands'"):
        Policy(bands=1)  # type: ignore[call-arg]


def test_a_copy_keeps_what_was_given_and_is_not_checked_again() -> None:
    # As pydantic's model_copy: the library's effective_policy reads model_fields_set as flags, so a
    # copy must not turn every default into an explicit value (it would override the configuration).
    p = Policy(band="0.03")
    copied = p.model_copy(update={"trade_to": "edge"})
    assert copied.trade_to == "edge" and copied.band == Decimal("0.03")
    assert copied.model_fields_set == {"band", "trade_to"}
    # an approved plan's slippage above today's max_slippage is capped by the rounds, not refused here
    assert p.model_copy(update={"slippage": Decimal("0.03")}).slippage == Decimal("0.03")
    with pytest.raises(AttributeError, match="frozen"):
        p.band = Decimal(0)  # type: ignore[misc]


def test_settings_dump_as_json_types() -> None:
    s = Settings(key_file="~/k", network="testnet")
    assert s.key_file == Path("~/k")
    dumped = s.model_dump(mode="json")
    assert dumped["key_file"] == "~/k" and dumped["network"] == "testnet" and dumped["api_url"] is None
    assert Policy().model_dump(mode="json")["band"] == "0.05"
    assert Policy().model_dump()["band"] == Decimal("0.05")
    assert json.dumps(ExecutionSettings(style="maker").model_dump(mode="json"))


def _run_plan(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('\\nloaded: %s\\n' % sorted(m for m in ('pydantic', "
        "'pydantic_core', 'eth_account', 'hyperliquid', 'dataclasses_json') if m in sys.modules)))\n"
        "from hlrebal.cli import main\n"
        "sys.argv = ['hlrebal', *sys.argv[1:]]\n"
        "sys.exit(main())\n"
    )
    environment = {**os.environ, "HLREBAL_HOME": str(tmp_path / "home"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", probe, "plan", "sample_targets/balanced.json", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )


SLIPPAGE = {"HLREBAL_SLIPPAGE": "0.004"}


def test_a_plan_imports_neither_pydantic_nor_the_sdk(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('band = "0.04"\n[policy]\nmax_turnover = 2\n[execution]\nstyle = "maker"\n')
    targets = tmp_path / "t.json"
    targets.write_text(json.dumps({"target_allocation": {"BTC": 0.5, "USDC": 0.5}, "policy": {"trade_to": "edge"}}))
    snapshot = "hlrebal/data/demo_snapshot.json"
    runs = [
        _run_plan(tmp_path, "--snapshot", snapshot),
        # every layer of settings checked: a file, a flag, a variable and the document's policy
        _run_plan(tmp_path, "--snapshot", snapshot, "--config", str(config), "--max-rounds", "4", env=SLIPPAGE),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "loaded: []" in run.stderr
    bad = _run_plan(tmp_path, "--snapshot", snapshot, "--band", "2")
    assert bad.returncode == 2 and "Input should be less than 1" in bad.stderr and "loaded: []" in bad.stderr
