"""Alerts (docs/events-and-webhooks.md, "Alerts"): conditions an operator should act on, raised
and cleared as outbox events (alert.raised, alert.cleared), stored and listed in the API.

- `offline`: a charge point not connected for longer than alert_offline_minutes (checked every
  alert_check_interval seconds by `watch_alerts`, an owned task); cleared when it connects.
- `connector.faulted`: a StatusNotification Faulted (subject "connector N"); cleared by any
  other status of that connector.
- `boot_loop`: more than alert_boot_loop_boots BootNotifications within an hour; cleared by the
  checker once the last hour has no more than that.
- `job.failed`: a firmware or diagnostics job failed or timed out (subject its kind); raised by
  the store in the job's own transaction, cleared when a later job of that kind succeeds.

Other features raise and clear their own with `raise_alert` and `clear_alert` (e.g. a critical
SecurityEventNotification): a kind of their own, the charge point, a subject, a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from csms.storage import Alert, StoreError

if TYPE_CHECKING:
    from csms.features.context import Services

log = logging.getLogger("csms.alerts")

OFFLINE = "offline"
CONNECTOR_FAULTED = "connector.faulted"
BOOT_LOOP = "boot_loop"
JOB_FAILED = "job.failed"
BOOT_WINDOW = timedelta(hours=1)


class AlertMemory:
    """Boot times of the last hour per charge point (a boot loop is judged from them)."""

    def __init__(self) -> None:
        self.boots: dict[str, deque[datetime]] = {}

    def booted(self, charge_point_id: str, at: datetime) -> int:
        """Note a boot; how many within the hour before `at`."""
        boots = self.boots.setdefault(charge_point_id, deque())
        boots.append(at)
        return self.recent(charge_point_id, at)

    def recent(self, charge_point_id: str, now: datetime) -> int:
        boots = self.boots.get(charge_point_id)
        if boots is None:
            return 0
        while boots and boots[0] <= now - BOOT_WINDOW:
            boots.popleft()
        if not boots:
            del self.boots[charge_point_id]
            return 0
        return len(boots)


async def raise_alert(
    services: Services,
    kind: str,
    charge_point_id: str | None,
    message: str,
    *,
    subject: str = "",
    data: dict[str, Any] | None = None,
) -> Alert | None:
    """Raise an alert (stored with its alert.raised event, logged at WARNING); None if the same
    (kind, charge point, subject) is active already or the store refused it (logged)."""
    try:
        raised = await services.store.raise_alert(
            kind, charge_point_id, subject, message, at=services.clock.now(), data=data
        )
    except (StoreError, ValueError) as exc:
        log.warning("could not raise %s alert for %s: %r", kind, charge_point_id, exc)
        return None
    if raised is not None:
        log.warning(
            "alert %s raised for %s: %s",
            kind,
            charge_point_id,
            message,
            extra={"charge_point_id": charge_point_id},
        )
    return raised


async def clear_alert(
    services: Services,
    kind: str,
    charge_point_id: str | None,
    reason: str,
    *,
    subject: str = "",
) -> Alert | None:
    """Clear an active alert (with its alert.cleared event, logged at INFO); None if none was
    active (no database round trip then: the store knows the active ones)."""
    try:
        cleared = await services.store.clear_alert(
            kind, charge_point_id, subject, at=services.clock.now(), reason=reason
        )
    except (StoreError, ValueError) as exc:
        log.warning("could not clear %s alert for %s: %r", kind, charge_point_id, exc)
        return None
    if cleared is not None:
        log.info(
            "alert %s cleared for %s: %s",
            kind,
            charge_point_id,
            reason,
            extra={"charge_point_id": charge_point_id},
        )
    return cleared


# -- from the message path -----------------------------------------------------------------------


async def status_reported(
    services: Services, charge_point_id: str, connector_id: int, status: str, error_code: str
) -> None:
    subject = f"connector {connector_id}"
    if status == "Faulted":
        await raise_alert(
            services,
            CONNECTOR_FAULTED,
            charge_point_id,
            f"connector {connector_id} Faulted ({error_code})",
            subject=subject,
            data={"connectorId": connector_id, "errorCode": error_code},
        )
    else:
        await clear_alert(
            services, CONNECTOR_FAULTED, charge_point_id, f"status {status}", subject=subject
        )


async def booted(services: Services, charge_point_id: str) -> None:
    limit = services.settings.alert_boot_loop_boots
    boots = services.alerts.booted(charge_point_id, services.clock.now())
    if limit > 0 and boots > limit:
        await raise_alert(
            services,
            BOOT_LOOP,
            charge_point_id,
            f"{boots} boots within an hour (more than {limit})",
            data={"boots": boots},
        )


async def connected(services: Services, charge_point_id: str) -> None:
    await clear_alert(services, OFFLINE, charge_point_id, "connected")


# -- the checker (an owned task, started by app.py) ----------------------------------------------


async def watch_alerts(services: Services) -> None:
    """Every alert_check_interval seconds: offline charge points, boot loops that ended."""
    started_at = services.clock.now()
    while True:
        try:
            await check(services, started_at)
        except Exception:  # the database away for a while: try again next time
            log.exception("alert check failed")
        await asyncio.sleep(services.settings.alert_check_interval)


async def check(services: Services, started_at: datetime | None = None) -> None:
    """`started_at`: when this CSMS started; a charge point cannot have been seen while the
    CSMS was down, so it is offline only for as long as both have been up."""
    now = services.clock.now()
    minutes = services.settings.alert_offline_minutes
    if minutes > 0:
        limit = now - timedelta(minutes=minutes)
        for charge_point in await services.store.list_charge_points():
            if services.registry.get(charge_point.id) is not None:
                await clear_alert(services, OFFLINE, charge_point.id, "connected")
            elif (
                charge_point.last_seen_at is not None
                and max(charge_point.last_seen_at, started_at or charge_point.last_seen_at) < limit
            ):
                seen = charge_point.last_seen_at.isoformat().replace("+00:00", "Z")
                await raise_alert(
                    services,
                    OFFLINE,
                    charge_point.id,
                    f"offline since {seen} (more than {minutes:g} minutes)",
                    data={"lastSeenAt": seen},
                )
    boots = services.settings.alert_boot_loop_boots
    for active in await services.store.list_alerts(active=True, kind=BOOT_LOOP):
        charge_point_id = active.charge_point_id or ""
        if services.alerts.recent(charge_point_id, now) <= boots:
            reason = f"at most {boots} boots in the last hour"
            await clear_alert(services, BOOT_LOOP, active.charge_point_id, reason)
