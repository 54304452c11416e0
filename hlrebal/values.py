"""Frozen value classes without pydantic's or dataclasses' start-up cost.

The planner's outputs (plans, trades), the snapshot's values, the validated documents and the
settings are made by hlrebal's own code from inputs it has already checked key by key, with messages
naming the file and the key. They need no validation library, only to be frozen, compared, printed
and copied. Importing pydantic and building its validators cost about 80 ms of every command's start;
``dataclasses`` then costs about 0.7 ms per class (it compiles each class's methods from source), 13
ms for the classes every plan loads. :func:`value_class` gives the same keyword-only frozen records
with methods shared by every class instead.

:class:`Value` also keeps the methods hlrebal's library API exposed when these were pydantic models
(``model_copy``, ``model_dump``, ``model_construct``), so that code written against them still works.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import FrozenInstanceError
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, dataclass_transform

V = TypeVar("V", bound="Value")
T = TypeVar("T")
_REQUIRED: Any = object()


class Field:
    """One field of a value class: its name, default (or factory), whether ``repr`` shows it, and
    free-form ``metadata`` (``{"exclude": True}`` keeps it out of :meth:`Value.model_dump`)."""

    __slots__ = ("default", "factory", "metadata", "name", "repr")

    def __init__(
        self, default: Any, factory: Callable[[], Any] | None, repr: bool, metadata: dict[str, Any] | None
    ) -> None:
        self.name = ""
        self.default = default
        self.factory = factory
        self.repr = repr
        self.metadata: dict[str, Any] = metadata or {}

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(
    *,
    default: Any = _REQUIRED,
    default_factory: Callable[[], Any] | None = None,
    repr: bool = True,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """A field with a factory, hidden from ``repr``, or with metadata (as ``dataclasses.field``)."""
    return Field(default, default_factory, repr, metadata)


def fields(item: Value | type[Value]) -> tuple[Field, ...]:
    """The fields of a value class (or of its instance), in declaration order."""
    return item.__value_fields__


class Value:
    """Frozen keyword-only records: equal when of one class with equal fields, hashable when their
    fields are, printed as ``Name(field=value, ...)``. Subclasses are made with :func:`value_class`."""

    __slots__ = ()
    __value_fields__: ClassVar[tuple[Field, ...]] = ()

    def __init__(self, **values: Any) -> None:
        own = object.__getattribute__(self, "__dict__")
        for f in self.__value_fields__:
            if f.name in values:
                own[f.name] = values.pop(f.name)
            elif f.factory is not None:
                own[f.name] = f.factory()
            elif f.default is _REQUIRED:
                raise TypeError(f"{type(self).__name__}() missing the keyword argument {f.name!r}")
            else:
                own[f.name] = f.default
        if values:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {next(iter(values))!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def _values(self) -> tuple[Any, ...]:
        own = self.__dict__
        return tuple(own[f.name] for f in self.__value_fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={self.__dict__[f.name]!r}" for f in self.__value_fields__ if f.repr)
        return f"{type(self).__name__}({shown})"

    def model_copy(self: V, *, update: dict[str, Any] | None = None) -> V:
        """A copy with ``update``'s fields replaced (not validated, like pydantic's ``model_copy``)."""
        if not update:
            return self
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(update)
        return copy

    @classmethod
    def model_construct(cls: type[V], **values: Any) -> V:
        """An instance from values already checked (the defaults fill what is left out)."""
        return cls(**values)

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """The fields as a dict (nested values too); ``mode="json"`` gives JSON types (Decimal and
        Path as strings, tuples as lists), as pydantic's did. Fields with ``metadata={"exclude":
        True}`` are left out."""
        out: dict[str, Any] = {}
        kept = None if include is None else set(include)
        left_out = set(exclude or ())
        for f in self.__value_fields__:
            if f.metadata.get("exclude") or f.name in left_out or (kept is not None and f.name not in kept):
                continue
            out[f.name] = dump(self.__dict__[f.name], mode)
        return out


def dump(item: Any, mode: Literal["python", "json"] = "python") -> Any:
    """``item`` with every value class in it turned into a dict (JSON types with ``mode="json"``)."""
    if isinstance(item, Value):
        return item.model_dump(mode=mode)
    if isinstance(item, dict):
        return {k: dump(v, mode) for k, v in item.items()}
    if isinstance(item, tuple | list):
        items = [dump(v, mode) for v in item]
        return items if mode == "json" else type(item)(items)
    if mode == "json":
        if isinstance(item, Enum):
            return item.value
        if isinstance(item, Decimal | Path):
            return str(item)
    return item


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def value_class(cls: type[T]) -> type[T]:
    """Make ``cls`` (a :class:`Value` subclass) a frozen, keyword-only record of its annotated
    fields (those declared on it and on its value-class bases; ``ClassVar`` ones are not fields)."""
    inherited = {f.name: f for base in reversed(cls.__mro__[1:]) for f in getattr(base, "__value_fields__", ())}
    own: dict[str, Field] = {}
    for name, annotation in inspect.get_annotations(cls).items():
        if str(annotation).partition("[")[0].strip() in ("ClassVar", "typing.ClassVar"):
            continue
        declared = cls.__dict__.get(name, _REQUIRED)
        spec = declared if isinstance(declared, Field) else Field(declared, None, True, None)
        spec.name = name
        if spec.default is _REQUIRED:
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            setattr(cls, name, spec.default)
        own[name] = spec
    cls.__value_fields__ = (*{**inherited, **own}.values(),)  # type: ignore[attr-defined]
    return cls
