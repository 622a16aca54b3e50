"""Security over TLS (test-case document 3.21; whitepaper 2.4, 2.5, A02, A05): the server
certificate (TC_086), client certificates (TC_087), certificates the CSMS's CA signs for a
charge point's CSR (TC_074, TC_077) and the upgrade of a charge point's security profile
(TC_083). Each case gets a CSMS of its own with wss:// (a server certificate from trustme, the
built-in charge point CA); the charge point connects over TLS with its password (profile 2)
until it has a certificate."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from websockets.exceptions import InvalidStatus

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import Wire, booted, no_unsolicited_calls
from tests.harness import Harness

PASSWORD = "OCTT-Basic-Auth-0001"


@pytest.fixture
def server_ca() -> trustme.CA:
    """An RSA server certificate: the suites with RSA key exchange (A00.FR.421) need one."""
    return trustme.CA(key_type=trustme.KeyType.RSA)


@pytest.fixture
def harness_settings(tmp_path: Path, server_ca: trustme.CA) -> dict[str, Any]:
    """<Configured server certificate>: issued for the endpoint's name by a CA the charge
    point trusts."""
    server = server_ca.issue_cert(
        "127.0.0.1", "localhost", common_name="localhost", key_type=trustme.KeyType.RSA
    )
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    server.cert_chain_pems[0].write_to_path(cert)
    server.private_key_pem.write_to_path(key)
    return {"tls_cert": cert, "tls_key": key}


def server_ca_pem(server_ca: trustme.CA) -> str:
    return server_ca.cert_pem.bytes().decode()


@pytest.fixture
def cp_options(harness: Harness, server_ca: trustme.CA) -> dict[str, Any]:
    """The charge point on profile 2: wss:// trusting the server's CA, with its password (set
    by `registered_profile_2` before it connects)."""
    return {
        "url": harness.url.replace("ws://", "wss://"),
        "ssl": ssl.create_default_context(cadata=server_ca_pem(server_ca)),
        "password": PASSWORD,
    }


@pytest.fixture(autouse=True)
async def registered_profile_2(harness: Harness) -> None:
    from tests.conformance.octt import CHARGE_POINT_ID

    response = await harness.api.put(
        f"/charge-points/{CHARGE_POINT_ID}",
        json={"registrationStatus": "Accepted", "password": PASSWORD, "securityProfile": 2},
    )
    assert response.status_code == 200, response.text


def again(harness: Harness, cp: SimulatedChargePoint, **options: Any) -> SimulatedChargePoint:
    """The same charge point (its state) on a new connection with other TLS/password options."""
    other = harness.charge_point(
        cp.charge_point_id, url=cp.url, connectors=cp.connectors, **options
    )
    other.state = cp.state
    return other


async def signed_certificate(harness: Harness, cp: SimulatedChargePoint) -> dict[str, Any]:
    """SignCertificate.req (Accepted), then the CSMS's CertificateSigned.req; returns it."""
    assert await cp.sign_certificate() == {"status": "Accepted"}
    call = await cp.expect_call("CertificateSigned")
    payload: dict[str, Any] = call.payload
    return payload


async def test_tc_086_tls_server_certificate(
    harness: Harness, cp: SimulatedChargePoint, server_ca: trustme.CA
) -> None:
    """TC_086_CSMS (3.21): TLS 1.2 or newer with the configured server certificate, then the
    upgrade with Basic auth (profile 2), the boot and every connector's status."""
    await cp.close()
    await cp.connect()
    tls = cp._require_connection().transport.get_extra_info("ssl_object")
    assert tls.version() in ("TLSv1.2", "TLSv1.3")
    peer = tls.getpeercert()
    assert peer["serialNumber"]
    wire = Wire(cp)
    await booted(cp)
    assert wire.calls() == ["CP→ BootNotification"] + ["CP→ StatusNotification"] * (
        cp.connectors + 1
    )
    # A00.FR.421: the TLS 1.2 suites with RSA key exchange are served too (for an RSA server
    # certificate; the ECDHE_ECDSA ones come with an EC one).
    for suite in ("AES128-GCM-SHA256", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"):
        context = ssl.create_default_context(cadata=server_ca_pem(server_ca))
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(suite)
        async with again(harness, cp, ssl=context, password=PASSWORD) as other:
            tls = other._require_connection().transport.get_extra_info("ssl_object")
            assert tls.cipher()[0] == suite
    # TLS 1.1 is refused (A00.FR.416).
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(cadata=server_ca_pem(server_ca))
    with pytest.warns(DeprecationWarning):
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError):
        async with again(harness, cp, ssl=old, password=PASSWORD):
            pass


