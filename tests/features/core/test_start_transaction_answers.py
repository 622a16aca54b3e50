"""The IdTagInfo of a StartTransaction answer (spec 4.8, 7.27): a status changed for the session
(ConcurrentTx, or the first answer's status for a replay) keeps the tag's parentIdTag and
expiryDate; a replayed start is answered as the first time, not with today's status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.harness import Harness

from csms.storage import IdTag

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EXPIRY = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def expiry_of(info: dict[str, str]) -> datetime:
    return datetime.fromisoformat(info["expiryDate"].replace("Z", "+00:00"))


@pytest.mark.parametrize(("tag", "parent"), [("FLEET-1", "FLEET"), ("DRIVER-7", "HOUSEHOLD")])
async def test_concurrent_tx_keeps_parent_id_tag_and_expiry_date(
    harness: Harness, tag: str, parent: str
) -> None:
    await harness.store.put_id_tag(
        IdTag(id_tag=tag, status="Accepted", expiry_date=EXPIRY, parent_id_tag=parent)
    )
    async with harness.charge_point("A") as a, harness.charge_point("B") as b:
        await a.boot()
        await b.boot()
        first = await a.start_transaction(1, tag)
        second = await b.start_transaction(1, tag)
    assert first["idTagInfo"]["status"] == "Accepted"
    info = second["idTagInfo"]
    assert info["status"] == "ConcurrentTx"
    assert info["parentIdTag"] == parent
    assert expiry_of(info) == EXPIRY


@pytest.mark.parametrize(
    ("first_status", "today"),
    [("Accepted", "Blocked"), ("Blocked", "Accepted"), ("Accepted", "Expired")],
)
async def test_a_replayed_start_gets_the_first_answer(
    harness: Harness, first_status: str, today: str
) -> None:
    await harness.store.put_id_tag(
        IdTag(id_tag="TAG", status=first_status, expiry_date=EXPIRY, parent_id_tag="FLEET")
    )
    async with harness.charge_point("A") as cp:
        await cp.boot()
        first = await cp.start_transaction(1, "TAG", meter_start=5, timestamp=iso(T0))
        assert first["idTagInfo"]["status"] == first_status
        # The operator changes the tag; then the charge point, which lost the first answer,
        # sends the identical StartTransaction again.
        response = await harness.api.put(
            "/id-tags/TAG",
            json={"status": today, "expiryDate": iso(EXPIRY), "parentIdTag": "FLEET"},
        )
        assert response.status_code == 200, response.text
        assert (await cp.authorize("TAG"))["idTagInfo"]["status"] == today
        again = await cp.start_transaction(1, "TAG", meter_start=5, timestamp=iso(T0))
    assert again["transactionId"] == first["transactionId"]
    assert again["idTagInfo"]["status"] == first_status
    assert again["idTagInfo"]["parentIdTag"] == "FLEET"
    assert expiry_of(again["idTagInfo"]) == EXPIRY


async def test_a_tag_blocked_at_its_limit_is_answered_blocked_not_concurrent_tx(
    harness: Harness,
) -> None:
    """ConcurrentTx is for an Accepted tag at its limit (docs/field-behaviour.md,
    "Transactions"): a tag blocked since its first start stays Blocked on the second."""
    await harness.store.put_id_tag(IdTag(id_tag="TAG", status="Accepted"))  # limit 1
    async with harness.charge_point("A") as a, harness.charge_point("B") as b:
        await a.boot()
        await b.boot()
        first = await a.start_transaction(1, "TAG")
        assert first["idTagInfo"]["status"] == "Accepted"
        await harness.store.put_id_tag(IdTag(id_tag="TAG", status="Blocked"))
        second = await b.start_transaction(1, "TAG")
    assert second["idTagInfo"]["status"] == "Blocked"


async def test_a_tag_over_its_lowered_limit_is_answered_concurrent_tx(harness: Harness) -> None:
    """Two transactions of a tag allowed two, then its limit lowered to 1: a third start is
    over the limit (2 > 1), not only at it, and is answered ConcurrentTx."""
    await harness.store.put_id_tag(
        IdTag(id_tag="TAG", status="Accepted", max_active_transactions=2)
    )
    async with (
        harness.charge_point("A") as a,
        harness.charge_point("B") as b,
        harness.charge_point("C") as c,
    ):
        for cp in (a, b, c):
            await cp.boot()
        for cp in (a, b):
            assert (await cp.start_transaction(1, "TAG"))["idTagInfo"]["status"] == "Accepted"
        await harness.store.put_id_tag(
            IdTag(id_tag="TAG", status="Accepted", max_active_transactions=1)
        )
        third = await c.start_transaction(1, "TAG")
    assert third["idTagInfo"]["status"] == "ConcurrentTx"
