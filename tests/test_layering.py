"""The house's layering, checked by reading the source with ``ast`` (nothing is imported).

``ROOMS`` is the rule book, one row per room of ``hlrebal/``: the rooms of hlrebal it may import
(besides its own, and the package face ``hlrebal`` with its version), what it must never import, and
why. A module belongs to the longest room its dotted name starts with (``hlrebal.cli.plan`` is in
``cli``). Every import counts, also one inside a function or under ``TYPE_CHECKING``: a lazy import
is still a dependency. On top of the rows, three rules hold for the whole house (see the tests):
only ``exchange`` imports the SDK or eth_account on the client side; the simulator imports only
itself, the standard library and the SDK's signing helpers; nothing below the CLI imports it.

A new room (a module or package under ``hlrebal/``) needs a row here and a line in the README's
module map; ``test_every_module_belongs_to_a_room`` says so when one is missing.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hlrebal"

#: the standard library's input and output, the network and the clock: a pure room imports none
NO_IO = (
    "os", "io", "pathlib", "shutil", "tempfile", "subprocess", "socket", "http", "urllib", "requests",
    "time", "datetime", "random", "secrets",
)  # fmt: skip
#: the same, with paths allowed: a value may hold a Path (a journal's, a key file's) without touching it
NO_IO_BUT_PATHS = tuple(m for m in NO_IO if m != "pathlib")
#: the Hyperliquid SDK and the signing library
SDK = ("hyperliquid", "eth_account")
#: what the simulator may import from outside itself (beside the standard library)
SIM_OUTSIDE = ("hyperliquid.utils.signing", "eth_account", "msgpack")


@dataclass(frozen=True)
class Room:
    name: str
    """``errors`` for ``hlrebal.errors`` (a module) or ``cli`` for ``hlrebal.cli.*`` (a package)."""
    may_import: str
    """The rooms of hlrebal it may import, space-separated; ``*`` for any."""
    never: tuple[str, ...] = ()
    """Modules it must not import (each with everything under it)."""
    why: str = ""


# fmt: off
ROOMS: tuple[Room, ...] = (
    #     room       may import (rooms of hlrebal)                                     never
    Room("errors",   "",                                                               NO_IO,
         why="the bottom: every room raises these, so they import nothing"),
    Room("market",   "errors",                                                         NO_IO,
         why="exchange rules per asset (rounding, minimum value, fees): arithmetic only"),
    Room("digest",   "",                                                               NO_IO,
         why="SHA-256 of text, without hashlib's OpenSSL start-up"),
    Room("values",   "",                                                               (*NO_IO_BUT_PATHS, "pydantic"),
         why="frozen value classes (the models' base): no pydantic, no I/O, nothing of hlrebal"),
    Room("validation", "values",                                                       NO_IO_BUT_PATHS,
         why="checked settings: pydantic's conversions and messages without its import (it only builds "
             "the schema's model, imported there)"),
    Room("policy",   "errors market validation values",                                NO_IO,
         why="the planner's knobs, validated: values only"),
    Room("inputs",   "errors",                                                         (),
         why="untrusted files and text: read and parsed within limits, shown escaped"),
    Room("targets",  "digest errors inputs market policy validation values",                                    (),
         why="target documents: loading, validation, JSON schema"),
    Room("snapshot", "errors inputs market values",                                           (),
         why="account and market parsed from raw info responses (a file at most, never the network)"),
    Room("config",   "errors execution_settings inputs market policy validation values",                 (),
         why="settings from flags, the environment and a TOML file"),
    Room("keys",     "errors",                                                         (),
         why="signing keys from files and the environment"),
    Room("journal",  "errors",                                                         (),
         why="the append-only record of every run, and the run lock"),
    Room("planner",  "errors market policy snapshot targets values",                          NO_IO,
         why="pure: one snapshot, targets and policy give one plan; no I/O, no clock, nothing above it"),
    Room("exchange", "errors keys market snapshot",                                    (),
         why="the client side's one door to the SDK and eth_account"),
    Room("execution_settings", "validation values",                                                     NO_IO,
         why="how patient a run is: the execution style and its timers; values only"),
    Room("execution", "errors exchange execution_settings journal market planner policy snapshot targets", (),
         why="runs a plan through an exchange: one module per style, shared bookkeeping; prints nothing"),
    Room("executor", "execution",                                                      (),
         why="the executor's former home, re-exporting hlrebal.execution for older imports"),
    Room("demo",     "config digest errors exchange keys sim snapshot",                       (),
         why="the demo paper account: the simulator, in-process"),
    Room("session",  "config demo errors exchange keys snapshot",                      (),
         why="where the account comes from: a file, the demo or an endpoint"),
    Room("render",   "backtest digest errors execution market planner policy snapshot targets", (),
         why="renderables and JSON documents of the models; prints nothing and never reaches for the CLI"),
    Room("approval", "errors inputs market planner policy render snapshot targets",    (),
         why="plan files: a plan with the account state it was made from, checked before execution"),
    Room("runner",   "approval config errors execution execution_settings journal planner policy render "
                     "session snapshot targets", (),
         why="one execution run from start to end, for whoever drives it"),
    Room("backtest", "config errors exchange market planner policy session snapshot targets validation", (),
         why="replays a policy over a history with the planner that trades live; fetches histories"),
    Room("api",      "approval config errors execution planner policy render runner session snapshot targets", (),
         why="the library surface for agents and scripts: load, read, plan, execute; prints nothing"),
    Room("mcp",      "api approval config errors journal planner render runner session targets", (),
         why="the MCP server: the library's tools for LLM clients; the SDK imported only when it serves"),
    Room("cli",      "*",                                                              (),
         why="the top: the only room that prints, prompts and sets exit codes"),
    Room("__main__", "cli",                                                            (),
         why="python -m hlrebal"),
    Room("sim",      "",                                                               (),
         why="an exchange written from the exchange's rules, never from the client's helpers"),
)
# fmt: on
BY_NAME = {room.name: room for room in ROOMS}


@dataclass(frozen=True)
class Import:
    where: str
    """``hlrebal/cli/plan.py:12``"""
    module: str
    """The importing module, e.g. ``hlrebal.cli.plan``."""
    name: str
    """What it imports, dotted: ``hlrebal.snapshot.Snapshot`` for ``from hlrebal.snapshot import Snapshot``."""

    def __str__(self) -> str:
        return f"{self.where}: {self.module} imports {self.name}"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import statement of one file under ``root``, anywhere in it, relative imports made absolute."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(f"{path.relative_to(root)}:{node.lineno}", module, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            where = f"{path.relative_to(root)}:{node.lineno}"
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                yield Import(where, module, base if alias.name == "*" else f"{base}.{alias.name}")


def within(dotted: str, prefix: str) -> bool:
    return dotted == prefix or dotted.startswith(prefix + ".")


def room_of(dotted: str) -> str | None:
    """The room a module or imported name of hlrebal lives in (the longest row that prefixes it)."""
    found = [r.name for r in ROOMS if within(dotted, f"hlrebal.{r.name}")]
    return max(found, key=len) if found else None


# --------------------------------------------------------------------------- the checks


def outside_its_row(imports: list[Import]) -> list[str]:
    """Imports of rooms of hlrebal that the importer's row does not list."""
    broken = []
    for imp in imports:
        home = room_of(imp.module)
        if home is None or not within(imp.name, "hlrebal"):
            continue
        target, allowed = room_of(imp.name), BY_NAME[home].may_import.split()
        if target is None or target == home or "*" in allowed or target in allowed:
            continue  # the package face (``from hlrebal import __version__``), its own room, or one it may use
        may = f"may import only {', '.join(allowed)}" if allowed else "may import nothing else of hlrebal"
        broken.append(f"{imp}: the room {home} {may} ({BY_NAME[home].why})")
    return broken


