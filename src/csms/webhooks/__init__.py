"""Webhooks (docs/events-and-webhooks.md): the durable outbox's events POSTed to the
subscribed URLs, signed (signing.py), by one owned task (delivery.py, started by app.py)."""

from csms.webhooks.delivery import Deliverer
from csms.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "Deliverer", "sign", "verify"]
