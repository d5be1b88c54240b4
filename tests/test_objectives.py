"""Objectives, the top-level resource added through its declaration alone
(``objectives/declaration.py``): through REST and GraphQL on both databases, its life
cycle, lists (filters, sorts, cursors), refusals that write nothing, who may write,
the audit trail, and the SQL cost of its reads."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Api, new_key
from tests.test_raid import audit, data, gid, ok
from tests.test_rest_conventions import assert_problem

OBJECTIVES = "/api/v1/objectives"
FIELDS = "id uuid key title weight periodStart periodEnd status version archivedAt owner { name }"


def _body(**fields: Any) -> dict[str, Any]:
    return {
        "key": new_key("OB"),
        "title": "Grow recurring revenue",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
        **fields,
    }


async def test_an_objective_life_cycle(api: Api) -> None:
    owner = await api.make_person(name="Chief Revenue Officer")
    created = await api.post(OBJECTIVES, "pmo", json=_body(weight=30, owner_id=owner["id"]))
    objective = await ok(created, 201)
    assert created.headers["location"] == f"{OBJECTIVES}/{objective['id']}"
    assert created.headers["etag"] == '"1"'
    assert objective["status"] == "active" and objective["weight"] == 30
    assert objective["owner_id"] == owner["id"] and objective["archived_at"] is None
    by_key = await ok(await api.get(f"{OBJECTIVES}/{objective['key']}", "viewer"))
    assert by_key == objective == await ok(await api.get(f"{OBJECTIVES}/{objective['id']}"))

    path = f"{OBJECTIVES}/{objective['id']}"
    stale = await api.patch(path, json={"weight": 40}, headers={"If-Match": '"7"'})
    assert_problem(stale, 412, "version_mismatch")
    changed = await ok(
        await api.patch(path, "pmo", json={"status": "achieved"}, headers={"If-Match": '"1"'})
    )
    assert changed["status"] == "achieved" and changed["version"] == 2
    same = await ok(await api.patch(path, json={"status": "achieved"}))
    assert same["version"] == 2  # nothing changed: no new version, no event

    archived = await ok(await api.delete(path, headers={"If-Match": '"2"'}))
    assert archived["archived_at"] is not None
    listed = await ok(await api.get(OBJECTIVES, params={"q": objective["key"]}))
    assert listed["items"] == []
    shown = await ok(
        await api.get(OBJECTIVES, params={"q": objective["key"], "include_archived": "true"})
    )
    assert [o["id"] for o in shown["items"]] == [objective["id"]]
    assert_problem(await api.delete(path), 409, "already_archived")
    assert [e["action"] for e in await audit(api, objective["id"])] == [
        "objective.created",
        "objective.updated",
        "objective.archived",
    ]


async def test_lists_filter_sort_and_walk(api: Api) -> None:
    owner = await api.make_person()
    mark = uuid.uuid4().hex[:6].upper()
    made = []
    for i, (start, end, status) in enumerate(
        [
            ("2026-01-01", "2026-12-31", "missed"),
            ("2027-01-01", "2027-06-30", "active"),
            ("2027-01-01", "2027-12-31", "active"),
            ("2027-07-01", "2027-12-31", "draft"),
            ("2028-01-01", "2028-12-31", "draft"),
        ]
    ):
        body = _body(
            key=f"OB-{mark}{i}",
            title=f"Objective {mark} {i}",
            weight=10 * (5 - i),
            period_start=start,
            period_end=end,
            status=status,
            owner_id=owner["id"] if i % 2 else None,
        )
        made.append(await ok(await api.post(OBJECTIVES, json=body), 201))

    async def keys(**params: Any) -> list[str]:
        page = await ok(await api.get(OBJECTIVES, params={"q": mark, **params}))
        return [o["key"] for o in page["items"]]

    every = [o["key"] for o in made]
    assert await keys() == every  # by key, the default
    assert await keys(sort="weight") == every[::-1]
    latest_first = await keys(sort="-period_start")
    assert latest_first[:2] == [every[4], every[3]] and latest_first[-1] == every[0]
    assert set(latest_first[2:4]) == {every[1], every[2]}  # the same start: either order
    assert await keys(status=["draft", "missed"]) == [every[0], every[3], every[4]]
    assert await keys(owner_id=owner["id"]) == [every[1], every[3]]
    assert await keys(period_on="2027-03-15") == [every[1], every[2]]
    assert await keys(period_on="2027-12-31", status="active") == [every[2]]

    # a walk, two a page, sees each once in order
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": mark, "limit": 2, "sort": "-weight"}
        page = await ok(
            await api.get(OBJECTIVES, params={**params, **({"cursor": cursor} if cursor else {})})
        )
        seen += [o["key"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == every

    bad = await api.get(OBJECTIVES, params={"sort": "owner_id"})
    assert_problem(bad, 422)


async def test_refusals_write_nothing(api: Api) -> None:
    taken = await ok(await api.post(OBJECTIVES, json=_body()), 201)
    before = await api.table_counts()
    refusals = [
        (_body(period_end="2026-12-31"), 422, "dates_out_of_order"),
        (_body(weight=0), 422, "validation_failed"),
        (_body(weight=101), 422, "validation_failed"),
        (_body(key="lower-case"), 422, "validation_failed"),
        (_body(status="done"), 422, "validation_failed"),
        (_body(owner_id=str(uuid.uuid4())), 422, "person_not_found"),
        (_body(key=taken["key"]), 409, "duplicate_key"),
        ({"title": "no key"}, 422, "validation_failed"),
        (_body(unknown="x"), 422, "validation_failed"),
    ]
    for body, status, code in refusals:
        assert_problem(await api.post(OBJECTIVES, json=body), status, code)
    path = f"{OBJECTIVES}/{taken['id']}"
    assert_problem(
        await api.patch(path, json={"period_end": "2026-06-30"}), 422, "dates_out_of_order"
    )
    assert_problem(await api.patch(path, json={"title": None}), 422, "validation_failed")
    assert await api.table_counts() == before
    assert await ok(await api.get(path)) == taken


async def test_who_may_write(api: Api) -> None:
    objective = await ok(await api.post(OBJECTIVES, "admin", json=_body()), 201)
    path = f"{OBJECTIVES}/{objective['id']}"
    before = await api.table_counts()
    for role in ("manager", "viewer"):
        assert_problem(await api.post(OBJECTIVES, role, json=_body()), 403, "role_forbidden")
        assert_problem(await api.patch(path, role, json={"weight": 5}), 403, "role_forbidden")
        assert_problem(await api.delete(path, role), 403, "role_forbidden")
        assert (await api.get(path, role)).status_code == 200
        assert (await api.get(OBJECTIVES, role)).status_code == 200
    assert await api.table_counts() == before


async def test_graphql_parity(api: Api) -> None:
    owner = await api.make_person(name="Objective owner")
    body = _body(weight=20)
    created = data(
        await api.gql(
            f"""mutation($input: CreateObjectiveInput!) {{ createObjective(input: $input) {{
            __typename ... on ObjectivePayload {{ objective {{ {FIELDS} }} }} }} }}""",
            {
                "input": {
                    "key": body["key"],
                    "title": body["title"],
                    "weight": 20,
                    "periodStart": body["period_start"],
                    "periodEnd": body["period_end"],
                    "ownerId": gid("Person", owner["id"]),
                }
            },
            "pmo",
        )
    )["createObjective"]["objective"]
    assert created["owner"] == {"name": "Objective owner"}
    assert created["id"] == gid("Objective", created["uuid"])
    rest = await ok(await api.get(f"{OBJECTIVES}/{created['uuid']}"))
    assert (rest["key"], rest["weight"], rest["owner_id"]) == (body["key"], 20, owner["id"])

    found = data(
        await api.gql(
            f"query($k: String!) {{ objective(idOrKey: $k) {{ {FIELDS} }} }}",
            {"k": body["key"]},
            "viewer",
        )
    )["objective"]
    assert found == created
    listed = data(
        await api.gql(
            """query($o: ID) { objectives(filter: {ownerId: $o, status: [ACTIVE]}) {
            nodes { key } } }""",
            {"o": gid("Person", owner["id"])},
        )
    )["objectives"]["nodes"]
    assert listed == [{"key": body["key"]}]
    assert data(await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": created["id"]}))[
        "node"
    ] == {"id": created["id"]}

    refused = data(
        await api.gql(
            """mutation($id: ID!) { updateObjective(id: $id, input: {weight: 5}) {
            __typename ... on ForbiddenError { code } } }""",
            {"id": created["id"]},
            "viewer",
        )
    )["updateObjective"]
    assert refused == {"__typename": "ForbiddenError", "code": "role_forbidden"}
    backwards = data(
        await api.gql(
            """mutation($id: ID!) { updateObjective(id: $id, input: {periodEnd: "2026-01-01"}) {
            __typename ... on ValidationError { code } } }""",
            {"id": created["id"]},
        )
    )["updateObjective"]
    assert backwards == {"__typename": "ValidationError", "code": "dates_out_of_order"}
    archived = data(
        await api.gql(
            """mutation($id: ID!) { archiveObjective(id: $id, expectedVersion: 1) {
            __typename ... on ObjectivePayload { objective { archivedAt } } } }""",
            {"id": body["key"]},
        )
    )["archiveObjective"]
    assert archived["objective"]["archivedAt"] is not None


async def test_reads_cost_a_fixed_number_of_statements(api: Api) -> None:
    mark = uuid.uuid4().hex[:6].upper()
    owner = await api.make_person()
    for i in range(6):
        await ok(
            await api.post(OBJECTIVES, json=_body(key=f"OB-{mark}{i}", owner_id=owner["id"])),
            201,
        )
    # A GET and a list: the key look-up and one statement each.
    with api.count_statements() as counter:
        assert (await api.get(f"{OBJECTIVES}/OB-{mark}0")).status_code == 200
    assert counter.count == 2, counter.statements
    for limit in (1, 50):
        with api.count_statements() as counter:
            assert (await api.get(OBJECTIVES, params={"limit": limit})).status_code == 200
        assert counter.count == 2, counter.statements
    # A GraphQL page with every owner: the page and the owners, whatever its size.
    counts = set()
    for first in (2, 6):
        with api.count_statements() as counter:
            page = data(
                await api.gql(
                    """query($q: String, $n: Int) { objectives(filter: {q: $q}, first: $n) {
                    nodes { key owner { name } } } }""",
                    {"q": mark, "n": first},
                )
            )["objectives"]["nodes"]
        assert len(page) == first
        counts.add(counter.count)
    assert len(counts) == 1, counts
