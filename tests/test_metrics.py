"""GET /metrics (metrics.py): a real CSMS, a simulated charging session, and the Prometheus text
parsed back, with exact counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus

from csms.storage import IdTag
from tests.harness import Harness, csms

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(harness: Harness, **headers: str) -> Samples:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}") as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_charging_session_is_counted(harness: Harness) -> None:
    await harness.store.put_id_tag(IdTag(id_tag="TAG", status="Accepted"))
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        await cp.authorize("TAG")
        started = await cp.start_transaction(1, "TAG", meter_start=1000)
        transaction_id = started["transactionId"]
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=3000)
        during = await scrape(harness)
        answer = await harness.api.post("/charge-points/CP1/commands/Reset", json={"type": "Soft"})
        assert answer.status_code == 200, answer.text
        await cp.stop_transaction(transaction_id, 5500)
        connected = await scrape(harness)

    assert value(during, "csms_active_transactions") == 1
    assert value(during, "csms_connected_charge_points") == 1
    assert value(connected, "csms_connections_opened_total") == 1
    for action in ("BootNotification", "Authorize", "StartTransaction", "MeterValues"):
        assert (
            value(connected, "csms_calls_received_total", action=action, outcome="CALLRESULT") == 1
        )
        assert value(connected, "csms_call_duration_seconds_count", action=action) == 1
    assert (
        value(
            connected, "csms_calls_received_total", action="StopTransaction", outcome="CALLRESULT"
        )
        == 1
    )
    assert value(connected, "csms_commands_sent_total", action="Reset", outcome="Accepted") == 1
    assert value(connected, "csms_active_transactions") == 0
    assert value(connected, "csms_energy_delivered_wh_total") == 4500
    # Every answered write went through a group commit.
    assert value(connected, "csms_commit_batch_size_count") >= 1
    assert value(connected, "csms_commit_duration_seconds_count") == value(
        connected, "csms_commit_batch_size_count"
    )


async def test_callerrors_count_as_their_error_code(harness: Harness) -> None:
    async with harness.raw("CPX") as raw:
        # Not booted yet: SecurityError (J errata 3.10); an action OCPP does not have.
        assert (await raw.exchange([2, "1", "Heartbeat", {}]))[2] == "SecurityError"
        assert (await raw.exchange([2, "2", "MakeCoffee", {}]))[2] == "NotImplemented"
        assert (await raw.exchange([2, "3", "MakeTea", {}]))[2] == "NotImplemented"
        samples = await scrape(harness)
    assert (
        value(samples, "csms_calls_received_total", action="Heartbeat", outcome="SecurityError")
        == 1
    )
    # Made-up action names share one label.
    assert (
        value(samples, "csms_calls_received_total", action="other", outcome="NotImplemented") == 2
    )


async def test_connections_opened_closed_and_refused(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", unknown_charge_points="reject") as harness:
        # An id the CSMS does not know: refused with 404 (unknown_charge_points=reject).
        with pytest.raises(InvalidStatus, match="404"):
            async with harness.charge_point("STRANGER"):
                pass
        async with httpx.AsyncClient() as http:
            await http.get(f"http://127.0.0.1:{harness.app.ocpp_port}/elsewhere")
        samples = await scrape(harness)
    assert value(samples, "csms_connections_refused_total", reason="not_found") == 1
    assert value(samples, "csms_connections_refused_total", reason="unknown_path") == 1
    assert value(samples, "csms_connections_opened_total") == 0


async def test_connections_closed_are_counted(harness: Harness) -> None:
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
    connection_gone = harness.app.services.registry.get("CP1")
    if connection_gone is not None:
        await connection_gone.closed.wait()
    samples = await scrape(harness)
    assert value(samples, "csms_connections_opened_total") == 1
    assert value(samples, "csms_connections_closed_total") == 1
    assert value(samples, "csms_connected_charge_points") == 0


async def test_each_csms_has_its_own_figures(tmp_path: Path) -> None:
    async with (
        csms(tmp_path / "a.db") as first,
        csms(tmp_path / "b.db") as second,
    ):
        async with first.charge_point("CP1") as cp:
            await cp.boot()
        one = await scrape(first)
        other = await scrape(second)
    assert (
        value(one, "csms_calls_received_total", action="BootNotification", outcome="CALLRESULT")
        == 1
    )
    assert (
        value(other, "csms_calls_received_total", action="BootNotification", outcome="CALLRESULT")
        == 0
    )


async def test_a_metrics_token_guards_metrics(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", metrics_token="scrape-me") as harness:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}") as http:
            assert (await http.get("/metrics")).status_code == 401
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer other"})
            assert wrong.status_code == 401
        samples = await scrape(harness, Authorization="Bearer scrape-me")
    assert ("csms_connected_charge_points", frozenset()) in samples


async def test_the_sample_dashboard_asks_for_metrics_that_exist(harness: Harness) -> None:
    dashboard = json.loads(
        (Path(__file__).parent.parent / "deploy" / "grafana-dashboard.json").read_text()
    )
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bcsms_\w+", target["expr"])
    }
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}") as http:
        text = (await http.get("/metrics")).text
    declared = set(re.findall(r"^# TYPE (\w+)", text, re.MULTILINE))
    # A histogram's series carry suffixes (_bucket, _sum, _count) its TYPE line does not.
    missing = [
        name
        for name in sorted(asked)
        if name not in declared and re.sub(r"_(bucket|sum|count)$", "", name) not in declared
    ]
    assert asked and missing == []


async def test_active_transactions_survive_a_restart(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db") as harness, harness.charge_point("CP1") as cp:
        await cp.boot()
        await cp.start_transaction(1, "TAG", meter_start=0)
    async with csms(tmp_path / "csms.db") as restarted:
        samples = await scrape(restarted)
    assert value(samples, "csms_active_transactions") == 1
