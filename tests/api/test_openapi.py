"""The OpenAPI document declares the bearer scheme and a summary for every operation; Swagger UI
and ReDoc are served from this server's own assets (no CDN), without a token."""

from __future__ import annotations

import re

import httpx
from tests.harness import Harness

EXTERNAL = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


async def test_every_operation_has_a_summary_and_the_bearer_scheme(harness: Harness) -> None:
    document = (await harness.api.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    operations = [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 40
    for method, path, operation in operations:
        assert operation.get("summary"), (method, path)
        if path.startswith("/api/v1/"):
            assert {"bearer": []} in operation.get("security", []), (method, path)


async def test_the_docs_pages_load_only_local_assets(harness: Harness) -> None:
    base = f"http://127.0.0.1:{harness.app.http_port}"
    async with httpx.AsyncClient(base_url=base) as anonymous:
        for page in ("/api/v1/docs", "/api/v1/redoc"):
            response = await anonymous.get(page)
            assert response.status_code == 200, page
            html = response.text
            assert EXTERNAL.search(html) is None, (page, EXTERNAL.search(html))
            assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
            assets += re.findall(r"""url: ?['"]([^'"]+)['"]""", html)
            assert any(a.endswith(".js") for a in assets), html
            for asset in assets:
                assert (await anonymous.get(asset)).status_code == 200, (page, asset)
