"""Every route of the operator API refuses a request without the bearer token, or with a wrong
one, with 401 (api/auth.py). The routes come from the application's own route table, so a route
added later is covered without editing this file; only the public routes listed below (signed
file links for charge points, the OpenAPI schema and its docs page, health, readiness and
metrics) are left out, and a test
pins that list so a new public route is a deliberate choice.

The requests carry an empty JSON object and dummy path parameters: whether the token is checked
by a dependency, a middleware or anything else, it must be checked before any of that matters.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route
from tests.harness import API_TOKEN, Harness

from csms.api import create_api

# Public by design: each /files link is signed (files/http.py); the schema and docs describe
# the API without touching any data; /static serves the console's and the docs' own files;
# the console's sign-in form (docs/console.md); health, readiness and metrics are for
# monitoring from inside the operator's network (api/health.py; /metrics takes the optional
# metrics_token).
PUBLIC_PREFIXES = ("/files/", "/static/")
PUBLIC_PATHS = {
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/redoc",
    "/docs/oauth2-redirect",
    "/login",
    "/health",
    "/ready",
    "/metrics",
}

_PARAMETER = re.compile(r"{([^}:]+)(:[^}]*)?}")


def _flatten(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, set[str]]]:
    """(path, methods) of every endpoint, through mounts and included routers. Recent FastAPI
    versions keep an included router as one entry that lists its routes with their full paths
    (`effective_route_contexts`); older ones copy each route into the table."""
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                methods = getattr(context.original_route, "methods", None)
                assert methods, f"a route this test does not know: {context!r}"
                found.append((prefix + context.path, set(methods)))
        elif isinstance(route, Route):
            found.append((prefix + route.path, set(route.methods or ())))
        elif isinstance(route, Mount):
            found.extend(_flatten(list(route.routes), prefix + route.path))
        else:
            raise AssertionError(f"a route this test does not know: {route!r}")
    return found


def _routes(harness: Harness) -> list[tuple[str, set[str]]]:
    return _flatten(list(create_api(harness.app.services, API_TOKEN).routes))


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _requests(harness: Harness) -> list[tuple[str, str]]:
    """(method, concrete path) for every method of every non-public route."""
    found: list[tuple[str, str]] = []
    for route_path, methods in _routes(harness):
        if _is_public(route_path):
            continue
        path = _PARAMETER.sub("1", route_path)
        for method in sorted(methods):
            found.append((method, path))
    return found


async def test_the_route_table_is_what_this_test_covers(harness: Harness) -> None:
    requests = _requests(harness)
    # The typed operation endpoints and every router are in the table (a sanity floor: if
    # the enumeration broke and found nothing, the tests below would pass vacuously).
    paths = {path for _, path in requests}
    assert len(requests) > 60
    for expected in (
        "/api/v1/charge-points",
        "/api/v1/charge-points/1/commands/1",
        "/api/v1/transactions/1",
        "/api/v1/reservations",
    ):
        assert expected in paths, expected
    assert any("/reset" in path.lower() for path in paths)
    assert any("unlock" in path.lower() for path in paths)
    assert any("remote-start" in path.lower() or "start" in path.lower() for path in paths)
    # Public routes are only the listed ones.
    public = {path for path, _ in _routes(harness) if _is_public(path)}
    assert public - PUBLIC_PATHS == {p for p in public if p.startswith(PUBLIC_PREFIXES)}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer wrong-token"}, id="wrong-token"),
        pytest.param({"Authorization": f"Bearer {API_TOKEN}x"}, id="token-plus-one"),
        pytest.param({"Authorization": f"Basic {API_TOKEN}"}, id="other-scheme"),
        # Schemes sorting after "bearer", with the right token.
        pytest.param({"Authorization": f"Token {API_TOKEN}"}, id="token-scheme"),
        pytest.param({"Authorization": f"Bearerx {API_TOKEN}"}, id="bearer-and-more"),
        pytest.param({"Authorization": API_TOKEN}, id="token-alone"),
        pytest.param({"Authorization": "Bearer"}, id="empty-token"),
    ],
)
async def test_every_route_refuses_a_missing_or_wrong_token(
    harness: Harness, headers: dict[str, str]
) -> None:
    requests = _requests(harness)
    # All at once: on a loaded machine the pool's default 5 s wait for a connection is too short.
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{harness.app.http_port}", timeout=60
    ) as client:
        responses = await asyncio.gather(
            *(
                client.request(
                    method, path, json=None if method in ("GET", "HEAD") else {}, headers=headers
                )
                for method, path in requests
            )
        )
    accepted = [
        f"{method} {path} -> {response.status_code}"
        for (method, path), response in zip(requests, responses, strict=True)
        if not _refused(method, path, response)
    ]
    assert accepted == []


def _refused(method: str, path: str, response: httpx.Response) -> bool:
    """The API answers 401; a console page (outside /api/) sends a browser to sign in, and
    refuses a form post without a session (docs/console.md)."""
    if path.startswith("/api/"):
        return response.status_code == 401
    if method in ("GET", "HEAD"):
        return response.status_code == 303 and response.headers["location"].startswith("/login")
    return response.status_code in (401, 403) or (
        response.status_code == 303 and response.headers["location"].startswith("/login")
    )


async def test_every_route_is_reached_with_the_token(harness: Harness) -> None:
    """With the right token no route answers 401: the paths built above do reach the routes,
    so the 401s of the test above come from the token check."""
    refused: list[str] = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{harness.app.http_port}",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    ) as client:
        for method, path in _requests(harness):
            # Streamed: a Server-Sent Events route answers its status, then never ends.
            async with client.stream(
                method, path, json=None if method in ("GET", "HEAD") else {}
            ) as response:
                if response.status_code == 401:
                    refused.append(f"{method} {path}")
    assert refused == []
