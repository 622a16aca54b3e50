"""The console's operator pages (docs/console.md) against a real server with simulated charge
points: every page renders for a viewer, a viewer sees no operation buttons and its posts are
refused, an operator's operations reach the charge point and show its answer, paging and
filters of the charge point list, the message log and the transactions CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from csms.settings import UnknownChargePoints
from csms.storage import IdTag
from tests.console.test_console import add_user, csrf_of, sign_in
from tests.features.load_management.test_load_management import group, join, start
from tests.features.smart_charging.test_charging_profiles import profile, set_profile
from tests.harness import Harness, csms

VIEWER_PAGES = (
    "/",
    "/charge-points",
    "/charge-points?q=cp&sort=last_seen&desc=true&page=1&size=25",
    "/charge-points/CP1",
    "/charge-points/CP1/messages",
    "/charge-points/CP1/messages?action=BootNotification",
    "/transactions",
    "/transactions?charge_point=CP1&state=done",
    "/transactions/1",
    "/id-tags",
    "/load-groups",
    "/reservations",
    "/local-lists",
    "/firmware",
    "/charger-profiles",
    "/unknown-charge-points",
)


@pytest.fixture
async def viewer(harness: Harness) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    await add_user(harness, "vera", "viewer")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}") as client:
        yield client, await sign_in(client, "vera")


@pytest.fixture
async def operator(harness: Harness) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    await add_user(harness, "otto", "operator")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{harness.app.http_port}", timeout=30
    ) as client:
        yield client, await sign_in(client, "otto")


def answer_of(html: str) -> dict[str, Any]:
    """The charge point's answer as the page shows it."""
    found = re.search(
        r'<section class="card answer[^"]*" id="answer">.*?<pre>(.*?)</pre>', html, re.S
    )
    assert found is not None, html[:2000]
    shown: dict[str, Any] = json.loads(unescape(found.group(1)))
    return shown


async def charge_once(harness: Harness) -> None:
    """CP1 boots and runs one transaction of 1.5 kWh with meter values."""
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        started = await cp.start_transaction(1, "TAG1", meter_start=1000)
        transaction_id = started["transactionId"]
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=1700)
        await cp.meter_values(1, transaction_id=transaction_id, energy_wh=2500)
        await cp.stop_transaction(transaction_id, meter_stop=2500)


