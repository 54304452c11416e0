"""--extract-json word for word: what it finds in an LLM's answer, and what it says when it cannot
take exactly one object (written against the survivors of the targets group's mutation run)."""

from __future__ import annotations

import pytest

from hlrebal.errors import TargetFileError
from hlrebal.targets.extract import extract_json

SRC = "answer.txt"
FENCE = "```"


def refused(text: str) -> str:
    with pytest.raises(TargetFileError) as e:
        extract_json(text, SRC)
    assert e.value.exit_code == 2
    return str(e.value)


def test_no_object_says_what_an_answer_must_hold() -> None:
    assert refused("I would hold {risk} lightly.") == (
        "answer.txt: found no JSON object in the text; the answer must hold one object such as "
        '{"target_allocation": {"BTC": 0.4, "USDC": 0.6}}, bare or in a ```json block'
    )


def test_two_objects_are_listed_by_line_whatever_their_text() -> None:
    # by line, not by text: {"b"} comes first although "{"a"..." sorts before it
    assert refused('{"b": 1}\nthen\n{"a": 1}') == (
        "answer.txt: found 2 JSON objects (bare at line 1, bare at line 3); the answer must hold exactly "
        "one, so that hlrebal never guesses which one was meant"
    )


def objects(n: int) -> str:
    return "\n".join(f'{{"n{i}": {i}}}' for i in range(n))


def test_five_objects_are_all_named_and_six_end_with_an_ellipsis() -> None:
    named = ", ".join(f"bare at line {n}" for n in range(1, 6))
    assert f"found 5 JSON objects ({named});" in refused(objects(5))
    assert f"found 6 JSON objects ({named}, ...);" in refused(objects(6))


def test_counting_stops_after_twenty() -> None:
    assert "found 20 JSON objects (" in refused(objects(20))
    assert "found more than 20 JSON objects (" in refused(objects(21))
    assert "found more than 20 JSON objects (" in refused(objects(40))


def test_an_unlabelled_fence_holding_an_object_is_taken_and_named_as_such() -> None:
    body = '{"target_allocation": {"BTC": 1}}'
    assert extract_json(f"Here:\n{FENCE}\n{body}\n{FENCE}\n", SRC) == body
    said = refused(f"{FENCE}\n{body}\n{FENCE}\nand bare {body}")
    assert "(a ``` block at line 1, bare at line 4)" in said


def test_a_fence_of_another_language_is_never_read_even_when_it_holds_json() -> None:
    body = '{"target_allocation": {"BTC": 1}}'
    assert "found no JSON object" in refused(f"{FENCE}python\n{body}\n{FENCE}\n")


def test_a_json_fence_that_holds_no_object_or_broken_json_is_refused_by_line() -> None:
    assert refused(f"intro\n{FENCE}json\n[1, 2]\n{FENCE}") == (
        "answer.txt: the ```json block at line 2: holds JSON but not an object"
    )
    assert refused(f'{FENCE}json\n{{"a":\n{FENCE}') == (
        "answer.txt: the ```json block at line 1: is not valid JSON (line 1 column 6: Expecting value)"
    )
    deep = "[" * 100_000 + "]" * 100_000
    assert refused(f"{FENCE}json\n{deep}\n{FENCE}") == (
        "answer.txt: the ```json block at line 1: is not valid JSON (nested too deeply)"
    )


def test_objects_before_and_after_fences_keep_their_place() -> None:
    code = f"{FENCE}python\nprint('x')\n{FENCE}\n"
    body = '{"target_allocation": {"ETH": 1}}'
    # after one fence: the blanked fence keeps the text's positions
    assert extract_json(f"{code}{body}\n", SRC) == body
    # before two fences: nothing said before the first fence is lost
    assert extract_json(f"{body}\n{code}{code}", SRC) == body
    assert "(bare at line 1, bare at line 8)" in refused(f"{body}\n{code}{code}{body}")


def test_an_object_with_an_integer_beyond_pythons_digit_limit_is_still_found() -> None:
    # found here, refused later by the document's own number limits with a clear message
    body = '{"target_allocation": {"BTC": ' + "1" * 5000 + "}}"
    assert extract_json(f"answer: {body}", SRC) == body
    assert extract_json(f"{FENCE}\n{body}\n{FENCE}", SRC) == body


def test_a_stray_closing_brace_in_the_prose_does_not_hide_the_object_after_it() -> None:
    body = '{"target_allocation": {"BTC": 1}}'
    assert extract_json("a smiley :} and then " + body, SRC) == body
