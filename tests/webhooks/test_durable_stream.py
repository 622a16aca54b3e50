"""GET /api/v1/events?durable=true: the outbox as Server-Sent Events, resumed with Last-Event-ID
across a restart of the CSMS (the live stream cannot: its buffer is in memory)."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_events import events
from tests.harness import csms


async def test_resume_across_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "csms.db"
    async with csms(database) as harness:
        async with (
            events(harness, durable="true", types="status") as stream,
            harness.charge_point("CP1", connectors=1) as cp,
        ):
            await cp.boot_and_report()  # connectors 0 and 1
            seen = [await stream.next(), await stream.next()]
            assert [(e.type, e.data["data"]["connectorId"]) for e in seen] == [
                ("status", 0),
                ("status", 1),
            ]
            assert seen[0].id is not None and seen[1].id == seen[1].data["id"] > seen[0].id
        async with harness.charge_point("CP1", connectors=1) as cp:  # nobody watching
            await cp.boot()
            await cp.status_notification(1, "Preparing")
            await cp.status_notification(1, "Charging")
    async with csms(database) as harness:
        headers = {"Last-Event-ID": str(seen[1].id)}
        async with events(harness, headers=headers, durable="true", types="status") as stream:
            missed = [await stream.next(), await stream.next()]
            assert [e.data["data"]["status"] for e in missed] == ["Preparing", "Charging"]
            async with harness.charge_point("CP1", connectors=1) as cp:
                await cp.boot()
                await cp.status_notification(1, "Finishing")
                live = await stream.next()
            assert live.data["data"]["status"] == "Finishing"
            ids = [e.id for e in [*missed, live]]
            assert ids == sorted(ids)
        async with events(harness, headers={"Last-Event-ID": "nonsense"}, durable="true") as stream:
            reset = await stream.next()
            assert reset.type == "reset" and reset.data["data"]["lastEventId"] == -1
        # Kinds of the outbox, not of the live bus.
        response = await harness.api.get("/events", params={"durable": "true", "types": "message"})
        assert response.status_code == 422 and "message" in response.text
