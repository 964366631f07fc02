"""HubSpot webhook request signatures, versions 1 and 3.

From HubSpot's "Validate requests from HubSpot" guide: v1 is the hex SHA-256 digest of the
app's client secret followed by the request body; v3 is the base64 HMAC-SHA256, keyed by
the client secret, of method + URI + body + timestamp (epoch milliseconds as a string).
Receivers should reject v3 timestamps older than 5 minutes and compare in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# Receivers reject a v3 request whose timestamp is older than this (validating-requests guide).
MAX_TIMESTAMP_AGE_MS = 300_000


def signature_v1(client_secret: str, body: bytes) -> str:
    return hashlib.sha256(client_secret.encode() + body).hexdigest()


def signature_v3(
    client_secret: str, method: str, uri: str, body: bytes, timestamp_ms: int
) -> str:
    message = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp_ms: int,
    signature: str,
    now_ms: int,
) -> bool:
    """Check a v3 signature and its age as a receiver should."""
    if now_ms - timestamp_ms > MAX_TIMESTAMP_AGE_MS:
        return False
    expected = signature_v3(client_secret, method, uri, body, timestamp_ms)
    return hmac.compare_digest(expected, signature)
