"""`csms user add` and `csms user list`, as an operator runs them for the first login: the user
is written to the database (also while the server runs) and can sign in to the console."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import httpx

from tests.console.test_console import login
from tests.harness import Harness


async def csms_user(harness: Harness, *args: str, stdin: bytes = b"") -> tuple[int, Any, str]:
    env = {**os.environ, "CSMS_DATABASE": harness.app.services.settings.database}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        "user",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    shown = json.loads(stdout) if stdout.strip() else None
    return process.returncode, shown, stderr.decode()


async def test_the_first_admin_is_added_with_the_cli_and_signs_in(harness: Harness) -> None:
    code, shown, _ = await csms_user(
        harness, "add", "admin", "--role", "admin", "--password-stdin", stdin=b"first secret 1\n"
    )
    assert code == 0 and shown["name"] == "admin" and shown["role"] == "admin"
    stored = await harness.store.get_user_by_name("admin")
    assert stored is not None and stored.password_hash.startswith("scrypt$")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}") as browser:
        response = await login(browser, "admin", "first secret 1")
        assert response.status_code == 303
        assert 'href="/users"' in (await browser.get("/")).text
    code, listed, _ = await csms_user(harness, "list")
    assert code == 0 and [(u["name"], u["role"]) for u in listed] == [("admin", "admin")]


async def test_the_cli_refuses_a_taken_name_a_short_password_and_no_password(
    harness: Harness,
) -> None:
    args = ("add", "ops", "--role", "operator", "--password-stdin")
    assert (await csms_user(harness, *args, stdin=b"long enough pw\n"))[0] == 0
    code, _, error = await csms_user(harness, *args, stdin=b"long enough pw\n")
    assert code == 1 and "exists" in error
    code, _, error = await csms_user(harness, "add", "x", "--role", "viewer", "--password-stdin")
    assert code == 2 and "at least 8" in error
    # No terminal to prompt on and no --password-stdin.
    code, _, error = await csms_user(harness, "add", "y", "--role", "viewer")
    assert code == 2 and "--password-stdin" in error
    assert [u.name for u in await harness.store.list_users()] == ["ops"]
