"""The transactions API for billing (issue 12; api/transactions.py) on SQLite and PostgreSQL:
cursor pages that skip and repeat nothing while transactions are inserted between them, the
filters, energyWh and durationS on every transaction, a CSV export equal to the JSON, an energy
summary per local day across daylight saving changes and per charge point, and a 422 naming the
field for every bad parameter."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.harness import Harness, csms
from tests.storage.conftest import database_url, postgres_database

from csms.api.transaction_query import cursor_of
from csms.storage import TransactionFilter, TransactionStart, TransactionStop
from csms.storage.sql import SqlStore

__all__ = ["database_url", "postgres_database"]

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    async with csms(database_url) as running:
        yield running


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def insert(
    harness: Harness, n: int, *, charge_point_id: str = "CP1", tag: str = "TAG"
) -> int:
    """A transaction started straight in the store (the message path is tested elsewhere)."""
    store: SqlStore = harness.store
    transaction = await store.start_transaction(
        TransactionStart(
            charge_point_id=charge_point_id,
            connector_id=1 + n % 2,
            id_tag=tag,
            meter_start=1000 * n,
            timestamp=T0 + timedelta(minutes=n),
            reservation_id=None,
            id_tag_status="Accepted",
        )
    )
    return transaction.id


async def register(harness: Harness, *charge_point_ids: str) -> None:
    for charge_point_id in charge_point_ids:
        response = await harness.api.put(f"/charge-points/{charge_point_id}", json={})
        assert response.status_code in (200, 201), response.text


async def all_pages(harness: Harness, params: dict[str, Any], between: Any = None) -> list[Any]:
    """Every page, following the Link header; `between()` runs after each page."""
    rows: list[Any] = []
    response = await harness.api.get("/transactions", params=params)
    while True:
        assert response.status_code == 200, response.text
        rows += response.json()
        link = response.headers.get("link")
        if link is None:
            return rows
        assert link.endswith('>; rel="next"')
        if between is not None:
            await between()
        response = await harness.api.get(link[1 : link.index(">")])


async def test_pages_neither_skip_nor_repeat_while_transactions_are_inserted(
    harness: Harness,
) -> None:
    await register(harness, "CP1", "CP2")
    for n in range(25):
        await insert(harness, n, charge_point_id="CP1" if n % 3 else "CP2")
    inserted: list[int] = []

    async def insert_two() -> None:
        for _ in range(2):
            n = 100 + len(inserted)
            # Started earlier than every other by the charge point's clock (a late replay).
            inserted.append(await insert(harness, -n, charge_point_id="CP1"))

    rows = await all_pages(harness, {"limit": 7}, between=insert_two)
    ids = [row["id"] for row in rows]
    assert ids == sorted(set(ids))  # id order, no repeats
    everything = await harness.store.transactions_after(TransactionFilter(), limit=1000)
    assert ids == [t.id for t in everything]  # nothing skipped, the inserted ones included
    assert set(inserted) <= set(ids)
    # One charge point's: the same, filtered.
    mine = await all_pages(harness, {"chargePointId": "CP2", "limit": 3})
    assert [row["id"] for row in mine] == [t.id for t in everything if t.charge_point_id == "CP2"]


async def test_filters_and_energy_and_duration_on_every_transaction(harness: Harness) -> None:
    await register(harness, "CP1", "CP2")
    first = await insert(harness, 1, tag="Alice")
    second = await insert(harness, 2, charge_point_id="CP2", tag="BOB")
    third = await insert(harness, 3, tag="alice")
    await harness.store.stop_transaction(
        TransactionStop(
            charge_point_id="CP1",
            transaction_id=first,
            meter_stop=1400,
            timestamp=T0 + timedelta(minutes=31),
            reason="Local",
            id_tag=None,
        )
    )

    async def ids(**params: Any) -> list[int]:
        response = await harness.api.get("/transactions", params=params)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()]

    assert await ids() == [first, second, third]
    assert await ids(chargePointId="CP2") == [second]
    assert await ids(idTag="ALICE") == [first, third]
    assert await ids(active="true") == [second, third]
    assert await ids(active="false") == [first]
    assert await ids(**{"from": z(T0 + timedelta(minutes=2))}) == [second, third]
    assert await ids(**{"from": z(T0), "to": z(T0 + timedelta(minutes=3))}) == [first, second]
    # A time without offset is local time in tz: 09:02 in Berlin is 08:02 UTC.
    assert await ids(**{"from": "2026-03-01T09:02", "tz": "Europe/Berlin"}) == [second, third]
    row = (await harness.api.get(f"/transactions/{first}")).json()
    assert (row["energyWh"], row["energyFlags"], row["durationS"]) == (400, [], 30 * 60)
    running = (await harness.api.get("/transactions", params={"active": "true"})).json()
    assert all(r["energyWh"] == 0 and r["energyFlags"] == ["no_meter_stop"] for r in running)
    assert all(r["durationS"] > 0 for r in running)


async def test_csv_matches_json(harness: Harness) -> None:
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        for n in range(3):
            started = await cp.start_transaction(
                1, "TAG", meter_start=232, timestamp=z(T0 + timedelta(hours=n))
            )
            transaction_id = started["transactionId"]
            await cp.meter_values(1, transaction_id=transaction_id, energy_wh=300 + n)
            await cp.stop_transaction(
                transaction_id, 48 * n, timestamp=z(T0 + timedelta(hours=n, minutes=30))
            )
        await cp.start_transaction(2, "TAG", meter_start=0, timestamp=z(T0 + timedelta(hours=5)))
    params = {"chargePointId": "CP1", "limit": "2"}
    pages = await all_pages(harness, params)
    exported = await harness.api.get("/transactions.csv", params={"chargePointId": "CP1"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(pages) == 4
    for row, page in zip(rows, pages, strict=True):
        assert int(row["id"]) == page["id"]
        assert int(row["energyWh"]) == page["energyWh"]
        assert row["energyFlags"].split() == page["energyFlags"]
        assert row["energyKWh"] == f"{page['energyWh'] / 1000:.3f}"
        assert row["active"] == str(page["active"]).lower()
        assert row["meterStop"] == ("" if page["meterStop"] is None else str(page["meterStop"]))
        if not page["active"]:
            assert int(row["durationS"]) == page["durationS"] == 30 * 60
    assert pages[0]["energyFlags"] == ["from_samples", "meter_stop_below_start", "register_reset"]
    negotiated = await harness.api.get(
        "/transactions", params={"chargePointId": "CP1"}, headers={"Accept": "text/csv"}
    )
    assert without_running_durations(negotiated.text) == without_running_durations(exported.text)
    # The CSV takes the cursor and the limit too: the second page of the JSON.
    second = await harness.api.get(
        "/transactions.csv",
        params={"chargePointId": "CP1", "limit": 2, "cursor": _cursor(pages[1])},
    )
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(second.text))] == [
        p["id"] for p in pages[2:]
    ]


def without_running_durations(text: str) -> list[dict[str, str]]:
    """The CSV's rows, the duration of running transactions (it grows) left out."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return [{**row, "durationS": ""} if row["active"] == "true" else row for row in rows]


