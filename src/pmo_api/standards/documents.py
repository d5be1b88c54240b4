"""Standards as code: every standard as a document (one YAML file per standard in a
folder a PMO keeps under version control), and a folder made the service's.

``put`` makes the service hold a document under a key, idempotently: nothing when the
latest revision already says it, the draft changed when the latest is a draft, else a
new draft revision. ``export`` writes each standard's revision in force (else its
latest draft); ``plan`` reads a folder, refusing the whole of it when one file is not
valid (naming the file and the place), and ``apply`` puts every document of a valid
folder in one unit of work (and publishes what changed, when asked)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from pmo_api.core.changes import jsonable
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import DomainError
from pmo_api.resources import service as resources
from pmo_api.resources.declaration import ResourceType
from pmo_api.standards.declaration import METHODOLOGIES, POLICIES, TEMPLATES
from pmo_api.standards.models import StandardStatus
from pmo_api.standards.versioning import VersionedRules

STANDARDS: tuple[ResourceType[Any], ...] = (POLICIES, METHODOLOGIES, TEMPLATES)
"""Every kind of standard, each kept in a folder of its own (``policies/``)."""

UNCHANGED, UPDATED, CREATED = "unchanged", "updated", "created"


def document_fields(kind: ResourceType[Any]) -> list[str]:
    """What a document holds: the fields written on create, but its key (the file's
    name, the path's last segment)."""
    return [name for name in kind.create.model_fields if name != "key"]


async def _latest(ctx: ServiceContext, kind: ResourceType[Any], key: str) -> Any:
    model = kind.model
    return await ctx.session.scalar(
        select(model)
        .where(model.key == key, model.archived_at.is_(None))
        .order_by(model.revision.desc())
        .limit(1)
    )


async def put(
    ctx: ServiceContext, kind: ResourceType[Any], ref: uuid.UUID | str, document: BaseModel
) -> tuple[Any, str]:
    """The standard ``ref`` (its key, or the id of one of its revisions: 404 when none)
    made to say ``document`` (see the module's docstring)."""
    resources.refuse_unless_writer(ctx, kind)
    key = (await resources.get(ctx, kind, ref)).key if isinstance(ref, uuid.UUID) else ref
    values = document.model_dump()
    latest = await _latest(ctx, kind, key)
    if latest is not None and all(
        jsonable(getattr(latest, name)) == jsonable(value) for name, value in values.items()
    ):
        return latest, UNCHANGED
    if latest is not None and latest.status == StandardStatus.DRAFT:
        patch = kind.update.model_validate(values)
        return await resources.update(ctx, kind, latest.id, patch, None), UPDATED
    data = kind.create.model_validate({"key": key, **values})
    return await resources.create(ctx, kind, data), CREATED


# -- a folder -----------------------------------------------------------------------------------


async def export(ctx: ServiceContext, folder: Path) -> list[Path]:
    """Each standard's revision in force (else its latest draft) as ``<kind>/<KEY>.yaml``."""
    written = []
    for kind in STANDARDS:
        model = kind.model
        rows = (
            await ctx.session.scalars(
                select(model).where(model.archived_at.is_(None)).order_by(model.key, model.revision)
            )
        ).all()
        chosen: dict[str, Any] = {}
        for row in rows:  # by revision: the last in force wins, else the last draft
            held = chosen.get(row.key)
            if row.status == StandardStatus.PUBLISHED or (
                row.status == StandardStatus.DRAFT
                and (held is None or held.status != StandardStatus.PUBLISHED)
            ):
                chosen[row.key] = row
        place = folder / kind.collection
        place.mkdir(parents=True, exist_ok=True)
        for key, row in sorted(chosen.items()):
            document = {"key": key} | {
                name: jsonable(getattr(row, name)) for name in document_fields(kind)
            }
            path = place / f"{key}.yaml"
            path.write_text(
                yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
            written.append(path)
    return written


@dataclass(frozen=True)
class Planned:
    kind: ResourceType[Any]
    key: str
    document: BaseModel
    path: Path


class FolderRefused(Exception):
    """A folder with files that are not valid standards: nothing of it is applied."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def plan(folder: Path) -> list[Planned]:
    """Every standard the folder holds, each file validated as its kind's create body
    (and the kind's own checks, a policy's rules); one bad file refuses the folder."""
    planned: list[Planned] = []
    problems: list[str] = []
    for kind in STANDARDS:
        for path in sorted((folder / kind.collection).glob("*.yaml")):
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(loaded, dict):
                    raise ValueError("a standard's file holds one mapping (key, title, ...)")
                body = kind.create.model_validate(loaded)
                values = body.model_dump()
                if values["key"] != path.stem:
                    raise ValueError(f"key {values['key']!r} is not the file's name {path.stem!r}")
                if isinstance(kind.rules, VersionedRules) and kind.rules.validate is not None:
                    kind.rules.validate(values)
            except yaml.YAMLError as error:
                problems.append(f"{path}: not YAML: {str(error).splitlines()[0]}")
                continue
            except ValidationError as error:
                for detail in error.errors(include_url=False):
                    place = ".".join(str(part) for part in detail["loc"]) or "(file)"
                    problems.append(f"{path}: {place}: {detail['msg']}")
                continue
            except DomainError as error:
                for fault in error.errors or []:
                    place = ".".join(str(part) for part in fault.loc[1:])
                    problems.append(f"{path}: {place}: {fault.msg}")
                if not error.errors:
                    problems.append(f"{path}: {error.detail}")
                continue
            except ValueError as error:
                problems.append(f"{path}: {error}")
                continue
            document = _document_of(kind, values)
            planned.append(Planned(kind, values["key"], document, path))
    if problems:
        raise FolderRefused(problems)
    return planned


def _document_of(kind: ResourceType[Any], values: dict[str, Any]) -> BaseModel:
    fields = {name: values[name] for name in document_fields(kind)}
    return _DOCUMENTS[kind.name].model_validate(fields)


async def apply(
    ctx: ServiceContext, planned: Sequence[Planned], *, publish: bool
) -> list[tuple[Planned, str, int]]:
    """Every planned document put (and, with ``publish``, every draft made published),
    in the caller's unit of work: all of it lands, or none."""
    done = []
    for item in planned:
        obj, outcome = await put(ctx, item.kind, item.key, item.document)
        if publish and _status(obj) == StandardStatus.DRAFT:
            action = next(a for a in item.kind.actions if a.verb == "publish")
            obj = await resources.act(ctx, item.kind, action, _id(obj), None, None)
            outcome = f"{outcome}, published"
        revision = obj["revision"] if isinstance(obj, dict) else obj.revision
        done.append((item, outcome, revision))
    return done


def _status(obj: Any) -> Any:
    return obj["status"] if isinstance(obj, dict) else obj.status


def _id(obj: Any) -> Any:
    return obj["id"] if isinstance(obj, dict) else obj.id


def _document_model(kind: ResourceType[Any]) -> type[BaseModel]:
    """``<Kind>Document``: the create body without its key (``PUT`` and the files)."""
    from pydantic import create_model

    from pmo_api.core.schemas import Input

    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in kind.create.model_fields.items()
        if name != "key"
    }
    return create_model(f"{kind.pascal}Document", __base__=Input, **fields)


_DOCUMENTS: dict[str, type[BaseModel]] = {kind.name: _document_model(kind) for kind in STANDARDS}


def document_model(kind: ResourceType[Any]) -> type[BaseModel]:
    return _DOCUMENTS[kind.name]
