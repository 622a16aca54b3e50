"""A scripted OCPP 1.6J charge point for tests and benchmarks (`python -m csms.simulator`)."""

from csms.simulator.charge_point import SimulatedChargePoint
from csms.simulator.connection import Answer, ChargePointConnection
from csms.simulator.errors import CallErrorReceived, LoggedFrame, SchemaError
from csms.simulator.offline import OfflineQueue, QueuedCall
from csms.simulator.state import ChargePointState, InstalledProfile, Reservation, Transaction

__all__ = [
    "Answer",
    "CallErrorReceived",
    "ChargePointConnection",
    "ChargePointState",
    "InstalledProfile",
    "LoggedFrame",
    "OfflineQueue",
    "QueuedCall",
    "Reservation",
    "SchemaError",
    "SimulatedChargePoint",
    "Transaction",
]
