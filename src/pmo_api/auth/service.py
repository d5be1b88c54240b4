"""API keys: create (secret shown once), list, revoke, and authenticate a secret."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.auth.cache import principals
from pmo_api.auth.models import ApiKey
from pmo_api.auth.repository import ApiKeyRepository
from pmo_api.auth.schemas import ApiKeyCreate, ApiKeyFilter
from pmo_api.core.access import require_admin
from pmo_api.core.changes import snapshot
from pmo_api.core.context import Principal, Role, RowReads, ServiceContext, utcnow
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db.reads import SessionReads
from pmo_api.db.repository import build_page_request
from pmo_api.events.service import record
from pmo_api.events.types import Event, EventType
from pmo_api.people.repository import PersonRepository

KEY_PREFIX = "pmo_"
# A generated secret's listed prefix is its first 12 characters (8 of its 40 random
# ones); the bootstrap secret is chosen by a person and may be as short as 16
# characters, so its listed prefix shows no more than 4 of them.
BOOTSTRAP_PREFIX_LENGTH = 4
_AUDITED = ("name", "role", "prefix", "person_id", "revoked_at")


def hash_secret(secret: str) -> str:
    # Secrets carry 240 random bits, so a fast hash is as strong as a slow one here
    # and keeps authentication cheap on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


async def create_api_key(ctx: ServiceContext, data: ApiKeyCreate) -> tuple[ApiKey, str]:
    require_admin(ctx.principal, "manage API keys")
    if data.role is Role.MANAGER and data.person_id is None:
        raise InvalidInput(
            code="manager_needs_person",
            detail="A manager key must name the person it acts for (person_id).",
            errors=[ErrorDetail(("body", "person_id"), "required for managers", "missing")],
        )
    if (
        data.person_id is not None
        and await PersonRepository(ctx.session).get(data.person_id, ctx.principal) is None
    ):
        raise InvalidInput(
            code="person_not_found",
            detail=f"No person {data.person_id} exists.",
            errors=[ErrorDetail(("body", "person_id"), "unknown person", "value_error")],
        )
    secret = new_secret()
    key = ApiKey(
        name=data.name,
        role=data.role,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        person_id=data.person_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(key)
    await ctx.session.flush()
    await record(ctx, Event.created(EventType.API_KEY_CREATED, key.id, snapshot(key, _AUDITED)))
    return key, secret


async def list_api_keys(
    ctx: ServiceContext, filters: ApiKeyFilter, params: ListParams
) -> Page[ApiKey]:
    require_admin(ctx.principal, "manage API keys")
    page = build_page_request(
        params,
        columns=ApiKeyRepository.sortable,
        default_sort="created_at",
        filters=filters.model_dump(),
    )
    return await ApiKeyRepository(ctx.session).list(ctx.principal, filters, page)


async def revoke_api_key(ctx: ServiceContext, key_id: uuid.UUID) -> ApiKey:
    require_admin(ctx.principal, "manage API keys")
    key = await ApiKeyRepository(ctx.session).require(key_id, ctx.principal)
    if key.revoked_at is not None:
        raise Conflict(code="already_revoked", detail="The key is already revoked.")
    if key.id == ctx.principal.key_id:
        raise Conflict(code="cannot_revoke_self", detail="A key cannot revoke itself.")
    key.revoked_at = ctx.now
    key.updated_at = ctx.now
    principals.forget_key(key.id)
    await ctx.session.flush()
    await record(
        ctx,
        Event(
            EventType.API_KEY_REVOKED,
            key.id,
            {"revoked_at": {"before": None, "after": ctx.now.isoformat()}},
        ),
    )
    return key


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
    key = await ApiKeyRepository.read_live_key(reads, digest)
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
    key = await ApiKeyRepository(session).by_secret_hash(digest, live=False)
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
