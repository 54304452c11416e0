"""Shared test set-up: every test runs with its own hlrebal home and a clean HLREBAL_* environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point config, data and state at a temporary folder; drop any HLREBAL_* the developer has set."""
    for name in list(os.environ):
        if name.startswith("HLREBAL_"):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("hlrebal-home")
    monkeypatch.setenv("HLREBAL_HOME", str(home))
    return home
