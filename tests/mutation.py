"""Mutation testing of one module group with the tests that cover it (mutmut 3, in the dev extra).

    python tests/mutation.py planner            # mutate hlrebal/planner/*, run the planner's tests
    python tests/mutation.py market --show      # ... then print every surviving mutant's diff

Each run works in a scratch copy of the project (``/tmp/hlrebal-mutation-GROUP``) with a
``[tool.mutmut]`` section naming the group's modules and tests, so that the checkout stays clean
and groups can run side by side. It prints the mutmut summary and the score: killed / (killed +
survived), timeouts counted as killed (a mutant that makes a test hang is caught). Survivors judged
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
            "tests/test_golden_plans.py",
        ],
    ),
    "targets": (
        ["hlrebal/targets/", "hlrebal/inputs.py", "hlrebal/policy.py"],
        ["tests/test_targets.py", "tests/test_hostile_inputs.py", "tests/test_config.py"],
    ),
    "keys": (["hlrebal/keys.py"], ["tests/test_keys.py", "tests/test_review_execution.py"]),
    "journal": (
        ["hlrebal/journal.py"],
        ["tests/test_journal.py", "tests/test_run_records.py", "tests/test_execute.py"],
    ),
    "execution": (
        ["hlrebal/execution/*", "hlrebal/executor.py"],
        ["tests/test_execute.py", "tests/test_review_execution.py", "tests/test_spot_execute.py"],
    ),
}


def scratch_copy(group: str) -> Path:
    work = Path(f"/tmp/hlrebal-mutation-{group}")
    if work.exists():
        # Keep mutmut's cache (mutants/) between runs of the same group; refresh the sources.
        for name in ("hlrebal", "tests", "sample_targets"):
            shutil.rmtree(work / name, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("hlrebal", "tests", "sample_targets"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    modules, tests = GROUPS[group]
    tests = [t for t in tests if (ROOT / t).exists()]
    config = (ROOT / "pyproject.toml").read_text()
    config = re.sub(r"\[tool\.mutmut\].*?(?=\n\[)", "", config, flags=re.S)
    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["hlrebal"]\n'
        f"only_mutate = {modules!r}\n"
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
        'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-x"]\n'
        'also_copy = ["sample_targets"]\n'
    ).replace("'", '"')
    (work / "pyproject.toml").write_text(config)
    return work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("group", choices=sorted(GROUPS))
    parser.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    work = scratch_copy(args.group)
    mutmut = [sys.executable, "-m", "mutmut"]
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation"}
    subprocess.run([*mutmut, "run", "--max-children", str(args.max_children)], cwd=work, check=False, env=env)
    results = subprocess.run(
        [*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=False
    ).stdout
    counts: dict[str, int] = {}
    survivors: list[str] = []
    for line in results.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        counts[status] = counts.get(status, 0) + 1
        if status == "survived":
            survivors.append(name)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    total = killed + counts.get("survived", 0)
    print(f"{args.group}: {counts}")
    if total:
        print(f"{args.group}: mutation score {killed}/{total} = {100 * killed / total:.1f}%")
    for name in survivors:
        print(f"  survived: {name}")
        if args.show:
            diff = subprocess.run([*mutmut, "show", name], cwd=work, capture_output=True, text=True).stdout
            print(diff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
