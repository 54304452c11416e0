"""What mutation testing of hlrebal.values and hlrebal.validation found untested: classes and fields
declared inside the test (so that the declaration itself runs under test, not only at import), the
dump of nested values, the JSON Schema's bounds, and the boundaries of the conversions."""

from __future__ import annotations

import pickle
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlrebal import validation
from hlrebal.execution_settings import ExecutionSettings
from hlrebal.policy import PLANNING_KEYS, Policy
from hlrebal.targets import target_policy_model
from hlrebal.validation import (
    UNSET,
    Checked,
    Invalid,
    Kind,
    Rule,
    base_type,
    check_value,
    keys_of,
    nullable_keys,
    pydantic_model,
    rule_of,
    setting,
)
from hlrebal.values import Field, Value, dump, field, fields, value_class

D = Decimal


class Side(StrEnum):
    BUY = "buy"


def test_a_value_class_declared_here_has_its_fields_defaults_and_factories() -> None:
    @value_class
    class Leg(Value):
        kind: ClassVar[str] = "leg"
        coin: str
        size: Decimal = D(1)
        notes: list[str] = field(default_factory=list, repr=False)
        raw: dict[str, int] = field(default_factory=dict, metadata={"exclude": True})

    assert [f.name for f in fields(Leg)] == ["coin", "size", "notes", "raw"]
    assert Leg.size == D(1) and not hasattr(Leg, "coin") and not hasattr(Leg, "notes")
    leg = Leg(coin="BTC")
    assert (leg.coin, leg.size, leg.notes, leg.raw) == ("BTC", D(1), [], {})
    assert leg.notes is not Leg(coin="BTC").notes  # a factory's value is made for each instance
    assert repr(leg) == "Leg(coin='BTC', size=Decimal('1'), raw={})"
    assert leg == Leg(coin="BTC", size=D("1.0")) and leg != Leg(coin="ETH") and leg != ("BTC",)
    with pytest.raises(TypeError, match=r"Leg\(\) missing the keyword argument 'coin'"):
        Leg()
    with pytest.raises(TypeError, match=r"Leg\(\) got an unexpected keyword argument 'side'"):
        Leg(coin="BTC", side="buy")
    with pytest.raises(AttributeError, match="cannot assign to field 'coin': Leg is frozen"):
        leg.coin = "ETH"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'coin': Leg is frozen"):
        del leg.coin  # type: ignore[misc]
    spec = fields(leg)[2]
    assert (spec.name, spec.default is not None, spec.repr, spec.metadata) == ("notes", True, False, {})
    assert repr(spec) == "Field('notes')"


def test_a_value_class_inherits_its_bases_fields_and_hashes_by_class_and_values() -> None:
    @value_class
    class Base(Value):
        a: int = 1

    @value_class
    class Child(Base):
        b: int = 2

    assert [f.name for f in fields(Child)] == ["a", "b"]
    assert Child(a=3).a == 3 and Child().b == 2
    assert hash(Base(a=1)) == hash(Base(a=1)) and hash(Base(a=1)) != hash(Base(a=2))
    assert {Base(a=1), Base(a=1)} == {Base(a=1)}
    hashes = {hash(Child(a=1, b=2)), hash(Base(a=1))}
    assert len(hashes) == 2  # the class is part of the hash


ClassVarLike = str


def test_only_a_class_variable_is_left_out_never_a_type_named_like_one() -> None:
    @value_class
    class Named(Value):
        label: ClassVarLike = "x"
        shared: ClassVar[int] = 3

    assert [f.name for f in fields(Named)] == ["label"]
    assert Named(label="y").label == "y" and Named.shared == 3


def test_copy_dump_and_construct() -> None:
    @value_class
    class Line(Value):
        coin: str
        side: Side = Side.BUY
        hidden: str = field(default="x", metadata={"exclude": True})
        sizes: tuple[Decimal, ...] = ()
        path: Path | None = None

    line = Line(coin="BTC", sizes=(D("0.1"), D(2)), path=Path("/tmp/a"))
    assert line.model_copy() is line and line.model_copy(update={}) is line
    moved = line.model_copy(update={"coin": "ETH"})
    assert (moved.coin, moved.sizes, line.coin) == ("ETH", line.sizes, "BTC")
    assert Line.model_construct(coin="SOL") == Line(coin="SOL")
    assert line.model_dump() == {"coin": "BTC", "side": Side.BUY, "sizes": (D("0.1"), D(2)), "path": Path("/tmp/a")}
    assert line.model_dump(mode="json") == {"coin": "BTC", "side": "buy", "sizes": ["0.1", "2"], "path": "/tmp/a"}
    assert line.model_dump(include={"coin", "hidden"}) == {"coin": "BTC"}
    assert line.model_dump(exclude={"sizes", "path"}) == {"coin": "BTC", "side": Side.BUY}
    nested = {"lines": [line], "pair": (line, 1), "n": D(1)}
    assert dump(nested) == {"lines": [line.model_dump()], "pair": (line.model_dump(), 1), "n": D(1)}
    assert dump(nested, "json") == {"lines": [line.model_dump(mode="json")], "pair": [line.model_dump(mode="json"), 1],
                                    "n": "1"}  # fmt: skip
    assert dump(Side.BUY) is Side.BUY and dump(Path("p")) == Path("p") and dump(None, "json") is None


