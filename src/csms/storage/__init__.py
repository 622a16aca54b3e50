"""Persistence: the Store protocol, its records, and the SQLAlchemy Core implementation."""

from csms.storage.records import (
    BootInfo,
    ChargePoint,
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
    "BootInfo",
    "ChargePoint",
    "ConnectorStatus",
    "DataTransferRecord",
    "IdTag",
    "MeterSample",
    "Notification",
    "Store",
    "Transaction",
    "TransactionStart",
    "TransactionStop",
]
