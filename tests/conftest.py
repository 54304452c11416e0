"""Shared test set-up: every test runs with its own hlrebal home and a clean HLREBAL_* environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# Mutation runs (tests/mutation.py) run the same tests many times from mutmut's own runner: the
# same examples every time, no example database, and no complaint about the changed executor.
settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point config, data and state at a temporary folder; drop any HLREBAL_* the developer has set."""
    for name in list(os.environ):
        if name.startswith("HLREBAL_"):
            monkeypatch.delenv(name)
    # Piped results follow COLUMNS: a terminal's (or CI's) width must not change what tests read.
    monkeypatch.delenv("COLUMNS", raising=False)
    home = tmp_path_factory.mktemp("hlrebal-home")
    monkeypatch.setenv("HLREBAL_HOME", str(home))
    return home
