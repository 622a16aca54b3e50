"""Errors of the store, beyond the database driver's own (which pass through unchanged)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class StoreClosedError(StoreError):
    """The store was closed (or is closing): it takes no more calls."""


class UnknownChargePointError(StoreError, LookupError):
    """The operation needs a charge point that is not registered."""


class ReservationConflictError(StoreError):
    """The reservationId belongs to another charge point's reservation, or to one that is over
    (reservation ids are never reused)."""


class LoadGroupConflictError(StoreError):
    """A load group change that would break the tree: a cycle, a name taken, a charge point in
    a second group, a group deleted that still has subgroups."""


class TransactionEndedError(StoreError):
    """The transaction was stopped by its charge point or ended by the CSMS already."""


class UserExistsError(StoreError):
    """A user of that name exists already (names are unique, case-insensitively)."""
