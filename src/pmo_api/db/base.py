"""Declarative base, constraint naming convention and the column types every table shares."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Dialect,
    Enum,
    Integer,
    MetaData,
    Numeric,
    Uuid,
    literal_column,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(14,2) on PostgreSQL, integer cents on SQLite.

    SQLite has no exact decimal type; integer cents keep SUM() exact in SQL there too.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return int((Decimal(value) * 100).to_integral_value())
        return Decimal(value).quantize(Decimal("0.01"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
        return Decimal(value).quantize(Decimal("0.01"))


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def sql_values(members: Sequence[enum.Enum]) -> list[ColumnElement[Any]]:
    """Constant enum values as SQL literals (``'open'``), for a clause that must read the
    same in every plan (a partial index's predicate); the values are the enum's own,
    never a caller's."""
    values: list[ColumnElement[Any]] = []
    for member in members:
        value = str(member.value)
        if not value.replace("_", "").isalnum():
            raise ValueError(f"not a plain enum value: {value!r}")
        values.append(literal_column(f"'{value}'"))
    return values


def string_enum(cls: type[enum.Enum], name: str, length: int = 16) -> Enum:
    """A Python enum stored as its values in a VARCHAR(``length``) with a CHECK
    constraint (no native enum type: the same column on SQLite and PostgreSQL)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid(), Decimal: Money()}


class Entity:
    """Columns every domain record has: id, version (optimistic concurrency), timestamps."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, index=True)


class Archivable:
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)
