"""Signatures (webhooks/signing.py) and the retry backoff (webhooks/delivery.py)."""

from __future__ import annotations

import hashlib
import hmac

from csms.settings import Settings
from csms.webhooks import sign, verify
from csms.webhooks.delivery import backoff


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id":1,"type":"status"}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k" * 16, "1700000000", body) == "sha256=" + expected


def test_verify_refuses_other_bodies_secrets_and_old_timestamps() -> None:
    body = b"{}"
    signature = sign("secret-secret-secret", "1000", body)
    ok = {"now": 1100.0, "tolerance": 300.0}
    assert verify("secret-secret-secret", "1000", body, signature, **ok)
    assert not verify("secret-secret-secret", "1000", b"{ }", signature, **ok)
    assert not verify("another-secret-here", "1000", body, signature, **ok)
    assert not verify("secret-secret-secret", "1001", body, signature, **ok)  # replayed, changed
    assert not verify("secret-secret-secret", "1000", body, signature, now=1301.0, tolerance=300)
    assert not verify("secret-secret-secret", "soon", body, signature, **ok)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    settings = Settings(webhook_retry_min_interval=2.0, webhook_retry_max_interval=60.0)
    for attempts, (low, high) in enumerate([(1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (30, 60)]):
        for _ in range(50):
            assert low <= backoff(attempts, settings) <= high
    assert all(30 <= backoff(10_000, settings) <= 60 for _ in range(50))
    assert len({backoff(3, settings) for _ in range(20)}) > 1  # jittered
