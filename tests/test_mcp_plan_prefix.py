"""execute_plan takes the plan_hash, or a unique prefix of it as long as the one the plan table shows."""

from __future__ import annotations

from typing import Any

import pytest

from hlrebal.errors import BadInputError
from hlrebal.mcp.desk import Desk

A = "ab12" * 16
B = "ab12" * 3 + "ff" + "0" * 50  # shares A's first 12 digits


def desk(*hashes: str) -> Desk:
    d = Desk(allow_execute=True)
    d.plans.update({h: f"plan {h[:4]}" for h in hashes})  # type: ignore[misc]
    return d


def test_the_whole_hash_and_a_unique_prefix_of_12_or_more_name_the_plan() -> None:
    d = desk(A, B)
    assert d.approved(A) == d.plans[A]
    assert d.approved(" " + A.upper() + " ") == d.plans[A]
    assert d.approved(A[:16]) == d.plans[A]
    assert d.approved(B[:14]) == d.plans[B]


@pytest.mark.parametrize(("given", "said"), [(A[:12], "starts 2 plans"), (A[:11], "no plan with plan_hash")])
def test_an_ambiguous_or_short_prefix_is_refused(given: str, said: str) -> None:
    with pytest.raises(BadInputError, match=said):
        desk(A, B).approved(given)


def test_a_unique_short_prefix_is_still_too_short() -> None:
    d: Any = desk(A)
    with pytest.raises(BadInputError, match="no plan with plan_hash"):
        d.approved(A[:8])
