"""``--extract-json``: the one JSON object in an LLM's free-text answer.

Models wrap their answer in prose, often in a fenced block (```json ... ```). The object is taken
from a fence labelled ``json`` (which must then hold valid JSON), from an unlabelled fence that holds
an object, or bare in the text. Exactly one object must be found: none, or two (say, the same answer
once fenced and once bare), is bad input (exit 2) naming what was found, because guessing which of
two answers an agent meant is not hlrebal's call.

The bare scan is one pass over the text: braces are matched outside JSON strings, and only outermost
balanced ``{...}`` spans that parse as JSON objects count (``{risk}`` in prose does not). Nothing
inside an object that fails to parse is looked at, so a broken answer is never replaced by an object
nested in it.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from typing import NamedTuple

from hlrebal.targets.common import err

_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
#: fence labels whose block must hold the JSON answer
_JSON_LABELS = ("json", "jsonc", "json5")
#: objects counted before the scan stops (the answer is refused either way)
_MOST_COUNTED = 20
#: what the bare scan looks at: whole JSON strings (skipped) and braces
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}]')


class Found(NamedTuple):
    """One JSON object found in the text: its text, its line, and where it was."""

    text: str
    line: int
    where: str
    """"a ```json block" or "bare"."""


def extract_json(text: str, source: str) -> str:
    """The text of the one JSON object in ``text``; raises :class:`TargetFileError` (exit 2) when
    there is none or more than one, saying how many and where."""
    newlines = [i for i, ch in enumerate(text) if ch == "\n"] if "\n" in text else []

    def line_of(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    found: list[Found] = []
    outside: list[str] = []  # the text with every fence blanked out, for the bare scan
    last = 0
    for match in _FENCE.finditer(text):
        outside += [text[last : match.start()], " " * (match.end() - match.start())]
        last = match.end()
        fenced = _fenced(match, line_of(match.start()), source)
        if fenced is not None:
            found.append(fenced)
    outside.append(text[last:])
    for start, candidate in _bare_objects("".join(outside), text):
        found.append(Found(candidate, line_of(start), "bare"))
        if len(found) > _MOST_COUNTED:
            break
    found.sort(key=lambda f: f.line)
    if len(found) == 1:
        return found[0].text
    if not found:
        raise err(
            source,
            "",
            "found no JSON object in the text; the answer must hold one object such as "
            '{"target_allocation": {"BTC": 0.4, "USDC": 0.6}}, bare or in a ```json block',
        )
    count = f"more than {_MOST_COUNTED}" if len(found) > _MOST_COUNTED else str(len(found))
    places = ", ".join(f"{f.where} at line {f.line}" for f in found[:5]) + (", ..." if len(found) > 5 else "")
    raise err(
        source,
        "",
        f"found {count} JSON objects ({places}); the answer must hold exactly one, so that "
        "hlrebal never guesses which one was meant",
    )


def _fenced(match: re.Match[str], line: int, source: str) -> Found | None:
    """The object a fenced block holds; a ```json block that holds anything else is an error."""
    label, body = match.group(1).lower(), match.group(2).strip()
    if not (label in _JSON_LABELS or (not label and body.startswith("{"))):
        return None
    try:
        value = json.loads(body, parse_float=str, parse_int=str)
    except (ValueError, RecursionError) as e:
        if label:
            raise err(source, f"the ```{label} block at line {line}", f"is not valid JSON ({_why(e)})") from None
        return None
    if isinstance(value, dict):
        return Found(body, line, f"a ```{label} block" if label else "a ``` block")
    if label:
        raise err(source, f"the ```{label} block at line {line}", "holds JSON but not an object")
    return None


def _why(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"line {e.lineno} column {e.colno}: {e.msg}"
    return "nested too deeply" if isinstance(e, RecursionError) else str(e)[:80]


def _bare_objects(masked: str, text: str) -> Iterator[tuple[int, str]]:
    for start, end in _spans(masked):
        candidate = text[start:end]
        try:
            value = json.loads(candidate, parse_float=str, parse_int=str)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            yield start, candidate


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Outermost balanced ``{...}`` spans, braces inside JSON strings ignored. An opening brace
    that is never closed (prose) does not hide the objects after it; a stray closing one is ignored.

    The braces are found by one regular expression (strings are matched whole, so their braces and
    escaped quotes are skipped); the passes after it only look at braces.
    """
    braces = [(m.start(), m.group()) for m in _TOKENS.finditer(text) if m.group() in "{}"]
    open_at: list[int] = []
    for i, (_, ch) in enumerate(braces):
        if ch == "{":
            open_at.append(i)
        elif open_at:
            open_at.pop()
    unclosed = set(open_at)
    depth, start = 0, 0
    for i, (pos, ch) in enumerate(braces):
        if i in unclosed:
            continue
        if ch == "{":
            if depth == 0:
                start = pos
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                yield start, pos + 1
