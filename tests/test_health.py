"""GET /health and GET /ready (api/health.py): public, and /ready names the check that fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.db import create_postgres_database, drop_postgres_database, postgres_url
from tests.harness import Harness, csms


def http(harness: Harness) -> httpx.AsyncClient:
    """A client without the operator token."""
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}")


async def test_health_answers_without_a_token(harness: Harness) -> None:
    async with http(harness) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_migrations_and_listener_are(harness: Harness) -> None:
    async with http(harness) as client:
        response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "ocpp_listener": "ok"},
    }


async def test_not_ready_when_the_database_is_behind_the_migrations(tmp_path: Path) -> None:
    async with csms(tmp_path / "csms.db") as harness:
        with sqlite3.connect(tmp_path / "csms.db") as database:
            database.execute("UPDATE alembic_version SET version_num = '0002'")
        async with http(harness) as client:
            response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["migrations"]
    assert body["checks"]["database"] == "ok"
    assert "0002" in body["checks"]["migrations"]


async def test_not_ready_when_the_database_is_gone() -> None:
    admin = await postgres_url()
    if admin is None:
        pytest.skip("no PostgreSQL server")
    url = await create_postgres_database(admin)
    try:
        async with csms(url) as harness, http(harness) as client:
            assert (await client.get("/ready")).status_code == 200
            # Dropped under the running CSMS (its connections terminated).
            await drop_postgres_database(url, admin)
            response = await client.get("/ready")
            assert (await client.get("/health")).status_code == 200
    finally:
        await drop_postgres_database(url, admin)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert body["checks"]["ocpp_listener"] == "ok"
