"""Security (test-case document 3.21; security whitepaper edition 3) on the plain listener: the
Basic-auth password (TC_073, TC_085), root certificates installed, listed and deleted (TC_075_1,
TC_075_2, TC_076) and a security event (TC_078). The cases that need TLS are in
test_security_tls.py.

The operator acts through the typed endpoints (docs/security.md); each case asserts the frames,
their fields and what the CSMS stored, and leaves the shared charge point identity as it found
it (no password), for the sequence mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
from cryptography import x509
from websockets.exceptions import InvalidStatus

from csms.ocpp16.certificate_hash import hash_data
from csms.ocpp16.certificate_messages import HashAlgorithm
from csms.simulator import SimulatedChargePoint
from csms.transport.basic_auth import verify_password
from tests.conformance.octt import Wire, booted, no_unsolicited_calls
from tests.harness import Harness

# <Configured password>: 20 printable characters (catalogue 3.10.5).
PASSWORD = "OCTT-Basic-Auth-0001"


def root_certificate() -> str:
    """<Configured root certificate>: a root CA certificate in PEM."""
    return trustme.CA().cert_pem.bytes().decode()


@pytest.fixture
async def with_password(harness: Harness, cp: SimulatedChargePoint) -> AsyncIterator[str]:
    """The charge point on security profile 1 with PASSWORD; afterwards without a password
    again (the identity is shared in sequence mode)."""
    response = await harness.api.put(
        f"/charge-points/{cp.charge_point_id}", json={"password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    cp.password = PASSWORD
    cp.enable_security(1)
    try:
        yield PASSWORD
    finally:
        response = await harness.api.put(
            f"/charge-points/{cp.charge_point_id}", json={"password": None}
        )
        assert response.status_code == 200, response.text


async def refused(cp: SimulatedChargePoint) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        await cp.connect()
    return refusal.value.response.status_code


async def test_tc_073_update_charge_point_password(
    harness: Harness, cp: SimulatedChargePoint, with_password: str
) -> None:
    """TC_073_CSMS (3.21.1): the operator changes the password; the CSMS sends ChangeConfiguration
    AuthorizationKey (the hex of a 16-20 byte password, catalogue 3.10.5), Accepted; the
    charge point reconnects with the new password and is let in, and no longer with the old
    one (A01.FR.03). Only the hash is stored; the message log hides the key."""
    await cp.reconnect()
    wire = Wire(cp)
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/authorization-key", json={}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "Accepted"}
    call = await cp.expect_call("ChangeConfiguration")
    assert call.payload["key"] == "AuthorizationKey"
    new_password = bytes.fromhex(call.payload["value"]).decode()
    assert 16 <= len(new_password.encode()) <= 20
    assert wire.calls() == ["CS→ ChangeConfiguration"]

    # Step 3: the charge point reconnects with the new password (the simulator took it).
    assert cp.password == new_password
    await cp.reconnect()
    assert cp.connected
    await no_unsolicited_calls(cp)
    stored = await harness.store.get_charge_point(cp.charge_point_id)
    assert verify_password(new_password, stored.password_hash)
    assert not verify_password(with_password, stored.password_hash)
    configuration = await harness.store.configuration_of(cp.charge_point_id)
    assert "AuthorizationKey" not in str(configuration)
    await harness.store.flush_message_log()
    log = await harness.store.message_log(cp.charge_point_id, action="ChangeConfiguration")
    assert log and all(call.payload["value"] not in entry.text for entry in log)

    # The old password no longer opens a connection.
    await cp.close()
    cp.password = with_password
    assert await refused(cp) == 401


async def test_tc_085_basic_authentication_valid_credentials(
    harness: Harness, cp: SimulatedChargePoint, with_password: str
) -> None:
    """TC_085_CSMS (3.21): an upgrade request without credentials is refused (Δ2025-11); with
    Authorization: Basic <id>:<password> it is upgraded, and the boot and the status of every
    connector are answered."""
    await cp.close()
    cp.password = None
    assert await refused(cp) == 401
    cp.password = with_password
    await cp.connect()
    wire = Wire(cp)
    await booted(cp)
    assert wire.calls() == ["CP→ BootNotification"] + ["CP→ StatusNotification"] * (
        cp.connectors + 1
    )


async def _operate(
    harness: Harness, cp: SimulatedChargePoint, path: str, action: str, body: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """[Manual action] a typed certificate endpoint; its answer and the CALL the charge point
    received."""
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/certificates/{path}", json=body
    )
    assert response.status_code == 200, response.text
    call = await cp.expect_call(action)
    answer: dict[str, Any] = response.json()
    return answer, call


async def _install(
    harness: Harness, cp: SimulatedChargePoint, certificate_type: str, pem: str
) -> tuple[dict[str, Any], Any]:
    body = {"certificateType": certificate_type, "certificate": pem}
    return await _operate(harness, cp, "install", "InstallCertificate", body)


async def _installed_ids(
    harness: Harness, cp: SimulatedChargePoint, certificate_type: str
) -> tuple[dict[str, Any], Any]:
    body = {"certificateType": certificate_type}
    return await _operate(harness, cp, "installed-ids", "GetInstalledCertificateIds", body)


async def _install_and_list(
    harness: Harness, cp: SimulatedChargePoint, certificate_type: str
) -> None:
    """TC_075_1 / TC_075_2: InstallCertificate (Accepted), then GetInstalledCertificateIds lists
    it; the CSMS keeps it with the hash data the charge point reported."""
    pem = root_certificate()
    wire = Wire(cp)
    answer, call = await _install(harness, cp, certificate_type, pem)
    assert call.payload == {"certificateType": certificate_type, "certificate": pem}
    assert answer["status"] == "Accepted"
    expected = hash_data(x509.load_pem_x509_certificate(pem.encode()))
    answer, call = await _installed_ids(harness, cp, certificate_type)
    assert call.payload == {"certificateType": certificate_type}
    assert answer["status"] == "Accepted"
    reported = [item["serialNumber"] for item in answer["certificateHashData"]]
    assert expected.serial_number in reported
    assert wire.calls() == ["CS→ InstallCertificate", "CS→ GetInstalledCertificateIds"]
    await no_unsolicited_calls(cp)
    kept = await harness.store.installed_certificates(cp.charge_point_id, certificate_type)
    row = next(row for row in kept if row.serial_number == expected.serial_number)
    assert row.issuer_name_hash == expected.issuer_name_hash
    assert row.issuer_key_hash == expected.issuer_key_hash
    assert row.pem == pem  # the CSMS installed it: it knows more than the hashes


async def test_tc_075_1_install_manufacturer_root_certificate(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_075_1_CSMS (3.21.1)."""
    await _install_and_list(harness, cp, "ManufacturerRootCertificate")


