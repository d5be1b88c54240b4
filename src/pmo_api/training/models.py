"""The training tables: courses, enrollments and the certifications people hold."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument, string_enum


class Course(Entity, Archivable, Base):
    """A course: the skill it builds and the level it raises it to."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level_in_range"),
        CheckConstraint("hours > 0 AND hours <= 1000", name="hours_in_range"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    skill: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    grants_certification: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)

    __mapper_args__ = {"version_id_col": Entity.version}


class EnrollmentStatus(enum.StrEnum):
    """enrolled, then in_progress, then completed; withdrawn from enrolled or
    in_progress."""

    ENROLLED = "enrolled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


LIVE = (EnrollmentStatus.ENROLLED, EnrollmentStatus.IN_PROGRESS)
"""The statuses of an enrollment still under way: a person has one at a time per course."""
LIVE_ENROLLMENT_PREDICATE = "status IN ('enrolled', 'in_progress') AND archived_at IS NULL"


class Enrollment(Entity, Archivable, Base):
    """A person taking a course."""

    __tablename__ = "enrollments"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score_in_range"),
        CheckConstraint(
            "status <> 'completed' OR completed_at IS NOT NULL", name="completed_when_completed"
        ),
        Index(
            "uq_enrollments_live_person_id_course_id",
            "person_id",
            "course_id",
            unique=True,
            postgresql_where=text(LIVE_ENROLLMENT_PREDICATE),
            sqlite_where=text(LIVE_ENROLLMENT_PREDICATE),
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id"), nullable=False, index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id"), nullable=False, index=True
    )
    status: Mapped[EnrollmentStatus] = mapped_column(
        string_enum(EnrollmentStatus, "enrollment_status"), nullable=False
    )
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __mapper_args__ = {"version_id_col": Entity.version}


class Certification(Entity, Archivable, Base):
    """A certification a person holds, valid until it expires (never, without
    ``expires_on``)."""

    __tablename__ = "certifications"
    __table_args__ = (
        CheckConstraint(
            "expires_on IS NULL OR issued_on IS NULL OR expires_on >= issued_on",
            name="dates_in_order",
        ),
        Index("ix_certifications_person_id_name", "person_id", "name"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    issuer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courses.id"), nullable=True, index=True
    )
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enrollments.id"), nullable=True
    )

    __mapper_args__ = {"version_id_col": Entity.version}
