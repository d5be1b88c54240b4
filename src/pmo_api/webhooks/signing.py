"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is ``whsec_`` and the base64 of 24 random bytes; the HMAC key is those bytes.
Each attempt is signed over ``"<webhook-id>.<webhook-timestamp>.<body>"`` with
HMAC-SHA256, and ``webhook-signature`` lists one ``v1,<base64>`` per secret in force,
space-separated (two while a rotated secret's overlap lasts): a receiver accepts the
message when any of them matches its secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(
    message_id: str, timestamp: int, body: bytes, secrets_in_force: Sequence[str]
) -> dict[str, str]:
    """The three headers of one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, message_id, timestamp, body) for secret in secrets_in_force
        ),
    }
