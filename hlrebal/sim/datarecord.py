"""The simulator's records: dataclasses, without the cost of making them.

``dataclasses`` compiles every class's ``__init__``, ``__repr__``, ``__eq__`` (and, when frozen,
``__setattr__``, ``__delattr__``, ``__hash__``) from source as the class is made: about half a
millisecond per class, and the simulator has thirty of them, paid by every demo plan before it reads
anything. :func:`record` makes the same classes with methods shared by every record instead: fields
in declaration order, positional or keyword arguments, defaults and ``field(default_factory=...)``
(``dataclasses.field``), ``__post_init__``, equality of the same class, ``frozen=True`` (then
hashable). A record carries real ``dataclasses.Field`` objects, so ``dataclasses.fields``,
``asdict``, ``replace`` and ``is_dataclass`` work on it as on any dataclass (the state file and
``sim serve`` use them; so may a user's own tests). tests/sim/test_datarecord.py holds records to
what ``dataclasses`` makes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError, field
from types import SimpleNamespace
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["field", "record"]

T = TypeVar("T")


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    specs: tuple[Field[Any], ...] = self.__record_fields__
    if len(args) > len(specs):
        raise TypeError(f"{type(self).__name__}() takes {len(specs)} arguments but {len(args)} were given")
    own = self.__dict__  # written directly, so that frozen records can be made too
    if args:
        own.update(zip(self.__match_args__, args, strict=False))  # the rest come by keyword or default
    for spec in specs[len(args) :] if args else specs:
        name = spec.name
        if name in kwargs:
            own[name] = kwargs.pop(name)
        elif spec.default_factory is not MISSING:
            own[name] = spec.default_factory()
        elif spec.default is MISSING:
            raise TypeError(f"{type(self).__name__}() missing the argument {name!r}")
        else:
            own[name] = spec.default
    if kwargs:
        name = next(iter(kwargs))
        given_twice = any(spec.name == name for spec in specs)
        what = "got multiple values for the argument" if given_twice else "got an unexpected keyword argument"
        raise TypeError(f"{type(self).__name__}() {what} {name!r}")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _values(self: Any) -> tuple[Any, ...]:
    own = self.__dict__
    return tuple(own[name] for name in self.__match_args__)


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        result: bool = NotImplemented
        return result
    same: bool = _values(self) == _values(other)
    return same


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    own = self.__dict__
    shown = ", ".join(f"{name}={own[name]!r}" for name in self.__match_args__)
    return f"{type(self).__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _is_class_var(annotation: object) -> bool:
    return str(annotation).partition("[")[0].strip() in ("ClassVar", "typing.ClassVar")


def _supported(name: str, spec: Field[Any]) -> None:
    """Refuse what a record would silently ignore: field options beyond a default (or factory),
    and a mutable default shared by every record (dataclasses refuses it too)."""
    if not (spec.init and spec.repr and spec.compare and spec.hash is None and spec.kw_only is MISSING):
        raise TypeError(f"field {name!r}: a record takes a default or a default_factory, no other option")
    if spec.default is not MISSING and type(spec.default).__hash__ is None:
        raise ValueError(f"mutable default {type(spec.default)} for field {name} is not allowed: use default_factory")


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows a default made by a factory


_FACTORY = _Factory()


class _Signature:
    """``inspect.signature(Record)``: the fields as parameters with their defaults, made
    when first asked for (``inspect`` and the Signature cost more than the class itself)."""

    def __get__(self, instance: object, owner: type) -> Any:
        if "__record_fields__" not in owner.__dict__:
            return None  # a subclass made otherwise (a dataclass): inspect reads its own __init__
        import inspect

        made = owner.__dict__.get("__record_signature__")
        if made is None:
            parameters = [
                inspect.Parameter(
                    spec.name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=_FACTORY
                    if spec.default_factory is not MISSING
                    else inspect.Parameter.empty
                    if spec.default is MISSING
                    else spec.default,
                    annotation=spec.type,
                )
                for spec in owner.__record_fields__  # type: ignore[attr-defined]
            ]
            made = inspect.Signature(parameters, return_annotation=None)
            type.__setattr__(owner, "__record_signature__", made)
        return made


class _Doc:
    """The docstring dataclasses gives a class without one: its name and signature."""

    def __get__(self, instance: object, owner: type) -> str:
        return owner.__name__ + str(owner.__signature__).replace(" -> None", "")  # type: ignore[attr-defined]


def _make(cls: type[T], frozen: bool) -> type[T]:
    specs: dict[str, Field[Any]] = {}
    for base in reversed(cls.__mro__[1:]):
        specs.update(getattr(base, "__dataclass_fields__", {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 (inspect: 2 ms)
        if _is_class_var(annotation):
            continue
        declared = cls.__dict__.get(name, MISSING)
        spec: Field[Any] = declared if isinstance(declared, Field) else field(default=declared)
        _supported(name, spec)
        spec.name = name
        spec.type = annotation
        # what dataclasses marks a plain field with, so that its fields(), asdict() and replace()
        # see this one
        spec._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
        spec.kw_only = False  # as dataclasses settles it: positional too
        if spec.default is MISSING:
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            setattr(cls, name, spec.default)
        specs[name] = spec  # a redeclared field keeps its base's place, as in dataclasses
    ordered = (*specs.values(),)
    with_default = False
    for spec in ordered:  # as a function's parameters: no required field after one with a default
        if spec.default is not MISSING or spec.default_factory is not MISSING:
            with_default = True
        elif with_default:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument")
    methods: dict[str, Any] = {
        "__dataclass_fields__": {spec.name: spec for spec in ordered},
        # what a dataclass made from a record as its base reads (whether the base is frozen)
        "__dataclass_params__": SimpleNamespace(
            init=True, repr=True, eq=True, order=False, unsafe_hash=False, frozen=frozen, match_args=True
        ),
        "__signature__": _Signature(),
        "__record_fields__": ordered,
        "__match_args__": tuple(spec.name for spec in ordered),
        "__init__": _init,
        "__repr__": _repr,
        "__eq__": _eq,
        # mutable and compared by value: unhashable, as a dataclass
        "__hash__": _hash if frozen else None,
    }
    if frozen:
        methods |= {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
    if not cls.__dict__.get("__doc__"):
        methods["__doc__"] = _Doc()
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = False) -> Callable[[type[T]], type[T]]: ...
@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> type[T] | Callable[[type[T]], type[T]]:
    """Make ``cls`` a record of its annotated fields (``@record`` or ``@record(frozen=True)``)."""
    if cls is None:
        return lambda c: _make(c, frozen)
    return _make(cls, frozen)