def test_a_checked_class_declared_here() -> None:
    @value_class
    class Knobs(Checked):
        off_words: ClassVar[frozenset[str]] = frozenset({"off"})
        rate: Decimal = setting(D("0.5"), gt=0, lt=1, description="A rate.")
        count: int | None = setting(None, ge=1, le=3)
        mode: Literal["a", "b"] = setting("a")
        only: Literal["x"] = setting("x")
        flag: bool = setting(False)
        ratio: float = setting(0.5)

        def check(self) -> None:
            if self.count == 3 and self.mode == "b":
                raise Invalid(None, "count 3 needs mode a")

    assert keys_of(Knobs) == {"rate", "count", "mode", "only", "flag", "ratio"}
    assert nullable_keys(Knobs) == {"count"}
    assert base_type(Knobs, "rate") is Decimal and base_type(Knobs, "mode") is None
    assert rule_of(Knobs, "rate") == Rule(D("0.5"), None, 0, None, 1, "A rate.")
    assert rule_of(Knobs, "count") == Rule(None, 1, None, 3, None, "")
    k = Knobs(rate="0.25", count="off", flag="yes")
    assert (k.rate, k.count, k.mode, k.flag) == (D("0.25"), None, "a", True)
    assert k.model_fields_set == {"rate", "count", "flag"} and Knobs().model_fields_set == frozenset()
    assert Knobs(count=2).count == 2 and Knobs(only="x").only == "x" and Knobs(ratio=0.25).ratio == 0.25
    for bad, message in (
        ({"rate": 0}, "rate: Input should be greater than 0"),
        ({"rate": 1}, "rate: Input should be less than 1"),
        ({"count": 0}, "count: Input should be greater than or equal to 1"),
        ({"count": 4}, "count: Input should be less than or equal to 3"),
        ({"mode": "c"}, "mode: Input should be 'a' or 'b'"),
        ({"mode": None}, "mode: Input should be 'a' or 'b'"),
        ({"rate": None}, "rate: Decimal input should be an integer, float, string or Decimal object"),
        ({"flag": None}, "flag: Input should be a valid boolean"),
        ({"count": 3, "mode": "b"}, "count 3 needs mode a"),
        ({"only": "y"}, "only: Input should be 'x'"),
        ({"ratio": "0.5"}, "ratio: Input should be an instance of float"),
    ):
        with pytest.raises(Invalid) as info:
            Knobs(**bad)
        assert str(info.value) == message
    assert Knobs(count=3).model_copy(update={"rate": D("0.1")}).model_fields_set == {"rate", "count"}
    assert repr(UNSET) == "<unset>"


def test_kinds_read_from_annotations() -> None:
    assert validation._kind(Decimal) == Kind(Decimal)
    assert validation._kind(Decimal | None) == Kind(Decimal, (), True)
    assert validation._kind(Literal["x", "y"]) == Kind(None, ("x", "y"))
    assert validation._kind(Literal["x"] | None) == Kind(None, ("x",), True)
    # The cache of kinds is rebuilt from the class when asked again.
    validation._FIELDS.pop(Policy, None)
    assert check_value(Policy, "leverage", "off") is None and check_value(Policy, "band", "0.1") == D("0.1")


