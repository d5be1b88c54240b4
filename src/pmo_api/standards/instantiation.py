"""A project made from a template (``POST /projects`` with ``template``), in the
create's one transaction: the template's revision in force (or the published revision
named), its methodology's revision in force, its defaults where the body says nothing
(attributes merged, the body's winning), the planned start today when none is sent,
then its milestones, risks and deliverables added as the project's records, each with
its event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.raid.declaration import RISKS
from pmo_api.records import service as records
from pmo_api.schedule.declaration import DELIVERABLES, MILESTONES
from pmo_api.standards.models import Methodology, StandardStatus, Template
from pmo_api.standards.templates import TemplateDefaults

_DEFAULTED = ("description", "health", "priority_score", "planned_budget")


def _refused(code: str, detail: str, field: str = "template") -> InvalidInput:
    return InvalidInput(
        code=code, detail=detail, errors=[ErrorDetail(("body", field), detail, "value_error")]
    )


async def _template(ctx: ServiceContext, ref: str) -> Template:
    """The revision in force of the key ``ref``, or the revision ``ref`` names, which
    must be published (422 ``template_not_found``, ``template_not_published``)."""
    try:
        by_id = Template.id == uuid.UUID(ref)
    except ValueError:
        query = select(Template).where(
            Template.key == ref,
            Template.status == StandardStatus.PUBLISHED,
            Template.archived_at.is_(None),
        )
        found = await ctx.session.scalar(query)
        if found is None:
            raise _refused(
                "template_not_found", f"template: no revision of {ref} is published."
            ) from None
        return found
    named = await ctx.session.scalar(select(Template).where(by_id, Template.archived_at.is_(None)))
    if named is None:
        raise _refused("template_not_found", f"template: no template revision {ref}.")
    if named.status != StandardStatus.PUBLISHED:
        raise _refused(
            "template_not_published",
            f"template: revision {named.revision} of {named.key} is {named.status.value}; a "
            "project is made from a published revision.",
        )
    return named


async def _methodology_in_force(ctx: ServiceContext, template: Template) -> uuid.UUID:
    found = await ctx.session.scalar(
        select(Methodology.id).where(
            Methodology.key == template.methodology,
            Methodology.status == StandardStatus.PUBLISHED,
            Methodology.archived_at.is_(None),
        )
    )
    if found is None:
        raise _refused(
            "methodology_not_published",
            f"template: {template.key} follows the methodology {template.methodology}, of "
            "which no revision is published.",
        )
    return found


class ProjectTemplates:
    """``projects.service.Templates``, bound in ``control.py``."""

    async def expand(self, ctx: ServiceContext, data: Any) -> Any:
        template = await _template(ctx, data.template)
        sent = data.model_fields_set
        defaults = TemplateDefaults.model_validate(template.defaults)
        filled: dict[str, Any] = {"template": str(template.id)}
        for name in _DEFAULTED:
            if name not in sent and getattr(defaults, name) is not None:
                filled[name] = getattr(defaults, name)
        if defaults.attributes:
            filled["attributes"] = {**defaults.attributes, **(data.attributes or {})}
        start = data.planned_start or ctx.now.date()
        filled["planned_start"] = start
        if defaults.duration_days and data.planned_end is None:
            filled["planned_end"] = start + timedelta(days=defaults.duration_days)
        if template.methodology and data.methodology_id is None:
            filled["methodology_id"] = await _methodology_in_force(ctx, template)
        return type(data).model_validate({**data.model_dump(exclude_unset=True), **filled})

    async def instantiate(self, ctx: ServiceContext, project: Mapping[str, Any], data: Any) -> None:
        template = await ctx.session.get_one(Template, uuid.UUID(data.template))
        start = project["planned_start"]
        for milestone in template.milestones:
            due = start + timedelta(days=milestone["offset_days"])
            body = {k: v for k, v in milestone.items() if k != "offset_days"}
            await records.create(
                ctx,
                MILESTONES,
                project["id"],
                MILESTONES.create.model_validate({**body, "due_date": due}),
            )
        for risk in template.risks:
            await records.create(ctx, RISKS, project["id"], RISKS.create.model_validate(risk))
        for deliverable in template.deliverables:
            due = start + timedelta(days=deliverable["offset_days"])
            body = {k: v for k, v in deliverable.items() if k != "offset_days"}
            await records.create(
                ctx,
                DELIVERABLES,
                project["id"],
                DELIVERABLES.create.model_validate({**body, "due_date": due}),
            )
