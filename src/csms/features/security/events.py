"""Security events (whitepaper A04 and section 8): the SecurityEventNotification.req of the charge
points and the CSMS's own (a connection refused below the charge point's security profile,
A00.FR.408), each stored, logged and published on the event bus (kind "security_event").

The whitepaper's list marks some types critical; those are flagged when stored, logged as
warnings, and raised as a `security_event` alert (features/alerts.py, one active per charge
point and type; docs/security.md).
"""

from __future__ import annotations

import logging
from datetime import datetime

from csms.features import alerts
from csms.features.context import Context, Handler, Services
from csms.ocpp16 import Action
from csms.ocpp16.certificate_messages import (
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
)
from csms.storage.security_records import SecurityEvent

log = logging.getLogger("csms.security")

# Whitepaper section 8: the types marked critical.
CRITICAL_TYPES = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
    }
)

# The CSMS's own events: a connection refused for its security (not in the whitepaper's list,
# which names the charge point's events).
CONNECTION_REFUSED = "ConnectionBelowSecurityProfile"
CLIENT_CERTIFICATE_REFUSED = "InvalidChargePointCertificateAtConnection"

CHARGE_POINT = "ChargePoint"
CENTRAL_SYSTEM = "CentralSystem"

# The kind of alert a critical security event raises (features/alerts.py).
ALERT_KIND = "security_event"


def is_critical(event_type: str) -> bool:
    return event_type in CRITICAL_TYPES


async def record(
    services: Services,
    charge_point_id: str,
    event_type: str,
    *,
    timestamp: datetime,
    tech_info: str | None,
    origin: str,
) -> SecurityEvent:
    """Store, log and publish one security event."""
    event = await services.store.add_security_event(
        SecurityEvent(
            id=None,
            charge_point_id=charge_point_id,
            type=event_type,
            timestamp=timestamp,
            tech_info=tech_info,
            critical=is_critical(event_type),
            origin=origin,
            received_at=services.clock.now(),
        )
    )
    level = logging.WARNING if event.critical or origin == CENTRAL_SYSTEM else logging.INFO
    log.log(
        level,
        "%s: security event %s%s (%s)%s",
        charge_point_id,
        event_type,
        " [critical]" if event.critical else "",
        origin,
        f": {tech_info}" if tech_info else "",
    )
    services.events.publish(
        "security_event",
        charge_point_id,
        {"type": event_type, "critical": event.critical, "origin": origin, "id": event.id},
    )
    if event.critical:
        await alerts.raise_alert(
            services,
            ALERT_KIND,
            charge_point_id,
            f"critical security event {event_type}" + (f": {tech_info}" if tech_info else ""),
            subject=event_type,
            data={"securityEventId": event.id, "timestamp": timestamp.isoformat()},
        )
    return event


async def security_event_notification(
    ctx: Context, request: SecurityEventNotificationRequest
) -> SecurityEventNotificationResponse:
    """A04.FR.03: always confirmed, once stored."""
    await record(
        ctx.services,
        ctx.charge_point_id,
        request.type,
        timestamp=request.timestamp,
        tech_info=request.tech_info,
        origin=CHARGE_POINT,
    )
    return SecurityEventNotificationResponse()


ROUTES: dict[str, Handler] = {Action.SECURITY_EVENT_NOTIFICATION: security_event_notification}
