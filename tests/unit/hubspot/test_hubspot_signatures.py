"""Webhook signatures against HubSpot's published test vector."""

from __future__ import annotations

import hashlib

from pytest_syncbench.hubspot.signatures import signature_v1, signature_v3, verify_v3

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
BODY = b"{'example_field':'example_value'}"
TIMESTAMP = 1693657560000
EXPECTED_V3 = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="


def test_v3_matches_official_vector() -> None:
    assert signature_v3(SECRET, "POST", URI, BODY, TIMESTAMP) == EXPECTED_V3


def test_v3_verify_rejects_old_timestamp() -> None:
    fresh = verify_v3(
        SECRET, "POST", URI, BODY, TIMESTAMP, EXPECTED_V3, TIMESTAMP + 1_000
    )
    assert fresh
    stale = verify_v3(
        SECRET, "POST", URI, BODY, TIMESTAMP, EXPECTED_V3, TIMESTAMP + 300_001
    )
    assert not stale


def test_v1_is_sha256_of_secret_and_body() -> None:
    expected = hashlib.sha256(SECRET.encode() + BODY).hexdigest()
    assert signature_v1(SECRET, BODY) == expected
