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
    scripts/mutate core --sample 60             # 60 of the module's mutants, drawn at random

Mutants inside type annotations are never run: the modules use `from __future__ import
annotations`, so an annotation is never evaluated and its mutants (`X | None` turned `X - None`)
are equivalent; they are counted as "annotation". `--sample N` runs N mutants drawn with a fixed
seed (`--seed`) from the rest and counts the others as "not run": the kill rate is then that of
the sample. The script lowers its own priority (nice 19) before it starts.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    path: str
    tests: tuple[str, ...]
    # A pytest -k expression narrowing the tests (e.g. one backend where both test the same code).
    select: str = ""


MODULES: dict[str, Target] = {
    "ocppj_frames": Target("src/csms/ocppj/frames.py", ("tests/ocppj",)),
    "ocppj_session": Target("src/csms/ocppj/session.py", ("tests/ocppj", "tests/transport")),
    "router": Target(
        "src/csms/features/router.py",
        (
            "tests/transport/test_rpc.py",
            "tests/features/test_router.py",
            "tests/features/test_edges.py",
            # BootNotification Pending, then what the CSMS triggered; before acceptance.
            "tests/conformance/test_extra_scenarios.py::test_r_boot_01_no_remote_start_or_stop_while_pending",
            "tests/conformance/test_extra_scenarios.py::test_r_boot_03_requests_before_acceptance_get_security_error",
            # A CALL sent again gets its first answer (the replay memory the router consults).
            "tests/conformance/test_extra_scenarios.py::test_r_rpc_14_retransmitted_calls_with_the_same_message_id",
            "tests/field/test_replays.py::test_call_sent_again_gets_the_same_answer_and_is_done_once",
            "tests/field/test_replays.py::test_an_old_id_with_another_message_is_a_new_call",
            "tests/field/test_replays.py::test_only_a_boot_ends_what_was_answered",
            "tests/field/test_replays.py::test_a_call_refused_before_acceptance_is_handled_when_sent_again",
            "tests/field/test_replays.py::test_heartbeat_sent_again_gets_the_time_now",
        ),
    ),
    "admission": Target(
        "src/csms/features/admission.py",
        (
            "tests/transport/test_handshake.py",
            "tests/transport/test_basic_auth_cache.py",
            # The policies for unknown ids, lookalikes, registration only once the socket is open.
            "tests/transport/test_unknown_charge_points.py",
            "tests/transport/test_input_limits.py::test_lookalikes_of_a_known_id_are_refused",
            "tests/transport/test_input_limits.py::test_a_failed_upgrade_leaves_nothing_and_registers_nothing",
            # Accepted without a boot only if Accepted and booted before (J 5.4).
            "tests/conformance/test_extra_scenarios.py::test_r_boot_03_requests_before_acceptance_get_security_error",
            # The security profiles' path: the client certificate's serial kept.
            "tests/features/security/test_client_certificates.py::test_a_charge_point_connects_with_the_certificate_issued_from_its_csr",
        ),
    ),
    "basic_auth": Target(
        "src/csms/transport/basic_auth.py",
        ("tests/transport/test_basic_auth_cache.py", "tests/transport/test_handshake.py"),
    ),
    "groupcommit": Target(
        "src/csms/storage/groupcommit.py",
        (
            "tests/storage/test_group_commit_writer.py",
            "tests/storage/test_group_commit.py",
            "tests/storage/test_commit_before_answer.py",
            "tests/storage/test_durability.py",
        ),
        # The writer's logic is the same on both backends; PostgreSQL's runs cost a minute more
        # per mutant (a database created and dropped per test).
        select="not postgresql",
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
            # DataTransfer: vendor handlers (TC_064) and the bound on its data.
            "tests/conformance/test_core_data_transfer.py",
            "tests/transport/test_input_limits.py::test_data_transfer_data_is_bounded",
            # A Pending boot is not an acceptance; an Accepted one starts what follows it.
            "tests/conformance/test_extra_scenarios.py::test_r_boot_03_requests_before_acceptance_get_security_error",
            "tests/api/test_commands.py::test_configuration_is_fetched_after_boot_outside_certification_mode",
            # A StopTransaction ends the transaction's TxProfiles (spec 7.10).
            "tests/features/smart_charging/test_charging_profiles.py::test_tx_profiles_end_with_their_transaction",
            # Late MeterValues of a transaction over already: its energy again.
            "tests/field/test_energy.py::test_late_meter_values_of_a_transaction_are_billed_while_the_next_one_runs",
        ),
    ),
    "smart_charging": Target(
        "src/csms/features/smart_charging/commands.py",
        (
            "tests/features/smart_charging/test_charging_profiles.py",
            "tests/features/smart_charging/test_charging_profiles_composite.py",
            "tests/features/test_edges.py",
            "tests/conformance/test_smart_charging.py",
            "tests/field/test_charger_state.py::test_the_tx_default_fallback_of_a_stack_is_named",
        ),
    ),
    "charging_profiles": Target(
        "src/csms/features/smart_charging/profiles.py",
        (
            "tests/features/smart_charging/test_charging_profiles.py",
            # composite_of: installed profiles left out of the composite schedule, and why.
            "tests/features/smart_charging/test_charging_profiles_composite.py",
            "tests/features/test_edges.py",
        ),
    ),
    "load_management": Target(
        "src/csms/features/load_management/worker.py",
        (
            "tests/features/load_management/test_answers.py",  # a second, no server
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
            # The examples first: most mutants fail one of them in a second.
            "tests/features/load_management/test_load_management_allocation.py",
            "tests/features/load_management/test_safety.py",
        ),
    ),
    "load_send": Target(
        "src/csms/features/load_management/send.py",
        (
            "tests/features/load_management/test_send.py",  # its own: a second, no server
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
    parser.add_argument("--sample", type=int, default=0, help="run only N mutants (random)")
    parser.add_argument("--seed", type=int, default=1, help="the seed of --sample")
    parser.add_argument(
        "--minutes", type=float, default=0, help="stop each module's run after this long"
    )
    args = parser.parse_args()
    os.nice(19)  # a shared machine: mutation runs yield to everything else
    if args.list:
        for name, target in MODULES.items():
            select = f" -k {target.select!r}" if target.select else ""
            print(f"{name:16} {target.path}  <- {' '.join(target.tests)}{select}")
        return 0
    unknown = [name for name in args.modules if name not in MODULES]
    if unknown:
        parser.error(f"unknown modules {unknown}; see --list")
    cosmic_ray = shutil.which("cosmic-ray", path=str(Path(sys.executable).parent))
    if cosmic_ray is None:
        parser.error("cosmic-ray is not installed: pip install -e '.[dev,mutate]'")
    header = (
        "module           mutants  killed  survived  other  annotation  not run  kill rate  minutes"
    )
    summaries = []
    for name in args.modules or list(MODULES):
        summaries.append(run(name, MODULES[name], cosmic_ray, args))
        print(f"{header}\n{summaries[-1]}", flush=True)  # each module's figures as it ends
    print(f"\n{header}")
    for line in summaries:
        print(line)
    return 0


def run(name: str, target: Target, cosmic_ray: str, args: argparse.Namespace) -> str:
    started = time.monotonic()
    copy = Path(tempfile.mkdtemp(prefix=f"mutate-{name}-"))
    try:
        shutil.copytree(ROOT, copy, dirs_exist_ok=True, ignore=_IGNORE)
        tests = " ".join(target.tests)
        if target.select:
            tests += f" -k '{target.select}'"
        config = copy / "cosmic-ray.toml"
        config.write_text(
            "[cosmic-ray]\n"
            f'module-path = "{target.path}"\n'
            f"timeout = {args.timeout}\n"
            "excluded-modules = []\n"
            f'test-command = "{sys.executable} -m pytest -x -q -p no:cacheprovider {tests}"\n'
            "\n[cosmic-ray.distributor]\n"
            'name = "local"\n'
        )
        session = copy / "session.sqlite"
        env = {**_environment(), "PYTHONPATH": str(copy / "src")}
        source_text = (copy / target.path).read_text()
        subprocess.run(
            [cosmic_ray, "init", str(config), str(session)], cwd=copy, env=env, check=True
        )
        _skip(session, source_text, args.sample, args.seed)
        _execute([cosmic_ray, "exec", str(config), str(session)], copy, env, args.minutes)
        dump = subprocess.run(
            [cosmic_ray, "dump", str(session)],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return report(name, target, dump, time.monotonic() - started)
    finally:
        if args.keep:
            print(f"kept {copy}")
        else:
            shutil.rmtree(copy, ignore_errors=True)


def _execute(command: list[str], cwd: Path, env: dict[str, str], minutes: float) -> None:
    """Run the mutants; with a budget, stop (the whole process group) when it is spent: the
    mutants not run by then count as "not run"."""
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    try:
        process.wait(timeout=minutes * 60 if minutes > 0 else None)
    except subprocess.TimeoutExpired:
        print(f"the budget of {minutes:g} minutes is spent: stopping", flush=True)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    else:
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, command)


_ANNOTATION = "annotation: never evaluated"
_INVALID = "not valid Python"
_NOT_SAMPLED = "not in the sample"


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations are: (line, column) from and to, lines from 1."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            notes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in notes:
            if note is not None and note.end_lineno is not None and note.end_col_offset is not None:
                spans.append(
                    ((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset))
                )
    return spans


def _compiles(
    source: str, operator_name: str, occurrence: int, operator_args: dict[str, object]
) -> bool:
    """Whether the mutant is Python at all (Cosmic Ray takes the `*` of keyword-only
    parameters for a multiplication, and its mutants for mutants the tests kill)."""
    from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped]
    from cosmic_ray.plugins import get_operator  # type: ignore[import-untyped]

    mutated = mutate_code(source, get_operator(operator_name)(**operator_args), occurrence)
    try:
        compile(mutated or source, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


def _skip(session: Path, source: str, sample: int, seed: int) -> None:
    """Mark as skipped (never run) the mutants inside annotations; with a sample size, all but
    `sample` of the others, drawn at random with `seed` (the same mutants for the same source);
    then those of the rest that are not valid Python."""
    from cosmic_ray.work_db import use_db  # type: ignore[import-untyped]
    from cosmic_ray.work_item import WorkerOutcome, WorkResult  # type: ignore[import-untyped]

    if "from __future__ import annotations" not in source or "pydantic" in source:
        spans = []  # annotations evaluated at runtime: their mutants are real
    else:
        spans = _annotation_spans(source)
    with use_db(str(session)) as db:

        def skip(job_id: str, why: str) -> None:
            db.set_result(job_id, WorkResult(output=why, worker_outcome=WorkerOutcome.SKIPPED))

        runnable = {}
        for item in db.pending_work_items:
            (mutation,) = item.mutations
            start, end = tuple(mutation.start_pos), tuple(mutation.end_pos)
            if any(low <= start and end <= high for low, high in spans):
                skip(item.job_id, _ANNOTATION)
            else:
                runnable[(mutation.operator_name, mutation.occurrence)] = item
        chosen = sorted(runnable)
        if 0 < sample < len(chosen):
            chosen = random.Random(seed).sample(chosen, sample)
            for key in set(runnable) - set(chosen):
                skip(runnable[key].job_id, _NOT_SAMPLED)
        for key in chosen:
            (mutation,) = runnable[key].mutations
            if not _compiles(source, *key, mutation.operator_args):
                skip(runnable[key].job_id, _INVALID)


def report(name: str, target: Target, dump: str, seconds: float) -> str:
    killed = survived = other = annotation = not_run = 0
    survivors: list[str] = []
    for line in dump.splitlines():
        if not line.strip():
            continue
        item, result = json.loads(line)
        outcome = (result or {}).get("test_outcome")
        output = (result or {}).get("output")
        if output == _ANNOTATION:
            annotation += 1
        elif output == _INVALID:
            other += 1
        elif output == _NOT_SAMPLED or result is None:
            not_run += 1
        elif outcome == "killed":
            killed += 1
        elif outcome == "survived":
            (mutation,) = item["mutations"]
            survived += 1
            where = f"{target.path}:{mutation['start_pos'][0]} {mutation['operator_name']}"
            survivors.append(f"--- survived: {where}\n{result.get('diff', '').strip()}")
        else:  # not valid Python, or incompetent (cannot even be imported)
            other += 1
    total = killed + survived + other + annotation + not_run
    rate = killed / (killed + survived) if killed + survived else 0.0
    print(f"\n=== {name}: {target.path} ({' '.join(target.tests)})")
    for survivor in survivors:
        print(survivor)
    sys.stdout.flush()
    return (
        f"{name:16} {total:7d} {killed:7d} {survived:9d} {other:6d} {annotation:11d}"
        f" {not_run:8d} {rate:10.1%} {seconds / 60:8.1f}"
    )


def _environment() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


if __name__ == "__main__":
    sys.exit(main())
