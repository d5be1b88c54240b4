"""The standards' tables: each row is one revision of a standard (a policy, a
methodology, a template), kept by key and revision (``StandardRevision``)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument, string_enum


class StandardStatus(enum.StrEnum):
    """A version's life: a draft is edited freely; published, it is in force and never
    changes again (a change is a new version); retired, it is no longer in force."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class StandardRevision(Entity, Archivable):
    """What the table of every standard has: one row per revision of a key, its life
    (``StandardStatus``) and when it was put in and taken out of force; every write is
    guarded by the version it read."""

    key: Mapped[str] = mapped_column(String(40), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[StandardStatus] = mapped_column(
        string_enum(StandardStatus, "standard_status"), nullable=False
    )
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (UniqueConstraint("key", "revision"),)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Policy(StandardRevision, Base):
    """One version (``revision``) of a policy: its text and its machine-checked rules.
    At most one version of a key is published at a time: publishing one retires the
    one in force before it."""

    __tablename__ = "policies"

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)


class Methodology(StandardRevision, Base):
    """One version (``revision``) of a methodology: its ordered phases, each with the
    gate a project passes to enter it (``phases.py``). Projects record the revision they
    follow (``projects.methodology_id``) and keep it until moved to another on purpose."""

    __tablename__ = "methodologies"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)


class Template(StandardRevision, Base):
    """One version (``revision``) of a project template: the methodology, default
    fields, milestones, standard risks and deliverables a new project starts with
    (``templates.py``)."""

    __tablename__ = "templates"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    methodology: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The key of the methodology; a project made from it follows its revision in force."""
    defaults: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False)
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    risks: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    deliverables: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)


class ComplianceRecord(Base):
    """What the watch last found of a project (``watch.py``): whether it complied and
    the rules it failed. A change from compliant to failing is a ``compliance.failed``
    event, the way back ``compliance.passed``."""

    __tablename__ = "compliance_states"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    compliant: Mapped[bool] = mapped_column(Boolean, nullable=False)
    failing: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    checked_at: Mapped[datetime] = mapped_column(nullable=False)
