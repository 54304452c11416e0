"""What an agent writes: its answer with a strategy and reasoning, direct actions, and free text
around the JSON (``--extract-json``). Every refusal is exit 2 naming the key and the rule."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from hlrebal.errors import TargetFileError
from hlrebal.targets import (
    ActionDocument,
    Targets,
    extract_json,
    parse_document,
    parse_targets,
    schema,
)

SRC = "answer.json"
ORIGINAL = '{"selected_strategy": "balanced-growth", "target_allocation": {"BTC": 0.40, "ETH": 0.30, "USDC": 0.30}}'


def refused(text: str) -> str:
    with pytest.raises(TargetFileError) as info:
        parse_document(text, SRC)
    assert info.value.exit_code == 2
    assert SRC in str(info.value)
    return str(info.value)


def test_the_original_designs_answer_is_a_target_allocation() -> None:
    t = parse_document(ORIGINAL, SRC)
    assert isinstance(t, Targets)
    assert t.strategy == "balanced-growth" and t.reasoning is None
    assert t.weights == {"BTC": D("0.40"), "ETH": D("0.30")} and t.cash == D("0.30")


def test_reasoning_is_kept_whole_up_to_its_limit() -> None:
    words = "Rates fall; " * 833  # 9,996 characters, with newlines below
    doc = {"target_allocation": {"BTC": 1}, "reasoning": words + "\nend", "selected_strategy": "x" * 200}
    t = parse_document(json.dumps(doc), SRC)
    assert t.reasoning == words + "\nend" and t.strategy == "x" * 200
    assert "at most 10,000" in refused(json.dumps({**doc, "reasoning": "y" * 10_001}))
    assert "at most 200" in refused(json.dumps({**doc, "selected_strategy": "x" * 201}))


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ({"selected_strategy": 3}, "selected_strategy: must be a string, not a number"),
        ({"selected_strategy": "  "}, "selected_strategy: must not be empty"),
        ({"selected_strategy": "bal\u202eanced"}, "selected_strategy: cannot hold control or invisible"),
        ({"reasoning": ["a"]}, "reasoning: must be a string, not an array"),
        ({"selected_stratgy": "x"}, "unknown top-level key (did you mean 'selected_strategy'?)"),
    ],
)
def test_bad_notes_are_refused_by_name(notes: dict[str, object], expected: str) -> None:
    assert expected in refused(json.dumps({"target_allocation": {"BTC": 1}, **notes}))


def test_notes_need_the_structured_shape() -> None:
    message = refused('{"BTC": 0.5, "selected_strategy": "x"}')
    assert 'selected_strategy needs the weights under "target_allocation"' in message


class TestActions:
    def test_sizes_notionals_and_closes(self) -> None:
        doc = parse_document(
            json.dumps(
                {
                    "selected_strategy": "trim",
                    "actions": [
                        {"action_type": "sell", "coin": "BTC", "size": 0.4},
                        {"action_type": "buy", "coin": "ETH", "notional": 30000},
                        {"action_type": "close", "coin": "DOGE"},
                    ],
                    "policy": {"slippage": 0.004},
                }
            ),
            SRC,
        )
        assert isinstance(doc, ActionDocument) and doc.kind == "actions"
        assert [(a.action_type, a.coin, a.size, a.notional) for a in doc.actions] == [
            ("sell", "BTC", D("0.4"), None),
            ("buy", "ETH", None, D("30000")),
            ("close", "DOGE", None, None),
        ]
        assert doc.policy == {"slippage": D("0.004")} and doc.strategy == "trim"
        assert [a.describe() for a in doc.actions] == ["sell 0.4 BTC", "buy $30,000.00 of ETH", "close DOGE"]

    def test_an_empty_list_is_a_document_that_asks_for_nothing(self) -> None:
        doc = parse_document('{"actions": []}', SRC)
        assert isinstance(doc, ActionDocument) and doc.actions == ()

    @pytest.mark.parametrize(
        ("actions", "expected"),
        [
            ([{"action_type": "close", "coin": "BTC", "size": 1}], "actions[0].size: a close takes the whole"),
            ([{"action_type": "buy", "coin": "BTC"}], "actions[0]: a buy needs a size (coins) or notional"),
            ([{"action_type": "sell", "coin": "BTC", "size": 1, "notional": 5}], "not both"),
            ([{"action_type": "sell", "coin": "BTC", "size": -1}], "actions[0].size: must be above 0"),
            ([{"action_type": "sell", "coin": "BTC", "size": "1"}], "actions[0].size: must be a number, not a string"),
            ([{"action_type": "short", "coin": "BTC", "size": 1}], "must be one of buy, sell, close (got 'short')"),
            ([{"action_type": "buy", "coin": " BTC", "size": 1}], "actions[0].coin: must be a coin name"),
            ([{"action_type": "buy", "coin": "BTC", "size": 1, "px": 3}], "actions[0].'px': unknown key"),
            ([{"action_type": "buy", "coin": "BTC", "size": 1}, {"action_type": "close", "coin": "BTC"}],
             "actions[1]: BTC is already in actions[0]; give each coin one action"),
            (["sell BTC"], "actions[0]: must be an object"),
            ({"BTC": 1}, "actions: must be an array of actions, not an object"),
        ],
    )  # fmt: skip
    def test_bad_actions_are_refused_by_place(self, actions: object, expected: str) -> None:
        assert expected in refused(json.dumps({"actions": actions}))

    def test_weights_and_actions_together_are_refused(self) -> None:
        message = refused('{"target_allocation": {"BTC": 1}, "actions": []}')
        assert "target_allocation and actions were both given" in message

    def test_a_command_that_needs_weights_says_so(self) -> None:
        with pytest.raises(TargetFileError, match="needs target weights"):
            parse_targets('{"actions": []}', SRC)

    def test_a_safety_limit_cannot_be_set_from_an_actions_document_either(self) -> None:
        message = refused('{"actions": [], "policy": {"max_turnover": 5}}')
        assert "policy.max_turnover: is a safety limit" in message


class TestExtractJson:
    def test_a_fenced_answer(self) -> None:
        text = f"Here is my allocation.\n\n```json\n{ORIGINAL}\n```\n\nI chose it because rates {{fall}}."
        assert json.loads(extract_json(text, SRC))["selected_strategy"] == "balanced-growth"

    def test_a_bare_answer_in_prose(self) -> None:
        text = f"Given {{risk}} and the news, my answer: {ORIGINAL} -- done."
        assert json.loads(extract_json(text, SRC))["target_allocation"]["ETH"] == 0.3

    def test_braces_inside_strings_do_not_end_the_object(self) -> None:
        answer = {"reasoning": "use {this} and } that", "target_allocation": {"BTC": 1}}
        assert json.loads(extract_json(f"ok: {json.dumps(answer)}", SRC)) == answer

    def test_none_is_exit_2(self) -> None:
        with pytest.raises(TargetFileError, match="found no JSON object") as info:
            extract_json("I would rather hold cash {for now}.", SRC)
        assert info.value.exit_code == 2

    def test_two_are_exit_2_saying_how_many_and_where(self) -> None:
        text = f"```json\n{ORIGINAL}\n```\nor, bare:\n{ORIGINAL}\n"
        with pytest.raises(TargetFileError) as info:
            extract_json(text, SRC)
        message = str(info.value)
        assert "found 2 JSON objects (a ```json block at line 1, bare at line 5)" in message
        assert info.value.exit_code == 2

    def test_a_broken_json_fence_is_reported_not_replaced_by_what_it_holds(self) -> None:
        with pytest.raises(TargetFileError, match="```json block at line 2: is not valid JSON"):
            extract_json('answer:\n```json\n{"target_allocation": {"BTC": 1},}\n```', SRC)
        # bare and broken: the object nested in it is not taken for the answer
        with pytest.raises(TargetFileError, match="found no JSON object"):
            extract_json('answer: {"target_allocation": {"BTC": 1},} ok', SRC)

    def test_an_unclosed_prose_brace_before_the_answer(self) -> None:
        assert json.loads(extract_json('note { unclosed. Answer: {"BTC": 0.5}', SRC)) == {"BTC": 0.5}

    def test_a_hostile_text_is_answered_quickly(self) -> None:
        import contextlib
        import time

        start = time.monotonic()
        for text in ('{"a":' * 50_000, "{" * 250_000, '"' * 125_000 + "{}", "}{" * 125_000):
            with contextlib.suppress(TargetFileError):
                extract_json(text, SRC)
        assert time.monotonic() - start < 4  # linear: a whole 1 MiB answer takes about a second


def test_the_schema_accepts_each_shape_and_refuses_a_mixture() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema())
    good = [
        json.loads(ORIGINAL),
        {"BTC": 0.5},
        {"actions": [{"action_type": "close", "coin": "BTC"}, {"action_type": "buy", "coin": "ETH", "size": 1}]},
        {"actions": [], "selected_strategy": "hold", "reasoning": "nothing to do"},
    ]
    bad = [
        {"actions": [{"action_type": "close", "coin": "BTC", "size": 1}]},
        {"actions": [{"action_type": "buy", "coin": "BTC"}]},
        {"target_allocation": {"BTC": 1}, "actions": []},
        {"target_allocation": {"BTC": 1}, "selected_strategy": 3},
    ]
    assert [validator.is_valid(d) for d in good] == [True] * len(good)
    assert [validator.is_valid(d) for d in bad] == [False] * len(bad)
