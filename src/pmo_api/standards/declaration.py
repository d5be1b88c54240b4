"""Policies, methodologies and templates, declared once: versioned standards
(``versioning.py``). A policy holds text and machine-checked rules (``rules.py``), which
compliance (``compliance.py``) evaluates for the revisions in force; a methodology holds
ordered phases with their gates (``phases.py``), which projects follow (``lifecycle``);
a template holds what a new project starts with (``templates.py``, ``instantiation.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field as Limit

from pmo_api.core.schemas import Key, Name, Text
from pmo_api.resources.declaration import Docs, ResourceType
from pmo_api.resources.fields import Field, Filter, owned
from pmo_api.standards.models import Methodology, Policy, StandardStatus, Template
from pmo_api.standards.phases import Phases, check_phases
from pmo_api.standards.rules import Rules, check_rules
from pmo_api.standards.templates import (
    TemplateDefaults,
    TemplateDeliverable,
    TemplateMilestone,
    TemplateRisk,
)
from pmo_api.standards.versioning import STAFF, VersionedRules, life_cycle


def _check_policy(values: Mapping[str, Any]) -> None:
    if "rules" in values:
        check_rules(values["rules"])


POLICIES = ResourceType(
    name="policy",
    model=Policy,
    path="standards/policies",
    type_name="Policy",
    fields=(
        Field("key", Key, description="The policy's key; its revisions share it.", update=False),
        owned("revision", int, "The revision of the policy, 1 for the first."),
        Field("title", Name),
        Field("text", Text | None, None, "The policy's text, for people."),
        Field("rules", Rules, [], "Its machine-checked rules."),
        owned("status", StandardStatus, "draft, published (in force) or retired."),
        owned("published_at", datetime | None, "When it was put in force."),
        owned("retired_at", datetime | None, "When it was taken out of force."),
    ),
    filters=(
        Filter.search((Policy.key, Policy.title), "Text search in key and title."),
        Filter(
            "policy_key",
            Key,
            lambda value, _today: Policy.key == value,
            "Only the revisions of this policy (its key).",
        ),
        Filter.one_of(Policy.status, StandardStatus),
    ),
    sorts=("key", "title", "revision", "created_at", "updated_at"),
    default_sort="key",
    writers=STAFF,
    rules=VersionedRules(Policy, _check_policy),
    unique="key",
    actions=life_cycle(Policy, "policy"),
    docs=Docs(
        summary="A policy: text, and rules the service checks on every project.",
        listed="Policy revisions, filtered",
        create="Write a new draft revision of a policy (pmo, admin).",
        update="Change a draft revision (pmo, admin).",
        archive="Discard a draft revision (pmo, admin).",
        archive_route="Discard a draft policy revision",
    ),
)


def _check_methodology(values: Mapping[str, Any]) -> None:
    if "phases" in values:
        check_phases(values["phases"])


METHODOLOGIES = ResourceType(
    name="methodology",
    model=Methodology,
    path="standards/methodologies",
    type_name="Methodology",
    fields=(
        Field(
            "key", Key, description="The methodology's key; its revisions share it.", update=False
        ),
        owned("revision", int, "The revision of the methodology, 1 for the first."),
        Field("name", Name),
        Field("description", Text | None, None),
        Field(
            "phases",
            Phases,
            description="The phases in order, each with the gate a project passes to enter "
            "it; a project starts in the first.",
        ),
        owned("status", StandardStatus, "draft, published (in force) or retired."),
        owned("published_at", datetime | None, "When it was put in force."),
        owned("retired_at", datetime | None, "When it was taken out of force."),
    ),
    filters=(
        Filter.search((Methodology.key, Methodology.name), "Text search in key and name."),
        Filter(
            "methodology_key",
            Key,
            lambda value, _today: Methodology.key == value,
            "Only the revisions of this methodology (its key).",
        ),
        Filter.one_of(Methodology.status, StandardStatus),
    ),
    sorts=("key", "name", "revision", "created_at", "updated_at"),
    default_sort="key",
    writers=STAFF,
    rules=VersionedRules(Methodology, _check_methodology),
    unique="key",
    actions=life_cycle(Methodology, "methodology"),
    docs=Docs(
        summary="A methodology: ordered phases, each with the gate a project passes to enter it.",
        listed="Methodology revisions, filtered",
        create="Write a new draft revision of a methodology (pmo, admin).",
        update="Change a draft revision (pmo, admin).",
        archive="Discard a draft revision (pmo, admin).",
        archive_route="Discard a draft methodology revision",
    ),
)


TEMPLATES = ResourceType(
    name="template",
    model=Template,
    path="standards/templates",
    type_name="ProjectTemplate",
    fields=(
        Field("key", Key, description="The template's key; its revisions share it.", update=False),
        owned("revision", int, "The revision of the template, 1 for the first."),
        Field("name", Name),
        Field("description", Text | None, None),
        Field(
            "methodology",
            Key | None,
            None,
            "The key of the methodology a project made from it follows (its revision in "
            "force when the project is made).",
        ),
        Field(
            "defaults",
            TemplateDefaults,
            TemplateDefaults(),
            "Project fields a new project takes where its body says nothing.",
        ),
        Field(
            "milestones",
            Annotated[list[TemplateMilestone], Limit(max_length=100)],
            [],
            "Milestones, due the given days after the project's planned start.",
        ),
        Field(
            "risks",
            Annotated[list[TemplateRisk], Limit(max_length=100)],
            [],
            "Standard risks every project made from it starts with.",
        ),
        Field(
            "deliverables",
            Annotated[list[TemplateDeliverable], Limit(max_length=100)],
            [],
            "Deliverables, due the given days after the project's planned start.",
        ),
        owned("status", StandardStatus, "draft, published (in force) or retired."),
        owned("published_at", datetime | None, "When it was put in force."),
        owned("retired_at", datetime | None, "When it was taken out of force."),
    ),
    filters=(
        Filter.search((Template.key, Template.name), "Text search in key and name."),
        Filter(
            "template_key",
            Key,
            lambda value, _today: Template.key == value,
            "Only the revisions of this template (its key).",
        ),
        Filter.one_of(Template.status, StandardStatus),
    ),
    sorts=("key", "name", "revision", "created_at", "updated_at"),
    default_sort="key",
    writers=STAFF,
    rules=VersionedRules(Template),
    unique="key",
    actions=life_cycle(Template, "template"),
    docs=Docs(
        summary="A project template: methodology, default fields, milestones, standard "
        "risks and deliverables; POST /projects with `template` makes a project from it.",
        listed="Template revisions, filtered",
        create="Write a new draft revision of a template (pmo, admin).",
        update="Change a draft revision (pmo, admin).",
        archive="Discard a draft revision (pmo, admin).",
        archive_route="Discard a draft template revision",
    ),
)
