"""Checked settings: frozen value classes whose fields carry a type and bounds, validated on
construction with pydantic's lax conversions and its messages, without importing pydantic.

The policy, the execution settings and the connection settings are built on every command, from
flags, ``HLREBAL_*`` variables, the configuration file and a target file's ``policy`` block. Their
rules are simple (a number within bounds, one of a few words, an optional value) and pydantic's
import and validator build cost about 80 ms of every start, so they are checked here:

* a field is declared with :func:`setting` (its default, bounds and description);
* a value given to the constructor is converted as pydantic's lax mode would ("0.05" -> Decimal,
  "3" -> 3, "yes" -> True) and checked against its field's bounds; a default is taken as is;
* a failure raises :class:`Invalid` (a ``ValueError``) naming the field, with pydantic's wording
  ("Input should be greater than or equal to 10"), so that messages stay as documented;
* :attr:`Checked.model_fields_set` remembers the fields given explicitly, as pydantic's did.

:func:`pydantic_model` rebuilds a class's fields as a pydantic model for what needs one (the JSON
Schema of ``hlrebal schema``); pydantic is imported only then.
"""

from __future__ import annotations

import re
import typing
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, ClassVar, Literal, NamedTuple, Self, get_args, get_origin

from hlrebal.values import Value, field, fields

_BOOL_WORDS = {
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
}
#: the most digits an integer may be written with (Python's own limit for str -> int)
_INT_DIGITS = 4300


class _Unset:
    """The default of every checked field before ``__post_init__`` fills in the real one: it is
    how a field left out is told from one given explicitly (even at its default value)."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


class Invalid(ValueError):
    """A value a checked field refused: ``key`` (None for a rule between fields) and the message in
    pydantic's words."""

    def __init__(self, key: str | None, msg: str) -> None:
        super().__init__(f"{key}: {msg}" if key else msg)
        self.key = key
        self.msg = msg

    def __reduce__(self) -> tuple[type[Invalid], tuple[str | None, str]]:
        # made again from its key and message (ValueError's own would pass only the joined text)
        return (Invalid, (self.key, self.msg))


class Rule(NamedTuple):
    """A field's bounds and description (what :func:`setting` records)."""

    default: Any
    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    description: str = ""


def setting(
    default: Any, *, ge: Any = None, gt: Any = None, le: Any = None, lt: Any = None, description: str = ""
) -> Any:
    """A checked field: its default, its bounds (inclusive ``ge``/``le``, exclusive ``gt``/``lt``)
    and the description the JSON Schema and ``config show`` use."""
    rule = Rule(default, ge, gt, le, lt, description)
    return field(default=UNSET, metadata={"rule": rule})


class Kind(NamedTuple):
    """What a field's annotation allows: a base type or a set of words, and whether None is allowed."""

    base: type | None
    choices: tuple[Any, ...] = ()
    nullable: bool = False


def _kind(annotation: Any) -> Kind:
    args = get_args(annotation)
    if get_origin(annotation) in (UnionType, typing.Union):
        rest = [a for a in args if a is not NoneType]
        inner = _kind(rest[0])
        return Kind(inner.base, inner.choices, nullable=NoneType in args)
    if get_origin(annotation) is Literal:
        return Kind(None, tuple(args))
    return Kind(annotation)


