"""A table drawn line by line, exactly as rich draws it, when every cell fits on one line.

Rich renders a table cell by cell through its general machinery (measure, pad, wrap, justify, crop),
about 2 ms for each of a plan's tables, most of a plan's start beyond the baseline. When every cell
is one line and the table fits the terminal at its natural width (the common case: a plan on a wide
terminal or a pipe), there is nothing to wrap or crop, and the lines can be drawn directly: the same
characters in the same styles, from rich's own box, styles and text rendering. Any other case (a
narrow terminal, a cell with a line break or a tab, a text with its own justification) is left to
rich's ``Table``. tests/test_render_drawn.py holds the two to the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Span, Text

Justify = Literal["left", "right", "center"]


class DrawnTable:
    """``columns`` (header, justification) and ``rows`` of str or Text cells, drawn as rich's
    ``Table(title=..., title_justify="left", header_style="bold", show_header=..., box=...)`` with
    one-line cells, each column at least its ``min_widths`` wide (None: no minimum); ``fallback``
    builds that Table for the cases drawn otherwise (and an empty one)."""

    def __init__(
        self,
        columns: Sequence[tuple[str, Justify]],
        rows: Sequence[Sequence[str | Text]],
        *,
        min_widths: Sequence[int | None] = (),
        title: str | None,
        show_header: bool,
        box_none: bool,
        fallback: Callable[[], Table],
    ) -> None:
        self.columns = columns
        self.rows = rows
        self.min_widths = min_widths
        self.title = title
        self.show_header = show_header
        self.box_none = box_none
        self.fallback = fallback

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.fallback())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        texts = self._texts(console, options) if self.rows else None  # rich sizes an empty table otherwise
        if texts is None:
            yield self.fallback()
            return
        widths = [max(cell_len(row[i].plain) for row in texts) for i in range(len(self.columns))]
        for i, least in enumerate(self.min_widths):  # the Table's columns' min_width
            widths[i] = max(widths[i], least or 0)
        padded = [w + 2 for w in widths]  # one space of padding each side
        table_width = sum(padded) + (0 if self.box_none else len(padded) + 1)
        if table_width > options.max_width:
            yield self.fallback()
            return
        if self.title:  # as rich renders a table's title: wrapped to the table's width if it must be
            title = console.render_str(self.title, style="table.title", highlight=False)
            yield from console.render(title, options.update(width=table_width, justify="left"))
        yield from self._lines(console, options, texts, widths, padded)

    def _texts(self, console: Console, options: ConsoleOptions) -> list[list[Text]] | None:
        """Every cell as the Text rich would render (header first when shown), or None when one
        would need more than drawing: a line break, a tab, a justification of its own."""
        rows: list[Sequence[str | Text]] = [[name for name, _ in self.columns]] if self.show_header else []
        rows.extend(self.rows)
        texts: list[list[Text]] = []
        for row in rows:
            line: list[Text] = []
            for cell in row:
                text = (
                    cell if isinstance(cell, Text) else console.render_str(cell, highlight=False, markup=options.markup)
                )
                if "\n" in text.plain or "\t" in text.plain or text.justify is not None:
                    return None
                line.append(text)
            texts.append(line)
        return texts

    def _lines(
        self,
        console: Console,
        options: ConsoleOptions,
        texts: list[list[Text]],
        widths: list[int],
        padded: list[int],
    ) -> Iterable[Segment]:
        # Table's own style and border style are none; its header style is the "bold" hlrebal gives
        header_style = console.get_style("bold")
        new_line = Segment.line()
        drawn_box = None if self.box_none else box.HEAVY_HEAD.substitute(options, safe=console.safe_box)
        if drawn_box is not None and not self.show_header:
            drawn_box = drawn_box.get_plain_headed_box()
        if drawn_box is not None:
            yield Segment(drawn_box.get_top(padded))
            yield new_line
        for index, row in enumerate(texts):
            header_row = index == 0 and self.show_header
            style = header_style if header_row else Style.null()
            cells = [
                _cell(console, text, width, justify, style)
                for text, width, (_, justify) in zip(row, widths, self.columns, strict=True)
            ]
            if drawn_box is None:
                for cell in cells:
                    yield from cell
                yield new_line
                continue
            # rich draws the last row with the box's foot edges: in this box they are the middle's
            if index == 0:
                left, right, divider = drawn_box.head_left, drawn_box.head_right, drawn_box.head_vertical
            else:
                left, right, divider = drawn_box.mid_left, drawn_box.mid_right, drawn_box.mid_vertical
            yield Segment(left)
            for i, cell in enumerate(cells):
                if i:
                    yield Segment(divider)
                yield from cell
            yield Segment(right)
            yield new_line
            if header_row:
                yield Segment(drawn_box.get_row(padded, "head"))
                yield new_line
        if drawn_box is not None:
            yield Segment(drawn_box.get_bottom(padded))
            yield new_line


def _cell(console: Console, text: Text, width: int, justify: Justify, style: Style) -> list[Segment]:
    """One padded cell, ``width`` wide between its two padding spaces, in the cell's ``style``, as
    rich's text rendering makes it: the trailing spaces of a text it right-aligns or centres are
    stripped, and the text's own style covers its justified line, under its spans."""
    if justify != "left" and text.plain[-1:].isspace():  # rich's rstrip: any trailing whitespace
        text = text.copy()
        text.rstrip()
    space = width - cell_len(text.plain)
    before = space if justify == "right" else space // 2 if justify == "center" else 0
    line = Text(" " * before + text.plain + " " * (space - before))
    line.spans = [Span(0, len(line.plain), text.style)]
    line.spans.extend(Span(span.start + before, span.end + before, span.style) for span in text.spans)
    return [Segment(" ", style), *Segment.apply_style(line.render(console), style), Segment(" ", style)]