def forbidden_by_its_row(imports: list[Import]) -> list[str]:
    """Imports the importer's row names under ``never``."""
    broken = []
    for imp in imports:
        room = BY_NAME.get(room_of(imp.module) or "")
        if room is None:
            continue
        for banned in room.never:
            if within(imp.name, banned):
                broken.append(f"{imp}: the room {room.name} never imports {banned} ({room.why})")
    return broken


def sdk_outside_the_exchange(imports: list[Import]) -> list[str]:
    """The SDK or eth_account imported on the client side anywhere but hlrebal/exchange/."""
    return [
        f"{imp}: only hlrebal/exchange/ imports the SDK or eth_account on the client side"
        " (the SDK stays behind one door: go through hlrebal.exchange)"
        for imp in imports
        if any(within(imp.name, sdk) for sdk in SDK) and room_of(imp.module) not in ("exchange", "sim")
    ]


def sim_reaching_out(imports: list[Import]) -> list[str]:
    """Simulator imports of anything but itself, the standard library and the SDK's signing helpers."""
    broken = []
    for imp in imports:
        if room_of(imp.module) != "sim" or within(imp.name, "hlrebal.sim"):
            continue
        root = imp.name.split(".")[0]
        if root in sys.stdlib_module_names or any(within(imp.name, a) for a in SIM_OUTSIDE):
            continue
        broken.append(
            f"{imp}: the simulator imports only hlrebal.sim, the standard library and {', '.join(SIM_OUTSIDE)}"
            f" ({BY_NAME['sim'].why})"
        )
    return broken


