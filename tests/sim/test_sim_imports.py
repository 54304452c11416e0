"""The simulator stays apart from the client side, and importing it stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).parents[2] / "hlrebal" / "sim"
ALLOWED_ROOTS = {"hlrebal.sim", "hyperliquid.utils.signing", "hyperliquid.utils", "eth_account", "msgpack"}


def test_importing_the_sim_loads_neither_the_sdk_nor_eth_account() -> None:
    code = (
        "import sys, hlrebal.sim;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('hyperliquid', 'eth_account', 'requests')"
        " or m in ('hlrebal.planner', 'hlrebal.market', 'hlrebal.snapshot', 'hlrebal.targets', 'hlrebal.cli',"
        " 'hlrebal.exchange', 'hlrebal.executor', 'hlrebal.execution')];"
        "print(','.join(sorted(bad)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_sim_modules_import_only_the_stdlib_the_sim_and_signing_helpers() -> None:
    stdlib = sys.stdlib_module_names
    for path in SIM.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                allowed = (
                    root in stdlib
                    or root == "__future__"
                    or any(name == a or name.startswith(a + ".") for a in ALLOWED_ROOTS)
                )
                assert allowed, f"{path.name} imports {name}"