async def test_every_page_renders_for_a_viewer_without_operation_buttons(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    await charge_once(harness)
    client, _ = viewer
    for path in VIEWER_PAGES:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "<h1>" in response.text, path
    cp_page = (await client.get("/charge-points/CP1")).text
    assert "SimModel" in cp_page and 'data-connector="1"' in cp_page
    assert "/operations/" not in cp_page and 'id="operations"' not in cp_page
    transaction = (await client.get("/transactions/1")).text
    assert '<svg class="chart"' in transaction and "1.500 kWh" in transaction
    overview = (await client.get("/")).text
    assert "1.50" in overview  # kWh today


async def test_unknown_charge_point_and_transaction_are_404(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    client, _ = viewer
    for path in ("/charge-points/NOPE", "/charge-points/NOPE/messages", "/transactions/99"):
        assert (await client.get(path)).status_code == 404, path


async def test_a_viewers_operation_is_refused_even_with_its_csrf_token(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = viewer
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        response = await client.post(
            "/charge-points/CP1/operations/reset", data={"csrf_token": csrf, "type": "Soft"}
        )
        assert response.status_code == 403
        cp.no_unexpected_calls()


async def test_an_operation_without_the_csrf_token_is_refused(
    harness: Harness, operator: tuple[httpx.AsyncClient, str]
) -> None:
    client, _ = operator
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        response = await client.post("/charge-points/CP1/operations/reset", data={"type": "Soft"})
        assert response.status_code == 403
        cp.no_unexpected_calls()


async def test_an_operators_commands_reach_the_charge_point_and_show_its_answer(
    harness: Harness, operator: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = operator
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        page = (await client.get("/charge-points/CP1")).text
        assert 'action="/charge-points/CP1/operations/reset"' in page
        assert csrf_of(page) == csrf
        cases = {
            "reset": {"type": "Soft"},
            "unlock": {"connectorId": "1"},
            "change-availability": {"connectorId": "1", "type": "Operative"},
            "change-configuration": {"key": "HeartbeatInterval", "value": "120"},
            "get-configuration": {},
            "trigger": {"requestedMessage": "Heartbeat"},
            "clear-cache": {},
            "data-transfer": {"vendorId": "com.example", "data": "x"},
        }
        for operation, fields in cases.items():
            response = await client.post(
                f"/charge-points/CP1/operations/{operation}", data={"csrf_token": csrf, **fields}
            )
            assert response.status_code == 200, (operation, response.text[:800])
            shown = answer_of(response.text)
            assert "status" in shown or "configurationKey" in shown, (operation, shown)
        # Diagnostics and firmware go through their features: a job follows each.
        for operation, fields in (
            ("get-diagnostics", {}),
            ("update-firmware", {"location": "http://example.com/fw.bin"}),
        ):
            response = await client.post(
                f"/charge-points/CP1/operations/{operation}", data={"csrf_token": csrf, **fields}
            )
            assert response.status_code == 200, (operation, response.text[:800])
            assert isinstance(answer_of(response.text)["job"], int), operation
        page = (await client.get("/charge-points/CP1")).text
        assert "http://example.com/fw.bin" in page and "ftp://" in page
        missing = await client.post(
            "/charge-points/CP1/operations/update-firmware",
            data={"csrf_token": csrf, "imageId": "77"},
        )
        assert missing.status_code == 404
        # A reservation, then its cancellation, through the reservation feature.
        response = await client.post(
            "/charge-points/CP1/operations/reserve",
            data={"csrf_token": csrf, "connectorId": "2", "idTag": "TAG9", "minutes": "15"},
        )
        reserved = answer_of(response.text)
        assert response.status_code == 200 and reserved["status"] == "Accepted", reserved
        response = await client.post(
            "/charge-points/CP1/operations/cancel-reservation",
            data={"csrf_token": csrf, "reservationId": str(reserved["reservation"])},
        )
        assert response.status_code == 200 and answer_of(response.text)["status"] == "Accepted"
        stored = await harness.store.get_reservation(reserved["reservation"])
        assert stored.state == "Cancelled"
        again = await client.post(
            "/charge-points/CP1/operations/cancel-reservation",
            data={"csrf_token": csrf, "reservationId": str(reserved["reservation"])},
        )
        assert again.status_code == 409
        # The configuration read is stored and shown.
        page = (await client.get("/charge-points/CP1")).text
        assert "HeartbeatInterval" in page

        # A remote start waits for its StartTransaction and shows the transaction id.
        async def charge_point_starts() -> None:
            # (After the calls of the operations above, answered already.)
            while (await cp.expect_call()).action != "RemoteStartTransaction":
                pass
            await cp.start_transaction(1, "TAG1")

        starting = asyncio.create_task(charge_point_starts())
        response = await client.post(
            "/charge-points/CP1/operations/remote-start",
            data={"csrf_token": csrf, "idTag": "TAG1", "connectorId": "1"},
        )
        assert response.status_code == 200
        shown = answer_of(response.text)
        assert shown["status"] == "Accepted" and isinstance(shown["transactionId"], int)
        await starting
        # A request its schema refuses: 422 with the reason, nothing sent.
        response = await client.post(
            "/charge-points/CP1/operations/reset", data={"csrf_token": csrf, "type": "Gentle"}
        )
        assert response.status_code == 422 and "Gentle" in response.text
        # Bad input: 422 with the reason, nothing sent.
        response = await client.post(
            "/charge-points/CP1/operations/unlock", data={"csrf_token": csrf, "connectorId": "x"}
        )
        assert response.status_code == 422
    # Not connected any more: the page says so.
    response = await client.post(
        "/charge-points/CP1/operations/clear-cache", data={"csrf_token": csrf}
    )
    assert response.status_code == 409 and "not connected" in response.text


async def test_charge_point_list_pages_searches_and_sorts_in_the_database(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    for n in range(120):
        made = await harness.api.put(
            f"/charge-points/SITE-{n:03d}", json={"description": "north" if n % 2 else "south"}
        )
        assert made.status_code == 200
    client, _ = viewer
    first = (await client.get("/charge-points?size=25")).text
    assert "SITE-000" in first and "SITE-024" in first and "SITE-025" not in first
    assert "Page 1 of 5" in first
    last = (await client.get("/charge-points?size=25&page=5")).text
    assert "SITE-119" in last and "SITE-094" not in last
    backwards = (await client.get("/charge-points?sort=id&desc=true&size=25")).text
    assert "SITE-119" in backwards and "SITE-000" not in backwards
    north = (await client.get("/charge-points?q=NORTH&size=100")).text
    assert "SITE-001" in north and "SITE-000" not in north and "Page 1 of 1" in north
    wild = (await client.get("/charge-points?q=%25")).text
    assert "No charge points match" in wild


async def test_message_log_page_shows_every_frame_filtered_and_paged(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    await charge_once(harness)
    client, _ = viewer
    page = (await client.get("/charge-points/CP1/messages")).text
    for action in ("BootNotification", "StatusNotification", "StartTransaction", "MeterValues"):
        assert action in page, action
    assert "&#34;chargePointVendor&#34;" in page  # the whole payload, escaped
    boots = (await client.get("/charge-points/CP1/messages?action=BootNotification")).text
    assert "BootNotification" in boots and "StartTransaction" not in boots
    first = (await client.get("/charge-points/CP1/messages?size=2")).text
    assert 'rel="next"' in first
    future = (await client.get("/charge-points/CP1/messages?since=2999-01-01T00:00")).text
    assert "No frames." in future


async def test_transactions_csv_export(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    await charge_once(harness)
    client, _ = viewer
    listed = (await client.get("/transactions")).text
    assert "1.500" in listed and "TAG1" in listed and 'href="/transactions.csv"' in listed
    response = await client.get("/transactions.csv?charge_point=CP1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["id"], r["idTag"], r["energyKWh"], r["active"]) for r in rows] == [
        ("1", "TAG1", "1.500", "false")
    ]
    none = await client.get("/transactions.csv?charge_point=OTHER")
    assert none.text.count("\r\n") == 1  # the header only
    api = await harness.api.get("/transactions.csv")
    assert api.status_code == 200 and api.text == response.text
    negotiated = await harness.api.get("/transactions", headers={"Accept": "text/csv"})
    assert negotiated.status_code == 200 and negotiated.text == response.text


async def test_an_unknown_charge_point_refused_at_connection_is_approved_from_the_console(
    tmp_path: Path,
) -> None:
    async with csms(tmp_path / "csms.db", unknown_charge_points=UnknownChargePoints.REJECT) as h:
        await add_user(h, "otto", "operator")
        await add_user(h, "vera", "viewer")
        with pytest.raises(InvalidStatus) as refused:
            async with h.charge_point("NEW1"):
                pass
        assert refused.value.response.status_code == 404
        base = f"http://127.0.0.1:{h.app.http_port}"
        async with (
            httpx.AsyncClient(base_url=base) as viewer,
            httpx.AsyncClient(base_url=base) as operator,
        ):
            viewer_csrf = await sign_in(viewer, "vera")
            csrf = await sign_in(operator, "otto")
            page = (await viewer.get("/unknown-charge-points")).text
            assert "NEW1" in page and 'value="approve"' not in page
            assert "Unknown, waiting" in (await viewer.get("/")).text
            form = {"decision": "approve", "registration_status": "Accepted"}
            answer = await viewer.post(
                "/unknown-charge-points/NEW1", data={"csrf_token": viewer_csrf, **form}
            )
            assert answer.status_code == 403
            assert 'value="approve"' in (await operator.get("/unknown-charge-points")).text
            short = await operator.post(
                "/unknown-charge-points/NEW1", data={"csrf_token": csrf, **form, "password": "x"}
            )
            assert short.status_code == 422
            password = "a-password-of-24-chars!!"
            approved = await operator.post(
                "/unknown-charge-points/NEW1",
                data={"csrf_token": csrf, **form, "password": password},
            )
            assert approved.status_code == 303
            assert "NEW1" not in (await operator.get("/unknown-charge-points")).text
        async with h.charge_point("NEW1", password=password) as cp:
            assert (await cp.boot())["status"] == "Accepted"


async def test_the_composite_schedule_is_drawn_on_the_charge_point_page(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    client, _ = viewer
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        assert "data-connector-schedule" not in (await client.get("/charge-points/CP1")).text
        await set_profile(harness, cp, 0, profile(1, periods=((0, 16.0), (600, 10.0))))
        page = (await client.get("/charge-points/CP1")).text
    for connector in (1, 2):
        found = re.search(
            rf'data-connector-schedule="{connector}">(<svg class="chart".*?</svg>)', page, re.S
        )
        assert found is not None, page
        assert "<polyline" in found.group(1) and ">16<" in found.group(1)


async def test_load_groups_as_a_tree_and_a_groups_allocation_as_charts(tmp_path: Path) -> None:
    async with csms(
        tmp_path / "csms.db", certification_mode=False, fetch_configuration_on_boot=False
    ) as h:
        await h.store.put_id_tag(IdTag(id_tag="TAG1", status="Accepted"))
        site = await group(h, limit=63)
        feeder = await group(h, name="feeder-a", parent_id=site, limit=32)
        await add_user(h, "vera", "viewer")
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{h.app.http_port}") as client,
            h.charge_point("CP1", connectors=1) as cp,
        ):
            await cp.boot_and_report()
            await join(h, feeder, cp)
            transaction_id = await start(h, cp, 1, "TAG1")
            await sign_in(client, "vera")
            tree = (await client.get("/load-groups")).text
            child = f'└ <a href="/load-groups/{feeder}">feeder-a'
            assert tree.index("site") < tree.index(child)
            page = await client.get(f"/load-groups/{feeder}")
            assert page.status_code == 200
            chart = re.search(r'id="allocation-chart">(<svg.*?</svg>)', page.text, re.S)
            assert chart is not None and f"CP1/1 tx {transaction_id}" in chart.group(1)
            assert "32 A" in chart.group(1)
            assert f"Transaction {transaction_id}: its limit over time" in page.text
            assert (await client.get("/load-groups/999")).status_code == 404


async def test_id_tags_are_added_blocked_and_deleted_by_operators_only(
    harness: Harness,
    viewer: tuple[httpx.AsyncClient, str],
    operator: tuple[httpx.AsyncClient, str],
) -> None:
    (client, viewer_csrf), (otto, csrf) = viewer, operator
    assert 'id="id-tag-form"' not in (await client.get("/id-tags")).text
    refused = await client.post("/id-tags", data={"csrf_token": viewer_csrf, "id_tag": "T1"})
    assert refused.status_code == 403 and await harness.store.get_id_tag("T1") is None
    assert 'id="id-tag-form"' in (await otto.get("/id-tags")).text
    saved = await otto.post(
        "/id-tags",
        data={
            "csrf_token": csrf,
            "id_tag": "T1",
            "status": "Blocked",
            "max_active_transactions": "",
        },
    )
    assert saved.status_code == 303
    tag = await harness.store.get_id_tag("T1")
    assert tag.status == "Blocked" and tag.max_active_transactions is None
    assert "Blocked" in (await client.get("/id-tags")).text
    bad = await otto.post(
        "/id-tags", data={"csrf_token": csrf, "id_tag": "T1", "max_active_transactions": "x"}
    )
    assert bad.status_code == 422
    gone = await otto.post(
        "/id-tags", data={"csrf_token": csrf, "id_tag": "T1", "action": "delete"}
    )
    assert gone.status_code == 303 and await harness.store.get_id_tag("T1") is None


async def test_odd_input_to_the_pages_is_never_a_server_error(
    harness: Harness,
    viewer: tuple[httpx.AsyncClient, str],
    operator: tuple[httpx.AsyncClient, str],
) -> None:
    await charge_once(harness)
    client, _ = viewer
    otto, csrf = operator
    for path in (
        "/charge-points?sort=%3Cscript%3E&desc=maybe&page=0",
        "/charge-points?page=999999&size=100",
        "/charge-points?q=" + "%F0%9F%94%8C" * 30,
        "/charge-points?q=%00",
        "/charge-points/%E2%80%AE",
        "/charge-points/CP1/messages?since=yesterday&until=%00&before=-1",
        "/charge-points/CP1/messages?before=99999999999999999999999",
        "/transactions?since=2026-13-45&state=%00&page=-1",
        "/transactions/99999999999999999999999",
        "/transactions/abc",
        "/transactions.csv?since=nonsense",
        "/load-groups/-1",
    ):
        response = await client.get(path)
        assert response.status_code < 500, (path, response.status_code, response.text[:300])
    for operation, fields in (
        ("remote-start", {}),
        ("remote-stop", {"transactionId": "1e999"}),
        ("reset", {"type": "Gentle"}),
        ("change-availability", {"connectorId": "-5", "type": "Operative"}),
        ("trigger", {"requestedMessage": "%00"}),
        ("nope", {}),
    ):
        response = await otto.post(
            f"/charge-points/CP1/operations/{operation}", data={"csrf_token": csrf, **fields}
        )
        assert response.status_code < 500, (operation, response.status_code, response.text[:300])


async def test_the_overview_counts_and_alerts_a_fault(
    harness: Harness, viewer: tuple[httpx.AsyncClient, str]
) -> None:
    client, _ = viewer
    async with harness.charge_point("CP1") as cp:
        await cp.boot_and_report()
        await cp.status_notification(2, "Faulted", "GroundFailure", info="RCD tripped")
        overview = (await client.get("/")).text
        # The same figures in the API, which the page's script reads when events come.
        api = (await client.get("/api/v1/overview")).json()
    alerts = overview[overview.index('id="alerts"') :]
    assert "GroundFailure" in alerts and "RCD tripped" in alerts and "CP1" in alerts
    pairs = re.findall(
        r'<span class="value" data-figure="(\w+)"[^>]*>([^<]+)</span><span class="name">([^<]+)<',
        overview,
    )
    figures = {name: value for _, value, name in pairs}
    assert figures["Faulted"] == "1" and figures["Connected"] == "1"
    assert figures["Registered"] == "1" and figures["Charging"] == "0"
    assert {field: str(value) for field, value, _ in pairs} == {
        field: f"{value:.2f}" if field == "energyTodayKwh" else str(value)
        for field, value in api.items()
    }


async def test_charger_profiles_page_and_the_charge_points_block(
    harness: Harness,
    viewer: tuple[httpx.AsyncClient, str],
    operator: tuple[httpx.AsyncClient, str],
) -> None:
    """Built-in profiles read-only, operators' with an edit form and a delete button (to the
    API, console.js); a charge point's page names its profiles, the rules in force and where
    the heartbeat interval at boot comes from (docs/charger-compatibility.md)."""
    (client, _), (otto, csrf) = viewer, operator
    body = {
        "description": "ACME <walls>",
        "vendor": "acme",
        "model": "wall \\d+",
        "chargePointIds": ["ACME-9"],
        "rules": {"capDates": True, "maxKeys": 4, "localLimitAmps": 16.5, "heartbeatInterval": 90},
    }
    # The console's session calls the API (as its script does): CSRF header, nested rules.
    headers = {"X-CSRF-Token": csrf}
    saved = await otto.put("/api/v1/charger-profiles/acme-wall", json=body, headers=headers)
    assert saved.status_code == 201, saved.text
    bad = {**body, "rules": {"heartbeatInterval": 0}}
    refused = await otto.put("/api/v1/charger-profiles/acme-wall", json=bad, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "rules", "heartbeatInterval"]

    page = (await client.get("/charger-profiles")).text
    assert page.count("<tr data-profile=") == 5
    for name in ("csms-simulator", "32-bit-time", "cpp-stack", "strict-schema-ts"):
        assert f'data-profile="{name}"' in page
    assert "ACME &lt;walls&gt;" in page and "<walls>" not in page
    acme = page[page.index('data-profile="acme-wall"') :]
    assert "vendor acme; model wall \\d+; ids ACME-9" in acme
    assert "capDates, maxKeys 4, localLimitAmps 16.5, heartbeatInterval 90" in acme
    assert "form" not in page.split("<main>")[1].replace('action="/logout"', "")
    assert 'href="/charger-profiles" aria-current="page"' in page

    mine = (await otto.get("/charger-profiles")).text
    assert 'id="profile-form"' in mine
    assert mine.count('class="api card') == 2  # the new profile's form and acme-wall's
    edit = mine[mine.index('id="edit-profile-5"') :]
    edit = edit[: edit.index("</form>")]
    assert 'data-path="/api/v1/charger-profiles/{name}"' in mine
    for field in (
        'name="name" value="acme-wall" readonly',
        'name="model" maxlength="200" value="wall \\d+"',
        'name="chargePointIds" data-type="list" value="ACME-9"',
        'name="rules.capDates" data-type="bool" checked',
        'name="rules.startSchedule" data-type="bool">',
        'name="rules.maxKeys" data-type="int" inputmode="numeric" size="8" value="4"',
        'name="rules.localLimitAmps" data-type="number" inputmode="decimal" size="8" value="16.5"',
        'name="rules.heartbeatInterval" data-type="int" inputmode="numeric" size="8" value="90"',
    ):
        assert field in edit, field
    assert 'id="delete-profile-5" data-confirm="Delete profile acme-wall?"' in mine
    assert 'data-path="/api/v1/charger-profiles/acme-wall"' in mine
    # Built-in profiles: no form, no delete.
    assert "edit-profile-1" not in mine and "delete-profile-1" not in mine

    # The charge point's page: its profiles (by pattern, by id) and the merged rules.
    async with harness.charge_point("ACME-9", vendor="ACME", model="Wall 2") as cp:
        assert (await cp.boot())["interval"] == 90
        block = (await client.get("/charge-points/ACME-9")).text
        block = block[block.index('id="charger-profiles"') :]
        block = block[: block.index("</section>")]
        assert 'data-profile="acme-wall"' in block and "operator, by id" in block
        assert '<tr data-rule="capDates"><th>capDates</th><td>on</td>' in block
        assert '<tr data-rule="maxKeys"><th>maxKeys</th><td>4</td>' in block
        assert '<tr data-rule="heartbeatInterval"><th>heartbeatInterval</th><td>90</td>' in block
        assert "90 s (charger profiles)" in block
        changed = await otto.post(
            "/charge-points/ACME-9/operations/change-configuration",
            data={"csrf_token": csrf, "key": "HeartbeatInterval", "value": "45"},
        )
        assert changed.status_code == 200, changed.text
        await cp.expect_call("ChangeConfiguration")
        block = (await client.get("/charge-points/ACME-9")).text
        assert "45 s (the operator&#39;s HeartbeatInterval)" in block
    async with harness.charge_point("SIM-1") as simulated:
        await simulated.boot()
        block = (await client.get("/charge-points/SIM-1")).text
        assert 'data-profile="csms-simulator"' in block and "built-in" in block
        assert "<th>localLimitAmps</th><td>32.0</td>" in block
        assert "300 s (server default)" in block
    gone = await otto.delete("/api/v1/charger-profiles/acme-wall", headers=headers)
    assert gone.status_code == 204
    assert "No charger profile matches" in (await client.get("/charge-points/ACME-9")).text
