"""The simulator's records: classes of named fields, like ``dataclasses``, without its start-up cost.

``dataclasses`` compiles every class's ``__init__``, ``__repr__``, ``__eq__`` (and, when frozen,
``__setattr__``, ``__delattr__``, ``__hash__``) from source as the class is made: about half a
millisecond per class, and the simulator has thirty of them, paid by every demo plan before it reads
anything. :func:`record` gives the same classes with methods shared by every record instead: fields
in declaration order, positional or keyword arguments, defaults and ``field(default_factory=...)``,
``__post_init__``, equality of the same class, ``frozen=True`` (then hashable), and :func:`asdict` /
:func:`replace` for the state file and the CLI. The simulator keeps to the standard library (see
tests/test_layering.py), so this is its own and not hlrebal's value classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")
_MISSING: Any = object()


class Field:
    """One field: its name, its default (or ``_MISSING``) and its default factory (or None)."""

    __slots__ = ("default", "factory", "name")

    def __init__(self, default: Any, factory: Callable[[], Any] | None) -> None:
        self.name = ""
        self.default = default
        self.factory = factory

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field with a default factory (a fresh list or dict for every record), as ``dataclasses.field``."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory)


def fields(item: object) -> tuple[Field, ...]:
    """The fields of a record class or of a record, in declaration order."""
    found: tuple[Field, ...] | None = getattr(item, "__record_fields__", None)
    if found is None:
        raise TypeError(f"{item!r} is not a record")
    return found


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    specs: tuple[Field, ...] = self.__record_fields__
    if len(args) > len(specs):
        raise TypeError(f"{type(self).__name__}() takes {len(specs)} arguments but {len(args)} were given")
    own = self.__dict__  # written directly, so that frozen records can be made too
    if args:
        own.update(zip(self.__match_args__, args, strict=False))  # the rest come by keyword or default
    for spec in specs[len(args) :] if args else specs:
        name = spec.name
        if name in kwargs:
            own[name] = kwargs.pop(name)
        elif spec.factory is not None:
            own[name] = spec.factory()
        elif spec.default is _MISSING:
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
    return tuple(own[spec.name] for spec in self.__record_fields__)


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
    shown = ", ".join(f"{spec.name}={own[spec.name]!r}" for spec in self.__record_fields__)
    return f"{type(self).__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _make(cls: type[T], frozen: bool) -> type[T]:
    inherited = {s.name: s for base in reversed(cls.__mro__[1:]) for s in getattr(base, "__record_fields__", ())}
    own: dict[str, Field] = {}
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 (inspect: 2 ms)
        if str(annotation).partition("[")[0].strip() in ("ClassVar", "typing.ClassVar"):
            continue
        declared = cls.__dict__.get(name, _MISSING)
        spec = declared if isinstance(declared, Field) else Field(declared, None)
        spec.name = name
        if spec.default is _MISSING:
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            setattr(cls, name, spec.default)
        own[name] = spec
    specs = (*{**inherited, **own}.values(),)
    seen_default = False
    for spec in specs:  # as a function's parameters: no required field after one with a default
        if spec.default is not _MISSING or spec.factory is not None:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument")
    methods: dict[str, Any] = {
        "__record_fields__": specs,
        "__match_args__": tuple(spec.name for spec in specs),
        "__init__": _init,
        "__repr__": _repr,
        "__eq__": _eq,
        # mutable and compared by value: unhashable, as a dataclass
        "__hash__": _hash if frozen else None,
    }
    if frozen:
        methods |= {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
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


def asdict(item: object) -> dict[str, Any]:
    """A record as a dict, with every record in it turned into a dict and its lists, tuples and
    dicts copied (as ``dataclasses.asdict``)."""
    return {spec.name: _copy(item.__dict__[spec.name]) for spec in fields(item)}


def _copy(item: Any) -> Any:
    if hasattr(type(item), "__record_fields__"):
        return asdict(item)
    if isinstance(item, list):
        return [_copy(v) for v in item]
    if isinstance(item, tuple):
        return type(item)(*(_copy(v) for v in item)) if hasattr(item, "_fields") else tuple(_copy(v) for v in item)
    if isinstance(item, dict):
        return {_copy(k): _copy(v) for k, v in item.items()}
    return item


def replace(item: T, /, **changes: Any) -> T:
    """A new record like ``item`` with ``changes``, made (and checked) again by its ``__init__``."""
    values = {spec.name: item.__dict__[spec.name] for spec in fields(item)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(item).__name__} has no field {sorted(unknown)[0]!r}")
    return type(item)(**{**values, **changes})
