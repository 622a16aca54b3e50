"""Default answers of the simulated charge point to every CSMS -> charge point action.

Each answer is a plain function of the charge point's state and the (schema-valid) request
payload, returning the response payload; it behaves like a real charger following the 1.6 spec
(section numbers cited). Tests override an answer per action via `SimulatedChargePoint.answers`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from csms.simulator import certificates, smart_charging
from csms.simulator.signed_firmware import readable_certificate
from csms.simulator.state import ChargePointState, InstalledProfile, Reservation, is_valid_value

Payload = dict[str, Any]
DefaultAnswer = Callable[[ChargePointState, Payload], Payload]

# Connector statuses in which a connector cannot be reserved (spec 5.13: Occupied).
_OCCUPIED: Final = frozenset({"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"})


def cancel_reservation(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.1: Accepted if the reservation is known, Rejected otherwise.
    removed = state.reservations.pop(payload["reservationId"], None)
    return {"status": "Accepted" if removed is not None else "Rejected"}


def change_availability(state: ChargePointState, payload: Payload) -> Payload:
    connector_id: int = payload["connectorId"]
    if connector_id != 0 and not state.is_connector(connector_id):
        return {"status": "Rejected"}
    targets = range(state.connectors + 1) if connector_id == 0 else (connector_id,)
    for target in targets:
        state.availability[target] = payload["type"]
    # Spec 5.2: while a transaction is in progress the change is Scheduled.
    busy = any(transaction.connector_id in targets for transaction in state.transactions.values())
    return {"status": "Scheduled" if busy and payload["type"] == "Inoperative" else "Accepted"}


def change_configuration(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.3: NotSupported for an unknown key, Rejected when the value cannot be set.
    key: str = payload["key"]
    value: str = payload["value"]
    entry = state.configuration.get(key)
    if entry is None:
        return {"status": "NotSupported"}
    if entry[1] or not is_valid_value(state.configuration, key, value):
        return {"status": "Rejected"}
    if key == "AuthorizationKey" and not _is_authorization_key(value):
        return {"status": "Rejected"}
    if key == "SecurityProfile" and not certificates.may_raise_profile(state, value):
        return {"status": "Rejected"}
    state.configuration[key] = (value, False)
    return {"status": "Accepted"}


def _is_authorization_key(value: str) -> bool:
    # Security whitepaper: hex representation of a 16-20 byte password.
    try:
        return 16 <= len(bytes.fromhex(value)) <= 20
    except ValueError:
        return False


def clear_cache(state: ChargePointState, payload: Payload) -> Payload:
    return {"status": "Accepted"}


def clear_charging_profile(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.5: by id, or by the given criteria (connectorId, purpose, stackLevel); {} = all.
    def matches(installed: InstalledProfile) -> bool:
        if "id" in payload:
            return bool(installed.charging_profile_id == payload["id"])
        return bool(
            payload.get("connectorId", installed.connector_id) == installed.connector_id
            and payload.get("chargingProfilePurpose", installed.purpose) == installed.purpose
            and payload.get("stackLevel", installed.stack_level) == installed.stack_level
        )

    kept = [installed for installed in state.charging_profiles if not matches(installed)]
    removed = len(kept) < len(state.charging_profiles)
    state.charging_profiles[:] = kept
    return {"status": "Accepted" if removed else "Unknown"}


def data_transfer(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.6: a vendor-specific extension the simulator does not know.
    return {"status": "UnknownVendorId"}


def get_composite_schedule(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.7: from the installed profiles, by the simulator's own simple method.
    return smart_charging.get_composite_schedule(state, payload)


def get_configuration(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.8: every key when none is given; requested keys that are unknown in unknownKey.
    requested: list[str] = payload.get("key") or [
        key for key in state.configuration if key != "AuthorizationKey"
    ]
    known = []
    unknown = []
    for key in requested:
        entry = state.configuration.get(key)
        # Security whitepaper: the AuthorizationKey is write-only.
        if entry is None or key == "AuthorizationKey":
            unknown.append(key)
        else:
            known.append({"key": key, "readonly": entry[1], "value": entry[0]})
    response: Payload = {"configurationKey": known}
    if unknown:
        response["unknownKey"] = unknown
    return response


def get_diagnostics(state: ChargePointState, payload: Payload) -> Payload:
    return {"fileName": f"diagnostics-{state.charge_point_id}.zip"}


def get_local_list_version(state: ChargePointState, payload: Payload) -> Payload:
    return {"listVersion": state.local_list_version}


def remote_start_transaction(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.11: connectorId SHALL be > 0; a charging profile SHALL have purpose TxProfile.
    connector_id: int | None = payload.get("connectorId")
    if connector_id is not None and not state.is_connector(connector_id):
        return {"status": "Rejected"}
    profile: Payload | None = payload.get("chargingProfile")
    if profile is not None:
        if profile.get("chargingProfilePurpose") != "TxProfile":
            return {"status": "Rejected"}
        if connector_id is not None:
            _install(
                state,
                InstalledProfile(
                    connector_id=connector_id, profile=profile, installed_at=state.clock()
                ),
            )
    return {"status": "Accepted"}


def remote_stop_transaction(state: ChargePointState, payload: Payload) -> Payload:
    known = payload["transactionId"] in state.transactions
    return {"status": "Accepted" if known else "Rejected"}


def reserve_now(state: ChargePointState, payload: Payload) -> Payload:
    connector_id: int = payload["connectorId"]
    reservation_id: int = payload["reservationId"]
    if connector_id == 0:
        if state.config_value("ReserveConnectorZeroSupported") != "true":
            return {"status": "Rejected"}
    elif not state.is_connector(connector_id):
        return {"status": "Rejected"}
    # Spec 5.13: Faulted / Unavailable / Occupied describe the connector's state.
    if state.connector_status.get(connector_id) == "Faulted":
        return {"status": "Faulted"}
    if state.availability.get(connector_id) == "Inoperative":
        return {"status": "Unavailable"}
    occupied = state.transaction_on(connector_id) is not None or (
        state.connector_status.get(connector_id) in _OCCUPIED
    )
    reserved_by_other = any(
        reservation.connector_id == connector_id and reservation.reservation_id != reservation_id
        for reservation in state.reservations.values()
    )
    if connector_id != 0 and (occupied or reserved_by_other):
        return {"status": "Occupied"}
    # Spec 5.13: a known reservationId is replaced.
    state.reservations[reservation_id] = Reservation(
        reservation_id=reservation_id,
        connector_id=connector_id,
        id_tag=payload["idTag"],
        expiry_date=payload["expiryDate"],
        parent_id_tag=payload.get("parentIdTag"),
    )
    return {"status": "Accepted"}


def reset(state: ChargePointState, payload: Payload) -> Payload:
    return {"status": "Accepted"}


def send_local_list(state: ChargePointState, payload: Payload) -> Payload:
    # Spec 5.15: Full replaces the list; Differential updates entries with idTagInfo and removes
    # those without; a Differential whose version is not newer is a VersionMismatch.
    entries: list[Payload] = payload.get("localAuthorizationList") or []
    if len(entries) > state.config_int("SendLocalListMaxLength", len(entries)):
        return {"status": "Failed"}
    if payload["updateType"] == "Full":
        new_list = {}
    else:
        if payload["listVersion"] <= state.local_list_version:
            return {"status": "VersionMismatch"}
        new_list = dict(state.local_list)
    for entry in entries:
        if "idTagInfo" in entry:
            new_list[entry["idTag"]] = entry["idTagInfo"]
        else:
            new_list.pop(entry["idTag"], None)
    if len(new_list) > state.config_int("LocalAuthListMaxLength", len(new_list)):
        return {"status": "Failed"}
    state.local_list = new_list
    state.local_list_version = payload["listVersion"]
    return {"status": "Accepted"}


def set_charging_profile(state: ChargePointState, payload: Payload) -> Payload:
    connector_id: int = payload["connectorId"]
    profile: Payload = payload["csChargingProfiles"]
    if not _is_acceptable_profile(state, connector_id, profile):
        return {"status": "Rejected"}
    installed = InstalledProfile(
        connector_id=connector_id, profile=profile, installed_at=state.clock()
    )
    if not _install(state, installed):
        return {"status": "Rejected"}
    return {"status": "Accepted"}


def _is_acceptable_profile(state: ChargePointState, connector_id: int, profile: Payload) -> bool:
    if connector_id != 0 and not state.is_connector(connector_id):
        return False
    purpose = profile["chargingProfilePurpose"]
    if purpose == "ChargePointMaxProfile" and connector_id != 0:
        return False
    if purpose == "TxProfile":
        # Spec 3.13.2: a TxProfile needs an active transaction on a connector > 0.
        transaction = state.transaction_on(connector_id)
        if transaction is None:
            return False
        wanted = profile.get("transactionId")
        if wanted is not None and wanted != transaction.transaction_id:
            return False
    schedule: Payload = profile["chargingSchedule"]
    allowed = (state.config_value("ChargingScheduleAllowedChargingRateUnit") or "").split(",")
    rate_units = {"A": "Current", "W": "Power"}
    return (
        profile["stackLevel"] <= state.config_int("ChargeProfileMaxStackLevel", 0)
        and len(schedule["chargingSchedulePeriod"])
        <= state.config_int("ChargingScheduleMaxPeriods", 1)
        and rate_units.get(schedule["chargingRateUnit"]) in allowed
    )


def _install(state: ChargePointState, new: InstalledProfile) -> bool:
    # Spec 5.16.3 / 3.13.2: a profile with the same id, or the same stackLevel and purpose on the
    # same connector, is replaced; otherwise it is added (up to MaxChargingProfilesInstalled).
    kept = [
        installed
        for installed in state.charging_profiles
        if installed.charging_profile_id != new.charging_profile_id
        and not (
            installed.connector_id == new.connector_id
            and installed.stack_level == new.stack_level
            and installed.purpose == new.purpose
        )
    ]
    if len(kept) >= state.config_int("MaxChargingProfilesInstalled", len(kept) + 1):
        return False
    state.charging_profiles[:] = [*kept, new]
    return True


def trigger_message(state: ChargePointState, payload: Payload) -> Payload:
    # The simulator does not send the triggered message itself: the test does.
    connector_id: int | None = payload.get("connectorId")
    if connector_id is not None and not 0 <= connector_id <= state.connectors:
        return {"status": "Rejected"}
    return {"status": "Accepted"}


def unlock_connector(state: ChargePointState, payload: Payload) -> Payload:
    # Errata 3.87: NotSupported for an unknown connector.
    unlocked = state.is_connector(payload["connectorId"])
    return {"status": "Unlocked" if unlocked else "NotSupported"}


def update_firmware(state: ChargePointState, payload: Payload) -> Payload:
    return {}


# Security whitepaper (edition 3) extensions: accepted without doing anything.
def accepted(state: ChargePointState, payload: Payload) -> Payload:
    return {"status": "Accepted"}


def not_found(state: ChargePointState, payload: Payload) -> Payload:
    return {"status": "NotFound"}


def signed_update_firmware(state: ChargePointState, payload: Payload) -> Payload:
    # Whitepaper L01.FR.23-26: the certificate is checked before accepting; a new request
    # cancels the update under way.
    if not readable_certificate(payload["firmware"]["signingCertificate"]):
        return {"status": "InvalidCertificate"}
    return {"status": "AcceptedCanceled" if state.firmware_busy else "Accepted"}


def get_log(state: ChargePointState, payload: Payload) -> Payload:
    return {"status": "Accepted", "filename": f"log-{state.charge_point_id}.zip"}


def extended_trigger_message(state: ChargePointState, payload: Payload) -> Payload:
    return trigger_message(state, payload)


DEFAULT_ANSWERS: Final[Mapping[str, DefaultAnswer]] = {
    "CancelReservation": cancel_reservation,
    "ChangeAvailability": change_availability,
    "ChangeConfiguration": change_configuration,
    "ClearCache": clear_cache,
    "ClearChargingProfile": clear_charging_profile,
    "DataTransfer": data_transfer,
    "GetCompositeSchedule": get_composite_schedule,
    "GetConfiguration": get_configuration,
    "GetDiagnostics": get_diagnostics,
    "GetLocalListVersion": get_local_list_version,
    "RemoteStartTransaction": remote_start_transaction,
    "RemoteStopTransaction": remote_stop_transaction,
    "ReserveNow": reserve_now,
    "Reset": reset,
    "SendLocalList": send_local_list,
    "SetChargingProfile": set_charging_profile,
    "TriggerMessage": trigger_message,
    "UnlockConnector": unlock_connector,
    "UpdateFirmware": update_firmware,
    # Security extensions
    "CertificateSigned": certificates.certificate_signed,
    "DeleteCertificate": certificates.delete_certificate,
    "ExtendedTriggerMessage": extended_trigger_message,
    "GetInstalledCertificateIds": certificates.get_installed_certificate_ids,
    "GetLog": get_log,
    "InstallCertificate": certificates.install_certificate,
    "SignedUpdateFirmware": signed_update_firmware,
}
