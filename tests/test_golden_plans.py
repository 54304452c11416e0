"""Plans do not change by accident: every sample target, planned on the demo and on saved snapshots
under several policies, gives exactly the document recorded in tests/data/golden/.

A change that is meant to change plans regenerates the files (``python tests/golden_cases.py``) and
says why in its commit.
"""

from __future__ import annotations

import pytest

from golden_cases import GOLDEN, cases, golden_text, run_case

CASES = cases()


def test_every_case_has_a_golden_document() -> None:
    missing = [name for name, _ in CASES if not (GOLDEN / f"{name}.json").exists()]
    assert not missing, f"run python tests/golden_cases.py: {missing[:5]}"


@pytest.mark.parametrize(("name", "args"), CASES, ids=[name for name, _ in CASES])
def test_plan_document_is_byte_identical_to_its_golden(name: str, args: list[str]) -> None:
    code, doc = run_case(args)
    assert golden_text(code, doc) == (GOLDEN / f"{name}.json").read_text()
