"""Webhook signatures (docs/events-and-webhooks.md, "Verifying a delivery"): HMAC-SHA256 with the
subscription's secret over `<timestamp>.<body>`, sent as `X-CSMS-Signature: sha256=<hex>` with
the timestamp (Unix seconds) in `X-CSMS-Timestamp`. Signing the timestamp lets a receiver refuse
a replayed request: a valid signature with an old timestamp."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CSMS-Signature"
TIMESTAMP_HEADER = "X-CSMS-Timestamp"
EVENT_ID_HEADER = "X-CSMS-Event-Id"
EVENT_TYPE_HEADER = "X-CSMS-Event-Type"
ATTEMPT_HEADER = "X-CSMS-Delivery-Attempt"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-CSMS-Signature value of a delivery."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float
) -> bool:
    """What a receiver checks: the signature, in constant time, and a timestamp within
    `tolerance` seconds of `now` (Unix seconds)."""
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)
