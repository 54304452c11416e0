"""Reading a target file from standard input stops at the size limit, whatever is piped in.

Found by mutation testing (tests/mutation.py targets): no test piped more than the limit, so reading
standard input whole (``yes | hlrebal plan -`` would never end, or fill the memory) passed the suite.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hlrebal.errors import TargetFileError
from hlrebal.inputs import read_limited


class EndlessInput:
    """Standard input that never ends: any amount asked for is there; asked for everything, it fails."""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise MemoryError("read an endless stream whole")
        return b" " * size


def test_an_endless_standard_input_is_refused_at_the_limit() -> None:
    with pytest.raises(TargetFileError) as info:
        read_limited("-", what="target file", limit=1000, error=TargetFileError, stdin=EndlessInput)
    assert info.value.message == "standard input: more than 1,000 bytes, the limit for a target file"


def test_standard_input_of_exactly_the_limit_is_read() -> None:
    class Exact:
        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and size > 1000  # asks for one byte more than the limit, at most
            return b"{}" + b" " * 998

    assert read_limited("-", what="target file", limit=1000, error=TargetFileError, stdin=Exact) == b"{}" + b" " * 998


# ---- survivors of the 2026-12-02 run: documents given as Python values, free text, the universe


def test_a_mapping_becomes_json_with_its_decimals_written_exactly() -> None:
    from hlrebal.targets import mapping_text

    mapping = {"BTC": Decimal("0.40"), "x": [Decimal("1E+2"), Decimal("NaN"), Decimal("-0.000")], "n": 1}
    assert mapping_text(mapping) == '{"BTC": 0.40, "x": [100, NaN, -0.000], "n": 1}'
    with pytest.raises(TargetFileError) as info:
        mapping_text({"a": object()})
    assert str(info.value) == "<mapping>: cannot be a document: object is not a JSON value"
    with pytest.raises(TargetFileError, match=r"^agent: cannot be a document: set is not a JSON value$"):
        mapping_text({"a": {1}}, "agent")


@pytest.mark.parametrize(
    ("text", "hinted"),
    [
        ('Here you go: {"BTC": 1}', True),
        ('\ufeff Sure {"BTC": 1}', True),  # a byte-order mark and spaces before the prose
        ('\ufeff  {"BTC": 1,}', False),  # JSON with a mistake in it, not prose
        ("[1,", False),
    ],
)
def test_invalid_json_that_starts_as_prose_points_to_extract_json(text: str, hinted: bool) -> None:
    from hlrebal.targets.common import load_json

    with pytest.raises(TargetFileError) as info:
        load_json(text, "f.json")
    assert info.value.message.startswith("f.json: invalid JSON at line 1")
    expected = "if this is a free-text answer with the JSON inside it, add --extract-json" if hinted else None
    assert info.value.hint == expected


def test_the_universe_check_names_spot_misuse_and_every_unknown_name() -> None:
    from hlrebal.targets import parse_targets
    from hlrebal.targets.weights import check_universe

    pairs = parse_targets('{"BTC": 0.5, "HYPE/USDC": 0.2}', "t.json")
    with pytest.raises(TargetFileError) as info:
        check_universe(pairs, ["BTC"])
    assert str(info.value) == (
        "t.json: HYPE/USDC: is a spot pair, but the account was read without the spot market (a snapshot"
        " saved before spot was read: save it again with `hlrebal snapshot`)"
    )
    with pytest.raises(TargetFileError, match=r"^t.json: @107: is a spot pair"):
        check_universe(parse_targets('{"@107": 0.2}', "t.json"), ["BTC"])
    many = parse_targets('{"HYPE": 0.5, "XYZ": 0.1, "ABC": 0.1}', "t.json")
    with pytest.raises(TargetFileError) as info:
        check_universe(many, ["BTC"], spot_aliases={"HYPE/USDC": "@107"})
    assert str(info.value) == (
        "t.json: HYPE: is not traded on this exchange (the spot token is written as a pair: 'HYPE/USDC');"
        " also not traded: 'XYZ', 'ABC'"
    )
    with pytest.raises(TargetFileError) as info:
        check_universe(parse_targets('{"PURR": 1}', "t.json"), ["BTC"], spot_aliases={"@9": "@9"})
    assert str(info.value).startswith("t.json: PURR: is not traded on this exchange") and "pair" not in str(info.value)
    check_universe(parse_targets('{"BTC": 1}', "t.json"), ["BTC"])  # a known perp passes


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ('{"action_type": 5, "coin": "BTC"}', "actions[0].action_type: must be one of buy, sell, close (got a number)"),
        (
            '{"action_type": "hold-it-forever-please-now", "coin": "BTC"}',
            "actions[0].action_type: must be one of buy, sell, close (got 'hold-it-forever-ple…')",
        ),
        (
            '{"action_type": "buy", "coin": " BTC", "size": 1}',
            "actions[0].coin: must be a coin name as on the exchange (non-empty, no surrounding spaces)",
        ),
        (
            '{"action_type": "buy", "coin": "", "size": 1}',
            "actions[0].coin: must be a coin name as on the exchange (non-empty, no surrounding spaces)",
        ),
        (
            '{"action_type": "buy", "coin": "BT\\u200bC", "size": 1}',
            "actions[0].coin: 'BT\\u200bC' holds control or invisible characters",
        ),
        (
            '{"action_type": "buy", "coin": "BTC", "size": 1, "notional": 5}',
            "actions[0]: a buy takes size (coins) or notional (USD), not both",
        ),
        ('{"action_type": "sell", "coin": "BTC"}', "actions[0]: a sell needs a size (coins) or notional (USD)"),
        ('{"action_type": "buy", "coin": "BTC", "size": NaN}', "actions[0].size: must be a finite number, not NaN"),
        (
            '{"action_type": "buy", "coin": "BTC", "notional": 0}',
            "actions[0].notional: must be above 0 (a buy gives a positive amount; the action type says which way)",
        ),
    ],
)
def test_a_direct_action_is_refused_word_for_word(action: str, message: str) -> None:
    from hlrebal.targets import parse_document

    with pytest.raises(TargetFileError) as info:
        parse_document('{"actions": [' + action + "]}", "a.json")
    assert str(info.value) == "a.json: " + message


def test_a_direct_actions_document_keeps_its_source_digest_strategy_and_reasoning() -> None:
    from hlrebal.digest import sha256_hex
    from hlrebal.targets import parse_document

    text = '{"actions": [{"action_type": "close", "coin": "BTC"}], "selected_strategy": "s", "reasoning": "r"}'
    doc = parse_document(text, "a.json")
    assert (doc.source, doc.sha256, doc.strategy, doc.reasoning) == ("a.json", sha256_hex(text), "s", "r")
    (close,) = doc.actions  # type: ignore[union-attr]
    assert (close.action_type, close.coin, close.size, close.notional) == ("close", "BTC", None, None)
    with pytest.raises(TargetFileError) as info:
        parse_document('{"actions": [], "extra": 1}', "a.json")
    assert str(info.value) == (
        "a.json: key 'extra': unknown top-level key; allowed: actions, policy, selected_strategy, reasoning"
    )
