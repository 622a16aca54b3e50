"""The console's live Overview and its forms for reservations, local list policies,
firmware and charger profiles, in a real browser (Debian's Chromium driven by Selenium)
against a real CSMS with a simulated charge point (docs/console.md). The Overview's figures
follow the event stream without a reload; each form goes to the operator API, whose answer (or
whose 4xx message, naming the field) the page shows; a viewer gets no forms and the API refuses
it anyway."""

from __future__ import annotations

import json
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from websockets.exceptions import InvalidStatus

from tests.console.test_browser import (  # noqa: F401 - fixtures
    SCRATCH,
    WAIT,
    Background,
    browser,
    chromium,
    live,
    not_reloaded,
    screenshot,
    server,
    sign_in,
    text_of,
    until,
)
from tests.harness import Harness


def figure(driver: WebDriver, name: str) -> str:
    return text_of(driver, f'[data-figure="{name}"]')


def fill(driver: WebDriver, form: str, **fields: str) -> None:
    for name, value in fields.items():
        field = driver.find_element(By.CSS_SELECTOR, f"#{form} [name='{name}']")
        if field.tag_name == "select":
            field.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
        else:
            field.clear()
            field.send_keys(value)


def submit(driver: WebDriver, form: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{form} button[type=submit]").click()


def refusal(driver: WebDriver, form: str) -> str:
    """The API's message shown in the form (waited for)."""
    css = f"#{form} .form-error"
    until(driver, lambda d: text_of(d, css), f"the refusal in {form}")
    return text_of(driver, css)


def mark(driver: WebDriver) -> None:
    """Mark the page: the mark goes when it is reloaded (as a form's success does)."""
    driver.execute_script("window.notReloaded = true")


def answer_after_reload(driver: WebDriver) -> dict[str, object]:
    """The API's answer shown on the reloaded page."""
    until(driver, lambda d: not_reloaded(d) is False and text_of(d, "#answer pre"), "answer")
    shown: dict[str, object] = json.loads(text_of(driver, "#answer pre"))
    return shown


def test_the_overview_follows_the_fleet_live(
    server: tuple[Background, Harness],  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    background, harness = server
    base = f"http://127.0.0.1:{harness.app.http_port}"
    driver = browser
    assert background.run(harness.api.put("/charge-points/CP1", json={})).status_code == 200
    sign_in(driver, base, "otto")
    live(driver)
    assert (figure(driver, "registered"), figure(driver, "connected")) == ("1", "0")
    assert figure(driver, "offline") == "1"
    cp = harness.charge_point("CP1")
    background.run(cp.__aenter__())
    try:
        background.run(cp.boot_and_report())
        until(driver, lambda d: figure(d, "connected") == "1", "Connected 1")
        until(driver, lambda d: figure(d, "offline") == "0", "Offline 0")
        background.run(cp.status_notification(2, "Faulted", "GroundFailure", info="RCD"))
        until(driver, lambda d: figure(d, "faulted") == "1", "Faulted 1")
        until(driver, lambda d: "GroundFailure" in text_of(d, "#alerts"), "the alert")
        started = background.run(cp.start_transaction(1, "TAG1", meter_start=1000))
        background.run(cp.status_notification(1, "Charging"))
        until(driver, lambda d: figure(d, "charging") == "1", "Charging 1")
        until(driver, lambda d: figure(d, "activeTransactions") == "1", "one transaction")
        row = f'#active-transactions tr[data-transaction="{started["transactionId"]}"]'
        until(driver, lambda d: "TAG1" in text_of(d, row), "its row")

        # A lookalike of CP1 is refused and waits for an operator.
        async def lookalike() -> None:
            try:
                async with harness.charge_point("cp1"):
                    pass
            except InvalidStatus:
                return
            raise AssertionError("a lookalike id was admitted")

        background.run(lookalike())
        until(driver, lambda d: figure(d, "unknownWaiting") == "1", "one unknown waiting")
        background.run(cp.stop_transaction(started["transactionId"], meter_stop=3500))
        background.run(cp.status_notification(1, "Finishing"))
        until(driver, lambda d: figure(d, "activeTransactions") == "0", "none active")
        until(driver, lambda d: figure(d, "energyTodayKwh") == "2.50", "2.5 kWh today")
        until(driver, lambda d: text_of(d, row) == "", "its row gone")
        until(driver, lambda d: figure(d, "charging") == "0", "Charging 0")
        assert not_reloaded(driver)
    finally:
        background.run(cp.__aexit__(None, None, None))
    until(driver, lambda d: figure(d, "connected") == "0", "Connected 0 again")
    assert not_reloaded(driver)


def test_reservations_local_lists_and_firmware_from_the_console(
    server: tuple[Background, Harness],  # noqa: F811
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    background, harness = server
    base = f"http://127.0.0.1:{harness.app.http_port}"
    driver = browser
    driver.set_script_timeout(WAIT)
    SCRATCH[0] = tmp_path / "screenshots"
    cp = harness.charge_point("CP1")
    background.run(cp.__aenter__())
    try:
        background.run(cp.boot_and_report())
        sign_in(driver, base, "otto")

        # Reservations: a bad connector is the API's 422 naming the field; then ReserveNow and
        # CancelReservation reach the charge point and the table follows.
        driver.get(f"{base}/reservations")
        mark(driver)
        fill(driver, "reserve-form", chargePointId="CP1", connectorId="-1", idTag="TAG1")
        submit(driver, "reserve-form")
        message = refusal(driver, "reserve-form")
        assert message.startswith("HTTP 422: connectorId:") and "greater than or equal" in message
        fill(driver, "reserve-form", connectorId="one")
        submit(driver, "reserve-form")
        until(driver, lambda d: "valid integer" in text_of(d, "#reserve-form .form-error"), "int")
        fill(driver, "reserve-form", chargePointId="NOPE", connectorId="1")
        submit(driver, "reserve-form")
        until(driver, lambda d: "NOPE" in text_of(d, "#reserve-form .form-error"), "unknown CP")
        assert not_reloaded(driver)
        fill(driver, "reserve-form", chargePointId="CP1")
        submit(driver, "reserve-form")
        reserved = answer_after_reload(driver)
        assert reserved["status"] == "Accepted"
        reservation = reserved["reservation"]
        assert isinstance(reservation, dict)
        call = background.run(cp.expect_call("ReserveNow", timeout=WAIT))
        assert call.payload["reservationId"] == reservation["id"]
        assert call.payload["idTag"] == "TAG1" and call.payload["connectorId"] == 1
        state = f'tr[data-reservation="{reservation["id"]}"] [data-field="state"]'
        assert text_of(driver, state) == "Accepted"
        mark(driver)
        submit(driver, f"cancel-{reservation['id']}")
        driver.switch_to.alert.accept()
        cancelled = answer_after_reload(driver)
        assert cancelled["status"] == "Accepted"
        assert background.run(cp.expect_call("CancelReservation", timeout=WAIT)).payload == {
            "reservationId": reservation["id"]
        }
        assert text_of(driver, state) == "Cancelled"
        assert driver.find_elements(By.ID, f"cancel-{reservation['id']}") == []

        # Local lists: a policy the API refuses, then one it takes; assigned and sent (a dry
        # run shows the message without sending it); a policy in use cannot be deleted.
        driver.get(f"{base}/local-lists")
        mark(driver)
        fill(driver, "policy-form", name="everyone", kind="all", idTags="TAG1")
        submit(driver, "policy-form")
        assert "names no idTags" in refusal(driver, "policy-form")
        fill(driver, "policy-form", kind="idTags", idTags="TAG1, TAG2")
        submit(driver, "policy-form")
        saved = answer_after_reload(driver)
        assert saved["idTags"] == ["TAG1", "TAG2"] and saved["kind"] == "idTags"
        assert "TAG1, TAG2" in text_of(driver, 'tr[data-policy="everyone"]')
        fill(driver, "assign-form", chargePointId="CP1", policy="everyone")
        mark(driver)
        submit(driver, "assign-form")
        assert answer_after_reload(driver)["policy"] == "everyone"
        fill(driver, "send-form", chargePointId="CP1", listVersion="0")
        submit(driver, "send-form")
        assert refusal(driver, "send-form").startswith("HTTP 422: listVersion:")
        fill(driver, "send-form", listVersion="")
        driver.find_element(By.CSS_SELECTOR, "#send-form [name='dryRun']").click()
        mark(driver)
        submit(driver, "send-form")
        dry = answer_after_reload(driver)
        assert dry["dryRun"] is True
        messages = dry["messages"]
        assert isinstance(messages, list) and messages[0]["request"]["updateType"] == "Full"
        mark(driver)
        submit(driver, "delete-policy-1")
        driver.switch_to.alert.accept()
        assert "is assigned to CP1" in refusal(driver, "delete-policy-1")

        # Firmware: an image uploaded, sent with UpdateFirmware; GetDiagnostics after a 422.
        image = tmp_path / "fw-2.0.bin"
        image.write_bytes(b"\x7fFW" * 1000)
        driver.get(f"{base}/firmware")
        mark(driver)
        driver.find_element(By.CSS_SELECTOR, "#upload-form [name='file']").send_keys(str(image))
        fill(driver, "upload-form", description="release 2.0")
        submit(driver, "upload-form")
        uploaded = answer_after_reload(driver)
        assert uploaded["fileName"] == "fw-2.0.bin" and uploaded["size"] == 3000
        assert "release 2.0" in text_of(driver, f'tr[data-image="{uploaded["id"]}"]')
        fill(driver, "update-firmware-form", chargePointId="CP1")
        mark(driver)
        submit(driver, "update-firmware-form")
        assert "give either firmwareId or location" in refusal(driver, "update-firmware-form")
        fill(driver, "update-firmware-form", firmwareId=str(uploaded["id"]))
        submit(driver, "update-firmware-form")
        job = answer_after_reload(driver)
        assert job["kind"] == "firmware" and job["firmwareId"] == uploaded["id"]
        update = background.run(cp.expect_call("UpdateFirmware", timeout=WAIT))
        assert "fw-2.0.bin" in update.payload["location"]
        fill(driver, "get-diagnostics-form", chargePointId="CP1", retries="two")
        mark(driver)
        submit(driver, "get-diagnostics-form")
        assert refusal(driver, "get-diagnostics-form").startswith("HTTP 422: retries:")
        fill(driver, "get-diagnostics-form", retries="1")
        submit(driver, "get-diagnostics-form")
        diagnostics = answer_after_reload(driver)
        assert diagnostics["kind"] == "diagnostics" and diagnostics["retries"] == 1
        assert (
            background.run(cp.expect_call("GetDiagnostics", timeout=WAIT)).payload["retries"] == 1
        )
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "firmware")

        # Every operation is in the audit log under the operator's name.
        audit = background.run(harness.api.get("/audit", params={"actor": "otto"})).json()
        operations = {entry["operation"] for entry in audit}
        assert {"reserve_now", "cancel_reservation", "put_policy", "assign_policy"} <= operations

        # A viewer sees the records and no form; the API refuses it all the same.
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        until(driver, lambda d: text_of(d, "h1") == "Sign in", "signed out")
        sign_in(driver, base, "vera")
        for path in ("/reservations", "/local-lists", "/firmware"):
            driver.get(f"{base}{path}")
            assert driver.find_elements(By.CSS_SELECTOR, "form.api") == [], path
            assert "Internal Server Error" not in driver.page_source
        driver.get(f"{base}/local-lists")
        assert "everyone" in text_of(driver, "#records")
        csrf = driver.find_element(By.CSS_SELECTOR, 'meta[name="csrf-token"]')
        refused = driver.execute_async_script(
            """
            const [token, done] = arguments;
            fetch("/api/v1/local-list-policies/mine", {method: "PUT", credentials: "same-origin",
              headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
              body: JSON.stringify({kind: "all"})}).then(r => done(r.status));
            """,
            csrf.get_attribute("content"),
        )
        assert refused == 403
    finally:
        background.run(cp.__aexit__(None, None, None))


def status_of(driver: WebDriver, path: str) -> int:
    """The HTTP status of a page fetched with the browser's session (as a link would)."""
    found: int = driver.execute_async_script(
        """
        const [path, done] = arguments;
        fetch(path, {credentials: "same-origin", headers: {"Accept": "text/html"}})
          .then(r => done(r.status));
        """,
        path,
    )
    return found


def test_every_page_and_every_refusal_as_an_operator_sees_it(
    server: tuple[Background, Harness],  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    background, harness = server
    base = f"http://127.0.0.1:{harness.app.http_port}"
    driver = browser
    driver.set_script_timeout(WAIT)
    made = background.run(
        harness.api.post("/users", json={"name": "ada", "role": "admin", "password": "a" * 12})
    )
    assert made.status_code == 201
    cp = harness.charge_point("CP1")
    background.run(cp.__aenter__())
    try:
        background.run(cp.boot_and_report())
        driver.get(f"{base}/login")
        driver.find_element(By.NAME, "name").send_keys("ada")
        driver.find_element(By.NAME, "password").send_keys("a" * 12)
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        until(driver, lambda d: text_of(d, "h1") == "Overview", "signed in")

        # Every page of the navigation (and the pages they lead to) answers 200 with a title.
        links = [
            a.get_attribute("href") or ""
            for a in driver.find_elements(By.CSS_SELECTOR, "header nav a")
        ]
        assert len(links) == 13
        for link in [*links, f"{base}/charge-points/CP1", f"{base}/charge-points/CP1/messages"]:
            path = link.removeprefix(base)
            assert status_of(driver, path) == 200, path
            driver.get(link)
            assert text_of(driver, "main h1"), path
            assert "Internal Server Error" not in driver.page_source, path

        # A wrong address or query is a page naming what is wrong, not JSON, never a 500.
        for path, status, shown in (
            ("/charge-points?page=0", 422, "page: Input should be greater than or equal to 1"),
            ("/charge-points/NOPE", 404, "Unknown charge point 'NOPE'"),
            ("/transactions/x", 422, "transaction_id: Input should be a valid integer"),
            ("/audit?before_id=x", 422, "before_id: Input should be a valid integer"),
        ):
            assert status_of(driver, path) == status, path
            driver.get(f"{base}{path}")
            assert shown in text_of(driver, "#problems"), path
        driver.get(f"{base}/transactions?since=yesterday")
        assert "since: not a date and time" in text_of(driver, ".error")

        # Forms: what the server refuses is shown naming the field.
        driver.get(f"{base}/charge-points/CP1")
        stop = 'form[data-operation="remote-stop"]'
        driver.find_element(By.CSS_SELECTOR, f"{stop} input[name='transactionId']").send_keys("abc")
        driver.find_element(By.CSS_SELECTOR, f"{stop} button").click()
        until(driver, lambda d: "transactionId: a whole number" in text_of(d, "#answer"), "int")
        change = 'form[data-operation="change-configuration"]'
        driver.find_element(By.CSS_SELECTOR, f"{change} input[name='key']").send_keys("K" * 51)
        driver.find_element(By.CSS_SELECTOR, f"{change} button").click()
        until(driver, lambda d: "key: longer than 50" in text_of(d, "#answer pre"), "key")
        driver.get(f"{base}/id-tags")
        driver.find_element(By.NAME, "id_tag").send_keys("TAG9")
        limit = driver.find_element(By.NAME, "max_active_transactions")
        limit.clear()
        limit.send_keys("many")
        driver.find_element(By.CSS_SELECTOR, "#id-tag-form button[value='save']").click()
        until(driver, lambda d: "max. active transactions" in text_of(d, ".error"), "limit")
        driver.get(f"{base}/users")
        form = "form[action='/users']"
        driver.find_element(By.CSS_SELECTOR, f"{form} input[name='name']").send_keys("otto")
        driver.find_element(By.CSS_SELECTOR, f"{form} input[name='password']").send_keys("x" * 9)
        driver.find_element(By.CSS_SELECTOR, f"{form} button").click()
        until(driver, lambda d: "otto" in text_of(d, ".error"), "a taken name")
    finally:
        background.run(cp.__aexit__(None, None, None))


def test_charger_profiles_from_the_console(
    server: tuple[Background, Harness],  # noqa: F811
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    """An operator's profile created, edited and deleted in the browser (the API's PUT and
    DELETE /api/v1/charger-profiles/{name}); a booting charge point gets its heartbeatInterval
    each time (docs/charger-compatibility.md)."""
    background, harness = server
    base = f"http://127.0.0.1:{harness.app.http_port}"
    driver = browser
    driver.set_script_timeout(WAIT)
    SCRATCH[0] = tmp_path / "screenshots"
    cp = harness.charge_point("ACME-1", vendor="ACME", model="Wall 7")
    background.run(cp.__aenter__())
    try:
        assert background.run(cp.boot())["interval"] == 300
        sign_in(driver, base, "otto")
        driver.get(f"{base}/charger-profiles")
        assert driver.find_elements(By.CSS_SELECTOR, "form[id^='edit-profile']") == []
        mark(driver)

        # Refused by the API naming the rule (rules.heartbeatInterval), the field marked.
        fill(
            driver,
            "profile-form",
            name="acme-wall",
            description="ACME walls",
            vendor="acme",
            model="wall \\d+",
            **{"rules.heartbeatInterval": "0", "rules.localLimitAmps": "16.5"},
        )
        submit(driver, "profile-form")
        message = refusal(driver, "profile-form")
        assert message.startswith("HTTP 422: rules.heartbeatInterval: Input should be greater")
        beat = "#profile-form [name='rules.heartbeatInterval']"
        assert driver.find_element(By.CSS_SELECTOR, beat).get_attribute("aria-invalid") == "true"
        fill(driver, "profile-form", **{"rules.heartbeatInterval": "1.5"})
        submit(driver, "profile-form")
        until(
            driver,
            lambda d: (
                "rules.heartbeatInterval: Input should be a valid integer"
                in text_of(d, "#profile-form .form-error")
            ),
            "a whole number",
        )
        assert not_reloaded(driver)
        assert len(background.run(harness.api.get("/charger-profiles")).json()) == 4

        # Created: a checkbox and numbers become the body's rules.
        fill(driver, "profile-form", **{"rules.heartbeatInterval": "90", "rules.maxKeys": "4"})
        driver.find_element(By.CSS_SELECTOR, "#profile-form [name='rules.capDates']").click()
        submit(driver, "profile-form")
        created = answer_after_reload(driver)
        assert created == {
            "name": "acme-wall",
            "description": "ACME walls",
            "vendor": "acme",
            "model": "wall \\d+",
            "firmwareVersion": None,
            "chargePointIds": [],
            "rules": {
                "capDates": True,
                "maxKeys": 4,
                "localLimitAmps": 16.5,
                "heartbeatInterval": 90,
            },
            "builtin": False,
        }
        row = 'tr[data-profile="acme-wall"]'
        assert "heartbeatInterval 90" in text_of(driver, f"{row} [data-field='rules']")
        assert background.run(cp.boot())["interval"] == 90
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "charger-profiles")

        # Edited in its own form: the name stays, capDates off, maxKeys gone, another interval.
        driver.find_element(By.CSS_SELECTOR, f"{row} details.edit summary").click()
        edit = driver.find_element(By.CSS_SELECTOR, f"{row} form[id^='edit-profile']")
        form = edit.get_attribute("id") or ""
        assert edit.find_element(By.NAME, "name").get_attribute("readonly") is not None
        assert edit.find_element(By.NAME, "rules.capDates").is_selected()
        edit.find_element(By.NAME, "rules.capDates").click()
        fill(driver, form, **{"rules.heartbeatInterval": "120", "rules.maxKeys": ""})
        fill(driver, form, chargePointIds="ACME-9")
        mark(driver)
        submit(driver, form)
        edited = answer_after_reload(driver)
        assert edited["rules"] == {"localLimitAmps": 16.5, "heartbeatInterval": 120}
        assert edited["chargePointIds"] == ["ACME-9"] and edited["model"] == "wall \\d+"
        assert background.run(cp.boot())["interval"] == 120

        # The charge point's page names the profile and the rules in force.
        driver.get(f"{base}/charge-points/ACME-1")
        block = text_of(driver, "#charger-profiles")
        assert "acme-wall" in block and "heartbeatInterval 120" in block
        assert "120 s (charger profiles)" in block

        # Deleted: the default again.
        driver.get(f"{base}/charger-profiles")
        delete = driver.find_element(By.CSS_SELECTOR, f"{row} form[id^='delete-profile']")
        mark(driver)
        submit(driver, delete.get_attribute("id") or "")
        driver.switch_to.alert.accept()
        until(driver, lambda d: not_reloaded(d) is False and text_of(d, "#answer pre"), "done")
        assert text_of(driver, "#answer pre") == "Done (HTTP 204)"
        assert driver.find_elements(By.CSS_SELECTOR, row) == []
        assert background.run(cp.boot())["interval"] == 300

        audit = background.run(harness.api.get("/audit", params={"actor": "otto"})).json()
        operations = [entry["operation"] for entry in audit]
        assert operations.count("put_charger_profile") == 4  # two refused, two saved
        assert "delete_charger_profile" in operations

        # A viewer sees the profiles and no form.
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        until(driver, lambda d: text_of(d, "h1") == "Sign in", "signed out")
        sign_in(driver, base, "vera")
        driver.get(f"{base}/charger-profiles")
        assert driver.find_elements(By.CSS_SELECTOR, "form.api") == []
        assert len(driver.find_elements(By.CSS_SELECTOR, "tr[data-profile]")) == 4
    finally:
        background.run(cp.__aexit__(None, None, None))
