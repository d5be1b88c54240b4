"""API key secrets: how one is made and how it is kept (its hash alone)."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "pmo_"


def hash_secret(secret: str) -> str:
    # Secrets carry 240 random bits, so a fast hash is as strong as a slow one here
    # and keeps authentication cheap on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)