def _cursor(row: dict[str, Any]) -> str:
    return cursor_of(row["id"])


async def test_summary_per_local_day_across_daylight_saving_changes(harness: Harness) -> None:
    # Berlin: 2026-03-29 has 23 hours (CET -> CEST at 02:00), 2026-10-25 has 25.
    starts = {
        "2026-03-28T22:30:00Z": 100,  # 23:30 on the 28th, local
        "2026-03-28T23:30:00Z": 200,  # 00:30 on the 29th
        "2026-03-29T21:30:00Z": 400,  # 23:30 on the 29th (CEST)
        "2026-03-29T22:30:00Z": 800,  # 00:30 on the 30th
        "2026-10-24T22:30:00Z": 1600,  # 00:30 on the 25th (CEST)
        "2026-10-25T22:30:00Z": 3200,  # 23:30 on the 25th (CET): the same local day
    }
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        for start, energy in starts.items():
            answer = await cp.start_transaction(1, "TAG", meter_start=0, timestamp=start)
            stop = datetime.fromisoformat(start) + timedelta(minutes=20)
            await cp.stop_transaction(answer["transactionId"], energy, timestamp=z(stop))
        await cp.start_transaction(2, "TAG", meter_start=0, timestamp="2026-03-29T12:00:00Z")
    params = {"groupBy": "day", "from": "2026-03-28", "to": "2026-03-31", "tz": "Europe/Berlin"}
    response = await harness.api.get("/transactions/summary", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    days = [(g["key"], g["transactions"], g["energyWh"], g["active"]) for g in body["groups"]]
    assert days == [
        ("2026-03-28", 1, 100, 0),
        ("2026-03-29", 3, 600, 1),
        ("2026-03-30", 1, 800, 0),
    ]
    spans = [(g["start"], g["end"]) for g in body["groups"]]
    assert spans[1] == ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")  # 23 hours
    assert (body["total"]["transactions"], body["total"]["energyWh"]) == (5, 1500)
    autumn = await harness.api.get(
        "/transactions/summary",
        params={"from": "2026-10-25", "to": "2026-10-26", "tz": "Europe/Berlin"},
    )
    (day,) = autumn.json()["groups"]
    assert (day["key"], day["transactions"], day["energyWh"]) == ("2026-10-25", 2, 4800)
    assert (day["start"], day["end"]) == ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
    # In UTC the same transactions fall on other days.
    utc = await harness.api.get(
        "/transactions/summary", params={"from": "2026-03-28", "to": "2026-03-31"}
    )
    assert [g["transactions"] for g in utc.json()["groups"]] == [2, 3, 0]


async def test_summary_per_charge_point(harness: Harness) -> None:
    for charge_point_id, energy in (("CP1", 300), ("CP2", 700)):
        async with harness.charge_point(charge_point_id) as cp:
            await cp.boot()
            answer = await cp.start_transaction(1, "TAG", meter_start=0, timestamp=z(T0))
            await cp.stop_transaction(answer["transactionId"], energy, timestamp=z(T0))
    response = await harness.api.get("/transactions/summary", params={"groupBy": "chargePoint"})
    assert response.status_code == 200, response.text
    groups = [(g["key"], g["transactions"], g["energyWh"]) for g in response.json()["groups"]]
    assert groups == [("CP1", 1, 300), ("CP2", 1, 700)]
    later = await harness.api.get(
        "/transactions/summary", params={"groupBy": "chargePoint", "from": z(T0 + timedelta(1))}
    )
    assert later.json()["groups"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/transactions", {"limit": "0"}, "limit"),
        ("/transactions", {"limit": "1001"}, "limit"),
        ("/transactions", {"cursor": "not-a-cursor"}, "cursor"),
        ("/transactions", {"cursor": "dDA"}, "cursor"),  # "t0"
        ("/transactions", {"from": "yesterday"}, "from"),
        ("/transactions", {"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ("/transactions", {"tz": "Mars/Olympus"}, "tz"),
        ("/transactions", {"tz": "../../etc/passwd"}, "tz"),
        ("/transactions", {"from": "0001-01-01", "tz": "Pacific/Kiritimati"}, "from"),
        (
            "/transactions/summary",
            {"from": "9999-12-31T23:59", "to": "9999-12-31T23:59:59"},
            "from",
        ),
        ("/transactions", {"active": "maybe"}, "active"),
        ("/transactions", {"chargePoint": "CP1"}, "chargePoint"),
        ("/transactions.csv", {"since": "2026-03-01T"}, "since"),
        ("/transactions.csv", {"limit": "-1"}, "limit"),
        ("/transactions/summary", {"groupBy": "week"}, "groupBy"),
        ("/transactions/summary", {"to": "2026-03-01"}, "from"),
        ("/transactions/summary", {"from": "2026-03-01"}, "to"),
        ("/transactions/summary", {"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ("/transactions/summary", {"from": "2026-03-01", "to": "2026-03-02", "tz": ""}, "tz"),
    ],
)
async def test_bad_parameters_get_a_422_naming_the_field(
    harness: Harness, path: str, params: dict[str, str], field: str
) -> None:
    response = await harness.api.get(path, params=params)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]
