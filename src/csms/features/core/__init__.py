"""Core profile (spec 4.1-4.10, 5.x Core operations).

The charge point's own messages (BootNotification, Heartbeat, StatusNotification, Authorize,
Start/StopTransaction, MeterValues, DataTransfer) are answered in `handlers` after what they
report is stored; `commands` records what the answers to the CSMS's Core requests change
(configuration, availability) and runs the operations that take more than one message (a remote
start and its transaction). See docs/architecture.md.
"""

from csms.features.core.commands import RemoteStart, fetch_configuration, remote_start
from csms.features.core.handlers import ROUTES

__all__ = ["ROUTES", "RemoteStart", "fetch_configuration", "remote_start"]
