"""The JSON shapes of the operator API (camelCase, like OCPP itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from csms.features.core.energy import BillableEnergy
from csms.storage import (
    Availability,
    ChargePoint,
    Configuration,
    ConnectorStatus,
    IdTag,
    MeterSample,
    Transaction,
)
from csms.transport.ids import RULE, is_valid_charge_point_id


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Boot(Model):
    charge_point_vendor: str
    charge_point_model: str
    charge_point_serial_number: str | None
    charge_box_serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None


class Connector(Model):
    connector_id: int
    status: str
    error_code: str
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: datetime
    # When the CSMS received the report, and whether its timestamp is clearly wrong
    # (docs/field-behaviour.md, "Replays and clocks").
    received_at: datetime
    clock_suspect: bool

    @classmethod
    def of(cls, status: ConnectorStatus) -> Connector:
        return cls(
            connector_id=status.connector_id,
            status=status.status,
            error_code=status.error_code,
            info=status.info,
            vendor_id=status.vendor_id,
            vendor_error_code=status.vendor_error_code,
            timestamp=status.timestamp,
            received_at=status.received_at,
            clock_suspect=status.clock_suspect,
        )


class ChargePointOut(Model):
    id: str
    connected: bool
    registration_status: str
    description: str | None
    has_password: bool
    boot: Boot | None
    last_boot_at: datetime | None
    last_seen_at: datetime | None
    created_at: datetime
    connectors: list[Connector] | None = None
    # The availability each connector was last asked for (ChangeAvailability).
    availability: list[AvailabilityOut] | None = None
    # The security profile it must connect with (in the answers about one charge point).
    security_profile: int | None = None

    @classmethod
    def of(
        cls,
        charge_point: ChargePoint,
        *,
        connected: bool,
        connectors: list[ConnectorStatus] | None = None,
        availability: list[Availability] | None = None,
    ) -> ChargePointOut:
        boot = charge_point.boot
        return cls(
            id=charge_point.id,
            connected=connected,
            registration_status=charge_point.registration_status,
            description=charge_point.description,
            has_password=charge_point.password_hash is not None,
            boot=Boot.model_validate(boot, from_attributes=True) if boot else None,
            last_boot_at=charge_point.last_boot_at,
            last_seen_at=charge_point.last_seen_at,
            created_at=charge_point.created_at,
            connectors=None if connectors is None else [Connector.of(c) for c in connectors],
            availability=(
                None if availability is None else [AvailabilityOut.of(a) for a in availability]
            ),
        )


class SampledValueOut(Model):
    connector_id: int
    timestamp: datetime
    value: str
    measurand: str | None
    phase: str | None
    unit: str | None
    context: str | None
    location: str | None
    format: str | None
    received_at: datetime | None
    clock_suspect: bool

    @classmethod
    def of(cls, sample: MeterSample) -> SampledValueOut:
        return cls.model_validate(sample, from_attributes=True)


class TransactionOut(Model):
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    id_tag_status: str
    start_time: datetime
    stop_time: datetime | None
    meter_start: int
    meter_stop: int | None
    stop_reason: str | None
    stop_id_tag: str | None
    reservation_id: int | None
    active: bool
    # Ended by the CSMS ("csms": superseded on its connector; "operator") with no
    # StopTransaction at the time; the stop fields above stay the charge point's.
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    # When the CSMS received the StartTransaction / StopTransaction (null: not known, from
    # before these were kept, or not stopped), and whether the charge point's startTime /
    # stopTime is clearly wrong: kept as sent, flagged (docs/field-behaviour.md).
    start_received_at: datetime | None
    start_clock_suspect: bool
    stop_received_at: datetime | None
    stop_clock_suspect: bool
    # The billable energy in Wh (never negative) and why it is not simply meterStop -
    # meterStart (features/core/energy.py; docs/field-behaviour.md, "Energy you can bill"); of
    # a running transaction, up to its last sample. The seconds from its start to its stop (or
    # end by the CSMS, or now).
    energy_wh: int
    energy_flags: list[str]
    duration_s: int
    meter_values: list[SampledValueOut] | None = None

    @classmethod
    def of(
        cls,
        transaction: Transaction,
        meter_values: list[MeterSample] | None = None,
        *,
        energy: BillableEnergy,
        duration_s: int,
    ) -> TransactionOut:
        return cls(
            energy_wh=energy.wh,
            energy_flags=list(energy.flags),
            duration_s=duration_s,
            id=transaction.id,
            charge_point_id=transaction.charge_point_id,
            connector_id=transaction.connector_id,
            id_tag=transaction.id_tag,
            id_tag_status=transaction.id_tag_status,
            start_time=transaction.start_time,
            stop_time=transaction.stop_time,
            meter_start=transaction.meter_start,
            meter_stop=transaction.meter_stop,
            stop_reason=transaction.stop_reason,
            stop_id_tag=transaction.stop_id_tag,
            reservation_id=transaction.reservation_id,
            active=transaction.active,
            ended_at=transaction.ended_at,
            ended_by=transaction.ended_by,
            end_reason=transaction.end_reason,
            start_received_at=transaction.start_received_at,
            start_clock_suspect=transaction.start_clock_suspect,
            stop_received_at=transaction.stop_received_at,
            stop_clock_suspect=transaction.stop_clock_suspect,
            meter_values=(
                None if meter_values is None else [SampledValueOut.of(s) for s in meter_values]
            ),
        )


class TransactionEndIn(Model):
    """The operator ends a transaction whose StopTransaction is lost (docs/field-behaviour.md)."""

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


def _charge_point_id(value: str) -> str:
    if not is_valid_charge_point_id(value):
        raise ValueError(f"a charge point id is {RULE}")
    return value


class ChargePointIn(Model):
    """Provisioning of a charge point; fields left out keep their value."""

    registration_status: Literal["Accepted", "Pending", "Rejected"] | None = None
    # The AuthorizationKey of security profiles 1/2: 16-20 bytes, or its 32-40 character hex
    # form (whitepaper 2.3, catalogue TC_073).
    password: Annotated[str, StringConstraints(min_length=16, max_length=40)] | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    # Security profile 0-3 (whitepaper 2; docs/security.md): what the charge point must connect
    # with, in force at once (set here in either direction; raised over OCPP by the upgrade).
    security_profile: Annotated[int, Field(ge=0, le=3)] | None = None


class ChargePointImport(ChargePointIn):
    """One row of POST /api/v1/charge-points/import: a charge point id and its provisioning."""

    charge_point_id: Annotated[str, AfterValidator(_charge_point_id)]


class ImportResult(Model):
    created: int
    updated: int


AuthorizationStatusIn = Literal["Accepted", "Blocked", "Expired", "Invalid"]


class IdTagIn(Model):
    """An id tag as the operator sets it (spec 7.27 IdTagInfo fields)."""

    status: AuthorizationStatusIn = "Accepted"
    expiry_date: datetime | None = None
    parent_id_tag: Annotated[str, StringConstraints(max_length=20)] | None = None  # CiString20
    # Transactions it may run at once (ConcurrentTx beyond, docs/field-behaviour.md); null: no
    # limit. Left out: 1.
    max_active_transactions: Annotated[int, Field(ge=1)] | None = 1


class IdTagImport(IdTagIn):
    """One row of POST /api/v1/id-tags/import: an id tag and what PUT /id-tags/{idTag} takes."""

    id_tag: Annotated[str, StringConstraints(min_length=1, max_length=20)]  # CiString20


class IdTagOut(Model):
    id_tag: str
    status: str
    expiry_date: datetime | None
    parent_id_tag: str | None
    max_active_transactions: int | None

    @classmethod
    def of(cls, tag: IdTag) -> IdTagOut:
        return cls.model_validate(tag, from_attributes=True)


class ConfigurationKeyOut(Model):
    key: str
    value: str | None
    readonly: bool


class ConfigurationOut(Model):
    """The charge point's configuration as the CSMS last learned it."""

    configuration_key: list[ConfigurationKeyOut]
    unknown_key: list[str]
    complete_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, configuration: Configuration) -> ConfigurationOut:
        return cls(
            configuration_key=[
                ConfigurationKeyOut(key=e.key, value=e.value, readonly=e.readonly)
                for e in configuration.entries
            ],
            unknown_key=configuration.unknown_keys,
            complete_at=configuration.complete_at,
            updated_at=configuration.updated_at,
        )


class AvailabilityOut(Model):
    connector_id: int
    requested: str
    status: str
    at: datetime

    @classmethod
    def of(cls, availability: Availability) -> AvailabilityOut:
        return cls.model_validate(availability, from_attributes=True)