def cli_imported_below_it(imports: list[Import]) -> list[str]:
    """hlrebal.cli imported by anything but the CLI itself and ``python -m hlrebal``."""
    return [
        f"{imp}: nothing below the CLI imports hlrebal.cli (the library prints nothing and never exits)"
        for imp in imports
        if within(imp.name, "hlrebal.cli") and room_of(imp.module) not in ("cli", "__main__")
    ]


CHECKS = (outside_its_row, forbidden_by_its_row, sdk_outside_the_exchange, sim_reaching_out, cli_imported_below_it)
MODULES = sorted(PACKAGE.rglob("*.py"))
IMPORTS = [imp for path in MODULES for imp in imports_of(path, PACKAGE.parent)]


# --------------------------------------------------------------------------- the tests


def test_every_module_belongs_to_a_room() -> None:
    names = [module_name(p, PACKAGE.parent) for p in MODULES if p != PACKAGE / "__init__.py"]
    homeless = [name for name in names if room_of(name) is None]
    assert not homeless, (
        f"{homeless} belong to no room of ROOMS in tests/test_layering.py: add a row (what the room owns and "
        "which rooms it may import) and a line in the README's module map"
    )


def test_every_row_names_a_room_that_exists() -> None:
    missing = [r.name for r in ROOMS if not (PACKAGE / f"{r.name}.py").exists() and not (PACKAGE / r.name).is_dir()]
    unknown = sorted({n for r in ROOMS for n in r.may_import.split() if n != "*" and n not in BY_NAME})
    assert not missing, f"rows of ROOMS name rooms that are not in hlrebal/: {missing}; rename or drop them"
    assert not unknown, f"may_import names rooms without a row: {unknown}"


def test_each_room_imports_only_the_rooms_its_row_allows() -> None:
    broken = outside_its_row(IMPORTS)
    assert not broken, "\n".join(broken)


def test_no_room_imports_what_its_row_forbids() -> None:
    broken = forbidden_by_its_row(IMPORTS)
    assert not broken, "\n".join(broken)


def test_only_the_exchange_imports_the_sdk_on_the_client_side() -> None:
    broken = sdk_outside_the_exchange(IMPORTS)
    assert not broken, "\n".join(broken)


def test_the_sim_imports_only_itself_the_stdlib_and_the_signing_helpers() -> None:
    broken = sim_reaching_out(IMPORTS)
    assert not broken, "\n".join(broken)


def test_nothing_below_the_cli_imports_it() -> None:
    broken = cli_imported_below_it(IMPORTS)
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("file", "source", "rule"),
    [
        ("planner/fund.py", "import time\n", "the room planner never imports time"),
        ("planner.py", "from hlrebal.session import connect\n", "the room planner may import only"),
        ("market.py", "from .planner import plan\n", "the room market may import only errors"),
        ("render/plan.py", "def f() -> None:\n    from hlrebal.cli.common import fail\n", "nothing below the CLI"),
        ("session.py", "if TYPE_CHECKING:\n    from hyperliquid.info import Info\n", "only hlrebal/exchange/"),
        ("sim/engine.py", "from hlrebal.snapshot import Snapshot\n", "the simulator imports only"),
        ("sim/auth.py", "import requests\n", "the simulator imports only"),
    ],
)
def test_a_planted_violation_is_caught_with_the_module_the_import_and_the_rule(
    file: str, source: str, rule: str, tmp_path: Path
) -> None:
    path = tmp_path / "hlrebal" / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    planted = list(imports_of(path, tmp_path))
    messages = [m for check in CHECKS for m in check(planted)]
    imp = planted[0]
    assert any(rule in m and f"{imp.module} imports {imp.name}" in m for m in messages), messages
