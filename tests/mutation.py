"""Mutation testing of one module group with the tests that cover it (mutmut 3, in the dev extra).

    python tests/mutation.py planner            # mutate hlrebal/planner/*, run the planner's tests
    python tests/mutation.py market --show      # ... then print every surviving mutant's diff
    python tests/mutation.py market NAME...     # test these mutants again (after adding tests)
    python tests/mutation.py keys --fresh       # forget the cached results: test every mutant

Each run works in a scratch copy of the project (``/tmp/hlrebal-mutation-GROUP``) with a
``[tool.mutmut]`` section naming the group's modules and tests, so that the checkout stays clean
and groups can run side by side. It prints the mutmut summary and the score: killed / (killed +
survived), timeouts counted as killed (a mutant that makes a test hang is caught) and mutants no
selected test runs counted as survivors (nothing would catch them). Survivors judged
equivalent are listed, with the reason, in ``tests/mutation_equivalents.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GOLDEN = "tests/test_golden_plans.py::test_plan_document_is_byte_identical_to_its_golden"


def golden_subset() -> list[str]:
    """One golden plan per snapshot and flag set (the target files taken in turn), and the demo's.

    The whole golden test (324 plans) costs about 25 s per mutant; these 36 about a ninth of it.
    """
    sys.path.insert(0, str(ROOT / "tests"))
    from golden_cases import FLAG_SETS, SNAPSHOTS, cases

    names = [name for name, _ in cases()]
    targets = sorted({name.split("__")[0] for name in names})
    chosen = [
        f"{targets[(i * len(FLAG_SETS) + j) % len(targets)]}__{snap}__{flags}"
        for i, snap in enumerate(SNAPSHOTS)
        for j, flags in enumerate(FLAG_SETS)
    ]
    chosen.append(f"{targets[0]}__demo__default")
    assert set(chosen) <= set(names), sorted(set(chosen) - set(names))
    return [f"{GOLDEN}[{name}]" for name in chosen]


#: the in-process execution tests (whole runs against the sim, over HTTP or its handler)
EXECUTION_TESTS = [
    "tests/test_execution_units.py",
    "tests/test_execution_golden.py",
    "tests/test_execution_records.py",
    "tests/test_execution_paths.py",
    "tests/test_execution_costs.py",
    "tests/test_execution_scope.py",
    "tests/test_execution_twap.py",
    "tests/test_execution_maker.py",
    "tests/test_execution_requests.py",
    "tests/test_execution_journal.py",
    "tests/test_execution_settings.py",
    "tests/test_execution_safety.py",
    "tests/test_twap_order_value.py",
    "tests/test_fee_estimate_scaled.py",
    "tests/test_spot_execute.py",
    "tests/test_execute.py",
    "tests/test_mutants_guards.py",
    "tests/test_mutants_execution.py",
]

#: group -> (modules to mutate, tests that cover them)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "market": (["hlrebal/market.py"], ["tests/test_market.py", "tests/test_planner.py", "tests/test_golden_plans.py"]),
    "planner": (
        ["hlrebal/planner/*"],
        [
            "tests/test_planner.py",
            "tests/test_planner_spot.py",
            "tests/test_planner_properties.py",
            "tests/test_planner_mutants.py",
            "tests/test_planner_actions.py",
            "golden subset",
        ],
    ),
    "targets": (
        ["hlrebal/targets/*", "hlrebal/inputs.py", "hlrebal/policy.py"],
        [
            "tests/test_targets.py",
            "tests/test_hostile_inputs.py",
            "tests/test_config.py",
            "tests/test_agent_documents.py",  # direct actions, notes and --extract-json
            "tests/test_mutants_extract.py",  # --extract-json word for word
        ],
    ),
    # Tests that leave child processes unreaped (test_review_execution) break mutmut's fork runner.
    "keys": (["hlrebal/keys.py"], ["tests/test_keys.py"]),
    # the value classes and the checked settings under every model: pydantic is their oracle
    "values": (
        ["hlrebal/values.py", "hlrebal/validation.py", "hlrebal/digest.py"],
        [
            "tests/test_validation.py",
            "tests/test_config.py",
            "tests/test_targets.py",
            "tests/test_execution_settings.py",
        ],
    ),
    # the simulator's record classes: dataclasses is their oracle
    "sim-records": (["hlrebal/sim/datarecord.py"], ["tests/sim/test_datarecord.py", "tests/sim/test_sim_state.py"]),
    # tables drawn as rich draws them, and the layouts that choose them: rich is their oracle
    "render-tables": (
        ["hlrebal/render/drawn.py", "hlrebal/render/layout.py"],
        ["tests/test_render_drawn.py", "tests/test_render_narrow.py", "tests/test_mutants_layout.py"],
    ),
    "journal": (
        ["hlrebal/journal.py"],
        ["tests/test_execution_journal.py", "tests/test_run_records.py"],
    ),
    # the guards and the run's preparation and conclusion alone: minutes, where the whole
    # execution group takes hours
    "guards": (
        ["hlrebal/execution/guards.py", "hlrebal/execution/preparation.py"],
        [
            "tests/test_execution_units.py",
            "tests/test_twap_order_value.py",
            "tests/test_fee_estimate_scaled.py",
            "tests/test_execution_paths.py",
            "tests/test_execution_golden.py",
        ],
    ),
    # The execution package in four rooms (with "guards" above, every module of it once): each
    # mutant runs only the in-process tests that reach its function, the sim's HTTP ones included.
    # Tests that drive a child process (crash, signals, the review's) see no mutant and are left out.
    "exec-core": (
        [
            "hlrebal/execution/engine.py",
            "hlrebal/execution/models.py",
            "hlrebal/execution/costs.py",
            "hlrebal/execution/readback.py",
            "hlrebal/execution/preflight.py",
            "hlrebal/execution/__init__.py",
            "hlrebal/execution_settings.py",
        ],
        EXECUTION_TESTS,
    ),
    "exec-orders": (
        [
            "hlrebal/execution/orders.py",
            "hlrebal/execution/scope.py",
            "hlrebal/execution/transfers.py",
            "hlrebal/execution/safety.py",
        ],
        EXECUTION_TESTS,
    ),
    "exec-maker": (
        ["hlrebal/execution/maker.py", "hlrebal/execution/style.py", "hlrebal/execution/taker.py"],
        EXECUTION_TESTS,
    ),
    "exec-twap": (["hlrebal/execution/twap.py", "hlrebal/execution/reconciliation.py"], EXECUTION_TESTS),
}


def scratch_copy(group: str, tests: list[str] | None = None, *, fresh: bool = False) -> Path:
    work = Path(f"/tmp/hlrebal-mutation-{group}")
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    if work.exists():
        # Keep mutmut's cache (mutants/) between runs of the same group; refresh the sources.
        for name in ("hlrebal", "tests", "sample_targets", "docs"):
            shutil.rmtree(work / name, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("hlrebal", "tests", "sample_targets", "docs"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    modules, default_tests = GROUPS[group]
    # Each group's tests, and the tests written against its survivors (tests/test_mutants_GROUP.py).
    tests = tests or [*default_tests, f"tests/test_mutants_{group.replace('-', '_')}.py"]
    if "golden subset" in tests:
        tests = [t for t in tests if t != "golden subset"] + golden_subset()
    tests = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    config = (ROOT / "pyproject.toml").read_text()
    config = re.sub(r"\[tool\.mutmut\].*?(?=\n\[)", "", config, flags=re.S)
    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["hlrebal"]\n'
        f"only_mutate = {modules!r}\n"
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
        'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]\n'
        'also_copy = ["sample_targets", "docs"]\n'
    ).replace("'", '"')
    (work / "pyproject.toml").write_text(config)
    return work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("group", choices=sorted(GROUPS))
    parser.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--tests", nargs="+", help="cover the group with these tests instead of its own")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results: test every mutant again")
    parser.add_argument("mutants", nargs="*", help="test only these mutants again (names as printed)")
    # intermixed: `GROUP NAME... --max-children 1` and `--max-children 1 GROUP NAME...` both work
    args = parser.parse_intermixed_args()
    work = scratch_copy(args.group, args.tests, fresh=args.fresh)
    mutmut = [sys.executable, "-m", "mutmut"]
    # Every surviving mutant runs all its tests: the planner's properties draw fewer examples here.
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation", "PLANNER_EXAMPLES": os.environ.get("PLANNER_EXAMPLES", "60")}
    run = [*mutmut, "run", "--max-children", str(args.max_children), *args.mutants]
    subprocess.run(run, cwd=work, check=False, env=env)
    results = subprocess.run(
        [*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=False
    ).stdout
    counts: dict[str, int] = {}
    survivors: list[str] = []
    tested: set[str] = set()
    for line in results.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        counts[status] = counts.get(status, 0) + 1
        if status != "no tests":
            tested.add(name)
        if status in ("survived", "no tests"):
            survivors.append(name)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    total = killed + counts.get("survived", 0) + counts.get("no tests", 0)
    print(f"{args.group}: {counts}")
    if total:
        print(f"{args.group}: mutation score {killed}/{total} = {100 * killed / total:.1f}%")
    for name in survivors:
        print(f"  survived: {name}" + ("" if name in tested else " (no tests)"))
        if args.show:
            diff = subprocess.run([*mutmut, "show", name], cwd=work, capture_output=True, text=True).stdout
            print(diff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
