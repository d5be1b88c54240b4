"""Authentication: the principal a secret names, and the bootstrap admin key (API
keys themselves are a declared resource: ``auth/declaration.py``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.auth import repository
from pmo_api.auth.cache import principals
from pmo_api.auth.models import ApiKey
from pmo_api.auth.secrets import hash_secret
from pmo_api.core.context import Principal, Role, RowReads, utcnow
from pmo_api.db.reads import SessionReads

# The bootstrap secret is chosen by a person and may be as short as 16 characters, so
# its listed prefix shows no more than 4 of them.
BOOTSTRAP_PREFIX_LENGTH = 4


async def authenticate(session: AsyncSession, secret: str) -> Principal | None:
    """The principal for a secret, or None when it is unknown or revoked."""
    return await authenticate_with(
        SessionReads(session), secret, str(session.get_bind().engine.url)
    )


async def authenticate_with(reads: RowReads, secret: str, scope: str) -> Principal | None:
    """``authenticate`` on any reader; ``scope`` names the database (its URL), so
    processes (and tests) serving several never mix their keys."""
    digest = hash_secret(secret)
    cache_key = f"{scope}#{digest}"
    cached = principals.get(cache_key)
    if cached is not None:
        return cached
    key = await repository.read_live_key(reads, digest)
    if key is None:
        return None
    principal = Principal(
        key_id=key["id"], name=key["name"], role=Role(key["role"]), person_id=key["person_id"]
    )
    principals.put(cache_key, principal)
    return principal


async def ensure_bootstrap_key(session: AsyncSession, secret: str) -> None:
    """Make sure an admin key with exactly this secret exists (and is not revoked)."""
    digest = hash_secret(secret)
    prefix = secret[:BOOTSTRAP_PREFIX_LENGTH]
    key = await repository.by_secret_hash(session, digest, live=False)
    now = utcnow()
    if key is None:
        session.add(
            ApiKey(
                name="bootstrap admin",
                role=Role.ADMIN,
                prefix=prefix,
                secret_hash=digest,
                created_at=now,
                updated_at=now,
            )
        )
    elif key.revoked_at is not None or key.role is not Role.ADMIN or key.prefix != prefix:
        key.revoked_at = None
        key.role = Role.ADMIN
        key.prefix = prefix  # one stored before the prefix was shortened
        key.updated_at = now
