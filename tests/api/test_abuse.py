"""The operator API under abuse (docs/field-behaviour.md, "Input limits and ids"), over every
route of the app's own route table (its OpenAPI document): no token is 401 before the body is
read, a body over the limit is 413, and hostile ids, out-of-range numbers, NaN and lone
surrogates are 4xx naming the field, never 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.harness import API_TOKEN, Harness, csms

HOSTILE_IDS = ["%3Cscript%3E", "%00", "CP%FF", "a%20b", "%EF%BC%A1", "x" * 49]
OUT_OF_RANGE = ["2147483648", "-2147483649", "9223372036854775808"]


async def _routes(harness: Harness) -> list[tuple[str, str, dict[str, Any]]]:
    document = (await harness.api.get("/openapi.json")).json()
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _params(operation: dict[str, Any], where: str) -> list[tuple[str, str]]:
    """(name, JSON type) of an operation's parameters in `where` (path or query)."""
    found = []
    for param in operation.get("parameters", []):
        if param["in"] == where:
            schema = param.get("schema", {})
            kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
            found.append((param["name"], "integer" if "integer" in kinds else "string"))
    return found


def _fill(path: str, operation: dict[str, Any], **given: str) -> str:
    for name, kind in _params(operation, "path"):
        default = "1" if kind == "integer" else "CP1"
        path = path.replace("{" + name + "}", given.get(name, default))
    return path


def _url(harness: Harness, path: str) -> str:
    return f"http://127.0.0.1:{harness.app.http_port}{path}"


async def test_every_api_route_without_a_token_is_401_even_with_a_bad_body(
    harness: Harness,
) -> None:
    routes = [r for r in await _routes(harness) if r[1].startswith("/api/v1/")]
    assert len(routes) > 40
    async with httpx.AsyncClient() as client:
        for method, path, operation in routes:
            response = await client.request(
                method,
                _url(harness, _fill(path, operation)),
                content=b'{"not json',
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 401, (method, path, response.text)


async def _raw_status(port: int, head: bytes, body_part: bytes) -> int:
    """Send a request head and the first part of its body, never the rest; the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body_part)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
        return int(line.split()[1])
    finally:
        writer.close()


def _head(path: str, length: int | None, token: str | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Content-Type: application/json"]
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_huge_body_without_a_token_is_refused_before_it_is_read(harness: Harness) -> None:
    port = harness.app.http_port
    head = _head("/api/v1/id-tags", 300_000_000, None)
    assert await _raw_status(port, head, b"x" * 1000) == 401


async def test_a_huge_body_with_the_token_is_413(harness: Harness) -> None:
    port = harness.app.http_port
    head = _head("/api/v1/id-tags", 300_000_000, API_TOKEN)
    assert await _raw_status(port, head, b"x" * 1000) == 413
    # Chunked, no length announced: refused once the stream passes the limit.
    chunk = b"x" * 65536
    chunked = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 20
    assert await _raw_status(port, _head("/api/v1/load-groups", None, API_TOKEN), chunked) == 413


async def test_the_body_limit_is_a_setting(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db", api_max_body_bytes=100) as harness:
        response = await harness.api.put("/charge-points/CP1", json={"description": "x" * 200})
        assert response.status_code == 413
        response = await harness.api.put("/charge-points/CP1", json={"description": "x" * 20})
        assert response.status_code == 200


def _names_field(response: httpx.Response, field: str) -> bool:
    return response.status_code == 422 and field in json.dumps(response.json())


async def test_hostile_charge_point_ids_are_422_on_every_route(harness: Harness) -> None:
    checked = 0
    for method, path, operation in await _routes(harness):
        if "{charge_point_id}" not in path:
            continue
        for hostile in HOSTILE_IDS:
            url = _fill(path, operation, charge_point_id=hostile).removeprefix("/api/v1")
            response = await harness.api.request(method, url, json={})
            assert _names_field(response, "charge_point_id"), (method, url, response.text)
            checked += 1
    assert checked > 100


async def test_out_of_range_integers_are_422_on_every_route(harness: Harness) -> None:
    checked = 0
    for method, path, operation in await _routes(harness):
        prefix = "/api/v1" if path.startswith("/api/v1/") else ""
        client_path = path.removeprefix(prefix)
        for name, kind in _params(operation, "path"):
            if kind != "integer":
                continue
            for value in OUT_OF_RANGE:
                url = _fill(client_path, operation, **{name: value})
                response = await _request(harness, method, prefix + url)
                assert _names_field(response, name), (method, url, response.text)
                checked += 1
        for name, kind in _params(operation, "query"):
            if kind != "integer":
                continue
            url = _fill(client_path, operation)
            response = await _request(harness, method, prefix + url, params={name: OUT_OF_RANGE[0]})
            assert _names_field(response, name), (method, url, name, response.text)
            checked += 1
    assert checked > 20


async def _request(harness: Harness, method: str, path: str, **options: Any) -> httpx.Response:
    async with httpx.AsyncClient(headers=harness.api.headers) as client:
        return await client.request(method, _url(harness, path), **options)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"description": NaN}', "description"),
        ('{"a": {"b": [1, Infinity]}}', "b"),
        ('{"description": "x\\ud800"}', "description"),
        ('{"description": "x\\u0000"}', "description"),
        ('{"\\ud800": 1}', "ud800"),
        ('{"n": 2147483648}', "n"),
    ],
)
async def test_unstorable_body_values_are_422_on_every_route_with_a_body(
    harness: Harness, body: str, field: str
) -> None:
    checked = 0
    for method, path, operation in await _routes(harness):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        url = _fill(path, operation).removeprefix("/api/v1")
        response = await harness.api.request(
            method, url, content=body.encode(), headers={"Content-Type": "application/json"}
        )
        assert _names_field(response, field), (method, url, response.text)
        checked += 1
    assert checked > 10


async def test_specific_cases_from_the_campaign(harness: Harness) -> None:
    assert (await harness.api.put("/charge-points/CP1", json={})).status_code == 200
    response = await harness.api.get(
        "/charge-points/CP1/status-history", params={"connectorId": 2**31}
    )
    assert _names_field(response, "connectorId")
    response = await harness.api.get("/transactions/2147483648")
    assert _names_field(response, "transaction_id")


def _file_urls() -> Iterator[str]:
    for scope in ("firmware", "firmware-jobs", "diagnostics"):
        for identifier in ("1", "9223372036854775808", "2147483648"):
            for signature in ("abc", "%C3%A9%C3%A9", "%00"):
                for expires in ("99999999999", "%C2%B2", "1"):
                    yield f"/files/{scope}/{identifier}/{expires}/{signature}/f.bin"


async def test_file_routes_never_fail_on_hostile_links(harness: Harness) -> None:
    async with httpx.AsyncClient() as client:
        for url in _file_urls():
            for method in ("GET", "PUT"):
                response = await client.request(method, _url(harness, url), content=b"data")
                assert 400 <= response.status_code < 500, (method, url, response.text)


async def test_form_text_with_nul_is_422(harness: Harness) -> None:
    response = await harness.api.post(
        "/firmware", files={"file": ("fw.bin", b"x")}, data={"description": "a\x00b"}
    )
    assert _names_field(response, "description"), response.text
    assert (await harness.api.get("/firmware")).json() == []
