"""Persistence: the Store protocol, its records, and the SQLAlchemy Core implementation
(`csms.storage.sql.open_store`, not imported here so that the records come without SQLAlchemy)."""

from csms.storage.errors import (
    ReservationConflictError,
    StoreClosedError,
    StoreError,
    UnknownChargePointError,
)
from csms.storage.records import (
    ACTIVE_RESERVATION_STATES,
    Availability,
    BootInfo,
    ChargePoint,
    Configuration,
    ConfigurationEntry,
    ConnectorStatus,
    DataTransferRecord,
    IdTag,
    InstalledChargingProfile,
    MeterSample,
    Notification,
    Reservation,
    ReservationRequest,
    ReservationState,
    Transaction,
    TransactionStart,
    TransactionStop,
)
from csms.storage.store import Store

__all__ = [
    "ACTIVE_RESERVATION_STATES",
    "Availability",
    "BootInfo",
    "ChargePoint",
    "Configuration",
    "ConfigurationEntry",
    "ConnectorStatus",
    "DataTransferRecord",
    "IdTag",
    "InstalledChargingProfile",
    "MeterSample",
    "Notification",
    "Reservation",
    "ReservationConflictError",
    "ReservationRequest",
    "ReservationState",
    "Store",
    "StoreClosedError",
    "StoreError",
    "Transaction",
    "TransactionStart",
    "TransactionStop",
    "UnknownChargePointError",
]
