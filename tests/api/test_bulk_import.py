"""Bulk imports for fleets (api/bulk.py): id tags and charge points from a JSON array or a CSV
file, all rows or none, each row as the one-at-a-time PUT would store it, errors naming the row
and the field; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.api.test_abuse import _head, _raw_status
from tests.harness import API_TOKEN, Harness, csms
from tests.storage.conftest import database_url, postgres_database
from websockets.exceptions import InvalidStatus

from csms.api import bulk
from csms.api.limits import BULK_MAX_BODY

__all__ = ["database_url", "postgres_database"]

PASSWORD = "0123456789abcdef0123"


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    async with csms(database_url) as running:
        yield running


async def import_tags(harness: Harness, body: Any, **kwargs: Any) -> Any:
    if isinstance(body, str):
        kwargs.setdefault("headers", {"content-type": "text/csv"})
        return await harness.api.post("/id-tags/import", content=body.encode(), **kwargs)
    return await harness.api.post("/id-tags/import", json=body, **kwargs)


async def tags(harness: Harness) -> dict[str, dict[str, Any]]:
    response = await harness.api.get("/id-tags")
    assert response.status_code == 200, response.text
    return {tag["idTag"]: tag for tag in response.json()}


async def test_id_tags_from_json_are_created_and_updated_as_put_would(harness: Harness) -> None:
    response = await harness.api.put("/id-tags/fleet-1", json={"status": "Accepted"})
    assert response.status_code == 200
    # Read once, so that a cached answer would show if the import forgot the cache.
    assert (await harness.store.get_id_tag("FLEET-1")).status == "Accepted"

    response = await import_tags(
        harness,
        [
            {"idTag": "FLEET-1", "status": "Blocked"},  # the known tag, in another case
            {"idTag": "NEW-1", "expiryDate": "2031-01-01T00:00:00Z", "parentIdTag": "fleet-1"},
            {"idTag": "NEW-2", "maxActiveTransactions": None},
        ],
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 1}
    stored = await tags(harness)
    assert set(stored) == {"fleet-1", "NEW-1", "NEW-2"}  # the registered spelling is kept
    assert stored["fleet-1"]["status"] == "Blocked"
    assert stored["NEW-1"]["expiryDate"] == "2031-01-01T00:00:00Z"
    assert stored["NEW-1"]["parentIdTag"] == "fleet-1"
    assert stored["NEW-1"]["maxActiveTransactions"] == 1  # left out: as PUT, 1
    assert stored["NEW-2"]["maxActiveTransactions"] is None
    async with harness.charge_point("CP1") as cp:
        await cp.boot()
        assert (await cp.call("Authorize", {"idTag": "FLEET-1"}))["idTagInfo"]["status"] == (
            "Blocked"
        )


async def test_id_tags_from_csv_with_bom_empty_cells_and_null(harness: Harness) -> None:
    text = (
        "\ufeffidTag,status,expiryDate,parentIdTag,maxActiveTransactions\r\n"
        "A-1,Accepted,,,\r\n"
        "A-2,Expired,2020-01-01T00:00:00Z,A-1,3\r\n"
        '"A,3",Accepted,,,null\r\n'
    )
    response = await import_tags(harness, text)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 3, "updated": 0}
    stored = await tags(harness)
    assert stored["A-1"] == {
        "idTag": "A-1",
        "status": "Accepted",
        "expiryDate": None,
        "parentIdTag": None,
        "maxActiveTransactions": 1,
    }
    assert (stored["A-2"]["status"], stored["A-2"]["maxActiveTransactions"]) == ("Expired", 3)
    assert stored["A,3"]["maxActiveTransactions"] is None
    # The same file again: every row is an update, nothing else changes.
    response = await import_tags(harness, text)
    assert response.json() == {"created": 0, "updated": 3}
    assert await tags(harness) == stored


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ([{"idTag": "OK"}, {"idTag": "BAD", "status": "Maybe"}], ["body", 1, "status"], "Accepted"),
        ([{"idTag": "OK"}, {"status": "Accepted"}], ["body", 1, "idTag"], "required"),
        ([{"idTag": "X" * 21}], ["body", 0, "idTag"], "20"),
        ([{"idTag": "OK", "parentIdTag": "P" * 21}], ["body", 0, "parentIdTag"], "20"),
        ([{"idTag": "OK"}, {"idTag": "ok"}], ["body", 1, "idTag"], "row 0"),
        ([{"idTag": "OK", "maxActiveTransactions": 0}], ["body", 0, "maxActiveTransactions"], ""),
        ([{"idTag": "OK", "expiryDate": "tomorrow"}], ["body", 0, "expiryDate"], "datetime"),
        ("idTag,status\nOK,Accepted\nBAD,Maybe\n", ["body", 1, "status"], "Accepted"),
        ("idTag,status\nOK,Accepted,extra\n", ["body", 0, "body"], "cells"),
        ("idTag,status\nO\x00K,Accepted\n", ["body", 0, "idTag"], "NUL"),
    ],
)
async def test_a_bad_row_refuses_the_whole_import_naming_row_and_field(
    harness: Harness, body: Any, loc: list[Any], words: str
) -> None:
    response = await import_tags(harness, body)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc
    assert words in error["msg"]
    assert await tags(harness) == {}  # not even the good rows


@pytest.mark.parametrize(
    ("content", "content_type", "code", "words"),
    [
        (b'{"idTag": "A"}', "application/json", 422, "array"),
        (b"[{", "application/json", 422, "not JSON"),
        (b"idTag\n\xff\xfe\n", "text/csv", 422, "not UTF-8"),
        (b"", "text/csv", 422, "no header"),
        (b'idTag\n"A\n', "text/csv", 422, "CSV line"),
        (b"<tags/>", "application/xml", 415, "text/csv"),
    ],
)
async def test_a_body_that_is_not_rows_gets_a_clear_answer(
    harness: Harness, content: bytes, content_type: str, code: int, words: str
) -> None:
    response = await harness.api.post(
        "/id-tags/import", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == code, response.text
    assert words in str(response.json()["detail"])


async def test_too_many_rows_are_refused(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "MAX_ROWS", 3)
    response = await import_tags(harness, [{"idTag": f"T{n}"} for n in range(4)])
    assert response.status_code == 422
    assert "at most 3 rows" in response.json()["detail"]
    assert await tags(harness) == {}


async def test_twenty_thousand_id_tags_over_the_usual_body_limit_in_one_request(
    harness: Harness,
) -> None:
    rows = [{"idTag": f"TAG{n:06d}", "status": "Accepted"} for n in range(20_000)]
    response = await import_tags(harness, rows)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 20_000, "updated": 0}
    stored = await tags(harness)
    assert len(stored) == 20_000 and "TAG019999" in stored
    # The limit of an import is larger than the API's, but it is there.
    head = _head("/api/v1/id-tags/import", BULK_MAX_BODY + 1, API_TOKEN)
    assert await _raw_status(harness.app.http_port, head, b"[") == 413


async def test_an_import_needs_credentials_before_its_body_is_read(harness: Harness) -> None:
    response = await harness.api.post(
        "/id-tags/import", json=[{"idTag": "A"}], headers={"authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    response = await harness.api.post(
        "/charge-points/import",
        json=[{"chargePointId": "CP1"}],
        headers={"authorization": "Bearer wrong"},
    )
    assert response.status_code == 401
    assert await tags(harness) == {}
    assert await harness.store.get_charge_point("CP1") is None


async def test_charge_points_import_keeps_what_a_row_leaves_out(harness: Harness) -> None:
    response = await harness.api.put(
        "/charge-points/KNOWN", json={"description": "depot", "registrationStatus": "Pending"}
    )
    assert response.status_code == 200
    text = (
        "chargePointId,password,registrationStatus,description\n"
        f"KNOWN,{PASSWORD},,\n"
        f"NEW-1,{PASSWORD},,bay 1\n"
        "NEW-2,,Rejected,\n"
    )
    response = await harness.api.post(
        "/charge-points/import", content=text.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 1}
    known = await harness.store.get_charge_point("KNOWN")
    assert (known.registration_status, known.description) == ("Pending", "depot")
    assert known.password_hash.startswith("hmac-sha256$")
    new_1 = await harness.store.get_charge_point("NEW-1")
    assert (new_1.registration_status, new_1.description) == ("Accepted", "bay 1")
    new_2 = await harness.store.get_charge_point("NEW-2")
    assert (new_2.registration_status, new_2.password_hash) == ("Rejected", None)
    # The imported password is the one the charge point must present.
    with pytest.raises(InvalidStatus) as refusal:
        async with harness.charge_point("NEW-1", password="wrong-password-0000"):
            pass
    assert refusal.value.response.status_code == 401
    async with harness.charge_point("NEW-1", password=PASSWORD) as cp:
        assert (await cp.boot())["status"] == "Accepted"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"chargePointId": "has space"}, "chargePointId"),
        ({"chargePointId": "CP/1"}, "chargePointId"),
        ({"chargePointId": "C" * 49}, "chargePointId"),
        ({"chargePointId": "CP", "password": "short"}, "password"),
        ({"chargePointId": "CP", "registrationStatus": "Maybe"}, "registrationStatus"),
    ],
)
async def test_a_bad_charge_point_row_is_refused_naming_the_field(
    harness: Harness, row: dict[str, Any], field: str
) -> None:
    response = await harness.api.post("/charge-points/import", json=[{"chargePointId": "OK"}, row])
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", 1, field]
    assert await harness.store.get_charge_point("OK") is None


async def test_an_import_updates_the_local_lists_it_concerns(tmp_path: Path) -> None:
    async with csms(
        tmp_path / "csms.db", certification_mode=False, fetch_configuration_on_boot=False
    ) as harness:
        response = await import_tags(harness, [{"idTag": "FLEET"}, {"idTag": "m1"}])
        assert response.status_code == 200
        await harness.api.put("/charge-points/CP-A", json={"registrationStatus": "Accepted"})
        response = await harness.api.put(
            "/local-list-policies/all", json={"kind": "idTags", "idTags": ["FLEET", "m1", "m2"]}
        )
        assert response.status_code == 200, response.text
        response = await harness.api.put(
            "/charge-points/CP-A/local-list/policy", json={"policy": "all"}
        )
        assert response.status_code == 200, response.text
        async with harness.charge_point("CP-A") as sim:
            await sim.boot()
            await sim.expect_call("GetLocalListVersion")
            first = await sim.expect_call("SendLocalList")
            assert {e["idTag"] for e in first.payload["localAuthorizationList"]} == {
                "FLEET",
                "m1",
            }
            await harness.app.services.local_lists.wait_idle()

            response = await import_tags(
                harness, [{"idTag": "m1", "status": "Blocked"}, {"idTag": "m2"}]
            )
            assert response.json() == {"created": 1, "updated": 1}

            call = await sim.expect_call("SendLocalList")
            assert call.payload["updateType"] == "Differential"
            assert sorted(call.payload["localAuthorizationList"], key=lambda e: e["idTag"]) == [
                {"idTag": "m1", "idTagInfo": {"status": "Blocked"}},
                {"idTag": "m2", "idTagInfo": {"status": "Accepted"}},
            ]
            await harness.app.services.local_lists.wait_idle()
            sim.no_unexpected_calls()
