"""The GraphQL door, mounted at /graphql."""

from __future__ import annotations

from fastapi import APIRouter

from pmo_api.settings import Settings


def graphql_router(settings: Settings) -> APIRouter:
    return APIRouter()
