"""The only code that touches sockets: the OCPP WebSocket server and its connections."""

from csms.transport.connection import (
    Dispatcher,
    FollowUp,
    FrameLog,
    Handled,
    NotConnected,
    OcppConnection,
)
from csms.transport.registry import Registry
from csms.transport.server import Admission, Admitted, OcppServer, Peer, Refused

__all__ = [
    "Admission",
    "Admitted",
    "Dispatcher",
    "FollowUp",
    "FrameLog",
    "Handled",
    "NotConnected",
    "OcppConnection",
    "OcppServer",
    "Peer",
    "Refused",
    "Registry",
]
