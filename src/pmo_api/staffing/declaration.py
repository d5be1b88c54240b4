"""Assignments, declared once: a person working on a project for a share of their time."""

from __future__ import annotations

import uuid

from sqlalchemy import and_

from pmo_api.core.schemas import Day
from pmo_api.people.models import Person
from pmo_api.records.declaration import Docs, Field, Filter, RecordType, Reference
from pmo_api.staffing import service
from pmo_api.staffing.models import Assignment
from pmo_api.staffing.schemas import Allocation, Role

ACTIVE_PERSON = Reference(Person, "person", "Person", accept=service.inactive)

ASSIGNMENTS = RecordType(
    name="assignment",
    model=Assignment,
    fields=(
        Field("person_id", uuid.UUID, description="The person assigned.", refers_to=ACTIVE_PERSON),
        Field("role", Role),
        Field("allocation_percent", Allocation),
        Field("start_date", Day),
        Field("end_date", Day, description="On or after start_date (else 422 dates_out_of_order)."),
    ),
    in_order=(("start_date", "end_date"),),
    filters=(
        Filter.equal(Assignment.person_id, uuid.UUID),
        Filter(
            "active_on",
            Day,
            lambda day, _today: and_(Assignment.start_date <= day, Assignment.end_date >= day),
            "Only assignments whose dates include this day.",
        ),
    ),
    sorts=("start_date", "end_date", "allocation_percent", "created_at", "updated_at"),
    default_sort="start_date",
    docs=Docs(
        summary="A person working on a project for a share of their time.",
        listed="by start date",
        create="Assign a person to a project (pmo, admin; a manager: own).",
        update="Change the fields sent.",
        archive="Archive an assignment: it no longer counts in loads.",
    ),
)
