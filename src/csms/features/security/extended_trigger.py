"""ExtendedTriggerMessage (security whitepaper 5.5, 5.6, 6.16): TriggerMessage with the
whitepaper's messages, through the Remote Trigger machinery (remote_trigger/trigger.py): the
CSMS listens for the answer before the request goes out, waits (bounded) for it, allows it
while the charge point is Pending (features/commands.py), and triggers no BootNotification
after an Accepted one (errata 3.40).

The requested message names the charge point's action it asks for, but for two:
FirmwareStatusNotification asks for a SignedFirmwareStatusNotification and
SignChargePointCertificate for a SignCertificate (EXTENDED_TRIGGER_ACTIONS).
"""

from __future__ import annotations

from csms.features.context import Services
from csms.features.remote_trigger.trigger import Triggered, send_trigger
from csms.ocpp16 import Action
from csms.ocpp16.security_firmware_messages import EXTENDED_TRIGGER_ACTIONS, ExtendedMessageTrigger


async def extended_trigger_message(
    services: Services,
    charge_point_id: str,
    requested_message: ExtendedMessageTrigger,
    connector_id: int | None = None,
    *,
    wait: float,
    connect_timeout: float = 0.0,
) -> Triggered:
    """Send ExtendedTriggerMessage; when Accepted, wait up to `wait` s for what it asks for.
    Raises TriggerRefused (errata 3.40) or CommandFailed."""
    return await send_trigger(
        services,
        charge_point_id,
        Action.EXTENDED_TRIGGER_MESSAGE,
        str(requested_message),
        EXTENDED_TRIGGER_ACTIONS[requested_message],
        connector_id,
        wait=wait,
        connect_timeout=connect_timeout,
    )
