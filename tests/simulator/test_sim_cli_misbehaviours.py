"""`python -m csms.simulator` with its misbehaviour flags, against a real CSMS: what goes over the
wire, and that the CSMS stored the sessions."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.simulator.cli import Options, late_stops, parse_args, run
from csms.simulator.offline import QueuedCall
from tests.harness import Harness
from tests.simulator.test_sim_cli import run_cli

TAG = "CLI-TAG"


async def simulate(harness: Harness, *flags: str) -> tuple[int, str]:
    response = await harness.api.put(f"/id-tags/{TAG}", json={"status": "Accepted"})
    assert response.status_code == 200, response.text
    out = io.StringIO()
    options = parse_args(["--url", harness.url, "--id-prefix", "MIS", "--id-tag", TAG, *flags])
    return await run(options, out), out.getvalue()


async def transactions(harness: Harness) -> list[dict[str, Any]]:
    response = await harness.api.get("/transactions", params={"charge_point_id": "MIS0001"})
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def test_flags_are_parsed() -> None:
    options = parse_args(
        ["--url", "ws://h/ocpp", "--offline-sessions", "--late-stops", "--clock-offset", "-90"]
    )
    assert (options.offline_sessions, options.late_stops, options.clock_offset) == (
        True,
        True,
        -90.0,
    )
    assert isinstance(options, Options) and not options.hard_reboot


@pytest.mark.parametrize(
    "flags",
    [
        ["--late-stops"],
        ["--offline-sessions", "--hard-reboot"],
        ["--clock-1970", "--clock-offset", "5"],
    ],
)
async def test_flags_that_do_not_go_together_are_refused(flags: list[str]) -> None:
    code, _, err = await run_cli("--url", "ws://127.0.0.1:9/ocpp", *flags)
    assert code == 2 and "error" in err


def test_late_stops_moves_each_stop_after_the_next_start() -> None:
    def message(action: str) -> QueuedCall:
        return QueuedCall(action=action, payload={})

    start1, stop1, start2, stop2, status = (
        message(action)
        for action in (
            "StartTransaction",
            "StopTransaction",
            "StartTransaction",
            "StopTransaction",
            "StatusNotification",
        )
    )
    assert late_stops([start1, stop1, status, start2, stop2]) == [
        start1,
        status,
        start2,
        stop1,
        stop2,
    ]


async def test_reconnect_without_boot_between_sessions(harness: Harness) -> None:
    code, out = await simulate(harness, "--sessions", "3", "--reconnect-without-boot")

    assert code == 0, out
    assert [t["active"] for t in await transactions(harness)] == [False, False, False]


async def test_lost_answers_are_resent(harness: Harness) -> None:
    code, out = await simulate(harness, "--sessions", "2", "--lose-answers")

    assert code == 0, out
    assert "transactions=2" in out
    # Each StartTransaction went twice, and made one transaction.
    assert [t["active"] for t in await transactions(harness)] == [False, False]


async def test_offline_sessions_are_replayed_with_their_times(harness: Harness) -> None:
    before = datetime.now(UTC)
    code, out = await simulate(harness, "--sessions", "2", "--offline-sessions")

    assert code == 0, out
    stored = await transactions(harness)
    assert [(t["active"], t["meterStop"]) for t in stored] == [(False, 750), (False, 1500)]
    earliest = before - timedelta(seconds=1)
    assert all(datetime.fromisoformat(t["startTime"]) >= earliest for t in stored)


async def test_hard_reboot_leaves_the_transaction_without_a_stop(harness: Harness) -> None:
    code, out = await simulate(harness, "--sessions", "1", "--hard-reboot")

    assert code == 0, out
    assert [(t["active"], t["stopReason"]) for t in await transactions(harness)] == [(True, None)]


async def test_a_skewed_clock_stamps_what_is_stored(harness: Harness) -> None:
    code, out = await simulate(harness, "--sessions", "1", "--clock-offset", "-7200")

    assert code == 0, out
    (stored,) = await transactions(harness)
    started = datetime.fromisoformat(stored["startTime"])
    assert abs(started - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(minutes=1)