async def test_tc_075_2_install_central_system_root_certificate(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_075_2_CSMS (3.21.1)."""
    await _install_and_list(harness, cp, "CentralSystemRootCertificate")


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
async def test_tc_076_delete_a_specific_certificate(
    harness: Harness, cp: SimulatedChargePoint, algorithm: str
) -> None:
    """TC_076_CSMS (3.21.1; Δ2025-11 per hash algorithm): memory state: a Central System root
    (Root 2) installed. GetInstalledCertificateIds, then DeleteCertificate with the hash data
    exactly as the charge point reported them (M04.FR.07); the CSMS no longer keeps it."""
    cp.state.certificates.hash_algorithm = HashAlgorithm(algorithm)
    pem = root_certificate()
    answer, _ = await _install(harness, cp, "CentralSystemRootCertificate", pem)
    assert answer["status"] == "Accepted"
    wire = Wire(cp)
    answer, _ = await _installed_ids(harness, cp, "CentralSystemRootCertificate")
    expected = hash_data(x509.load_pem_x509_certificate(pem.encode()), HashAlgorithm(algorithm))
    reported = next(
        item
        for item in answer["certificateHashData"]
        if item["serialNumber"] == expected.serial_number
    )
    assert reported["hashAlgorithm"] == algorithm
    listed = (await harness.api.get(f"/charge-points/{cp.charge_point_id}/certificates")).json()
    installed = next(
        item
        for item in listed["installed"]
        if item["certificateHashData"]["serialNumber"] == expected.serial_number
    )
    response = await harness.api.post(
        f"/charge-points/{cp.charge_point_id}/certificates/delete",
        json={"installedId": installed["id"]},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "Accepted"}
    call = await cp.expect_call("DeleteCertificate")
    assert call.payload == {"certificateHashData": reported}
    assert wire.calls() == ["CS→ GetInstalledCertificateIds", "CS→ DeleteCertificate"]
    await no_unsolicited_calls(cp)
    kept = await harness.store.installed_certificates(cp.charge_point_id)
    assert expected.serial_number not in {row.serial_number for row in kept}


async def test_tc_078_invalid_central_system_certificate_security_event(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_078_CSMS (3.21.2): InstallCertificate of a Central System root, Rejected by the charge
    point, which then sends SecurityEventNotification InvalidCentralSystemCertificate; the CSMS
    answers it, stores it and lists it."""
    cp.answers["InstallCertificate"] = {"status": "Rejected"}
    wire = Wire(cp)
    answer, call = await _install(harness, cp, "CentralSystemRootCertificate", root_certificate())
    assert call.payload["certificateType"] == "CentralSystemRootCertificate"
    assert answer["status"] == "Rejected"
    assert await cp.security_event("InvalidCentralSystemCertificate", "not trusted") == {}
    assert wire.calls() == ["CS→ InstallCertificate", "CP→ SecurityEventNotification"]
    await no_unsolicited_calls(cp)
    events = (await harness.api.get(f"/charge-points/{cp.charge_point_id}/security-events")).json()
    assert events[0]["type"] == "InvalidCentralSystemCertificate"
    assert events[0]["techInfo"] == "not trusted"
    assert events[0]["origin"] == "ChargePoint"
    assert events[0]["critical"] is False