async def test_tc_087_tls_client_certificate(
    harness: Harness, cp: SimulatedChargePoint, server_ca: trustme.CA
) -> None:
    """TC_087_CSMS (3.21): a charge point with a valid client certificate (signed by the CSMS's
    CA from its own CSR: memory state) connects with mutual TLS, boots and reports."""
    await signed_certificate(harness, cp)
    response = await harness.api.put(
        f"/charge-points/{cp.charge_point_id}", json={"securityProfile": 3}
    )
    assert response.json()["securityProfile"] == 3
    await cp.close()
    mutual = again(harness, cp, ssl=cp.client_ssl_context(server_ca_pem(server_ca)))
    async with mutual:
        wire = Wire(mutual)
        await booted(mutual)
        assert wire.calls() == ["CP→ BootNotification"] + ["CP→ StatusNotification"] * (
            mutual.connectors + 1
        )
        await no_unsolicited_calls(mutual)


async def test_tc_083_upgrade_charge_point_security_profile(
    harness: Harness, cp: SimulatedChargePoint, server_ca: trustme.CA
) -> None:
    """TC_083_CSMS (3.21.1, 2025+), from profile 2 to 3: memory state RenewChargePointCertificate
    (a certificate signed) and the Central System root installed; the operator upgrades:
    ChangeConfiguration SecurityProfile=3 (Accepted), Reset Hard (Accepted); the charge point
    reconnects with its certificate and boots; with the old profile it is refused; with the new
    one let in again."""
    cp.enable_security(2)
    await signed_certificate(harness, cp)
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/certificates/install",
        json={
            "certificateType": "CentralSystemRootCertificate",
            "certificate": server_ca_pem(server_ca),
        },
    )
    assert response.json()["status"] == "Accepted"
    await cp.expect_call("InstallCertificate")
    wire = Wire(cp)
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/security-profile/upgrade",
        json={"securityProfile": 3},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "changeConfiguration": {"status": "Accepted"},
        "reset": {"status": "Accepted"},
        "securityProfile": 3,
    }
    change = await cp.expect_call("ChangeConfiguration")
    assert change.payload == {"key": "SecurityProfile", "value": "3"}
    reset = await cp.expect_call("Reset")
    assert reset.payload == {"type": "Hard"}
    assert wire.calls() == ["CS→ ChangeConfiguration", "CS→ Reset"]
    await cp.close()

    # The reset: the charge point comes back with profile 3 (no password, its certificate).
    new_profile = cp.client_ssl_context(server_ca_pem(server_ca))
    async with again(harness, cp, ssl=new_profile) as upgraded:
        await booted(upgraded)
    # The old profile (password over TLS, no certificate) is refused now ...
    old = again(harness, cp, ssl=cp.ssl, password=PASSWORD)
    with pytest.raises(InvalidStatus) as refused:
        async with old:
            pass
    assert refused.value.response.status_code == 401
    events = (await harness.api.get(f"/charge-points/{cp.charge_point_id}/security-events")).json()
    assert events[0]["type"] == "ConnectionBelowSecurityProfile"
    # ... and the new one let in again.
    async with again(harness, cp, ssl=new_profile) as upgraded:
        assert (await upgraded.heartbeat())["currentTime"]


async def test_tc_074_update_charge_point_certificate_by_request(
    harness: Harness, cp: SimulatedChargePoint, server_ca: trustme.CA
) -> None:
    """TC_074_CSMS (3.21.1): ExtendedTriggerMessage SignChargePointCertificate (no
    connectorId), Accepted; the charge point's SignCertificate.req is Accepted; the CSMS sends
    the signed certificate (leaf key = CSR key, CN = charge point id), Accepted; the charge
    point reconnects with it and is let in."""
    wire = Wire(cp)
    response = await harness.api.post(f"/charge-points/{cp.charge_point_id}/certificates/renew")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Accepted"
    trigger = await cp.expect_call("ExtendedTriggerMessage")
    assert trigger.payload == {"requestedMessage": "SignChargePointCertificate"}
    signed = await signed_certificate(harness, cp)
    assert cp.state.certificates.certificate_chain == signed["certificateChain"]
    assert wire.calls() == [
        "CS→ ExtendedTriggerMessage",
        "CP→ SignCertificate",
        "CS→ CertificateSigned",
    ]
    await cp.close()
    async with again(harness, cp, ssl=cp.client_ssl_context(server_ca_pem(server_ca))) as new:
        assert (await new.heartbeat())["currentTime"]


async def test_tc_077_invalid_charge_point_certificate_security_event(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_077_CSMS (3.21.2): as TC_074 up to CertificateSigned, which the charge point Rejects;
    it sends SecurityEventNotification InvalidChargePointCertificate, answered and stored."""
    cp.state.certificates.reject_signed = True
    response = await harness.api.post(f"/charge-points/{cp.charge_point_id}/certificates/renew")
    assert response.json()["status"] == "Accepted"
    await cp.expect_call("ExtendedTriggerMessage")
    signed = await signed_certificate(harness, cp)
    assert "BEGIN CERTIFICATE" in signed["certificateChain"]
    assert await cp.security_event("InvalidChargePointCertificate") == {}
    await no_unsolicited_calls(cp)
    issued = await harness.store.issued_certificates(cp.charge_point_id)
    assert issued[0].delivery == "Rejected"
    events = await harness.store.security_events(cp.charge_point_id)
    assert events[0].type == "InvalidChargePointCertificate"
