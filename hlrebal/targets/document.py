"""Reading a document: a file or standard input (``-``), optionally an LLM's free-text answer
(``--extract-json``), into :class:`Targets` (weights) or an :class:`ActionDocument` (direct actions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeAlias

from hlrebal.errors import TargetFileError
from hlrebal.inputs import STDIN, TARGETS_LIMIT, decode_text, read_limited
from hlrebal.targets.actions import ActionDocument, actions_from_doc
from hlrebal.targets.common import err, json_type, load_json
from hlrebal.targets.weights import Targets, weights_from_doc

#: what a target document is: weights, or direct actions
Document: TypeAlias = Targets | ActionDocument

STDIN_SOURCE = "<stdin>"


def parse_document(text: str, source: str = "<targets>") -> Document:
    """Parse and validate a target or direct-action document (no market checks)."""
    if not text.strip():
        what = "standard input is empty" if source == STDIN_SOURCE else "the file is empty"
        raise err(source, "", what + '; write e.g. {"target_allocation": {"BTC": 0.5, "USDC": 0.5}}')
    doc = load_json(text, source)
    return document_from_json(doc, text, source)


def document_from_json(doc: Any, text: str, source: str) -> Document:
    """Validate a document already read as JSON (``text`` is what its hash is taken over)."""
    if not isinstance(doc, dict):
        raise err(source, "", f"must be a JSON object, not {json_type(doc)}")
    if "actions" in doc:
        if "target_allocation" in doc:
            raise err(
                source,
                "actions",
                "target_allocation and actions were both given; a document holds weights or direct actions, not both",
            )
        return actions_from_doc(doc, text, source)
    return weights_from_doc(doc, text, source)


def mapping_text(mapping: Mapping[str, Any], source: str = "<mapping>") -> str:
    """The JSON text of a document given as Python values (Decimals written exactly, as numbers)."""
    marks: dict[str, str] = {}

    def encode(value: Any) -> Any:
        if isinstance(value, Decimal):
            mark = f"\x00{len(marks)}\x00"
            marks[mark] = format(value, "f") if value.is_finite() else str(value)
            return mark
        raise TypeError(f"{type(value).__name__} is not a JSON value")

    try:
        text = json.dumps(mapping, default=encode)
    except (TypeError, ValueError) as e:
        raise err(source, "", f"cannot be a document: {e}") from None
    for mark, literal in marks.items():
        text = text.replace(json.dumps(mark), literal)
    return text


def parse_targets(text: str, source: str = "<targets>") -> Targets:
    """Parse and validate a target allocation (weights only; no market checks)."""
    return _weights_only(parse_document(text, source))


def read_document_text(path: str | Path, *, extract: bool = False) -> tuple[str, str]:
    """The text of a document file (or of standard input for ``-``) and the name messages use;
    with ``extract`` the one JSON object of a free-text answer. At most 1 MiB is read."""
    source = STDIN_SOURCE if str(path) == STDIN else str(path)
    raw = read_limited(path, what="target file", limit=TARGETS_LIMIT, error=TargetFileError)
    text = decode_text(raw, source, TargetFileError)
    if extract:
        from hlrebal.targets.extract import extract_json  # only for --extract-json

        text = extract_json(text, source)
    return text, source


def load_document(path: str | Path, *, extract: bool = False) -> Document:
    """Read and validate a target or direct-action document. Raises :class:`TargetFileError` (exit 2).

    ``-`` reads standard input; ``extract`` takes the one JSON object of an LLM's free-text answer.
    Only regular files (or stdin) of at most 1 MiB are read (see :mod:`hlrebal.inputs`).
    """
    text, source = read_document_text(path, extract=extract)
    return parse_document(text, source)


def load_targets(path: str | Path, *, extract: bool = False) -> Targets:
    """Read and validate a target allocation (weights). Raises :class:`TargetFileError` (exit 2),
    also for a direct-action document (a command that needs weights cannot use one)."""
    return _weights_only(load_document(path, extract=extract))


def _weights_only(document: Document) -> Targets:
    if isinstance(document, ActionDocument):
        raise err(
            document.source,
            "actions",
            "this needs target weights (target_allocation); a direct-action document can be planned and "
            "executed, not used here",
        )
    return document
