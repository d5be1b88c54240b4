"""Training, declared once: courses (``/training/courses``), enrollments
(``/training/enrollments``, with their ``start``, ``complete`` and ``withdraw``) and
certifications (``/certifications/{id}``, kept under their person:
``/people/{id}/certifications``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from pydantic import Field as Limits
from sqlalchemy import ColumnElement, or_

from pmo_api.core.access import is_staff
from pmo_api.core.schemas import TEXT_PATTERN, Day, Name, Text
from pmo_api.people.declaration import PEOPLE, PERSON, SkillLevel, SkillName
from pmo_api.resources.declaration import Docs, ResourceType, Under, Writers
from pmo_api.resources.fields import Field, Filter, Sort, owned
from pmo_api.training.models import Certification, Course, Enrollment, EnrollmentStatus
from pmo_api.training.service import EnrollmentRules, enrollment_actions

STAFF = Writers(is_staff, ("role_forbidden", "Only pmo and admin keys write training records."))
"""Who writes training records (every role reads them)."""

CertificationName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN),
    Limits(description='The certification\'s name, as a policy rule names it ("PMP").'),
]
Hours = Annotated[float, Limits(gt=0, le=1000, description="Its length in hours (at most 1000).")]
Score = Annotated[int, Limits(ge=0, le=100, description="0 to 100.")]


class GrantedCertification(BaseModel):
    """The certification completing the course grants: issued on the day it is
    completed, valid for ``valid_days`` (null: it never expires)."""

    model_config = {"extra": "forbid"}

    name: CertificationName
    issuer: Name | None = None
    valid_days: Annotated[int, Limits(ge=1, le=3650)] | None = Limits(
        default=None, description="Days it stays valid, 1 to 3650; null: it never expires."
    )


COURSES = ResourceType(
    name="course",
    model=Course,
    path="training/courses",
    fields=(
        Field("title", Name),
        Field("description", Text | None, None),
        Field("skill", SkillName, description="The skill it builds, as people's skills name it."),
        Field("level", SkillLevel, description="The level it raises the skill to, 1 to 5."),
        Field("hours", Hours),
        Field(
            "grants_certification",
            GrantedCertification | None,
            None,
            "The certification completing it grants, if any.",
        ),
    ),
    filters=(
        Filter.search(
            (Course.title, Course.description, Course.skill),
            "Text search in title, description and skill.",
        ),
        Filter.equal(Course.skill, SkillName),
        Filter.equal(Course.level, SkillLevel),
    ),
    sorts=("title", "level", "hours", "created_at", "updated_at"),
    default_sort="title",
    writers=STAFF,
    docs=Docs(
        summary="A course: the skill it builds, the level it raises it to, its hours and "
        "the certification it may grant.",
        listed="Courses, by title",
        create="Offer a course (pmo, admin).",
        update="Change the fields sent (pmo, admin).",
        archive="Archive a course: readable by id, no longer listed nor open to enrollments.",
    ),
)

COURSE = COURSES.reference


def _expired(value: Any, today: date) -> ColumnElement[bool]:
    if value:
        return Certification.expires_on < today
    return or_(Certification.expires_on.is_(None), Certification.expires_on >= today)


CERTIFICATIONS = ResourceType(
    name="certification",
    model=Certification,
    fields=(
        Field(
            "person_id",
            uuid.UUID,
            description="The person who holds it.",
            refers_to=PERSON,
            update=False,
        ),
        Field("name", CertificationName),
        Field("issuer", Name | None, None),
        Field("issued_on", Day | None, None),
        Field("expires_on", Day | None, None, "Null: it does not expire."),
        owned(
            "course_id",
            uuid.UUID | None,
            "The course whose completion granted it, if any.",
            refers_to=COURSE,
        ),
        owned("enrollment_id", uuid.UUID | None, "The enrollment whose completion granted it."),
    ),
    in_order=(("issued_on", "expires_on"),),
    filters=(
        Filter.equal(Certification.person_id, uuid.UUID),
        Filter.equal(Certification.name, CertificationName),
        Filter(
            "expired",
            bool,
            _expired,
            "Expired before today (true), or valid today (false: no expiry, or not yet).",
        ),
        Filter(
            "expires_before",
            Day,
            lambda value, _today: Certification.expires_on < value,
            "Expiring before this day (those without expiry never do).",
            bound=True,
        ),
    ),
    sorts=(
        "name",
        "issued_on",
        Sort("expires_on", missing=date.max),
        "created_at",
        "updated_at",
    ),
    default_sort="name",
    writers=STAFF,
    under=Under(PEOPLE, "person_id"),
    docs=Docs(
        summary="A certification a person holds, valid until it expires: what the "
        'compliance check "manager holds certification X" reads.',
        listed="Certifications, by name",
        create="Record a certification a person holds (pmo, admin).",
        update="Change the fields sent (pmo, admin).",
        archive="Archive a certification: readable by id, no longer held nor listed.",
    ),
)

ENROLLMENTS = ResourceType(
    name="enrollment",
    model=Enrollment,
    path="training/enrollments",
    fields=(
        Field("person_id", uuid.UUID, description="Who takes it.", refers_to=PERSON, update=False),
        Field(
            "course_id", uuid.UUID, description="The course taken.", refers_to=COURSE, update=False
        ),
        owned("status", EnrollmentStatus),
        owned("completed_at", datetime | None, "When it was completed."),
        Field("score", Score | None, None, "How the person did, once completed.", create=False),
    ),
    filters=(
        Filter.equal(Enrollment.person_id, uuid.UUID),
        Filter.equal(Enrollment.course_id, uuid.UUID),
        Filter.one_of(Enrollment.status, EnrollmentStatus),
    ),
    sorts=("created_at", "updated_at"),
    default_sort="-created_at",
    writers=STAFF,
    rules=EnrollmentRules(),
    actions=enrollment_actions(CERTIFICATIONS),
    docs=Docs(
        summary="A person taking a course: enrolled, in progress, then completed (with "
        "a score) or withdrawn.",
        listed="Enrollments, newest first",
        create="Enroll a person in a course (pmo, admin): one enrollment under way per "
        "person and course.",
        update="Change the score of a completed enrollment (pmo, admin).",
        archive="Archive an enrollment: readable by id, no longer listed.",
    ),
)
