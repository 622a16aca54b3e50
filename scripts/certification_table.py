#!/usr/bin/env python3
"""The OCTT certification table: which OCPP 1.6 Central System test cases (TC_*_CSMS) pass.

Runs the conformance suite (tests/conformance, plus TC_088 in tests/transport) with pytest's
JUnit XML report, maps every `test_tc_<case>_...` test to its case, and writes a Markdown table
of all 77 cases of the catalogue (docs: ../shared/reference/octt16-csms-catalogue.md, section 3)
with a summary per profile into README.md, between the lines

    <!-- certification:begin -->
    <!-- certification:end -->

Without those markers the table is printed. A case passes when every test named after it
passes; a strict xfail (a known server bug) is a failing case.

    python scripts/certification_table.py            # run the tests, rewrite README.md
    python scripts/certification_table.py --check    # exit 1 if README.md is not up to date
    python scripts/certification_table.py --junit report.xml   # use an existing report
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- certification:begin -->"
END = "<!-- certification:end -->"
TEST_TARGETS = (
    "tests/conformance",
    "tests/transport/test_handshake.py::test_tc_088_subprotocol_negotiation",
)

# The modules of TEST_TARGETS as JUnit class names.
SUITE_MODULES = tuple(
    target.split("::")[0].removesuffix(".py").replace("/", ".") for target in TEST_TARGETS
)

PASS = "✅ pass"
FAIL = "❌ fail"
NOT_AUTOMATED = "— not yet automated"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    title: str
    profile: str


CORE = "Core"
LOCAL_LIST = "Local Auth List Management"
FIRMWARE = "Firmware Management"
RESERVATION = "Reservation"
REMOTE_TRIGGER = "Remote Trigger"
SMART_CHARGING = "Smart Charging"
SECURITY = "Security"
PROFILES = (CORE, LOCAL_LIST, FIRMWARE, RESERVATION, REMOTE_TRIGGER, SMART_CHARGING, SECURITY)

# Every Central System case of the catalogue (sections 3.1-3.7), in its order. The profile is
# the catalogue section; GetDiagnostics (TC_045) counts with Firmware Management (catalogue
# 2.2), the sub-protocol negotiation (TC_088) with Security.
CASES: tuple[Case, ...] = tuple(
    Case(f"TC_{number}", title, profile)
    for profile, cases in (
        (
            CORE,
            (
                ("001", "Cold Boot Charge Point"),
                ("003", "Regular Charging Session - Plugin First"),
                ("004_1", "Regular Charging Session - Identification First"),
                ("004_2", "Regular Charging Session - Identification First - ConnectionTimeOut"),
                ("005_1", "EV Side Disconnected (stop transaction and unlock on EV side)"),
                ("007", "Regular Start Charging Session - Cached Id"),
                ("010", "Remote Start Charging Session - Cable Plugged in First"),
                ("011_1", "Remote Start Charging Session - Remote Start First"),
                ("011_2", "Remote Start Charging Session - Time Out"),
                ("012", "Remote Stop Charging Session"),
                ("013", "Hard Reset"),
                ("014", "Soft Reset"),
                ("017_1", "Unlock Connector - No Charging Session (Not Fixed Cable)"),
                ("017_2", "Unlock Connector - No Charging Session (Fixed Cable)"),
                ("018_1", "Unlock Connector - With Charging Session"),
                ("019_1", "Retrieve All Configuration Keys"),
                ("019_2", "Retrieve Specific Configuration Key"),
                ("021", "Change/Set Configuration"),
                ("023_1", "Start Charging Session - Authorize Invalid"),
                ("023_2", "Start Charging Session - Authorize Expired"),
                ("023_3", "Start Charging Session - Authorize Blocked"),
                ("024", "Start Charging Session - Lock Failure"),
                ("026", "Remote Start Charging Session - Rejected"),
                ("028", "Remote Stop Transaction - Rejected"),
                ("030", "Unlock Connector - Unlock Failure"),
                ("031", "Unlock Connector - Unknown Connector"),
                ("032_1", "Power Failure Boot - Configured to Stop Transactions"),
                ("037_1", "Offline Start Transaction - Valid IdTag"),
                ("037_3", "Offline Start Transaction - Invalid IdTag (StopTransactionOnInvalidId)"),
                ("039", "Offline Transaction"),
                ("040_1", "Configuration Keys - NotSupported"),
                ("040_2", "Configuration Keys - Invalid Value"),
                ("061", "Clear Authorization Data in Authorization Cache"),
                ("064", "Data Transfer to a Central System"),
            ),
        ),
        (
            LOCAL_LIST,
            (
                ("042_1", "Get Local List Version (Not Supported)"),
                ("042_2", "Get Local List Version (Empty)"),
                ("043_1", "Send Local Authorization List - NotSupported"),
                ("043_3", "Send Local Authorization List - Failed"),
                ("043_4", "Send Local Authorization List - Full"),
                ("043_5", "Send Local Authorization List - Differential"),
            ),
        ),
        (
            FIRMWARE,
            (
                ("044_1", "Firmware Update - Download and Install"),
                ("044_2", "Firmware Update - Download Failed"),
                ("044_3", "Firmware Update - Installation Failed"),
                ("045_1", "Get Diagnostics"),
                ("045_2", "Get Diagnostics - Upload Failed"),
            ),
        ),
        (
            RESERVATION,
            (
                ("046", "Reservation of a Connector - Transaction"),
                ("047", "Reservation of a Connector - Expire"),
                ("048_1", "Reservation of a Connector - Faulted"),
                ("048_2", "Reservation of a Connector - Occupied"),
                ("048_3", "Reservation of a Connector - Unavailable"),
                ("048_4", "Reservation of a Connector - Rejected"),
                ("049", "Reservation of a Charge Point - Transaction"),
                ("051", "Cancel Reservation"),
                ("052", "Cancel Reservation - Rejected"),
                ("053", "Use a Reserved Connector with parentIdTag"),
            ),
        ),
        (
            REMOTE_TRIGGER,
            (
                ("054", "Trigger Message"),
                ("055", "Trigger Message - Rejected"),
            ),
        ),
        (
            SMART_CHARGING,
            (
                ("056", "Central Smart Charging - TxDefaultProfile"),
                ("057", "Central Smart Charging - TxProfile"),
                ("059", "Remote Start Transaction with Charging Profile"),
                ("066", "Get Composite Schedule"),
                ("067", "Clear Charging Profile"),
            ),
        ),
        (
            SECURITY,
            (
                ("073", "Update Charge Point Password for HTTP Basic Authentication"),
                ("074", "Update Charge Point Certificate by Request of Central System"),
                ("075_1", "Install a Certificate - ManufacturerRootCertificate"),
                ("075_2", "Install a Certificate - CentralSystemRootCertificate"),
                ("076", "Delete a Specific Certificate"),
                ("077", "Invalid ChargePointCertificate Security Event"),
                ("078", "Invalid CentralSystemCertificate Security Event"),
                ("079", "Get Security Log"),
                ("080", "Secure Firmware Update"),
                ("081", "Secure Firmware Update - Invalid Signature"),
                ("083", "Upgrade Charge Point Security Profile - Accepted"),
                ("085", "Basic Authentication - Valid Username/Password"),
                ("086", "TLS - Server-Side Certificate - Valid"),
                ("087", "TLS - Client-Side Certificate - Valid"),
                ("088", "WebSocket Subprotocol Negotiation"),
            ),
        ),
    )
    for number, title in cases
)
CASE_IDS = frozenset(case.id for case in CASES)

_TEST_NAME = re.compile(r"^test_tc_(\d{3})(?:_(\d+))?(?=_|\[|$)")


def case_of(test_name: str) -> str | None:
    """The case a test is named after (`test_tc_004_1_...` -> TC_004_1), or None."""
    match = _TEST_NAME.match(test_name)
    if match is None:
        return None
    number, variant = match.groups()
    if variant is not None and f"TC_{number}_{variant}" in CASE_IDS:
        return f"TC_{number}_{variant}"
    return f"TC_{number}"


def outcomes(junit_xml: Path) -> dict[str, list[bool]]:
    """Case id -> whether each of its tests passed, from a pytest JUnit XML report."""
    results: dict[str, list[bool]] = {}
    for testcase in ElementTree.parse(junit_xml).getroot().iter("testcase"):
        # Only the conformance suite counts: other tests may be named after a case they
        # borrow an example from (e.g. the composite-schedule engine's TC_066 table test).
        if not testcase.get("classname", "").startswith(SUITE_MODULES):
            continue
        case = case_of(testcase.get("name", ""))
        if case is None:
            continue
        if case not in CASE_IDS:
            raise SystemExit(f"{testcase.get('name')}: {case} is not a Central System case")
        # A failure, an error, a skip and an (expected) xfail all mean the case does not pass.
        passed = not any(child.tag in ("failure", "error", "skipped") for child in testcase)
        results.setdefault(case, []).append(passed)
    return results


def status(results: Mapping[str, list[bool]], case: Case) -> str:
    tests = results.get(case.id)
    if not tests:
        return NOT_AUTOMATED
    return PASS if all(tests) else FAIL


def render(results: Mapping[str, list[bool]]) -> str:
    """The Markdown between the markers: a summary line per profile, then the table."""
    statuses = {case.id: status(results, case) for case in CASES}
    lines = ["<!-- generated by scripts/certification_table.py: do not edit by hand -->", ""]
    for profile in (*PROFILES, None):
        ids = [case.id for case in CASES if profile is None or case.profile == profile]
        counts = {label: sum(statuses[i] == label for i in ids) for label in (PASS, FAIL)}
        automated = counts[PASS] + counts[FAIL]
        name = "All profiles" if profile is None else profile
        lines.append(
            f"- **{name}**: {counts[PASS]} of {len(ids)} cases pass"
            f" ({automated} automated, {counts[FAIL]} failing, "
            f"{len(ids) - automated} not yet automated)"
        )
    lines += ["", "| Case | Title | Profile | Status |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {case.id} | {case.title} | {case.profile} | {statuses[case.id]} |" for case in CASES
    ]
    return "\n".join(lines)


def with_table(readme: str, table: str) -> str | None:
    """README text with the section between the markers replaced; None without markers."""
    lines = readme.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if BEGIN not in stripped or END not in stripped:
        return None
    begin = stripped.index(BEGIN)
    end = stripped.index(END, begin)
    return "".join([*lines[: begin + 1], table + "\n", *lines[end:]])


def run_tests(junit_xml: Path, targets: Iterable[str]) -> None:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit_xml}",
        *targets,
    ]
    # The table is the default mode's (a fresh CSMS per case), whatever the environment says
    # (docs/conformance-sequence.md).
    env = {name: value for name, value in os.environ.items() if name != "CSMS_CONFORMANCE_MODE"}
    # pytest's report goes to stderr: stdout carries only the table.
    returncode = subprocess.run(
        command, cwd=ROOT, stdout=sys.stderr, check=False, env=env
    ).returncode
    if returncode not in (0, 1):  # 1 = some tests failed; anything else = no usable run
        raise SystemExit(f"pytest did not complete (exit code {returncode})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if README.md differs from this run"
    )
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument(
        "--junit", type=Path, help="use this pytest JUnit XML report instead of running pytest"
    )
    args = parser.parse_args(argv)

    if args.junit is not None:
        results = outcomes(args.junit)
    else:
        with tempfile.TemporaryDirectory() as directory:
            report = Path(directory) / "conformance.xml"
            run_tests(report, TEST_TARGETS)
            results = outcomes(report)
    table = render(results)

    current = args.readme.read_text(encoding="utf-8") if args.readme.exists() else ""
    updated = with_table(current, table)
    if updated is None:
        print(table)
        if args.check:
            print(f"{args.readme}: no {BEGIN} / {END} markers", file=sys.stderr)
            return 1
        return 0
    if args.check:
        if updated == current:
            return 0
        sys.stderr.writelines(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                updated.splitlines(keepends=True),
                str(args.readme),
                "this run",
            )
        )
        return 1
    if updated != current:
        args.readme.write_text(updated, encoding="utf-8")
        print(f"{args.readme}: certification table updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
