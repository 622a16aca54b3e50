"""Reservation profile (spec 3.11, 4.8, 5.1, 5.13).

ReserveNow and CancelReservation, the life of each reservation the CSMS keeps (recorded from
the answers, whichever endpoint sent the request), its use by a StartTransaction (Core calls
`transaction_started`) and its expiry (the owned task `expire_reservations`). The charge point
sends no message of this profile: ROUTES is empty. See docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.reservation.reservations import (
    ReservationRefused,
    UnknownReservation,
    cancel_reservation,
    expire_reservations,
    reserve_now,
)

ROUTES: dict[str, Handler] = {}

__all__ = [
    "ROUTES",
    "ReservationRefused",
    "UnknownReservation",
    "cancel_reservation",
    "expire_reservations",
    "reserve_now",
]