def test_invalid_carries_the_key_the_message_and_the_value() -> None:
    error = Invalid("band", "Input should be less than 1")
    assert (error.key, error.msg, str(error)) == (
        "band",
        "Input should be less than 1",
        "band: Input should be less than 1",
    )
    assert str(Invalid(None, "a rule")) == "a rule" and Invalid(None, "a rule").key is None
    for original in (error, Invalid(None, "a rule")):
        again = pickle.loads(pickle.dumps(original))  # as a worker process hands an error back
        assert (type(again), again.key, again.msg, str(again)) == (Invalid, original.key, original.msg, str(original))


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("max_rounds", "9" * 4300, "Input should be less than or equal to 20"),
        ("max_rounds", "9" * 4301, "Unable to parse input string as an integer, exceeded maximum size"),
        ("max_rounds", "-" + "9" * 4300, "Input should be greater than or equal to 1"),
        ("max_rounds", "x" * 5000, "Input should be a valid integer, unable to parse string as an integer"),
        ("max_rounds", "3.0", 3),
        ("max_rounds", "1_0", 10),
        ("max_rounds", 2.0**63, "Unable to parse input string as an integer, exceeded maximum size"),
        ("max_rounds", 2.0**62, "Input should be less than or equal to 20"),
        ("max_rounds", -(2.0**63), "Unable to parse input string as an integer, exceeded maximum size"),
        ("max_rounds", 2**70, "Input should be less than or equal to 20"),
        ("max_rounds", D("4E0"), 4),
        ("max_rounds", True, 1),
        ("max_rounds", [3], "Input should be a valid integer"),
        ("band", 0.5, D("0.5")),
        ("band", D(0), D(0)),
        ("band", "-0", D("-0")),
        ("band", "snan", "Input should be a finite number"),
        ("band", float("-inf"), "Input should be a finite number"),
        ("slippage_step", "1e-3", D("0.001")),
    ],
)
def test_conversion_boundaries(key: str, raw: object, expected: object) -> None:
    try:
        got: object = check_value(Policy, key, raw)
    except Invalid as e:
        got = e.msg
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, True),
        (0.0, False),
        (D(1), True),
        (2, "Input should be a valid boolean, unable to interpret input"),
        (D("1.5"), "Input should be a valid boolean"),
        (2.0**63, "Input should be a valid boolean"),
        (2**63, "Input should be a valid boolean"),
        (2**63 - 1, "Input should be a valid boolean, unable to interpret input"),
        (-(2**63), "Input should be a valid boolean, unable to interpret input"),
        (-(2**63) - 1, "Input should be a valid boolean"),
        (-(2.0**63), "Input should be a valid boolean"),
        (2.0**62, "Input should be a valid boolean, unable to interpret input"),
        ("Off", False),
        ("T", True),
        (" yes", "Input should be a valid boolean, unable to interpret input"),
        ([], "Input should be a valid boolean"),
    ],
)
def test_booleans(raw: object, expected: object) -> None:
    try:
        got: object = check_value(ExecutionSettings, "twap_randomize", raw)
    except Invalid as e:
        got = e.msg
    assert got == expected and type(got) is type(expected)


def test_the_policy_schema_has_every_bound_and_description() -> None:
    # Built here, not taken from target_policy_model's cache, so that the building runs under test.
    model = pydantic_model(Policy, sorted(PLANNING_KEYS), "TargetPolicy")
    schema = model.model_json_schema()
    assert schema == target_policy_model().model_json_schema()
    props = schema["properties"]
    assert set(props) == {"band", "band_relative", "leverage", "min_trade_value", "slippage", "trade_to", "untargeted",
                          "untargeted_spot"}  # fmt: skip
    number = {p["type"]: p for p in props["band"]["anyOf"] if "type" in p}
    assert number["number"]["minimum"] == 0 and number["number"]["exclusiveMaximum"] == 1
    assert (
        props["band"]["description"] == "Absolute weight drift that triggers a trade."
        and props["band"]["default"] is None
    )
    lev = {p["type"]: p for p in props["leverage"]["anyOf"]}
    assert lev["integer"]["minimum"] == 1 and lev["integer"]["maximum"] == 100 and "null" in lev
    slip = {p["type"]: p for p in props["slippage"]["anyOf"] if "type" in p}
    assert slip["number"]["exclusiveMinimum"] == 0 and slip["number"]["exclusiveMaximum"] == 0.5
    assert {"enum": ["target", "edge"], "type": "string"} in props["trade_to"]["anyOf"]
    assert schema["title"] == "TargetPolicy" and schema.get("additionalProperties") is False
    assert model(band="0.1").band == D("0.1") and model().band is None
    with pytest.raises(ValueError, match="less than 1"):
        model(band=2)
    with pytest.raises(ValueError, match="frozen"):
        model(band="0.1").band = 1  # the schema's model is frozen too


def test_fields_are_declared_with_their_specs() -> None:
    made = field(default=3, repr=False, metadata={"a": 1})
    assert isinstance(made, Field) and (made.default, made.factory, made.repr, made.metadata) == (
        3,
        None,
        False,
        {"a": 1},
    )
    assert field().metadata == {} and field(default_factory=list).factory is list and field().repr is True
    declared = setting(D(1), ge=0, gt=-1, le=2, lt=3, description="d")
    assert declared.default is UNSET and declared.metadata["rule"] == Rule(D(1), 0, -1, 2, 3, "d")
    assert setting(0).metadata["rule"] == Rule(0)


@settings(max_examples=50, deadline=None)
@given(data=st.one_of(st.text(), st.binary()))
def test_the_digest_is_hashlibs_sha256(data: str | bytes) -> None:
    import hashlib

    from hlrebal.digest import sha256_hex

    raw = data.encode() if isinstance(data, str) else data
    assert sha256_hex(data) == hashlib.sha256(raw).hexdigest()


def test_the_digest_constructor_finds_a_sha256() -> None:
    import hashlib
    import importlib.util

    from hlrebal import digest

    made = digest._constructor()
    assert made(b"abc").hexdigest() == hashlib.sha256(b"abc").hexdigest()
    # CPython's own module when there is one (not OpenSSL's, which hashlib would start).
    own = any(importlib.util.find_spec(name) for name in ("_sha2", "_sha256"))
    assert own and made is not hashlib.sha256 and made.__module__ in ("_sha2", "_sha256")
