"""Settings from the environment (``PMO_*``): the only module that reads it."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./pmo.db"
_ORIGIN_RE = re.compile(r"^https?://[^/?#\s]+$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PMO_", extra="ignore", frozen=True)

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        description="SQLAlchemy URL; unset means a SQLite file pmo.db in the working directory.",
    )
    bootstrap_admin_key: SecretStr | None = Field(
        default=None, description="When set, an admin key with exactly this secret exists."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs pagination cursors. Unset: a random secret kept in the database.",
    )
    currency: str = "USD"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    auto_migrate: bool | None = Field(
        default=None,
        description="Bring the schema to head on start; default: yes on SQLite, no elsewhere.",
    )
    graphql_ide: bool = True
    graphql_introspection: bool = True
    graphql_max_depth: int = Field(default=10, ge=2, le=50)
    graphql_max_aliases: int = Field(
        default=30, ge=0, le=1000, description="Most aliased fields one GraphQL document may use."
    )
    graphql_max_tokens: int = Field(
        default=5000, ge=100, le=100_000, description="Most lexical tokens in one GraphQL document."
    )
    idempotency_ttl_hours: int = Field(default=48, ge=24)
    compliance_watch_seconds: float = Field(
        default=300,
        ge=0,
        le=86_400,
        description="How often the server judges every project and records "
        "compliance.failed / compliance.passed for those that changed (0: never; "
        "`pmo-api compliance watch` looks once).",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a process remembers a valid API key (0: ask the database "
        "every request); a key revoked in another process stops working within this time.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS); empty: CORS is off.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            value = "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("must be a three-letter ISO 4217 code such as USD")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: Any) -> Any:
        """From the environment: comma-separated origins, or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not _ORIGIN_RE.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port], no path or "
                    "trailing slash (or * for any origin)"
                )
        return value

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def migrate_on_start(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate


class SettingsError(Exception):
    """A setting is wrong; the message is one line a person can act on."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PMO_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
