"""Policies, methodologies and templates, declared once: versioned standards
(``versioning.py``). A policy holds text and machine-checked rules (``rules.py``), which
compliance (``compliance.py``) evaluates for the revisions in force; a methodology holds
ordered phases with their gates (``phases.py``), which projects follow (``lifecycle``);
a template holds what a new project starts with (``templates.py``, ``instantiation.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field as Limit

from pmo_api.core.schemas import Key, Name, Text
from pmo_api.resources.fields import Field
from pmo_api.standards.models import Methodology, Policy, Template
from pmo_api.standards.phases import Phases, check_phases
from pmo_api.standards.rules import Rules, check_rules
from pmo_api.standards.templates import (
    TemplateDefaults,
    TemplateDeliverable,
    TemplateMilestone,
    TemplateRisk,
)
from pmo_api.standards.versioning import standard


def _check_policy(values: Mapping[str, Any]) -> None:
    if "rules" in values:
        check_rules(values["rules"])


POLICIES = standard(
    name="policy",
    model=Policy,
    collection="policies",
    type_name="Policy",
    title="title",
    fields=(
        Field("title", Name),
        Field("text", Text | None, None, "The policy's text, for people."),
        Field("rules", Rules, [], "Its machine-checked rules."),
    ),
    summary="A policy: text, and rules the service checks on every project.",
    validate=_check_policy,
)


def _check_methodology(values: Mapping[str, Any]) -> None:
    if "phases" in values:
        check_phases(values["phases"])


METHODOLOGIES = standard(
    name="methodology",
    model=Methodology,
    collection="methodologies",
    type_name="Methodology",
    title="name",
    fields=(
        Field("name", Name),
        Field("description", Text | None, None),
        Field(
            "phases",
            Phases,
            description="The phases in order, each with the gate a project passes to enter "
            "it; a project starts in the first.",
        ),
    ),
    summary="A methodology: ordered phases, each with the gate a project passes to enter it.",
    validate=_check_methodology,
)


TEMPLATES = standard(
    name="template",
    model=Template,
    collection="templates",
    type_name="ProjectTemplate",
    title="name",
    fields=(
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
    ),
    summary="A project template: methodology, default fields, milestones, standard "
    "risks and deliverables; POST /projects with `template` makes a project from it.",
)