class Checked(Value):
    """A frozen value class whose fields are :func:`setting`\\ s, checked on construction."""

    __slots__ = ()
    #: words that unset a nullable field ("off" where a flag or a TOML file has no null)
    off_words: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        given: set[str] = set()
        for f in fields(self):
            raw = self.__dict__[f.name]
            if raw is UNSET:
                object.__setattr__(self, f.name, f.metadata["rule"].default)
            else:
                object.__setattr__(self, f.name, check_value(type(self), f.name, raw))
                given.add(f.name)
        object.__setattr__(self, "_fields_set", frozenset(given))
        self.check()

    def check(self) -> None:
        """Rules between fields; raise :class:`Invalid` with ``key=None`` (none by default)."""

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The fields given explicitly (as pydantic's ``model_fields_set``)."""
        given: frozenset[str] = self.__dict__.get("_fields_set", frozenset())
        return given

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A copy with ``update`` applied, not checked (as pydantic's ``model_copy``); the fields
        given explicitly are the original's and the updated ones."""
        copy = Value.model_copy(self, update=update)
        if update:
            copy.__dict__["_fields_set"] = self.model_fields_set | set(update)
        return copy


_FIELDS: dict[type, dict[str, tuple[Kind, Rule]]] = {}


def _fields(cls: type[Checked]) -> dict[str, tuple[Kind, Rule]]:
    """Each field's kind and rule, read from the class's annotations once."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = {f.name: (_kind(hints[f.name]), f.metadata["rule"]) for f in fields(cls)}
    return _FIELDS[cls]


def keys_of(cls: type[Checked]) -> frozenset[str]:
    """Every field of a checked class."""
    return frozenset(f.name for f in fields(cls))


def rule_of(cls: type[Checked], key: str) -> Rule:
    """The default, bounds and description of one field."""
    rule: Rule = next(f for f in fields(cls) if f.name == key).metadata["rule"]
    return rule


def nullable_keys(cls: type[Checked]) -> frozenset[str]:
    """The fields that may be None (unset)."""
    return frozenset(k for k, (kind, _) in _fields(cls).items() if kind.nullable)


def base_type(cls: type[Checked], key: str) -> type | None:
    """The type a field holds (None for a field of words)."""
    return _fields(cls)[key][0].base


def check_value(cls: type[Checked], key: str, raw: Any) -> Any:
    """``raw`` converted for field ``key`` of ``cls`` and checked against its bounds, else
    :class:`Invalid`."""
    kind, rule = _fields(cls)[key]
    if isinstance(raw, str) and kind.nullable and raw.strip().lower() in cls.off_words:
        return None
    if raw is None:
        if kind.nullable:
            return None
        raise Invalid(key, _type_message(kind))
    if kind.base is None:
        if raw in kind.choices and type(raw) is type(kind.choices[0]):
            return raw
        raise Invalid(key, _type_message(kind))
    try:
        converted = _convert(kind.base, raw)
    except _Refused as e:
        raise Invalid(key, str(e)) from None
    _check_bounds(key, converted, rule)
    return converted


class _Refused(Exception):
    """A conversion failed; the argument is pydantic's message for it."""


#: an integer as pydantic reads one from text: ASCII digits (underscores between them), maybe ".0"
_INT_TEXT = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0+)?", re.ASCII)
_NOT_INT = "Input should be a valid integer, unable to parse string as an integer"
_FRACTION = "Input should be a valid integer, got a number with a fractional part"
_NOT_FINITE = "Input should be a finite number"


def _fits_i64(number: int | float | Decimal) -> bool:
    """pydantic-core reads a number into a 64-bit integer before it judges it as a boolean (or a
    float as an integer); outside that range its messages change. A float at -2**63 does not fit."""
    if isinstance(number, float):
        return -(2.0**63) < number < 2.0**63
    return -(2**63) <= number <= 2**63 - 1


def _convert(base: type, raw: Any) -> Any:
    """``raw`` as a ``base``, converted as pydantic's lax mode converts, else :class:`_Refused`."""
    if base is Decimal:
        return _decimal(raw)
    if base is int:
        return _int(raw)
    if base is bool:
        return _bool(raw)
    if base is str:
        if isinstance(raw, str):
            return raw
        raise _Refused("Input should be a valid string")
    if base is Path:
        if isinstance(raw, str | Path):
            return Path(raw)
        raise _Refused("Input is not a valid path for <class 'pathlib.Path'>")
    if isinstance(raw, base):
        return raw
    raise _Refused(f"Input should be an instance of {base.__name__}")


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise _Refused("Decimal input should be an integer, float, string or Decimal object")
    try:
        # A float is read through its shortest repr (0.1 -> Decimal("0.1")), as pydantic does.
        # Decimal() strips surrounding whitespace itself, as pydantic does.
        number = Decimal(repr(raw) if isinstance(raw, float) else raw)
    except InvalidOperation:
        raise _Refused("Input should be a valid decimal") from None
    if not number.is_finite():
        raise _Refused(_NOT_FINITE)
    return number


def _int(raw: Any) -> int:
    if isinstance(raw, int):  # bool included: True is 1, as in pydantic's lax mode
        return int(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if sum(c.isdigit() for c in text) > _INT_DIGITS:
            raise _Refused("Unable to parse input string as an integer, exceeded maximum size")
        if not _INT_TEXT.fullmatch(text):
            raise _Refused(_NOT_INT)
        return int(text.split(".")[0])
    if isinstance(raw, float | Decimal):
        number = Decimal(raw)
        if not number.is_finite():
            raise _Refused(_NOT_FINITE)
        if number != number.to_integral_value():
            raise _Refused(_FRACTION)
        if isinstance(raw, float) and not _fits_i64(raw):
            # pydantic-core reads a float into a 64-bit integer, and says so in these words.
            raise _Refused("Unable to parse input string as an integer, exceeded maximum size")
        return int(number)
    raise _Refused("Input should be a valid integer")


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        if raw.lower() in _BOOL_WORDS:
            return _BOOL_WORDS[raw.lower()]
        raise _Refused("Input should be a valid boolean, unable to interpret input")
    if isinstance(raw, Decimal):
        # pydantic-core judges a Decimal as a boolean through its float (a NaN is no boolean)
        raw = float(raw) if not raw.is_nan() else float("nan")
    if isinstance(raw, int | float):
        number = Decimal(raw)
        whole = number.is_finite() and number == number.to_integral_value()
        if whole and _fits_i64(raw):
            if number in (0, 1):
                return bool(number)
            raise _Refused("Input should be a valid boolean, unable to interpret input")
    raise _Refused("Input should be a valid boolean")


def _type_message(kind: Kind) -> str:
    if kind.base is None:
        words = [repr(c) for c in kind.choices]
        listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
        return f"Input should be {listed}"
    try:
        _convert(kind.base, None)
    except _Refused as e:
        return str(e)
    return f"Input should be an instance of {kind.base.__name__}"


def _check_bounds(key: str, number: Any, rule: Rule) -> None:
    """Only numbers carry bounds (:func:`setting` is given none for words, paths or flags)."""
    if rule.ge is not None and not number >= rule.ge:
        raise Invalid(key, f"Input should be greater than or equal to {rule.ge}")
    if rule.gt is not None and not number > rule.gt:
        raise Invalid(key, f"Input should be greater than {rule.gt}")
    if rule.le is not None and not number <= rule.le:
        raise Invalid(key, f"Input should be less than or equal to {rule.le}")
    if rule.lt is not None and not number < rule.lt:
        raise Invalid(key, f"Input should be less than {rule.lt}")


def pydantic_model(cls: type[Checked], keys: typing.Iterable[str], name: str) -> Any:
    """A pydantic model of some of ``cls``'s fields, each optional (default None) with its bounds
    and description: what ``hlrebal schema`` turns into JSON Schema. Imports pydantic."""
    from typing import Annotated, Optional

    from pydantic import ConfigDict, Field, create_model

    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for key in keys:
        rule = rule_of(cls, key)
        bounds = {b: getattr(rule, b) for b in ("ge", "gt", "le", "lt") if getattr(rule, b) is not None}
        annotation = Annotated[hints[key], Field(**bounds)] if bounds else hints[key]
        fields[key] = (Optional[annotation], Field(None, description=rule.description or None))  # noqa: UP045
    return create_model(name, __config__=ConfigDict(frozen=True, extra="forbid"), **fields)
