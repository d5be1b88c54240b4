"""API keys, declared once: who may call the API, as what. Only admins see or manage
them; the secret is shown once, when the key is made, and only its hash is kept; a key
is never deleted, it is revoked."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints

from pmo_api.auth.cache import principals
from pmo_api.auth.models import ApiKey
from pmo_api.auth.secrets import hash_secret, new_secret
from pmo_api.core.context import Principal, Role, ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.schemas import TEXT_PATTERN
from pmo_api.people.declaration import PERSON
from pmo_api.resources.declaration import Docs, Events, ResourceRules, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter, Listed, owned

KeyName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
"""What a key is for ("nightly export"): at most 100 characters, as its column holds."""

PREFIX_LENGTH = 12
"""A generated secret's listed prefix: its first 12 characters (8 of its 40 random ones)."""


class ApiKeyRules(ResourceRules[ApiKey]):
    """A manager key names the person it acts for; a new key gets its secret (shown
    once, its hash kept); a key never revokes itself."""

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        if values["role"] is Role.MANAGER and values.get("person_id") is None:
            raise InvalidInput(
                code="manager_needs_person",
                detail="A manager key must name the person it acts for (person_id).",
                errors=[ErrorDetail(("body", "person_id"), "required for managers", "missing")],
            )
        secret = new_secret()
        return {
            "prefix": secret[:PREFIX_LENGTH],
            "secret_hash": hash_secret(secret),
            "secret": secret,
        }

    async def archiving(self, ctx: ServiceContext, obj: ApiKey) -> None:
        if obj.id == ctx.principal.key_id:
            raise Conflict(code="cannot_revoke_self", detail="A key cannot revoke itself.")
        principals.forget_key(obj.id)


def _admin(principal: Principal) -> bool:
    return principal.role is Role.ADMIN


ADMINS = Writers(_admin, ("role_forbidden", "Only admin keys see and manage API keys."))

API_KEYS = ResourceType(
    name="api_key",
    model=ApiKey,
    noun="API key",
    fields=(
        Field("name", KeyName),
        Field("role", Role),
        owned("prefix", str, "The first characters of the secret, to recognise it."),
        Field(
            "person_id",
            uuid.UUID | None,
            None,
            "The person the key acts for; required for managers.",
            refers_to=PERSON,
        ),
        owned("revoked_at", datetime | None),
    ),
    # Stated for clients: a manager key names the person it acts for (the rules refuse
    # it otherwise: 422 manager_needs_person).
    create_schema={
        "if": {"properties": {"role": {"const": Role.MANAGER.value}}, "required": ["role"]},
        "then": {
            "properties": {"person_id": {"type": "string", "format": "uuid"}},
            "required": ["person_id"],
        },
    },
    shown_once=(Listed("secret", str, "Shown once; only a hash is kept."),),
    filters=(
        Filter.equal(ApiKey.role, Role),
        Filter.equal(ApiKey.person_id, uuid.UUID),
        Filter(
            "revoked",
            bool,
            lambda value, _today: (
                ApiKey.revoked_at.is_not(None) if value else ApiKey.revoked_at.is_(None)
            ),
            "true: only revoked keys; false: only keys still in use.",
        ),
    ),
    sorts=("created_at", "updated_at", "name"),
    default_sort="created_at",
    readers=ADMINS,
    writers=ADMINS,
    rules=ApiKeyRules(),
    updatable=False,
    versioned=False,
    archive_column="revoked_at",
    hides_archived=False,
    events=Events(archived="revoked"),
    graphql=False,
    docs=Docs(
        summary="An API key: who may call the API, as what (admin, pmo, manager, viewer).",
        listed="API keys",
        list_route="List API keys (never their secrets)",
        archive_route="Revoke an API key",
        create_body="A new key: what it is for, its role, and for a manager the person.",
    ),
)
