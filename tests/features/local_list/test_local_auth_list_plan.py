"""The local list as data: policy selection, changes, chunked messages, versions, limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csms.features.local_list.plan import (
    Changes,
    as_entry,
    changes,
    configured_limit,
    desired_entries,
    differential_update,
    full_update,
    next_version,
    per_message_limit,
    read_update,
    too_long,
)
from csms.ocpp16 import validate_request
from csms.storage import Configuration, ConfigurationEntry, IdTag, LocalList, LocalListPolicy

EXPIRY = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
TAGS = [
    IdTag(id_tag="Alice", status="Accepted", expiry_date=EXPIRY),
    IdTag(id_tag="bob", status="Blocked", parent_id_tag="FLEET"),
    IdTag(id_tag="carol", status="Accepted", parent_id_tag="fleet"),
    IdTag(id_tag="FLEET", status="Accepted"),
    IdTag(id_tag="dave", status="Expired", parent_id_tag="OTHER"),
]


def configuration(**keys: str) -> Configuration:
    return Configuration(
        charge_point_id="CP1",
        entries=[ConfigurationEntry(key=k, value=v, readonly=True) for k, v in keys.items()],
        unknown_keys=[],
        complete_at=None,
        updated_at=None,
    )


def test_policies_select_tags_case_insensitively() -> None:
    everyone = desired_entries(LocalListPolicy(name="p", kind="all"), TAGS)
    assert list(everyone) == ["alice", "bob", "carol", "dave", "fleet"]  # by key

    group = LocalListPolicy(name="p", kind="parentIdTags", id_tags=("Fleet",))
    # The members (parentIdTag FLEET/fleet) and the group tag itself.
    assert list(desired_entries(group, TAGS)) == ["bob", "carol", "fleet"]

    chosen = LocalListPolicy(name="p", kind="idTags", id_tags=("ALICE", "dave", "unknown"))
    assert list(desired_entries(chosen, TAGS)) == ["alice", "dave"]

    assert desired_entries(None, TAGS) == {}
    assert desired_entries(LocalListPolicy(name="p", kind="idTags"), TAGS) == {}


def test_entries_carry_the_wire_precision() -> None:
    entry = desired_entries(LocalListPolicy(name="p", kind="all"), TAGS)["alice"]
    assert entry.expiry_date == EXPIRY.replace(microsecond=123000)
    assert as_entry(entry) == entry


def test_changes() -> None:
    installed = [
        IdTag(id_tag="ALICE", status="Accepted", expiry_date=EXPIRY),  # same, other spelling
        IdTag(id_tag="bob", status="Accepted", parent_id_tag="FLEET"),  # status changed
        IdTag(id_tag="zed", status="Accepted"),  # no longer selected
    ]
    desired = desired_entries(
        LocalListPolicy(name="p", kind="idTags", id_tags=("alice", "bob", "carol")), TAGS
    )

    pending = changes(installed, desired)

    assert [tag.id_tag for tag in pending.upserts] == ["bob", "carol"]
    assert pending.removals == ("zed",)
    assert len(pending) == 3
    assert changes(desired.values(), desired) == Changes()
    # The entries a Differential carries: every upsert and every removal.
    assert len(Changes(upserts=(TAGS[0],), removals=("zed",))) == 2
    assert len(Changes(upserts=tuple(TAGS[:3]), removals=("zed",))) == 4


def test_full_update_in_one_message() -> None:
    entries = list(desired_entries(LocalListPolicy(name="p", kind="all"), TAGS).values())

    (message,) = full_update(entries, 7, None)

    assert message["listVersion"] == 7
    assert message["updateType"] == "Full"
    assert [item["idTag"] for item in message["localAuthorizationList"]] == [
        "Alice",
        "bob",
        "carol",
        "dave",
        "FLEET",
    ]
    assert message["localAuthorizationList"][0] == {
        "idTag": "Alice",
        "idTagInfo": {"status": "Accepted", "expiryDate": "2030-05-06T07:08:09.123Z"},
    }
    assert message["localAuthorizationList"][1]["idTagInfo"] == {
        "status": "Blocked",
        "parentIdTag": "FLEET",
    }
    assert validate_request("SendLocalList", message) is None


def test_full_update_chunked_with_increasing_versions() -> None:
    entries = [IdTag(id_tag=f"T{n:02}", status="Accepted") for n in range(7)]

    messages = full_update(entries, 3, 3)

    assert [(m["updateType"], m["listVersion"]) for m in messages] == [
        ("Full", 3),
        ("Differential", 4),
        ("Differential", 5),
    ]
    assert [len(m["localAuthorizationList"]) for m in messages] == [3, 3, 1]
    sent = [item["idTag"] for m in messages for item in m["localAuthorizationList"]]
    assert sent == [tag.id_tag for tag in entries]
    assert all("idTagInfo" in item for m in messages for item in m["localAuthorizationList"])
    for message in messages:
        assert validate_request("SendLocalList", message) is None


def test_empty_full_update_empties_the_list() -> None:
    assert full_update([], 1, 5) == [
        {"listVersion": 1, "updateType": "Full", "localAuthorizationList": []}
    ]


def test_differential_update_removals_first() -> None:
    pending = Changes(
        upserts=(IdTag(id_tag="new1", status="Accepted"), IdTag(id_tag="new2", status="Invalid")),
        removals=("old",),
    )

    messages = differential_update(pending, 10, 2)

    assert messages == [
        {
            "listVersion": 10,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "old"},
                {"idTag": "new1", "idTagInfo": {"status": "Accepted"}},
            ],
        },
        {
            "listVersion": 11,
            "updateType": "Differential",
            "localAuthorizationList": [{"idTag": "new2", "idTagInfo": {"status": "Invalid"}}],
        },
    ]
    assert differential_update(Changes(), 10, 2) == []


def test_differential_chunks_count_their_versions_up_from_any_first() -> None:
    pending = Changes(upserts=tuple(IdTag(id_tag=f"T{n}", status="Accepted") for n in range(5)))

    messages = differential_update(pending, 7, 2)

    # Each newer than the one before (spec 7.47), one apart, from an odd first version too.
    assert [m["listVersion"] for m in messages] == [7, 8, 9]


def test_read_update() -> None:
    update = read_update(
        {
            "listVersion": 4,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "gone"},
                {
                    "idTag": "kept",
                    "idTagInfo": {"status": "Accepted", "expiryDate": "2030-01-01T00:00:00Z"},
                },
            ],
        }
    )
    assert (update.update_type, update.list_version) == ("Differential", 4)
    assert update.removals == ("gone",)
    assert update.entries == (
        IdTag(id_tag="kept", status="Accepted", expiry_date=datetime(2030, 1, 1, tzinfo=UTC)),
    )
    # A Full entry without idTagInfo installs nothing, and removes nothing either.
    empty = read_update(
        {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [{"idTag": "x"}]}
    )
    assert (empty.entries, empty.removals) == ((), ())
    assert read_update({"listVersion": 1, "updateType": "Full"}).entries == ()


@pytest.mark.parametrize(
    ("version", "reported", "sent", "expected"),
    [
        (None, None, None, 1),  # never 0 (errata 3.52)
        (None, -1, None, 1),  # nor -1
        (3, 3, 3, 4),
        (3, 8, None, 9),  # above what the charge point reported
        (3, 2, 12, 13),  # and above every version sent (a failed one too)
    ],
)
def test_next_version(
    version: int | None, reported: int | None, sent: int | None, expected: int
) -> None:
    local_list = LocalList(
        charge_point_id="CP1", version=version, reported_version=reported, sent_version=sent
    )
    assert next_version(local_list) == expected


def test_limits() -> None:
    known = configuration(LocalAuthListMaxLength="4", SendLocalListMaxLength=" 2 ")
    assert configured_limit(known, "LocalAuthListMaxLength") == 4
    assert per_message_limit(known) == 2
    assert too_long(4, known) is None
    assert too_long(0, known) is None and too_long(3, known) is None
    reason = too_long(5, known)
    assert reason is not None and "LocalAuthListMaxLength" in reason and "4" in reason

    unknown = configuration()
    assert per_message_limit(unknown) is None
    assert too_long(10_000, unknown) is None

    odd = configuration(LocalAuthListMaxLength="many", SendLocalListMaxLength="0")
    assert configured_limit(odd, "LocalAuthListMaxLength") is None
    assert per_message_limit(odd) is None
    assert too_long(1, configuration(LocalAuthListMaxLength="0")) is not None

    # A negative value is no limit the charge point could mean: unknown, nothing refused.
    negative = configuration(LocalAuthListMaxLength="-1", SendLocalListMaxLength="-1")
    assert configured_limit(negative, "LocalAuthListMaxLength") is None
    assert too_long(10_000, negative) is None
    assert per_message_limit(negative) is None
