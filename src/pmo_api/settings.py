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
    graphql_max_cost: int = Field(
        default=50_000,
        ge=1,
        le=100_000_000,
        description="Most a GraphQL operation may cost, computed before it runs: each field "
        "costs 1, and a connection multiplies what is selected beneath it by its page size "
        "(first). Over it, the query is refused (query_too_expensive) and nothing runs.",
    )
    graphql_max_subscriptions: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Most subscriptions one GraphQL WebSocket connection may run at once; "
        "past it a subscribe is answered with an error.",
    )
    live_queue_size: int = Field(
        default=1000,
        ge=10,
        le=100_000,
        description="Most live events a GraphQL subscription may have waiting to be sent; "
        "one that falls further behind ends with the error subscriber_too_slow.",
    )
    rate_limits: bool = Field(
        default=True,
        description="Rate limits per API key: a request budget for REST and a query-cost "
        "budget for GraphQL over a window; over it, 429 with Retry-After. Off: no limits "
        "and no RateLimit headers.",
    )
    rate_limit_window_seconds: int = Field(
        default=60, ge=1, le=86_400, description="The length of a rate-limit window."
    )
    rate_limit_rest_requests: int = Field(
        default=6000,
        ge=1,
        le=1_000_000_000,
        description="REST requests one API key may make per window.",
    )
    rate_limit_graphql_cost: int = Field(
        default=3_000_000,
        ge=1,
        le=1_000_000_000_000,
        description="GraphQL query cost (see PMO_GRAPHQL_MAX_COST) one API key may spend "
        "per window.",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="redis:// URL of the Redis server that keeps the rate-limit counters "
        "of every process; unset: PostgreSQL keeps them (on SQLite, each process).",
    )
    idempotency_ttl_hours: int = Field(default=48, ge=24)
    metrics_enabled: bool = Field(
        default=True, description="Serve the Prometheus metrics at GET /metrics."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics answers only 'Authorization: Bearer <this token>' "
        "(a scraper's, not an API key); unset: /metrics needs no credentials.",
    )
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
    webhook_worker: bool = Field(
        default=True,
        description="Run the webhook delivery worker inside `pmo-api serve` (false: run "
        "`pmo-api worker` beside it; on SQLite keep it in the server).",
    )
    webhook_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names or addresses webhooks may reach although private or "
        "loopback (comma-separated), e.g. a receiver on the same network.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one delivery attempt may take."
    )
    webhook_retry_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="The first retry's wait; each next one doubles (at most 6 hours), "
        "with jitter, for 3 days.",
    )
    webhook_poll_seconds: float = Field(
        default=0.5, gt=0, le=60, description="How often an idle worker looks for work."
    )
    webhook_concurrency: int = Field(
        default=16, ge=1, le=256, description="Deliveries one worker sends at once."
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

    @field_validator("cors_origins", "webhook_allow_hosts", mode="before")
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

    @field_validator("bootstrap_admin_key", "metrics_token")
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
