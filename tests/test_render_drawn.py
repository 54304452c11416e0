"""A drawn table looks exactly as rich's Table would: rich is the oracle.

Every case renders the same cells twice, as :class:`DrawnTable` and as the rich ``Table`` it stands
for, on consoles of many widths, colour systems and encodings, and compares what a user sees: each
line's characters and the style of every character (segment boundaries may differ; the screen does
not). Cells hold plain text, markup, wide characters, trailing spaces and styled spans; tables have
titles, headers or none, boxes or none.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from hlrebal.render.drawn import DrawnTable
from hlrebal.render.layout import Column, _as_table, _min_widths

WORDS = [
    "x\u00a0",
    "BTC",
    "ETH",
    "$39,800.02",
    "80.0% → 40.0%",
    "界面",
    "é",
    "x y",
    "",
    " ",
    "-0.5",
    "[bold]B[/bold]",
    "█" * 5,
]
STYLES = ["", "bold", "cyan", "red on white", "dim", "magenta italic"]


class AsciiFile(io.StringIO):
    encoding = "ascii"


@st.composite
def cells(draw: st.DrawFn) -> str | Text:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=0, max_size=3))
    plain = " ".join(words) + draw(st.sampled_from(["", "", " ", "  "]))
    if draw(st.booleans()):
        return plain
    text = Text(plain.replace("[bold]", "").replace("[/bold]", ""), style=draw(st.sampled_from(STYLES)))
    if text.plain and draw(st.booleans()):
        start = draw(st.integers(0, len(text.plain) - 1))
        text.stylize(draw(st.sampled_from(STYLES[1:])), start, draw(st.integers(start + 1, len(text.plain))))
    return text


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 5))
    columns = [
        (
            draw(st.sampled_from(["coin", "size", "weight now → target", "界", "x"])),
            draw(st.sampled_from(["left", "right", "center"])),
            draw(st.booleans()),  # prose that may wrap, or a number that never does
        )
        for _ in range(count)
    ]
    rows = draw(st.lists(st.lists(cells(), min_size=count, max_size=count), max_size=5))
    return {
        "columns": columns,
        "rows": rows,
        "title": draw(
            st.one_of(
                st.none(), st.sampled_from(["Plan", "Drift: current vs target weight", "界" * 30, "a\nb", "a\tb"])
            )
        ),
        "show_header": draw(st.booleans()),
        "box_none": draw(st.booleans()),
    }


def rich_table(spec: dict[str, Any]) -> Table:
    """The table the layouts build when a table is not drawn: the oracle."""
    columns = [Column(name, justify, wrap=wrap) for name, justify, wrap in spec["columns"]]
    return _as_table(
        columns, spec["rows"], title=spec["title"], show_header=spec["show_header"], box_none=spec["box_none"]
    )


def drawn(spec: dict[str, Any], fallback: Any = None) -> DrawnTable:
    columns = [Column(name, justify, wrap=wrap) for name, justify, wrap in spec["columns"]]
    return DrawnTable(
        [(name, justify) for name, justify, _ in spec["columns"]],
        spec["rows"],
        min_widths=_min_widths(columns, spec["rows"], show_header=spec["show_header"]),
        title=spec["title"],
        show_header=spec["show_header"],
        box_none=spec["box_none"],
        fallback=fallback or (lambda: rich_table(spec)),
    )


def screen(console: Console, renderable: Any, markup: bool | None = None) -> list[list[tuple[str, Style | None]]]:
    """The lines a user sees: each character with its style (``markup``: as ``console.print(...,
    markup=)`` renders it)."""
    lines: list[list[tuple[str, Style | None]]] = [[]]
    for segment in console.render(renderable, console.options.update(markup=markup)):
        if segment.control:
            continue
        for char in segment.text:
            if char == "\n":
                lines.append([])
            else:
                lines[-1].append((char, segment.style if segment.style else None))
    return lines


def console_for(
    width: int, colour: str | None, ascii_only: bool, *, highlight: bool = False, legacy_windows: bool = False
) -> Console:
    file = AsciiFile() if ascii_only else io.StringIO()
    return Console(
        file=file,
        width=width,
        force_terminal=colour is not None,
        color_system=colour,  # type: ignore[arg-type]
        highlight=highlight,  # a cell is never highlighted, whatever the console's default
        legacy_windows=legacy_windows,  # rich substitutes the box an old Windows console cannot draw
        emoji=False,
    )


def normalised(lines: list[list[tuple[str, Style | None]]]) -> list[list[tuple[str, Style | None]]]:
    return [[(char, style if style else None) for char, style in line] for line in lines]


@settings(max_examples=400, deadline=None)
@given(
    spec=tables(),
    width=st.integers(8, 200),
    colour=st.sampled_from([None, "standard", "truecolor"]),
    ascii_only=st.booleans(),
    highlight=st.booleans(),
    legacy_windows=st.booleans(),
    safe_box=st.booleans(),
    markup=st.sampled_from([None, True, False]),
)
def test_a_drawn_table_shows_what_richs_table_shows(
    spec: dict[str, Any],
    width: int,
    colour: str | None,
    ascii_only: bool,
    highlight: bool,
    legacy_windows: bool,
    safe_box: bool,
    markup: bool | None,
) -> None:
    console = console_for(width, colour, ascii_only, highlight=highlight, legacy_windows=legacy_windows)
    console.safe_box = safe_box  # False: the box as it is, even on an old Windows console
    seen = normalised(screen(console, drawn(spec), markup))
    assert seen == normalised(screen(console, rich_table(spec), markup))


@pytest.mark.parametrize("box_none", [False, True])
def test_a_title_wider_than_the_table_wraps_as_richs_does(box_none: bool) -> None:
    spec = {"columns": [("c", "left", False)], "rows": [["abcdef"]], "title": "abcdefghij klm", "show_header": False}
    spec["box_none"] = box_none
    console = console_for(40, None, False)
    assert normalised(screen(console, drawn(spec, fallback=never))) == normalised(screen(console, rich_table(spec)))


def test_a_table_exactly_as_wide_as_the_terminal_is_drawn() -> None:
    spec = {
        "columns": [("c", "left", False)],
        "rows": [["abcdef"]],
        "title": None,
        "show_header": False,
        "box_none": False,
    }
    console = console_for(10, None, False)  # 6 + 2 padding + 2 edges
    assert normalised(screen(console, drawn(spec, fallback=never))) == normalised(screen(console, rich_table(spec)))


@settings(max_examples=100, deadline=None)
@given(spec=tables(), width=st.integers(8, 200))
def test_printed_output_is_the_same_text(spec: dict[str, Any], width: int) -> None:
    outputs = []
    for renderable in (drawn(spec), rich_table(spec)):
        console = Console(file=io.StringIO(), width=width, highlight=False, emoji=False)
        console.print(renderable)
        outputs.append(console.file.getvalue())  # type: ignore[attr-defined]
    assert outputs[0] == outputs[1]


def never() -> Table:
    pytest.fail("a table that fits is drawn, never handed to rich's Table")


def test_a_fitting_table_is_drawn_without_richs_table_and_a_narrow_one_is_left_to_it() -> None:
    spec = {
        "columns": [("coin", "left", False), ("notional", "right", False)],
        "rows": [["BTC", "$39,800.02"], [Text("ETH", style="bold"), "$30,149.56"]],
        "title": "Plan",
        "show_header": True,
        "box_none": False,
    }
    wide = console_for(80, None, False)
    wide.print(drawn(spec, fallback=never))
    assert "│ BTC  │ $39,800.02 │" in wide.file.getvalue()  # type: ignore[attr-defined]
    narrow = console_for(12, None, False)
    called = []
    narrow.print(drawn(spec, fallback=lambda: called.append(1) or rich_table(spec)))
    assert called == [1]


@pytest.mark.parametrize("cell", ["two\nlines", "a\ttab", Text("own", justify="right")])
def test_a_cell_that_needs_more_than_drawing_is_left_to_rich(cell: str | Text) -> None:
    spec = {"columns": [("c", "left", False)], "rows": [[cell]], "title": None, "show_header": True, "box_none": False}
    called = []
    console = console_for(80, None, False)
    console.print(drawn(spec, fallback=lambda: called.append(1) or rich_table(spec)))
    assert called == [1]
    assert normalised(screen(console, drawn(spec))) == normalised(screen(console, rich_table(spec)))


def test_segments_are_plain_segments() -> None:
    spec = {"columns": [("c", "right", False)], "rows": [["x "]], "title": None, "show_header": False, "box_none": True}
    console = console_for(40, None, False)
    assert all(isinstance(s, Segment) for s in console.render(drawn(spec, fallback=never), console.options))
    assert normalised(screen(console, drawn(spec, fallback=never))) == normalised(screen(console, rich_table(spec)))
    nbsp = {**spec, "rows": [["x\u00a0"]]}  # rich strips any trailing whitespace before right-aligning
    assert normalised(screen(console, drawn(nbsp, fallback=never))) == normalised(screen(console, rich_table(nbsp)))
