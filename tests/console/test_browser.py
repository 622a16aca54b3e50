"""The console in a real browser (docs/console.md): Debian's Chromium driven by Selenium against
a real CSMS with a simulated charge point. Live updates arrive over the event stream without a
reload; commands from the console reach the charge point; the message log has their frames; the
CSV export; a viewer gets no command buttons and the server refuses its commands anyway.
Screenshots of the main pages go to docs/screenshots/ with CSMS_SCREENSHOTS=1.

Skips only when Chromium and its driver are missing and cannot be installed with apt-get."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.harness import Harness, csms

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"
WAIT = 20.0
# Where screenshots go when not into docs/ (set per test).
SCRATCH: list[Path] = [Path(".")]

T = TypeVar("T")


def _install_chromium() -> bool:
    """Debian's chromium and chromium-driver, installed when missing and we may (root)."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return True
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
    ):
        done = subprocess.run(command, env=environment, capture_output=True, check=False)
        if done.returncode != 0:
            return False
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


class Background:
    """An event loop in a thread: the CSMS and the simulated charge point run there while the
    test drives the browser."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Awaitable[T], timeout: float = WAIT) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def start(self, coroutine: Awaitable[T]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def chromium() -> None:
    if not _install_chromium():
        pytest.skip("chromium and chromium-driver are not installed and apt-get cannot")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Background, Harness]]:
    background = Background()
    context = csms(tmp_path / "csms.db")
    harness = background.run(context.__aenter__())
    try:
        for name, role in (("otto", "operator"), ("vera", "viewer")):
            made = background.run(
                # Hashing the password may take long on a loaded machine: no 5 s limit here.
                harness.api.post(
                    "/users",
                    json={"name": name, "role": role, "password": PASSWORD},
                    timeout=60,
                )
            )
            assert made.status_code == 201
        yield background, harness
    finally:
        background.run(context.__aexit__(None, None, None))
        background.close()


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"  # never download a driver
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, WAIT).until(condition, message=what)


def text_of(driver: WebDriver, css: str) -> str:
    try:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""
    except StaleElementReferenceException:  # replaced while read: read again
        return ""


def sign_in(driver: WebDriver, base: str, name: str) -> None:
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    until(driver, lambda d: text_of(d, "h1") == "Overview", "the overview after signing in")


def live(driver: WebDriver) -> None:
    """Wait until the page's event stream is open, and mark the page: the mark stays only if
    the page is not reloaded."""
    until(
        driver,
        lambda d: d.execute_script("return window.csmsLive && window.csmsLive.readyState === 1"),
        "the event stream open",
    )
    driver.execute_script("window.notReloaded = true")


def not_reloaded(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return window.notReloaded === true"))


def screenshot(driver: WebDriver, name: str) -> None:
    """Into docs/screenshots/ when CSMS_SCREENSHOTS=1 (so that a test run leaves the tree
    alone), else next to the test's files; a PNG either way."""
    directory = SCREENSHOTS if os.environ.get("CSMS_SCREENSHOTS") == "1" else SCRATCH[0]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.read_bytes().startswith(b"\x89PNG")


def fetch(driver: WebDriver, method: str, url: str, body: str | None = None) -> dict[str, Any]:
    """A request from the page (its cookie): {status, text}."""
    result: dict[str, Any] = driver.execute_async_script(
        """
        const [method, url, body, done] = arguments;
        const init = {method: method, credentials: "same-origin"};
        if (body !== null) {
          init.body = body;
          init.headers = {"Content-Type": "application/x-www-form-urlencoded"};
        }
        fetch(url, init).then(async r => done({status: r.status, text: await r.text()}));
        """,
        method,
        url,
        body,
    )
    return result


