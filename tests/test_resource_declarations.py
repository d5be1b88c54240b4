"""Every top-level resource type is declared once and registered once (``control.py``),
and every door derives all of it from that declaration: a declared type left out of
the registration, or a route, a GraphQL type, an operation, an event or a table
missing for a registered one, fails here by name."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type
from sqlalchemy import UniqueConstraint

from pmo_api.api.graphql.resources import TYPES
from pmo_api.api.graphql.schema import schema
from pmo_api.app import create_app
from pmo_api.contracts import contract_settings
from pmo_api.control import PROJECT_RECORDS, RESOURCES
from pmo_api.migrations.metadata import metadata
from pmo_api.resources.declaration import DECLARED, ResourceType
from pmo_api.resources.fields import REQUIRED
from pmo_api.resources.schemas import DeclaredFilter
from tests.test_project_control import _camel, _type
from tests.test_security import OPENAPI, served_operations

KINDS = [pytest.param(kind, id=kind.name) for kind in RESOURCES]


def test_every_declared_resource_type_is_registered_once() -> None:
    assert [kind.name for kind in DECLARED] and set(map(id, DECLARED)) == set(map(id, RESOURCES)), (
        "a resource type is declared but not registered in pmo_api/control.py"
    )
    names = [kind.name for kind in (*RESOURCES, *PROJECT_RECORDS)]
    assert len(names) == len(set(names))
    events = [event.value for kind in RESOURCES for event in kind.all_events]
    assert len(events) == len(set(events))
    for kind in RESOURCES:  # every filter and listed value another domain owns is bound
        for spec in kind.filter_list:
            assert kind.condition(spec) is not None
        assert len(kind.listed_columns()) == len(kind.listed)


@pytest.mark.parametrize("kind", KINDS)
def test_its_shapes_come_from_its_fields(kind: ResourceType[Any]) -> None:
    written = [f.name for f in kind.fields if f.create]
    assert list(kind.create.model_fields) == written
    required = {f.name for f in kind.fields if f.create and f.default is REQUIRED}
    assert {n for n, f in kind.create.model_fields.items() if f.is_required()} == required
    updated = [f.name for f in kind.fields if f.update] if kind.updatable else []
    assert list(kind.update.model_fields) == updated
    shown = list(kind.read.model_fields)
    assert shown[0] == "id"
    declared = [f.name for f in kind.fields if f.stored] + [d.name for d in kind.derived]
    head = shown
    if kind.archive_column in declared:  # shown last, as archived_at
        declared.remove(kind.archive_column)
        assert shown[-1] == kind.archive_column
        head = shown[:-1]
    kept = len(kind.envelope)
    assert head[len(head) - kept :] == list(kind.envelope)
    assert head[1 : len(head) - kept] == declared
    listed = list(kind.list_item.model_fields)
    assert listed == shown + [item.name for item in kind.listed]
    answered = list(kind.created.model_fields)
    assert answered == shown + [item.name for item in kind.shown_once]
    assert issubclass(kind.filter, DeclaredFilter)
    assert set(kind.filter.sort_fields) == set(kind.repository.sortable) == set(kind.sort_names)
    assert kind.default_sort.lstrip("-") in kind.sort_names
    assert kind.repository.__name__ == f"{kind.pascal}Repository"
    assert kind.repository.entity == kind.name
    assert kind.repository.keyed is kind.keyed


@pytest.mark.parametrize("kind", KINDS)
def test_its_rest_routes_are_served_and_published(kind: ResourceType[Any]) -> None:
    collection = f"/api/v1/{kind.plural}"
    own = f"{collection}/{{id}}"
    expected = {(collection, "GET"), (own, "GET")}
    if kind.creatable and kind.under is None:
        expected.add((collection, "POST"))
    if kind.under is not None:  # its collection under its parent's record
        segment = kind.under.collection or kind.collection
        under = f"/api/v1/{kind.under.parent.plural}/{{id}}/{segment}"
        expected |= {(under, "GET")} | ({(under, "POST")} if kind.creatable else set())
    if kind.updatable:
        expected.add((own, "PATCH"))
    if kind.archivable:
        expected.add((own, "DELETE"))
    expected |= {(f"{own}/{action.verb}", "POST") for action in kind.actions}
    served = served_operations(create_app(contract_settings()))
    assert expected <= served
    published = {
        (path, method.upper()) for path, item in OPENAPI["paths"].items() for method in item
    }
    assert expected <= published
    absent = {(collection, "POST"), (own, "PATCH"), (own, "DELETE")} - expected
    assert not absent & served
    for shape in (kind.read, kind.list_item, kind.created):
        assert shape.__name__ in OPENAPI["components"]["schemas"]


@pytest.mark.parametrize("kind", KINDS)
def test_its_graphql_type_and_operations(kind: ResourceType[Any]) -> None:
    if not kind.graphql:
        assert kind.graphql_type not in schema._schema.type_map
        return
    node = _type(kind.graphql_type)
    assert isinstance(node, GraphQLObjectType)
    assert [i.name for i in node.interfaces] == ["Node"]
    assert {"id", "uuid", *map(_camel, kind.envelope)} <= set(node.fields)
    for f in kind.fields:
        if not f.graphql:
            continue
        name = _camel(f.name.removesuffix("_id") if f.refers_to else f.name)
        assert name in node.fields, f"{kind.graphql_type}.{name}"
    query = schema._schema.query_type
    assert query is not None
    lookup = query.fields[_camel(kind.name)]
    assert get_named_type(lookup.type).name == kind.graphql_type
    assert set(lookup.args) == ({"idOrKey"} if kind.keyed else {"id"})
    listed = query.fields[_camel(kind.collection.replace("-", "_"))]
    assert get_named_type(listed.type).name == f"{kind.graphql_type}Connection"
    assert set(listed.args) == {"first", "after", "filter", "sort"}
    filter_type = get_named_type(listed.args["filter"].type)
    assert {_camel(f.name) for f in kind.filter_list} <= set(filter_type.fields)  # type: ignore[attr-defined]
    mutation = schema._schema.mutation_type
    assert mutation is not None
    noun = kind.pascal
    possible = {
        f"{kind.create_verb}{noun}": kind.creatable,
        f"update{noun}": kind.updatable,
        f"archive{noun}": kind.archivable,
    }
    wanted = {name for name, made in possible.items() if made}
    wanted |= {f"{action.verb}{noun}" for action in kind.actions}
    assert wanted <= set(mutation.fields)
    assert not (set(possible) - wanted) & set(mutation.fields)
    for name in wanted:
        result = get_named_type(mutation.fields[name].type)
        assert TYPES[kind.name].payload.__name__ in {t.name for t in result.types}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS)
def test_its_table_and_events(kind: ResourceType[Any]) -> None:
    table = kind.model.__table__  # type: ignore[attr-defined]
    assert metadata.tables[table.name] is table
    assert {"id", *kind.envelope} <= set(table.c.keys())
    verbs = [kind.events.created] if kind.creatable else []
    verbs += [kind.events.updated] if kind.updatable else []
    verbs += [action.event for action in kind.actions]
    verbs += [kind.events.archived] if kind.archivable else []
    assert [event.value for event in kind.all_events] == [f"{kind.name}.{v}" for v in verbs]
    if kind.unique is not None:  # unique alone, or with others (a key and its revision)
        assert table.c[kind.unique].unique or any(
            kind.unique in {column.name for column in constraint.columns}
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)
        )
