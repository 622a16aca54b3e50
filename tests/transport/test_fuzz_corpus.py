"""A deterministic corpus of malformed frames against the live server (docs/field-behaviour.md,
"Input limits and ids"): every frame is either answered with the exact CALLERROR of J 4.2.3 or
ignored as documented (J 4.1.3), the connection survives (a Heartbeat after each batch is
answered on it), and the server keeps nothing per frame or per failed handshake."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.harness import Harness
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}
START = {"connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": "2025-01-01T00:00:00Z"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


@dataclass(frozen=True)
class Case:
    frame: str | bytes
    # The CALLERROR expected: (unique id, error code); None = no answer at all.
    answer: tuple[str, str] | None


def _call(unique_id: str, action: str, payload: object) -> str:
    return json.dumps([2, unique_id, action, payload])


def _big(rng: random.Random) -> int:
    magnitude = rng.choice([2**31, 2**32, 2**53, 2**63, 2**64, 10**30])
    return rng.choice([1, -1]) * (magnitude + rng.randrange(1000))


def _bad_text(rng: random.Random) -> str:
    bad = rng.choice(["\x00", "\ud800", "\udfff", "\udc00", "\ud83d"])
    return "".join(rng.sample(["a", "b", bad], 3))[: rng.randint(1, 3)] + bad


def not_json(rng: random.Random) -> Iterator[Case]:
    samples = ["", " ", "nul", "[2,", '[2,"a","Heartbeat",{}', "{", "}", "]", "'x'", "[2 3]"]
    for index in range(120):
        text = rng.choice(samples) + "".join(rng.choice('[]{},:"x2 ') for _ in range(index % 9))
        try:
            json.loads(text)
        except ValueError:
            yield Case(text, None)
    for index in range(40):  # binary frames that are not UTF-8 JSON
        yield Case(bytes(rng.randrange(128, 256) for _ in range(1 + index % 20)), None)


def wrong_message_types(rng: random.Random) -> Iterator[Case]:
    for index in range(60):
        type_id = rng.choice([0, 1, 5, 6, 99, -1, "2", 2.0, True, None, [], {}])
        yield Case(json.dumps([type_id, f"t{index}", "Heartbeat", {}]), None)
    for text in ("{}", '{"a": 1}', "[]", '"text"', "12", "null", "true"):
        yield Case(text, None)


def unmatched_responses(rng: random.Random) -> Iterator[Case]:
    for index in range(60):
        if index % 2:
            yield Case(json.dumps([3, f"nobody-{index}", {}]), None)
        else:
            yield Case(json.dumps([4, f"nobody-{index}", "GenericError", "", {}]), None)
    for _ in range(20):  # responses whose id is unusable: nothing to answer
        unique_id = rng.choice([None, 5, "x" * 37, "", {"a": 1}])
        yield Case(json.dumps([3, unique_id, {}]), None)


def unusable_ids(rng: random.Random) -> Iterator[Case]:
    for index in range(80):
        unique_id = rng.choice([None, 7, 1.5, True, [], {"a": 1}, "", "y" * (37 + index)])
        echo = unique_id if isinstance(unique_id, str) else "-1"
        yield Case(json.dumps([2, unique_id, "Heartbeat", {}]), (echo, "FormationViolation"))
    yield Case("[2]", ("-1", "FormationViolation"))


def wrong_shapes(rng: random.Random) -> Iterator[Case]:
    for index in range(60):
        unique_id = f"s{index}"
        shape = index % 4
        if shape == 0:
            frame: list[object] = [2, unique_id, "Heartbeat"]
        elif shape == 1:
            frame = [2, unique_id, "Heartbeat", {}, "extra"]
        elif shape == 2:
            frame = [2, unique_id, rng.choice([5, None, [], ""]), {}]
        else:
            frame = [2, unique_id, "Heartbeat", rng.choice([[], "x", 3, None])]
        yield Case(json.dumps(frame), (unique_id, "FormationViolation"))


def unknown_and_central_system_actions(rng: random.Random) -> Iterator[Case]:
    central = ["Reset", "ChangeConfiguration", "GetConfiguration", "RemoteStartTransaction"]
    for index in range(60):
        unique_id = f"a{index}"
        if index % 2:
            action = "".join(rng.choice("abcXYZ_") for _ in range(1 + index % 12))
            yield Case(_call(unique_id, action, {}), (unique_id, "NotImplemented"))
        else:
            action = rng.choice(central)
            yield Case(_call(unique_id, action, {}), (unique_id, "NotSupported"))


def wrong_types(rng: random.Random) -> Iterator[Case]:
    not_string = [5, 1.5, True, None, [], {"a": 1}]
    not_integer = ["1", 1.5, True, None, [], {}]
    for index in range(100):
        unique_id = f"w{index}"
        which = index % 5
        if which == 0:
            payload: dict[str, object] = {"idTag": rng.choice(not_string)}
            action = "Authorize"
        elif which == 1:
            payload = {**STATUS, "connectorId": rng.choice(not_integer)}
            action = "StatusNotification"
        elif which == 2:
            payload = {**START, "meterStart": rng.choice(not_integer)}
            action = "StartTransaction"
        elif which == 3:
            payload = {"vendorId": rng.choice(not_string)}
            action = "DataTransfer"
        else:
            payload = {"vendorId": "V", "data": rng.choice([5, [], {"deep": [[[1]]]}])}
            action = "DataTransfer"
        yield Case(_call(unique_id, action, payload), (unique_id, "TypeConstraintViolation"))


def missing_and_unknown_fields(rng: random.Random) -> Iterator[Case]:
    for index in range(60):
        unique_id = f"m{index}"
        if index % 2:
            action, payload = rng.choice(
                [("Authorize", {}), ("StartTransaction", {"connectorId": 1}), ("DataTransfer", {})]
            )
            yield Case(
                _call(unique_id, action, payload), (unique_id, "OccurenceConstraintViolation")
            )
        else:
            key = rng.choice(["extra", "\ud800", "\x00", "idtag", "a" * 100])
            payload = {key: 1}
            yield Case(_call(unique_id, "Heartbeat", payload), (unique_id, "FormationViolation"))


def unstorable_values(rng: random.Random) -> Iterator[Case]:
    for index in range(260):
        unique_id = f"u{index}"
        which = index % 6
        if which == 0:
            action, payload = "StatusNotification", {**STATUS, "connectorId": _big(rng)}
        elif which == 1:
            field = rng.choice(["connectorId", "meterStart", "reservationId"])
            action, payload = "StartTransaction", {**START, field: _big(rng)}
        elif which == 2:
            field = rng.choice(["transactionId", "meterStop"])
            stop = {"transactionId": 1, "meterStop": 0, "timestamp": "2025-01-01T00:00:00Z"}
            action, payload = "StopTransaction", {**stop, field: _big(rng)}
        elif which == 3:
            action, payload = "Authorize", {"idTag": _bad_text(rng)}
        elif which == 4:
            action, payload = "DataTransfer", {"vendorId": _bad_text(rng)}
        else:
            action, payload = "StatusNotification", {**STATUS, "info": _bad_text(rng)}
        yield Case(_call(unique_id, action, payload), (unique_id, "PropertyConstraintViolation"))
    for index in range(30):  # Python's json reads NaN and Infinity; numbers must be finite
        unique_id = f"n{index}"
        number = rng.choice(["NaN", "Infinity", "-Infinity", "1e999"])
        text = (
            f'[2,"{unique_id}","MeterValues",{{"connectorId":1,"meterValue":[{{"timestamp":'
            f'"2025-01-01T00:00:00Z","sampledValue":[{{"value":"1"}}]}}],"transactionId":{number}}}]'
        )
        yield Case(text, (unique_id, "TypeConstraintViolation"))


def deep_and_big(rng: random.Random) -> Iterator[Case]:
    for index in range(30):
        depth = rng.choice([50, 500, 5000, 100000])
        nested = "[" * depth + "]" * depth
        if depth >= 5000:  # beyond the JSON reader's recursion: not JSON, ignored
            yield Case(f'[2,"d{index}","Heartbeat",{{"a":{nested}}}]', None)
        else:
            yield Case(
                f'[2,"d{index}","Heartbeat",{{"a":{nested}}}]', (f"d{index}", "FormationViolation")
            )
    for index in range(20):
        size = rng.choice([65 * 1024, 200 * 1024, 900 * 1024])
        payload = {"vendorId": "V", "data": "x" * size}
        yield Case(
            _call(f"b{index}", "DataTransfer", payload),
            (f"b{index}", "PropertyConstraintViolation"),
        )


FAMILIES = [
    not_json,
    wrong_message_types,
    unmatched_responses,
    unusable_ids,
    wrong_shapes,
    unknown_and_central_system_actions,
    wrong_types,
    missing_and_unknown_fields,
    unstorable_values,
    deep_and_big,
]


def corpus(family: object, seed: int = 16) -> list[Case]:
    return list(family(random.Random(f"{seed}-{family.__name__}")))  # type: ignore[attr-defined]


def test_the_corpus_has_over_a_thousand_frames() -> None:
    assert sum(len(corpus(family)) for family in FAMILIES) >= 1000


async def _play(websocket: object, cases: list[Case], batch: int = 50) -> None:
    for start in range(0, len(cases), batch):
        for case in cases[start : start + batch]:
            await websocket.send(case.frame)  # type: ignore[attr-defined]
            if case.answer is not None:
                reply = json.loads(await asyncio.wait_for(websocket.recv(), 10))  # type: ignore[attr-defined]
                assert reply[0] == 4 and (reply[1], reply[2]) == case.answer, (
                    case.frame[:200],
                    reply,
                )
                assert isinstance(reply[3], str) and isinstance(reply[4], dict)
        # The connection is still there, and nothing answered the ignored frames.
        await websocket.send(json.dumps([2, f"hb{start}", "Heartbeat", {}]))  # type: ignore[attr-defined]
        reply = json.loads(await asyncio.wait_for(websocket.recv(), 10))  # type: ignore[attr-defined]
        assert reply[:2] == [3, f"hb{start}"], reply


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.__name__)
async def test_malformed_frames_are_answered_or_ignored_and_the_connection_stays(
    harness: Harness, family: object
) -> None:
    cases = corpus(family)
    async with harness.raw("FUZZ1") as raw:
        await raw.exchange([2, "boot", "BootNotification", BOOT])
        await _play(raw.websocket, cases)
    assert len(harness.app.services.registry) <= 1


async def test_the_server_keeps_nothing_per_frame_or_failed_handshake(harness: Harness) -> None:
    cases = [case for family in FAMILIES for case in corpus(family)]
    server = harness.app.ocpp_server
    assert server is not None

    async def one_round(round_id: int) -> None:
        async with harness.raw("FUZZ2") as raw:
            await raw.exchange([2, "boot", "BootNotification", BOOT])
            await _play(raw.websocket, cases, batch=200)
        for index in range(50):
            reader, writer = await asyncio.open_connection("127.0.0.1", harness.app.ocpp_port)
            writer.write(f"GET /ocpp/PLAIN{round_id}x{index} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await writer.drain()
            assert b" 426 " in await reader.readline()
            writer.close()
            await writer.wait_closed()

    await one_round(0)  # warm-up: caches, compiled schemas
    # The message log's rows wait in the writer's queue for the next commit (bounded, and
    # written within a second); they are measured once written, as everything else.
    await harness.store.flush_message_log()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for round_id in range(1, 3):
            await one_round(round_id)
        await harness.store.flush_message_log()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert server.admitted_count() == 0
    assert [cp.id for cp in await harness.store.list_charge_points()] == ["FUZZ2"]
    # Two more rounds (2,000+ frames, 100 failed handshakes) leave well under 1 MB behind.
    assert grown < 1_000_000, grown


async def test_a_frame_over_the_size_limit_closes_with_1009(harness: Harness) -> None:
    # Frames over 1 MiB are not read at all: the WebSocket layer closes (RFC 6455 1009).
    async with connect(f"{harness.url}/BIG1", subprotocols=["ocpp1.6"], max_size=None) as ws:  # type: ignore[list-item]
        await ws.send(_call("big", "DataTransfer", {"vendorId": "V", "data": "x" * 2_000_000}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