def test_console_in_a_browser(server: tuple[Background, Harness], browser: WebDriver) -> None:
    background, harness = server
    base = f"http://127.0.0.1:{harness.app.http_port}"
    driver = browser
    driver.set_script_timeout(WAIT)
    SCRATCH[0] = harness.app.services.settings.data_dir / "screenshots"
    assert background.run(harness.api.put("/charge-points/CP1", json={})).status_code == 200
    sign_in(driver, base, "otto")

    # A charge point boots and charges while its page is open: updated live, not reloaded.
    driver.get(f"{base}/charge-points/CP1")
    live(driver)
    cp = harness.charge_point("CP1")
    background.run(cp.__aenter__())
    try:
        background.run(cp.boot_and_report())
        until(driver, lambda d: text_of(d, '[data-boot="vendor"]') == "SimVendor", "boot")
        until(driver, lambda d: text_of(d, '[data-cp-connection="CP1"]') == "connected", "online")
        row = 'tr[data-connector="1"] [data-field="status"]'
        until(driver, lambda d: text_of(d, row) == "Available", "connector 1 Available")
        background.run(cp.status_notification(1, "Preparing"))
        until(driver, lambda d: text_of(d, row) == "Preparing", "connector 1 Preparing")
        started = background.run(cp.start_transaction(1, "TAG1", meter_start=0))
        first = started["transactionId"]
        background.run(cp.status_notification(1, "Charging"))
        until(driver, lambda d: text_of(d, row) == "Charging", "connector 1 Charging")
        background.run(cp.meter_values(1, transaction_id=first, energy_wh=1500))
        energy = f'tr[data-transaction="{first}"] [data-field="energy"]'
        until(driver, lambda d: text_of(d, energy) == "1.500", "live energy")
        assert not_reloaded(driver)
        screenshot(driver, "charge-point")

        # Stop it from the console: the charge point gets RemoteStopTransaction.
        async def stops(transaction_id: int, meter_stop: int) -> None:
            call = await cp.expect_call("RemoteStopTransaction", timeout=WAIT)
            assert call.payload == {"transactionId": transaction_id}
            await cp.stop_transaction(transaction_id, meter_stop=meter_stop)
            await cp.status_notification(call_connector[transaction_id], "Finishing")

        call_connector = {first: 1}
        stopping = background.start(stops(first, 2000))
        stop_field = driver.find_element(
            By.CSS_SELECTOR, 'form[data-operation="remote-stop"] input[name="transactionId"]'
        )
        assert stop_field.get_attribute("value") == str(first)
        driver.find_element(By.CSS_SELECTOR, 'form[data-operation="remote-stop"] button').click()
        until(driver, lambda d: '"status": "Accepted"' in text_of(d, "#answer pre"), "stop answer")
        stopping.result(WAIT)

        # Start one from the console: the answer shows the transaction it led to; its energy
        # then comes in live.
        async def starts() -> int:
            call = await cp.expect_call("RemoteStartTransaction", timeout=WAIT)
            assert call.payload == {"idTag": "TAG2", "connectorId": 2}
            await cp.status_notification(2, "Preparing")
            answer = await cp.start_transaction(2, "TAG2", meter_start=0)
            await cp.status_notification(2, "Charging")
            transaction_id: int = answer["transactionId"]
            return transaction_id

        starting = background.start(starts())
        form = 'form[data-operation="remote-start"]'
        driver.find_element(By.CSS_SELECTOR, f"{form} input[name='idTag']").send_keys("TAG2")
        driver.find_element(By.CSS_SELECTOR, f"{form} input[name='connectorId']").send_keys("2")
        driver.find_element(By.CSS_SELECTOR, f"{form} button").click()
        until(driver, lambda d: '"transactionId"' in text_of(d, "#answer pre"), "start answer")
        second = starting.result(WAIT)
        assert f'"transactionId": {second}' in text_of(driver, "#answer pre")
        live(driver)
        background.run(cp.meter_values(2, transaction_id=second, energy_wh=750))
        energy = f'tr[data-transaction="{second}"] [data-field="energy"]'
        until(driver, lambda d: text_of(d, energy) == "0.750", "live energy of the second")
        until(
            driver,
            lambda d: text_of(d, 'tr[data-connector="2"] [data-field="status"]') == "Charging",
            "connector 2 Charging",
        )
        assert not_reloaded(driver)
        driver.get(f"{base}/")
        until(driver, lambda d: "TAG2" in text_of(d, "main"), "the overview with a transaction")
        screenshot(driver, "overview")
        driver.get(f"{base}/charge-points/CP1")
        call_connector[second] = 2
        stopping = background.start(stops(second, 900))
        driver.find_element(By.CSS_SELECTOR, 'form[data-operation="remote-stop"] button').click()
        until(driver, lambda d: '"status": "Accepted"' in text_of(d, "#answer pre"), "stop answer")
        stopping.result(WAIT)

        # The message log has both commands and the frames; new frames come in live.
        driver.find_element(By.LINK_TEXT, "Message log").click()
        until(driver, lambda d: text_of(d, "h1").startswith("Message log"), "message log")
        log = text_of(driver, "#messages")
        for action in (
            "RemoteStartTransaction",
            "RemoteStopTransaction",
            "StartTransaction",
            "StopTransaction",
            "MeterValues",
            "BootNotification",
        ):
            assert action in log, action
        assert '"idTag":"TAG2"' in log.replace(" ", "")
        live(driver)
        background.run(cp.heartbeat())
        first_row = "#messages tbody tr:first-child"
        until(driver, lambda d: "Heartbeat" in text_of(d, first_row), "a live Heartbeat row")
        until(driver, lambda d: text_of(d, first_row).count("Heartbeat") >= 1, "its answer")
        assert not_reloaded(driver)
        screenshot(driver, "message-log")

        # The transactions and their CSV export.
        driver.get(f"{base}/transactions")
        assert "TAG2" in text_of(driver, "#transactions") and "0.900" in text_of(
            driver, "#transactions"
        )
        href = driver.find_element(By.ID, "csv").get_attribute("href")
        assert href is not None
        exported = fetch(driver, "GET", href)
        assert exported["status"] == 200
        lines = exported["text"].strip().splitlines()
        assert lines[0].startswith("id,chargePointId") and len(lines) == 3
        assert {line.split(",")[3] for line in lines[1:]} == {"TAG1", "TAG2"}
        driver.find_element(By.LINK_TEXT, str(second)).click()
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#energy-chart svg"), "chart")

        # A viewer: no command buttons; the server refuses its commands anyway.
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        until(driver, lambda d: text_of(d, "h1") == "Sign in", "signed out")
        sign_in(driver, base, "vera")
        driver.get(f"{base}/charge-points/CP1")
        until(driver, lambda d: text_of(d, '[data-boot="vendor"]') == "SimVendor", "the page")
        assert driver.find_elements(By.CSS_SELECTOR, "form.op, #operations button") == []
        csrf = driver.find_element(By.NAME, "csrf_token").get_attribute("value")
        refused = fetch(
            driver,
            "POST",
            f"{base}/charge-points/CP1/operations/reset",
            f"csrf_token={csrf}&type=Soft",
        )
        assert refused["status"] == 403
        api = fetch(driver, "POST", f"{base}/api/v1/charge-points/CP1/clear-cache", "")
        assert api["status"] == 403
        cp.no_unexpected_calls()
    finally:
        background.run(cp.__aexit__(None, None, None))
