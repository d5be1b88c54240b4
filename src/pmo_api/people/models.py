from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument


class Person(Entity, Archivable, Base):
    __tablename__ = "people"

    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    skills: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    weekly_capacity_hours: Mapped[float] = mapped_column(Float, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __mapper_args__ = {"version_id_col": Entity.version}
