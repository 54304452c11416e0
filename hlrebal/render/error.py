"""An error as a JSON document."""

from __future__ import annotations

from typing import Any


def error_json(kind: str, message: str, exit_code: int, hint: str | None = None) -> dict[str, Any]:
    """An error as a JSON document (``--json``), with the same exit code as the process."""
    doc: dict[str, Any] = {"version": 1, "kind": "error", "error": kind, "message": message, "exit_code": exit_code}
    if hint:
        doc["hint"] = hint
    return doc
