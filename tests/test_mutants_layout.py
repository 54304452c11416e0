"""The layouts every table goes through, word for word: the table when it fits, the table with its
prose wrapped when that fits, the cards when nothing else does (tests written against the survivors
of ``python tests/mutation.py render-tables``)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.text import Text

from hlrebal.render.layout import Column, FirstThatFits, _table_width, key_values, table

COLUMNS = [Column("coin"), Column("size", "right"), Column("why", wrap=True), Column("tag", card_label="")]
ROWS: list[list[str | Text]] = [["BTC", "0.5", "a reason that wraps", "x"], ["ETH", "-", "", "y"]]


def shown(renderable: RenderableType, width: int, *, colour: bool = False) -> str:
    console = Console(
        file=io.StringIO(),
        width=width,
        highlight=False,
        emoji=False,
        force_terminal=colour,
        color_system="standard" if colour else None,
    )
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_a_table_that_fits_is_the_table_with_its_title_its_header_and_every_column_justified() -> None:
    assert shown(table(COLUMNS, ROWS, title="Trades"), 80) == (
        "Trades                                     \n"
        "┏━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━┓\n"
        "┃ coin ┃ size ┃ why                 ┃ tag ┃\n"
        "┡━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━┩\n"
        "│ BTC  │  0.5 │ a reason that wraps │ x   │\n"
        "│ ETH  │    - │                     │ y   │\n"
        "└──────┴──────┴─────────────────────┴─────┘\n"
    )
    coloured = shown(table(COLUMNS, ROWS, title="Trades"), 80, colour=True)
    assert coloured.startswith("\x1b[3mTrades")  # the title in italics
    assert "\x1b[1mcoin\x1b[0m" in coloured  # the header in bold


def test_a_table_too_wide_wraps_its_prose_never_a_number_or_a_coin() -> None:
    assert shown(table(COLUMNS, ROWS, title="Trades"), 30) == (
        "Trades                        \n"
        "┏━━━━━━┳━━━━━━┳━━━━━━━━┳━━━━━┓\n"
        "┃ coin ┃ size ┃ why    ┃ tag ┃\n"
        "┡━━━━━━╇━━━━━━╇━━━━━━━━╇━━━━━┩\n"
        "│ BTC  │  0.5 │ a      │ x   │\n"
        "│      │      │ reason │     │\n"
        "│      │      │ that   │     │\n"
        "│      │      │ wraps  │     │\n"
        "│ ETH  │    - │        │ y   │\n"
        "└──────┴──────┴────────┴─────┘\n"
    )


def test_a_table_that_cannot_fit_becomes_cards_of_labelled_values_with_prose_apart() -> None:
    assert shown(table(COLUMNS, ROWS, title="Trades"), 16) == (
        "Trades\n• BTC   size 0.5\nx\n  why a reason \nthat wraps\n• ETH   y\n"
    )
    coloured = shown(table(COLUMNS, ROWS, title="Trades"), 16, colour=True)
    assert coloured.startswith("\x1b[3mTrades\x1b[0m\n")  # the title in italics
    assert "\x1b[2msize \x1b[0m0.5" in coloured and "\x1b[2mwhy \x1b[0m" in coloured  # labels dimmed


def test_cards_without_a_header_show_values_alone_and_two_columns_need_no_bullet() -> None:
    assert shown(table(COLUMNS, ROWS, title="Trades", show_header=False), 16) == (
        "Trades\n• BTC   0.5   x\n  a reason that \nwraps\n• ETH   y\n"
    )
    assert shown(table([Column("a"), Column("b")], [["x", "y"]]), 8) == "x   b y\n"
    assert shown(key_values("Summary", [("equity", "$100,000.00")]), 14) == "Summary\nequity\n  $100,000.00\n"


def test_the_bound_counts_each_columns_widest_cell_its_padding_and_the_box() -> None:
    assert _table_width(COLUMNS, ROWS, box_none=False) == 43 == len("└──────┴──────┴─────────────────────┴─────┘")
    assert _table_width(COLUMNS, ROWS, box_none=True) == 38
    assert _table_width([Column("a")], [[Text("xyz\nlonger")]], box_none=True) == 8  # the widest line counts


@pytest.mark.parametrize(("width", "layout"), [(9, "table"), (8, "cards")])
def test_a_table_exactly_as_wide_as_the_terminal_is_still_a_table(width: int, layout: str) -> None:
    out = shown(table([Column("a"), Column("b")], [["x", "y"]]), width)
    assert (out.startswith("┏") and layout == "table") or (out == "x   b y\n" and layout == "cards")


@pytest.mark.parametrize(("width", "layout"), [(11, "table"), (10, "cards")])
def test_a_table_whose_wrapped_prose_just_fits_is_still_a_table(width: int, layout: str) -> None:
    out = shown(table([Column("a"), Column("b", wrap=True)], [["xx", "yy zz"]]), width)
    assert out.startswith("┏") == (layout == "table"), out


class Counted:
    """A one-line renderable that counts how often it is measured."""

    measured = 0

    def __init__(self, text: str) -> None:
        self.text = Text(text, no_wrap=True)

    def __rich_measure__(self, console: Console, options: object) -> Measurement:
        Counted.measured += 1
        return Measurement(len(self.text), len(self.text))

    def __rich_console__(self, console: Console, options: object) -> Iterator[Text]:
        yield self.text


def test_the_first_layout_that_fits_is_chosen_bounded_without_measuring_or_measured_and_the_last_always() -> None:
    built: list[str] = []

    def layout(name: str, text: str) -> Counted:
        built.append(name)
        return Counted(text)

    chooser = FirstThatFits(
        lambda: layout("wide", "x" * 30),
        lambda: layout("bounded", "y" * 16),
        lambda: layout("measured", "z" * 12),
        lambda: layout("last", "w" * 40),
        widest=(None, 16),
    )
    Counted.measured = 0
    assert shown(chooser, 20) == "y" * 16 + "\n" and built == ["wide", "bounded"]
    assert Counted.measured == 1  # the wide one; the bounded one is taken on its bound
    built.clear()
    Counted.measured = 0
    assert shown(chooser, 16) == "y" * 16 + "\n" and Counted.measured == 1  # a bound as wide as the terminal
    built.clear()
    assert shown(chooser, 14) == "z" * 12 + "\n" and built == ["wide", "bounded", "measured"]
    built.clear()
    assert shown(chooser, 12) == "z" * 12 + "\n"  # as wide as the terminal: it fits
    built.clear()
    assert shown(chooser, 8) == "w" * 8 + "\n" and built == ["wide", "bounded", "measured", "last"]


SUMMARY = [("equity", "$100,000.00"), ("turnover", "70.00% ($70,000.10)")]


def test_key_values_are_labels_and_right_aligned_values_in_a_box_or_without_one() -> None:
    assert shown(key_values("Summary", SUMMARY), 80) == (
        "Summary                           \n"
        "┌──────────┬─────────────────────┐\n"
        "│ equity   │         $100,000.00 │\n"
        "│ turnover │ 70.00% ($70,000.10) │\n"
        "└──────────┴─────────────────────┘\n"
    )
    assert shown(key_values(None, SUMMARY, box_none=True), 80) == (
        " equity            $100,000.00 \n turnover  70.00% ($70,000.10) \n"
    )


def test_a_card_breaks_between_pairs_never_between_a_label_and_its_value() -> None:
    three = [Column("coin"), Column("side"), Column("size", "right")]
    assert shown(table(three, [["XX", "buy", "1"]]), 12) == "• XX\nside buy\nsize 1\n"
    assert shown(table(three, [["XX", "buy", "1"]]), 20) == "• XX   side buy\nsize 1\n"
    assert shown(table(three, [["XX", "buy", "1"]]), 5) == "• XX\nside \nbuy\nsize \n1\n"  # a pair too wide


def test_a_wrapped_table_keeps_its_bold_header_or_none_and_never_squeezes_a_number() -> None:
    columns = [Column("coin"), Column("size", "right"), Column("why", wrap=True)]
    rows: list[list[str | Text]] = [["BTC", "0.5", "a reason that wraps"]]
    coloured = shown(table(columns, rows), 24, colour=True)
    assert "\x1b[1mcoin\x1b[0m" in coloured and "│ BTC  │  0.5 │ a      │" in coloured
    assert shown(table(columns, rows, show_header=False), 24) == (  # a hidden header takes no room
        "┌─────┬─────┬──────────┐\n"
        "│ BTC │ 0.5 │ a reason │\n"
        "│     │     │ that     │\n"
        "│     │     │ wraps    │\n"
        "└─────┴─────┴──────────┘\n"
    )
    assert shown(table([Column("coin"), Column("size", "right")], [["BTC", "123456789"]]), 12) == (
        "BTC\nsize \n123456789\n"
    )  # a number is never squeezed into a column too narrow: the cards take it


def test_a_table_that_fits_is_drawn_without_building_richs_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from hlrebal.render import layout

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("drawn tables need no rich Table")

    monkeypatch.setattr(layout, "_as_table", never)
    assert shown(table(COLUMNS, ROWS, title="Trades"), 43).startswith("Trades")  # exactly as wide
    assert shown(table(COLUMNS, ROWS, box_none=True), 38) == (
        " coin  size  why                  tag \n"
        " BTC    0.5  a reason that wraps  x   \n"
        " ETH      -                       y   \n"
    )
    assert shown(key_values("Summary", SUMMARY), 40).startswith("Summary")


def test_a_drawn_table_keeps_the_column_minimums_of_the_table_it_stands_for() -> None:
    from hlrebal.render.layout import _as_table

    columns = [Column("a"), Column("b")]
    rows: list[list[str | Text]] = [["[bold]B[/bold]", "x"]]  # markup: rich's minimum counts its text
    assert shown(table(columns, rows), 40) == shown(
        _as_table(columns, rows, title=None, show_header=True, box_none=False), 40
    )
    assert (
        shown(table(columns, [["x", ""]], show_header=False), 40) == "┌───┬──┐\n│ x │  │\n└───┴──┘\n"
    )  # an empty column


def test_a_table_without_a_box_stays_without_one_when_its_prose_wraps() -> None:
    assert shown(key_values(None, [("turnover", "70.00% ($70,000.10)")], box_none=True), 24) == (
        " turnover        70.00% \n           ($70,000.10) \n"
    )
