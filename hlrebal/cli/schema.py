"""``hlrebal schema``: the JSON Schema of a target file, for editors and validators."""

from __future__ import annotations

import sys


def schema() -> None:
    """Print the JSON Schema of a target file."""
    import json

    from hlrebal.targets import schema as target_schema

    sys.stdout.write(json.dumps(target_schema(), indent=2) + "\n")
