#!/usr/bin/env python3
"""Mutation testing of the safety-critical modules (docs/mutation-testing.md).

For each module named (default: all of MODULES), Cosmic Ray plants one small defect at a time
(an operator swapped, a comparison turned, a constant changed, a statement removed, ...) and
runs that module's own tests; a mutant the tests do not fail on "survived". Prints the kill
rate per module and every surviving mutant as a diff.

It works on a copy of the repository in a temporary directory (the mutants are written to the
files on disk), imported first through PYTHONPATH, so the working tree is never touched and
other test runs may go on meanwhile. Slow (a test run per mutant): not part of CI. One module
at a time, one test process at a time.

    pip install -e '.[dev,mutate]'
    scripts/mutate --list
    scripts/mutate basic_auth api_auth          # a few modules
    scripts/mutate groupcommit --timeout 120    # seconds per test run (default 60)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    path: str
    tests: tuple[str, ...]


MODULES: dict[str, Target] = {
    "ocppj_frames": Target("src/csms/ocppj/frames.py", ("tests/ocppj",)),
    "ocppj_session": Target("src/csms/ocppj/session.py", ("tests/ocppj", "tests/transport")),
    "router": Target(
        "src/csms/features/router.py",
        (
            "tests/transport/test_rpc.py",
            "tests/features/test_router.py",
            "tests/features/test_edges.py",
            # BootNotification Pending, then what the CSMS triggered (router line 76).
            "tests/conformance/test_extra_scenarios.py",
        ),
    ),
    "admission": Target(
        "src/csms/features/admission.py",
        ("tests/transport/test_handshake.py", "tests/transport/test_basic_auth_cache.py"),
    ),
    "basic_auth": Target(
        "src/csms/transport/basic_auth.py",
        ("tests/transport/test_basic_auth_cache.py", "tests/transport/test_handshake.py"),
    ),
    "groupcommit": Target(
        "src/csms/storage/groupcommit.py",
        (
            "tests/storage/test_group_commit.py",
            "tests/storage/test_commit_before_answer.py",
            "tests/storage/test_durability.py",
        ),
    ),
    "authorization": Target(
        "src/csms/features/authorization.py",
        (
            "tests/features/core/test_core.py",
            "tests/features/test_edges.py",
            "tests/conformance/test_core_authorization.py",
        ),
    ),
    "core": Target(
        "src/csms/features/core/handlers.py",
        (
            "tests/features/core/test_core.py",
            "tests/features/core/test_start_transaction_answers.py",
            "tests/conformance/test_core_charging_sessions.py",
        ),
    ),
    "smart_charging": Target(
        "src/csms/features/smart_charging/commands.py",
        (
            "tests/features/smart_charging/test_charging_profiles.py",
            "tests/features/test_edges.py",
            "tests/conformance/test_smart_charging.py",
        ),
    ),
    "charging_profiles": Target(
        "src/csms/features/smart_charging/profiles.py",
        ("tests/features/smart_charging/test_charging_profiles.py", "tests/features/test_edges.py"),
    ),
    "load_management": Target(
        "src/csms/features/load_management/worker.py",
        (
            "tests/features/load_management/test_safety.py",
            "tests/features/load_management/test_load_management.py",
        ),
    ),
    "allocation": Target(
        "src/csms/smart_charging/allocation.py",
        (
            "tests/smart_charging/test_allocation.py",
            "tests/features/load_management/test_safety.py",
        ),
    ),
    "load_allocation": Target(
        "src/csms/features/load_management/allocation.py",
        (
            "tests/features/load_management/test_safety.py",
            "tests/features/load_management/test_load_management_allocation.py",
        ),
    ),
    "load_send": Target(
        "src/csms/features/load_management/send.py",
        (
            "tests/features/load_management/test_load_management.py",
            "tests/features/load_management/test_safety.py",
        ),
    ),
    "local_list_plan": Target(
        "src/csms/features/local_list/plan.py",
        ("tests/features/local_list/test_local_auth_list_plan.py",),
    ),
    "api_auth": Target("src/csms/api/auth.py", ("tests/api/test_auth_every_route.py",)),
}

_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.sqlite"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="names from --list (default: all)")
    parser.add_argument("--list", action="store_true", help="the modules and their tests")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per test run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    args = parser.parse_args()
    if args.list:
        for name, target in MODULES.items():
            print(f"{name:16} {target.path}  <- {' '.join(target.tests)}")
        return 0
    unknown = [name for name in args.modules if name not in MODULES]
    if unknown:
        parser.error(f"unknown modules {unknown}; see --list")
    cosmic_ray = shutil.which("cosmic-ray", path=str(Path(sys.executable).parent))
    if cosmic_ray is None:
        parser.error("cosmic-ray is not installed: pip install -e '.[dev,mutate]'")
    header = "module           mutants  killed  survived  other  kill rate  minutes"
    summaries = []
    for name in args.modules or list(MODULES):
        summaries.append(run(name, MODULES[name], cosmic_ray, args.timeout, args.keep))
        print(f"{header}\n{summaries[-1]}", flush=True)  # each module's figures as it ends
    print(f"\n{header}")
    for line in summaries:
        print(line)
    return 0


def run(name: str, target: Target, cosmic_ray: str, timeout: float, keep: bool) -> str:
    started = time.monotonic()
    copy = Path(tempfile.mkdtemp(prefix=f"mutate-{name}-"))
    try:
        shutil.copytree(ROOT, copy, dirs_exist_ok=True, ignore=_IGNORE)
        tests = " ".join(target.tests)
        config = copy / "cosmic-ray.toml"
        config.write_text(
            "[cosmic-ray]\n"
            f'module-path = "{target.path}"\n'
            f"timeout = {timeout}\n"
            "excluded-modules = []\n"
            f'test-command = "{sys.executable} -m pytest -x -q -p no:cacheprovider {tests}"\n'
            "\n[cosmic-ray.distributor]\n"
            'name = "local"\n'
        )
        session = copy / "session.sqlite"
        env = {**_environment(), "PYTHONPATH": str(copy / "src")}
        for command in (["init", str(config), str(session)], ["exec", str(config), str(session)]):
            subprocess.run([cosmic_ray, *command], cwd=copy, env=env, check=True)
        dump = subprocess.run(
            [cosmic_ray, "dump", str(session)],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        source = (copy / target.path).read_text().splitlines()
        return report(name, target, dump, source, time.monotonic() - started)
    finally:
        if keep:
            print(f"kept {copy}")
        else:
            shutil.rmtree(copy, ignore_errors=True)


def _in_annotation(source: list[str], mutation: dict[str, Any]) -> bool:
    """A `|` of a type annotation on a def line: never evaluated (the modules use `from
    __future__ import annotations`), so its mutants are equivalent."""
    line = source[mutation["start_pos"][0] - 1].lstrip()
    return mutation["operator_name"].startswith("core/ReplaceBinaryOperator_BitOr") and (
        line.startswith(("def ", "async def ")) or line.startswith(")")
    )


def report(name: str, target: Target, dump: str, source: list[str], seconds: float) -> str:
    killed = survived = other = 0
    survivors: list[str] = []
    for line in dump.splitlines():
        if not line.strip():
            continue
        item, result = json.loads(line)
        outcome = (result or {}).get("test_outcome")
        if outcome == "killed":
            killed += 1
        elif outcome == "survived":
            (mutation,) = item["mutations"]
            if _in_annotation(source, mutation):
                other += 1
                continue
            survived += 1
            where = f"{target.path}:{mutation['start_pos'][0]} {mutation['operator_name']}"
            survivors.append(f"--- survived: {where}\n{result.get('diff', '').strip()}")
        else:  # incompetent (the mutant cannot even be imported) or not run
            other += 1
    total = killed + survived + other
    rate = killed / (killed + survived) if killed + survived else 0.0
    print(f"\n=== {name}: {target.path} ({' '.join(target.tests)})")
    for survivor in survivors:
        print(survivor)
    sys.stdout.flush()
    return (
        f"{name:16} {total:7d} {killed:7d} {survived:9d} {other:6d} {rate:9.1%} {seconds / 60:8.1f}"
    )


def _environment() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


if __name__ == "__main__":
    sys.exit(main())
