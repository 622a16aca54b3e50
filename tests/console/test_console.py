"""The console's skeleton (docs/console.md) against a real server: sign in and out, the session
cookie's flags, CSRF on every form post and on cookie-authenticated API calls, the login rate
limit, the Users and My tokens pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from csms.accounts import LoginLimiter
from tests.harness import Harness

PASSWORD = "correct horse battery"


async def add_user(harness: Harness, name: str, role: str) -> int:
    made = await harness.api.post("/users", json={"name": name, "role": role, "password": PASSWORD})
    assert made.status_code == 201, made.text
    user_id: int = made.json()["id"]
    return user_id


@pytest.fixture
async def browser(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{harness.app.http_port}") as client:
        yield client


async def login(
    browser: httpx.AsyncClient, name: str, password: str, **headers: str
) -> httpx.Response:
    """The sign-in form filled in and posted, with its login CSRF token (as a browser does)."""
    form = await browser.get("/login")
    data = {"name": name, "password": password, "csrf_token": csrf_of(form.text)}
    return await browser.post("/login", data=data, headers=headers)


async def sign_in(browser: httpx.AsyncClient, name: str, password: str = PASSWORD) -> str:
    """Sign in; the CSRF token of the session (from the Overview page's sign-out form)."""
    response = await login(browser, name, password)
    assert response.status_code == 303, response.text
    return csrf_of((await browser.get("/")).text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def test_pages_redirect_to_login_until_signed_in(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    for path in ("/", "/users", "/tokens"):
        response = await browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    login = await browser.get("/login")
    assert login.status_code == 200 and '<form method="post" action="/login"' in login.text
    assert (await browser.get("/static/console.css")).status_code == 200


async def test_login_sets_a_strict_http_only_cookie_kept_as_a_digest(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "ada", "operator")
    wrong = await login(browser, "ada", "wrong password")
    assert wrong.status_code == 401 and "csms_session" not in wrong.headers.get("set-cookie", "")
    response = await login(browser, "ADA", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= flags and "secure" not in flags  # plain HTTP here
    assert "samesite=strict" in cookie.lower()
    session_id = cookie.split(";")[0].split("=", 1)[1]
    sessions = await harness.store.list_sessions(harness.app.services.clock.now())
    assert [s.digest for s in sessions] == [hashlib.sha256(session_id.encode()).hexdigest()]
    overview = await browser.get("/")
    assert overview.status_code == 200
    assert "ada" in overview.text and "operator" in overview.text
    assert 'href="/charge-points"' in overview.text and 'href="/users"' not in overview.text


async def test_the_login_form_carries_a_csrf_token_the_post_must_return(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "ida", "viewer")
    # A login posted from elsewhere (no form, no cookie) signs nobody in, even with the right
    # password; so does one with a token not of this browser's form.
    for token in ("", "x" * 43):
        forged = await browser.post(
            "/login", data={"name": "ida", "password": PASSWORD, "csrf_token": token}
        )
        assert forged.status_code == 403 and "sign in again" in forged.text
        assert "csms_session" not in forged.headers.get("set-cookie", "")
    form = await browser.get("/login")
    cookie = next(h for h in form.headers.get_list("set-cookie") if h.startswith("csms_login="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/login"} <= flags
    token = csrf_of(form.text)
    assert cookie.startswith(f"csms_login={token};")
    # Another browser's cookie with this form's token: refused.
    async with httpx.AsyncClient(base_url=str(browser.base_url)) as other:
        await other.get("/login")
        stolen = await other.post(
            "/login", data={"name": "ida", "password": PASSWORD, "csrf_token": token}
        )
        assert stolen.status_code == 403
    done = await browser.post(
        "/login", data={"name": "ida", "password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 303 and "csms_session=" in done.headers["set-cookie"]


async def test_logout_needs_the_csrf_token_and_ends_the_session(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "bea", "viewer")
    csrf = await sign_in(browser, "bea")
    assert (await browser.post("/logout", data={})).status_code == 403
    assert (await browser.post("/logout", data={"csrf_token": "forged"})).status_code == 403
    assert (await browser.get("/")).status_code == 200
    out = await browser.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await browser.get("/")).status_code == 303
    assert await harness.store.list_sessions(harness.app.services.clock.now()) == []


async def test_api_calls_with_the_session_cookie_need_the_csrf_header(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "cleo", "operator")
    csrf = await sign_in(browser, "cleo")
    me = await browser.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["csrfToken"] == csrf
    assert (await browser.put("/api/v1/id-tags/T1", json={})).status_code == 403
    forged = await browser.put("/api/v1/id-tags/T1", json={}, headers={"X-CSRF-Token": "x"})
    assert forged.status_code == 403
    done = await browser.put("/api/v1/id-tags/T1", json={}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200
    # Bearer tokens need no CSRF header.
    assert (await harness.api.put("/id-tags/T2", json={})).status_code == 200


async def test_login_attempts_are_limited_per_name_and_address(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "dora", "viewer")
    await add_user(harness, "eve", "viewer")
    for _ in range(5):
        response = await login(browser, "dora", "guess-guess")
        assert response.status_code == 401
    limited = await login(browser, "dora", PASSWORD)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "csms_session" not in limited.headers.get("set-cookie", "")
    other = await login(browser, "eve", PASSWORD)
    assert other.status_code == 303


def test_the_login_limiter_forgets_old_failures_and_stays_bounded() -> None:
    now = [0.0]
    limiter = LoginLimiter(attempts=2, window=60, max_keys=100, clock=lambda: now[0])
    limiter.failed("a", "1.2.3.4")
    limiter.failed("a", "1.2.3.4")
    with pytest.raises(Exception, match="too many"):
        limiter.check("A", "1.2.3.4")
    limiter.check("a", "5.6.7.8")
    now[0] = 61.0
    limiter.check("a", "1.2.3.4")
    for index in range(1000):
        limiter.failed(f"user{index}", "1.2.3.4")
    assert len(limiter) == 100


async def test_admins_manage_users_in_the_console(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "fay", "admin")
    csrf = await sign_in(browser, "fay")
    page = await browser.get("/users")
    assert page.status_code == 200 and "fay" in page.text
    form = {"name": "gus", "role": "viewer", "password": "a long password"}
    assert (await browser.post("/users", data=form)).status_code == 403
    added = await browser.post("/users", data={**form, "csrf_token": csrf})
    assert added.status_code == 303
    gus = await harness.store.get_user_by_name("gus")
    assert gus is not None and gus.role == "viewer"
    changes = [
        {"action": "role", "role": "operator"},
        {"action": "password", "password": "another long one"},
        {"action": "disable"},
    ]
    for change in changes:
        response = await browser.post(f"/users/{gus.id}", data={**change, "csrf_token": csrf})
        assert response.status_code == 303, response.text
    gus = await harness.store.get_user(gus.id)
    assert gus.role == "operator" and gus.disabled
    async with httpx.AsyncClient(base_url=str(browser.base_url)) as other:
        refused = await login(other, "gus", "another long one")
        assert refused.status_code == 401  # disabled
    audit = (await harness.api.get("/audit", params={"actor": "fay"})).json()
    assert [e["operation"] for e in audit][:4] == [
        "console.user_disable",
        "console.user_password",
        "console.user_role",
        "console.add_user",
    ]
    assert "another long one" not in str(audit)


async def test_viewers_do_not_get_the_users_page(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "hal", "viewer")
    csrf = await sign_in(browser, "hal")
    assert (await browser.get("/users")).status_code == 403
    form = {"name": "x", "role": "admin", "password": "a long password", "csrf_token": csrf}
    assert (await browser.post("/users", data=form)).status_code == 403
    assert await harness.store.get_user_by_name("x") is None


async def test_my_tokens_are_created_shown_once_and_revoked(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "ivy", "viewer")
    csrf = await sign_in(browser, "ivy")
    assert (await browser.post("/tokens", data={"name": "laptop"})).status_code == 403
    created = await browser.post("/tokens", data={"name": "laptop", "csrf_token": csrf})
    assert created.status_code == 201
    token = re.search(r'<code class="token">([^<]+)</code>', created.text)
    assert token is not None
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    async with httpx.AsyncClient(base_url=str(harness.api.base_url), headers=headers) as client:
        assert (await client.get("/me")).json()["name"] == "ivy"
        listing = await browser.get("/tokens")
        assert "laptop" in listing.text and token.group(1) not in listing.text
        token_id = (await client.get("/tokens")).json()[0]["id"]
        revoked = await browser.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf})
        assert revoked.status_code == 303
        assert (await client.get("/me")).status_code == 401


async def test_admins_read_the_audit_log_page_and_viewers_do_not(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    await add_user(harness, "jo", "admin")
    await harness.api.put("/id-tags/<b>TAG</b>", json={})
    await sign_in(browser, "jo")
    page = await browser.get("/audit")
    assert page.status_code == 200
    assert "console.login" in page.text and "PUT /api/v1/id-tags/" in page.text
    assert "<b>TAG</b>" not in page.text and "&lt;b&gt;TAG&lt;/b&gt;" in page.text  # escaped
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    await add_user(harness, "kim", "viewer")
    async with httpx.AsyncClient(base_url=str(browser.base_url)) as other:
        await sign_in(other, "kim")
        assert (await other.get("/audit")).status_code == 403


async def test_the_cookie_is_secure_when_the_console_is_reached_over_https(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    # A TLS-terminating proxy on the same host says so (uvicorn trusts 127.0.0.1).
    await add_user(harness, "lou", "viewer")
    response = await login(browser, "lou", PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    flags = {part.strip().lower() for part in response.headers["set-cookie"].split(";")}
    assert {"secure", "httponly", "samesite=strict"} <= flags
