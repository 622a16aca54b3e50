"""Persistence: the Store protocol, its records, and the SQLAlchemy Core implementation
(`csms.storage.sql.open_store`, not imported here so that the records come without SQLAlchemy)."""

from csms.storage.errors import StoreClosedError, StoreError, UnknownChargePointError
from csms.storage.records import (
    Availability,
    BootInfo,
    ChargePoint,
    Configuration,
    ConfigurationEntry,
    ConnectorStatus,
    DataTransferRecord,
    IdTag,
    MeterSample,
    Notification,
    Transaction,
    TransactionStart,
    TransactionStop,
)
from csms.storage.store import Store

__all__ = [
    "Availability",
    "BootInfo",
    "ChargePoint",
    "Configuration",
    "ConfigurationEntry",
    "ConnectorStatus",
    "DataTransferRecord",
    "IdTag",
    "MeterSample",
    "Notification",
    "Store",
    "StoreClosedError",
    "StoreError",
    "Transaction",
    "TransactionStart",
    "TransactionStop",
    "UnknownChargePointError",
]
