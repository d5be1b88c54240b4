"""The project record base: what the table of every record a project keeps has."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from pmo_api.db.base import Archivable, Entity


class ProjectRecord(Entity, Archivable):
    """Mixin of a project record's table (a risk, a milestone, a cost...): an id, a
    version checked on every write, timestamps, ``archived_at``, and the project it
    belongs to (indexed). ``class Risk(ProjectRecord, Base)`` declares only its own
    columns."""

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id"), nullable=False, index=True
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # Every UPDATE is guarded by the version it read: a write that raced another
        # matches no row and fails instead of silently winning.
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
