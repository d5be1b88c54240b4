from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument


class Lesson(Entity, Archivable, Base):
    """A lesson a project learned: what happened, and what to do next time."""

    __tablename__ = "lessons"
    # Newest first: the lists' default order, and the ranked window of a search.
    __table_args__ = (Index("ix_lessons_created_at_id", "created_at", "id"),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id"), nullable=False, index=True
    )
    category: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    what_happened: Mapped[str] = mapped_column(Text, nullable=False)
    recommendation: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSONDocument, nullable=False)
    author: Mapped[str] = mapped_column(String(200), nullable=False)
    """The name of the API key that recorded it."""
    author_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )

    __mapper_args__ = {"version_id_col": Entity.version}
