"""Every project record type is declared once and registered once (``control.py``), and
every door derives all of it from that declaration: a declared type left out of the
registration, or a route, a GraphQL type, a mutation, an event or a table missing for a
registered one, fails here by name."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLNamedType, GraphQLObjectType, get_named_type

from pmo_api.api.graphql.records import TYPES
from pmo_api.api.graphql.schema import schema
from pmo_api.app import create_app
from pmo_api.contracts import contract_settings
from pmo_api.control import PROJECT_RECORDS
from pmo_api.migrations.metadata import metadata
from pmo_api.records.declaration import DECLARED, REQUIRED, RecordType
from pmo_api.resources.schemas import DeclaredFilter
from tests.test_security import OPENAPI, served_operations

KINDS = [pytest.param(kind, id=kind.name) for kind in PROJECT_RECORDS]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _type(name: str) -> GraphQLNamedType:
    found = schema._schema.type_map.get(name)
    assert found is not None, f"no GraphQL type {name}"
    return found


def test_every_declared_record_type_is_registered_once() -> None:
    assert [kind.name for kind in DECLARED] and set(map(id, DECLARED)) == set(
        map(id, PROJECT_RECORDS)
    ), "a record type is declared but not registered in pmo_api/control.py"
    names = [kind.name for kind in PROJECT_RECORDS]
    assert len(names) == len(set(names))
    events = [event.value for kind in PROJECT_RECORDS for event in kind.all_events]
    assert len(events) == len(set(events))


@pytest.mark.parametrize("kind", KINDS)
def test_its_shapes_come_from_its_fields(kind: RecordType[Any]) -> None:
    written = [f.name for f in kind.fields if f.create]
    assert list(kind.create.model_fields) == written
    required = {f.name for f in kind.fields if f.create and f.default is REQUIRED}
    assert {n for n, f in kind.create.model_fields.items() if f.is_required()} == required
    if kind.updatable:
        assert list(kind.update.model_fields) == [f.name for f in kind.fields if f.update]
    shown = list(kind.read.model_fields)
    assert shown[:2] == ["id", "project_id"]
    assert shown[-4:] == ["version", "created_at", "updated_at", "archived_at"]
    assert shown[2:-4] == [f.name for f in kind.fields] + [d.name for d in kind.derived]
    assert issubclass(kind.filter, DeclaredFilter)
    assert set(kind.filter.sort_fields) == set(kind.repository.sortable) == set(kind.sort_names)
    assert kind.default_sort.lstrip("-") in kind.sort_names
    assert kind.repository.__name__ == f"{kind.pascal}Repository"
    assert kind.repository.entity == kind.name


@pytest.mark.parametrize("kind", KINDS)
def test_its_rest_routes_are_served_and_published(kind: RecordType[Any]) -> None:
    nested = f"/api/v1/projects/{{id}}/{kind.plural}"
    own = f"/api/v1/{kind.plural}/{{id}}"
    expected = {(nested, "GET"), (nested, "POST"), (own, "GET")}
    if kind.updatable:
        expected.add((own, "PATCH"))
    if kind.archivable:
        expected.add((own, "DELETE"))
    expected |= {(f"{own}/{action.verb}", "POST") for action in kind.actions}
    served = served_operations(create_app(contract_settings()))
    assert expected <= served
    assert (own, "PATCH") in served or not kind.updatable
    published = {
        (path, method.upper()) for path, item in OPENAPI["paths"].items() for method in item
    }
    assert expected <= published
    for shape in (kind.create, kind.read):
        assert shape.__name__ in OPENAPI["components"]["schemas"]


@pytest.mark.parametrize("kind", KINDS)
def test_its_graphql_type_operations_and_connection(kind: RecordType[Any]) -> None:
    node = _type(kind.graphql_type)
    assert isinstance(node, GraphQLObjectType)
    assert [i.name for i in node.interfaces] == ["Node"]
    assert {"id", "uuid", "version", "project"} <= set(node.fields)
    project = _type("Project")
    assert isinstance(project, GraphQLObjectType)
    connection = project.fields[_camel(kind.plural.replace("-", "_"))]
    assert get_named_type(connection.type).name == f"{kind.graphql_type}Connection"
    assert set(connection.args) >= {"first", "after", *map(_camel, kind.nested_filters)}
    query = schema._schema.query_type
    assert query is not None
    lookup = query.fields[kind.graphql_type[:1].lower() + kind.graphql_type[1:]]
    assert get_named_type(lookup.type).name == kind.graphql_type
    mutation = schema._schema.mutation_type
    assert mutation is not None
    noun = kind.pascal
    wanted = {f"{kind.create_verb}{noun}"}
    wanted |= {f"update{noun}"} if kind.updatable else set()
    wanted |= {f"archive{noun}"} if kind.archivable else set()
    wanted |= {f"{action.verb}{noun}" for action in kind.actions}
    assert wanted <= set(mutation.fields)
    for name in wanted:
        result = get_named_type(mutation.fields[name].type)
        assert TYPES[kind.name].payload.__name__ in {t.name for t in result.types}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS)
def test_its_table_and_events(kind: RecordType[Any]) -> None:
    table = kind.model.__table__  # type: ignore[attr-defined]
    assert metadata.tables[table.name] is table
    assert {"id", "project_id", "version", "created_at", "updated_at", "archived_at"} <= set(
        table.c.keys()
    )
    assert all(event.entity_type == kind.name for event in kind.all_events)
    assert kind.created_event in kind.all_events
