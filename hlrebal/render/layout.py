"""Tables that never cut a number: the table when it fits the terminal, else one card per row.

Rich squeezes a table that is wider than the terminal by cutting cells (``0.58…``, ``$49…``,
``HYP…``), which on a plan a user must confirm is worse than useless. Every table here is built
twice from the same cells: as a table whose number, coin and side columns never wrap, and as
cards (one block of ``name value`` pairs per row, wrapped between pairs, never inside one). At
render time :class:`FirstThatFits` measures the table against the width it is given and falls back
to the cards when the table would not fit, so an 80- or 60-column terminal shows every figure whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal, NamedTuple

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from hlrebal.render.drawn import DrawnTable

Justify = Literal["left", "right", "center"]
Cell = str | Text


class Column(NamedTuple):
    """One column: its header, alignment, whether its text may wrap, and how a card shows it."""

    name: str
    justify: Justify = "left"
    wrap: bool = False
    """Only prose (reasons, messages, paths) may wrap; numbers, coins and sides never do."""
    card_label: str | None = None
    """The label in a card ("" to show the value alone); the header by default."""


class FirstThatFits:
    """The first of several layouts whose narrowest rendering fits the width; the last always does.

    ``widest`` may give, per layout, a width its rendering never exceeds: when that fits, the layout
    is taken without measuring it (a measurement costs about as much as the rendering itself).
    """

    def __init__(self, *layouts: Callable[[], RenderableType], widest: Sequence[int | None] = ()) -> None:
        self.layouts = layouts
        self.widest = widest

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Measured as if the terminal were unbounded: a measurement never exceeds the width it is
        # given, so at the real width an overflowing table would look as if it fitted.
        unbounded = options.update_width(1_000_000)
        for i, build in enumerate(self.layouts[:-1]):
            bound = self.widest[i] if i < len(self.widest) else None
            candidate = build()
            if bound is not None and bound <= options.max_width:
                yield candidate
                return
            if Measurement.get(console, unbounded, candidate).minimum <= options.max_width:
                yield candidate
                return
        yield self.layouts[-1]()


def table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str | None = None,
    show_header: bool = True,
    box_none: bool = False,
) -> RenderableType:
    """A table that becomes cards when the terminal is too narrow for it."""
    materialised = [list(row) for row in rows]
    return FirstThatFits(
        lambda: DrawnTable(
            [(c.name, c.justify) for c in columns],
            materialised,
            min_widths=_min_widths(columns, materialised, show_header=show_header),
            title=title,
            show_header=show_header,
            box_none=box_none,
            fallback=lambda: _as_table(columns, materialised, title=title, show_header=show_header, box_none=box_none),
        ),
        lambda: _as_cards(columns, materialised, title=title, show_header=show_header),
        widest=(_table_width(columns, materialised, box_none=box_none),),
    )


def _table_width(columns: Sequence[Column], rows: list[list[Cell]], *, box_none: bool) -> int:
    """A width the table never exceeds: every column as wide as its widest cell (header included)
    with its padding (one each side), and the box's vertical lines."""
    cells = sum(max([_width(c.name)] + [_width(row[i]) for row in rows]) + 2 for i, c in enumerate(columns))
    return cells + (0 if box_none else len(columns) + 1)


def _as_table(
    columns: Sequence[Column], rows: list[list[Cell]], *, title: str | None, show_header: bool, box_none: bool
) -> Table:
    kwargs: dict[str, object] = {"box": None} if box_none else {}
    t = Table(title=title, title_justify="left", header_style="bold", show_header=show_header, **kwargs)  # type: ignore[arg-type]
    for c, widest in zip(columns, _min_widths(columns, rows, show_header=show_header), strict=True):
        t.add_column(c.name, justify=c.justify, no_wrap=not c.wrap, overflow="fold", min_width=widest)
    for row in rows:
        t.add_row(*row)
    return t


def _min_widths(columns: Sequence[Column], rows: list[list[Cell]], *, show_header: bool) -> list[int | None]:
    """A column that may not wrap is at least as wide as its widest cell (its header when shown),
    so that the table's measured minimum is the width it really needs; prose has no minimum."""
    widths: list[int | None] = []
    for i, c in enumerate(columns):
        shown = [c.name] if show_header else []  # a hidden header takes no room
        widths.append(None if c.wrap else max([_width(h) for h in shown] + [_width(row[i]) for row in rows], default=0))
    return widths


def _width(cell: Cell) -> int:
    plain = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in plain.splitlines()), default=0)


def _as_cards(columns: Sequence[Column], rows: list[list[Cell]], *, title: str | None, show_header: bool) -> Group:
    """One block per row: the short cells as ``name value`` pairs on one wrapped line (wrapping
    falls between pairs, never inside a number), prose cells each on a line of its own."""
    parts: list[RenderableType] = []
    if title:
        parts.append(Text(title, style="italic"))
    for row in rows:
        pairs: list[Text] = []
        prose: list[Text] = []
        for i, (column, cell) in enumerate(zip(columns, row, strict=True)):
            value = cell if isinstance(cell, Text) else Text(cell)
            if not value.plain or value.plain == "-":
                continue
            label = column.card_label if column.card_label is not None else (column.name if show_header else "")
            if column.wrap:
                prose.append(Text("  ").append(f"{label} " if label else "", style="dim").append_text(value))
                continue
            pair = Text().append(f"{label} ", style="dim") if label and i > 0 else Text()
            pairs.append(pair.append_text(value))
        parts.append(_Pairs("• " if len(columns) > 2 else "", pairs))
        parts.extend(prose)
    return Group(*parts)


class _Pairs:
    """A card's short cells, ``label value`` pairs three spaces apart, on as few lines as the width
    allows, broken between pairs only (a pair wider than the terminal alone breaks inside)."""

    GAP = "   "

    def __init__(self, bullet: str, pairs: list[Text]) -> None:
        self.bullet = bullet
        self.pairs = pairs

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        line = Text(self.bullet)
        started = False
        for pair in self.pairs:
            if started and cell_len(line.plain) + len(self.GAP) + cell_len(pair.plain) > options.max_width:
                yield line
                line, started = Text(), False
            if started:
                line.append(self.GAP)
            line.append_text(pair)
            started = True
        yield line


def key_values(title: str | None, rows: Sequence[tuple[str, Cell]], *, box_none: bool = False) -> RenderableType:
    """A two-column table of labels and values (values right-aligned); cards when narrow."""
    return table(
        (Column("what", card_label=""), Column("value", "right", wrap=True, card_label="")),
        ([what, value] for what, value in rows),
        title=title,
        show_header=False,
        box_none=box_none,
    )
