"""List query parameters: each list's filters plus paging, sort and format.

Every list declares one query model (its domain filter + ``ListQuery``) with
``extra="forbid"``, so an unknown or misspelt parameter is a 422, not a silently
ignored filter.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic.fields import FieldInfo

from pmo_api.api.rest.responses import Format
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, ListParams
from pmo_api.core.schemas import KEY_PATTERN, TEXT_PATTERN, is_key, parse_ref

F = TypeVar("F", bound=BaseModel)

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
KeyedRef = Annotated[
    str,
    Path(
        pattern=f"^({UUID_PATTERN}|{KEY_PATTERN.strip('^$')})$",
        description="The record's UUID or its human key.",
        examples=["ERP-2027"],
    ),
]
UuidRef = Annotated[str, Path(pattern=f"^{UUID_PATTERN}$", description="The record's UUID.")]


_SORT_DESCRIPTION = "A sortable field, '-' prefix for descending."


class ListQuery(BaseModel):
    """Paging, order and format; a list's query model is its filter plus this.

    A filter that names its sortable fields (``sort_fields``) gets them stated in the
    contract as the values ``sort`` takes (each also with the ``-`` prefix). The list's
    own check is unchanged: any other value is a 422 ``invalid_sort``.
    """

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Annotated[str, StringConstraints(max_length=1024, pattern=TEXT_PATTERN)] | None = Field(
        default=None, description="Opaque cursor from a previous page's next_cursor."
    )
    sort: Annotated[str, StringConstraints(max_length=64, pattern=TEXT_PATTERN)] | None = Field(
        default=None, description=_SORT_DESCRIPTION
    )
    format: Format | None = Field(default=None, description="json (default) or csv.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields: tuple[str, ...] = getattr(cls, "sort_fields", ())
        if not fields:
            return
        tokens = [token for name in fields for token in (name, f"-{name}")]
        stated = WithJsonSchema({"type": "string", "enum": tokens}, mode="validation")
        # ``sort=`` (empty) is refused like any value outside the list, not read as unsent.
        note: str | None = getattr(cls, "sort_note", None)
        description = f"{_SORT_DESCRIPTION} {note}" if note else _SORT_DESCRIPTION
        cls.__pydantic_fields__["sort"] = FieldInfo.from_annotated_attribute(
            Annotated[str, StringConstraints(min_length=1), stated] | None,  # type: ignore[arg-type]
            Field(default=None, description=description),
        )
        cls.model_rebuild(force=True)


def split(query: BaseModel, filter_model: type[F]) -> tuple[F, ListParams, Format | None]:
    values = query.model_dump(exclude_unset=True)
    filters = filter_model.model_validate(
        {k: v for k, v in values.items() if k in filter_model.model_fields}
    )
    params = ListParams(
        limit=getattr(query, "limit", DEFAULT_LIMIT),
        cursor=getattr(query, "cursor", None),
        sort=getattr(query, "sort", None),
    )
    return filters, params, getattr(query, "format", None)


def ref_or_422(ref: str, *, keyed: bool = True) -> uuid.UUID | str:
    """A path reference: a UUID, or (for keyed resources) a human key."""
    parsed = parse_ref(ref)
    if isinstance(parsed, uuid.UUID) or (keyed and is_key(parsed)):
        return parsed
    expected = "a UUID or a key like ABC-12" if keyed else "a UUID"
    raise InvalidInput(
        code="invalid_identifier",
        detail=f"{ref!r} is not {expected}.",
        errors=[ErrorDetail(("path", "id"), f"must be {expected}", "value_error")],
    )


def uuid_or_422(ref: str) -> uuid.UUID:
    parsed = ref_or_422(ref, keyed=False)
    assert isinstance(parsed, uuid.UUID)
    return parsed
