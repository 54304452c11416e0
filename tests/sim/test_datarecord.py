"""The simulator's records behave as the dataclasses they replace: ``dataclasses`` is the oracle.

Each case declares the same class twice, once with ``dataclasses.dataclass`` and once with
``hlrebal.sim.datarecord.record``, and compares what a caller sees: construction from positional and
keyword arguments (and the refusals), defaults and fresh factory values, ``__post_init__``,
equality, hashing, repr, frozen assignment, ``asdict`` and ``replace``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from dataclasses import asdict, fields, is_dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlrebal.sim.config import BookConfig, DexConfig, FlowConfig, SimConfig
from hlrebal.sim.datarecord import field, record

FIELD_NAMES = ("a", "b", "c", "d", "e")


def pair(spec: list[tuple[str, str]], frozen: bool) -> tuple[type, type]:
    """The same class from ``spec`` (name, kind: "required", "default" or "factory") as a dataclass
    and as a record."""

    def body(make_field: Any) -> dict[str, Any]:
        ns: dict[str, Any] = {"__annotations__": {name: "Any" for name, _ in spec}}
        for name, kind in spec:
            if kind == "default":
                ns[name] = f"default-{name}"
            elif kind == "factory":
                ns[name] = make_field(default_factory=list)
        return ns

    oracle = dataclasses.dataclass(frozen=frozen)(type("Rec", (), body(dataclasses.field)))
    ours = record(frozen=frozen)(type("Rec", (), body(field)))
    return oracle, ours


def outcome(make: Any) -> tuple[str, Any]:
    try:
        return "ok", make()
    except TypeError as exc:
        return "TypeError", type(exc)


@st.composite
def specs(draw: st.DrawFn) -> list[tuple[str, str]]:
    count = draw(st.integers(0, len(FIELD_NAMES)))
    required = draw(st.integers(0, count))
    kinds = ["required"] * required + [draw(st.sampled_from(["default", "factory"])) for _ in range(count - required)]
    return list(zip(FIELD_NAMES, kinds, strict=False))


@settings(max_examples=300, deadline=None)
@given(
    spec=specs(),
    frozen=st.booleans(),
    positional=st.integers(0, 6),
    keywords=st.sets(st.sampled_from([*FIELD_NAMES, "zz"])),
)
def test_a_record_is_made_refused_compared_and_printed_as_the_dataclass(
    spec: list[tuple[str, str]], frozen: bool, positional: int, keywords: set[str]
) -> None:
    oracle, ours = pair(spec, frozen)
    args = [f"arg{i}" for i in range(positional)]
    kwargs = {name: f"kw-{name}" for name in sorted(keywords)}
    theirs_made = outcome(lambda: oracle(*args, **kwargs))
    ours_made = outcome(lambda: ours(*args, **kwargs))
    assert theirs_made[0] == ours_made[0]
    if theirs_made[0] != "ok":
        return
    theirs, mine = theirs_made[1], ours_made[1]
    assert vars(mine) == vars(theirs)
    assert repr(mine) == repr(theirs)
    assert is_dataclass(mine) and is_dataclass(ours)
    assert asdict(mine) == asdict(theirs)
    assert [(f.name, f.type, f.default, f.default_factory, f.kw_only) for f in fields(mine)] == [
        (f.name, f.type, f.default, f.default_factory, f.kw_only) for f in fields(theirs)
    ]
    assert replace(mine) == mine and replace(mine) is not mine
    assert str(inspect.signature(ours)) == str(inspect.signature(oracle))  # what help() and IDEs show
    assert ours.__doc__ == oracle.__doc__
    twin = ours(*args, **kwargs)
    assert mine == twin
    assert not (mine != twin)  # noqa: SIM202
    assert (mine == theirs) is False  # another class is never equal
    for name, kind in spec:
        if kind == "factory" and name not in kwargs and FIELD_NAMES.index(name) >= positional:
            assert getattr(mine, name) == [] and getattr(mine, name) is not getattr(twin, name)
    hashed = outcome(lambda: hash(mine))
    assert hashed[0] == outcome(lambda: hash(theirs))[0]  # a frozen record of a list is unhashable too
    if frozen:
        if hashed[0] == "ok":
            assert hashed[1] == hash(twin)
        with pytest.raises(dataclasses.FrozenInstanceError, match=r"^cannot assign to field 'a'$"):
            mine.a = 1
        with pytest.raises(dataclasses.FrozenInstanceError, match=r"^cannot delete field 'a'$"):
            del mine.a
    else:
        with pytest.raises(TypeError):
            hash(mine)
        mine.a = "changed"
        assert mine.a == "changed"


def test_a_required_field_after_a_default_is_refused_as_by_dataclasses() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record
        class Bad:
            a: int = 0
            b: int


def test_a_field_has_a_default_or_a_factory_never_both() -> None:
    with pytest.raises(ValueError, match=r"^cannot specify both default and default_factory$"):
        field(default=1, default_factory=list)

    @record
    class Given:
        a: int = field(default=5)

    assert Given().a == 5 == Given.a


def test_the_refusals_name_the_record_and_the_argument() -> None:
    @record
    class Point:
        x: int
        y: int = 0

    with pytest.raises(TypeError, match=r"Point\(\) missing the argument 'x'"):
        Point()
    with pytest.raises(TypeError, match=r"Point\(\) got an unexpected keyword argument 'z'"):
        Point(1, z=2)
    with pytest.raises(TypeError, match=r"Point\(\) got multiple values for the argument 'x'"):
        Point(1, x=2)
    with pytest.raises(TypeError, match=r"Point\(\) takes 2 arguments but 3 were given"):
        Point(1, 2, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        replace(Point(1), z=3)
    assert [f.name for f in fields(Point)] == ["x", "y"] == [f.name for f in fields(Point(1))]
    assert replace(Point(1), y=4) == Point(1, 4)
    assert Point.__match_args__ == ("x", "y")
    assert Point.y == 0 and "x" not in Point.__dict__


def test_class_variables_are_not_fields_and_subclasses_add_theirs_after_the_base() -> None:
    @record
    class Base:
        kind: ClassVarish = "base"  # an annotation named like ClassVar only by prefix is a field
        a: int = 1

    @record
    class Child(Base):
        b: int = 2
        a: int = 3  # redeclared: keeps its place, takes the new default

    assert [f.name for f in fields(Child)] == ["kind", "a", "b"]
    assert Child() == Child("base", 3, 2)
    assert vars(Child(b=5)) == {"kind": "base", "a": 3, "b": 5}

    @record
    class WithClassVar:
        shared: ClassVar[int] = 7
        nested: ClassVar[dict[str, list[int]]] = {}
        qualified: typing.ClassVar[int] = 8
        own: int = 1

    assert [f.name for f in fields(WithClassVar)] == ["own"]
    assert (WithClassVar.shared, WithClassVar.qualified) == (7, 8)

    @record
    class Nothing:
        """No annotations at all."""

    assert fields(Nothing) == () and Nothing() == Nothing()


ClassVarish = str


def test_post_init_runs_after_the_fields_and_may_convert_a_frozen_records_values() -> None:
    config = BookConfig(spread=0.001, level_notional="5000", levels=3)  # type: ignore[arg-type]
    assert config.spread == Decimal("0.001") and config.level_notional == Decimal(5000)
    with pytest.raises(ValueError, match="levels must be at least 1"):
        BookConfig(levels=0)
    dex = DexConfig("xyz", assets=[["ABC", 2, 10, "1.5"]], fee_multiplier=2)  # type: ignore[list-item, arg-type]
    assert dex.assets == (("ABC", 2, 10, "1.5"),) and dex.fee_multiplier == Decimal(2)
    assert FlowConfig(volatilities={"BTC": 0.5}).volatilities == {"BTC": Decimal("0.5")}  # type: ignore[dict-item]


def test_sim_config_is_copied_with_replace_as_sim_serve_does() -> None:
    base = SimConfig(spread="0.001", books={"BTC": BookConfig(levels=2)})  # type: ignore[arg-type]
    moved = replace(base, host="0.0.0.0", port=8080)
    assert (moved.host, moved.port, moved.spread) == ("0.0.0.0", 8080, Decimal("0.001"))
    assert moved.books == base.books and base.port == 0
    with pytest.raises(ValueError):
        replace(base, refill="sometimes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.port = 1  # type: ignore[misc]
    assert BookConfig(levels=2) == BookConfig(levels=2) != BookConfig(levels=3)
    assert hash(BookConfig(levels=2)) == hash(BookConfig(levels=2))


class Pair(NamedTuple):
    left: Any
    right: Any


def test_asdict_copies_containers_turns_nested_records_into_dicts_and_keeps_named_tuples() -> None:
    @record
    class Inner:
        values: list[int] = field(default_factory=list)

    @record
    class Outer:
        inner: Inner
        by_name: dict[str, Inner]
        pairs: tuple[Pair, ...]
        plain: tuple[int, ...]

    inner = Inner([1, 2])
    outer = Outer(inner, {"x": inner}, (Pair(inner, 3),), (4, 5))
    dumped = asdict(outer)
    assert dumped == {
        "inner": {"values": [1, 2]},
        "by_name": {"x": {"values": [1, 2]}},
        "pairs": (Pair({"values": [1, 2]}, 3),),
        "plain": (4, 5),
    }
    assert type(dumped["pairs"][0]) is Pair
    dumped["inner"]["values"].append(9)
    assert inner.values == [1, 2]  # a copy, never the record's own list


def test_a_dataclass_may_build_on_a_record_as_on_a_dataclass() -> None:
    # Records made here, not the simulator's: those were made when the package was imported.
    @record(frozen=True)
    class Base:
        levels: int = 1

        def __post_init__(self) -> None:
            if self.levels < 1:
                raise ValueError("levels must be at least 1")

    @dataclasses.dataclass(frozen=True)
    class Wider(Base):
        extra: int = 1

    wider = Wider(levels=3, extra=2)
    assert (wider.levels, wider.extra) == (3, 2)
    assert wider == Wider(levels=3, extra=2) and hash(wider) == hash(Wider(levels=3, extra=2))
    with pytest.raises(ValueError, match="levels must be at least 1"):
        Wider(levels=0)  # the record's own check runs
    with pytest.raises(dataclasses.FrozenInstanceError):
        wider.extra = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):

        @dataclasses.dataclass
        class Loose(Base):
            extra: int = 1

    @record
    class Open:
        a: int = 0

    @dataclasses.dataclass
    class Child(Open):
        b: int = 1

    assert Child(a=2).a == 2 and Child() == Child(0, 1)
    with pytest.raises(TypeError, match="cannot inherit frozen dataclass from a non-frozen one"):

        @dataclasses.dataclass(frozen=True)
        class Stiff(Open):
            b: int = 1

    params = Base.__dataclass_params__  # type: ignore[attr-defined]
    assert (params.init, params.repr, params.eq, params.order, params.unsafe_hash, params.frozen) == (
        True,
        True,
        True,
        False,
        False,
        True,
    )
    assert Open.__dataclass_params__.frozen is False  # type: ignore[attr-defined]
    assert params.match_args is True


@pytest.mark.parametrize(
    "option",
    [{"repr": False}, {"compare": False}, {"init": False}, {"hash": True}, {"kw_only": True}],
)
def test_a_field_option_a_record_would_ignore_is_refused(option: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="a record takes a default or a default_factory, no other option"):

        @record
        class Secretive:
            key: str = field(default="x", **option)


def test_a_mutable_default_is_refused_as_by_dataclasses() -> None:
    with pytest.raises(ValueError, match="mutable default <class 'list'> for field items is not allowed"):

        @record
        class Shared:
            items: list[int] = []  # noqa: RUF012

    @record(frozen=True)
    class Fine:
        items: tuple[int, ...] = ()

    assert Fine().items == ()


def test_the_signature_shows_factories_is_made_once_and_a_docstring_is_kept() -> None:
    @record
    class Spec:
        """Its own words."""

        name: str
        items: list[int] = field(default_factory=list)

    @record
    class Other:
        a: int = 0

    assert str(inspect.signature(Spec)) == "(name: 'str', items: 'list[int]' = <factory>) -> None"
    assert inspect.signature(Spec) is inspect.signature(Spec)
    assert "__record_signature__" in Spec.__dict__ and inspect.signature(Other) is not inspect.signature(Spec)
    assert Spec.__doc__ == "Its own words." and Other.__doc__ == "Other(a: 'int' = 0)"
    assert "books: 'dict[str, BookConfig]' = <factory>" in str(inspect.signature(SimConfig))
    assert BookConfig.__doc__ and BookConfig.__doc__.startswith("Shape of one coin's synthetic book")
