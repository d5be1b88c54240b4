"""The list of API keys is a list like every other: paged, filtered, sorted, strict."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Api
from tests.test_rest_conventions import assert_problem

KEYS = "/api/v1/api-keys"


async def _make_keys(api: Api, count: int, role: str = "viewer") -> list[dict[str, Any]]:
    """``count`` keys whose names share a mark, so a walk can be narrowed to them."""
    mark = uuid.uuid4().hex[:8]
    keys = []
    for i in range(count):
        response = await api.post(KEYS, json={"name": f"walk {mark} {i:02d}", "role": role})
        assert response.status_code == 201, response.text
        keys.append(response.json())
    return keys


async def _walk(api: Api, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following next_cursor; and the number of pages read."""
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        response = await api.get(KEYS, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= params["limit"]
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert response.headers["x-next-cursor"] == cursor


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "name", "-name", "-updated_at"])
async def test_walk_sees_every_key_once_in_order(api: Api, sort: str) -> None:
    made = await _make_keys(api, 7)
    # Revoking one changes its updated_at: the walk must still see it exactly once.
    assert (await api.delete(f"{KEYS}/{made[3]['id']}")).status_code == 200
    total = len((await api.get(KEYS, params={"limit": 200})).json()["items"])
    assert total >= 7 + 5  # these seven, the bootstrap key and the fixture's role keys

    items, pages = await _walk(api, {"limit": 3, "sort": sort})

    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a key was repeated"
    assert len(ids) == total, "a key was skipped"
    assert {key["id"] for key in made} <= set(ids)
    assert pages == -(-total // 3)
    # The order of the keys made here (names that sort alike under any collation).
    field = sort.lstrip("-")
    ours = {key["id"] for key in made}
    positions = [(_sort_value(item, field), item["id"]) for item in items if item["id"] in ours]
    assert positions == sorted(positions, reverse=sort.startswith("-"))


def _sort_value(item: dict[str, Any], field: str) -> Any:
    value = item[field]
    return datetime.fromisoformat(value) if field.endswith("_at") else value


async def test_default_order_is_oldest_first_fifty_a_page(api: Api) -> None:
    made = await _make_keys(api, 3)
    total = len((await _walk(api, {"limit": 200}))[0])
    made += await _make_keys(api, max(0, 51 - total))  # more than one default page
    first = (await api.get(KEYS)).json()
    assert len(first["items"]) == 50 and first["next_cursor"] is not None
    assert first["items"][0]["name"] == "bootstrap admin"
    listed = [item["id"] for item in (await _walk(api, {"limit": 200}))[0]]
    order = [listed.index(key["id"]) for key in made]
    assert order == sorted(order)


async def test_filters_narrow_the_walk(api: Api) -> None:
    pmo_keys = await _make_keys(api, 4, role="pmo")
    revoked = pmo_keys[0]
    assert (await api.delete(f"{KEYS}/{revoked['id']}")).status_code == 200

    pmo, _ = await _walk(api, {"limit": 2, "role": "pmo"})
    assert {item["role"] for item in pmo} == {"pmo"}
    assert {key["id"] for key in pmo_keys} <= {item["id"] for item in pmo}

    live, _ = await _walk(api, {"limit": 2, "role": "pmo", "revoked": "false"})
    assert revoked["id"] not in {item["id"] for item in live}
    assert all(item["revoked_at"] is None for item in live)
    gone, _ = await _walk(api, {"limit": 2, "revoked": "true"})
    assert revoked["id"] in {item["id"] for item in gone}
    assert all(item["revoked_at"] is not None for item in gone)

    manager = api.people["manager"]["id"]
    acting, _ = await _walk(api, {"limit": 2, "person_id": manager})
    assert [item["name"] for item in acting] == ["test manager"]

    # Polling: the revocation above is the newest change of the revoked key.
    gone_at = _revoked_at(gone, revoked["id"])
    since = datetime.fromisoformat(gone_at)
    polled, _ = await _walk(
        api, {"limit": 2, "sort": "updated_at", "updated_since": since.isoformat()}
    )
    assert revoked["id"] in {item["id"] for item in polled}, gone_at
    assert all(datetime.fromisoformat(item["updated_at"]) >= since for item in polled)
    assert len(polled) < len((await _walk(api, {"limit": 200}))[0])


def _revoked_at(items: list[dict[str, Any]], key_id: str) -> str:
    (found,) = [item for item in items if item["id"] == key_id]
    return str(found["revoked_at"])


async def test_paging_parameters_are_checked(api: Api) -> None:
    await _make_keys(api, 3)
    params = {"limit": 1}
    cursor = (await api.get(KEYS, params=params)).json()["next_cursor"]
    assert cursor
    forged = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_problem(await api.get(KEYS, params={**params, "cursor": forged}), 422, "invalid_cursor")
    assert_problem(await api.get(KEYS, params={"cursor": "garbage"}), 422, "invalid_cursor")
    assert_problem(
        await api.get(KEYS, params={**params, "cursor": cursor, "role": "admin"}),
        422,
        "cursor_mismatch",
    )
    for limit in ("0", "201", "ten"):
        assert_problem(await api.get(KEYS, params={"limit": limit}), 422, "validation_failed")
    unknown = assert_problem(await api.get(KEYS, params={"colour": "red"}), 422)
    assert unknown["errors"][0]["loc"] == ["query", "colour"]
    assert_problem(await api.get(KEYS, params={"sort": "secret_hash"}), 422)
    assert_problem(await api.get(KEYS, params={"role": "owner"}), 422)


async def test_list_as_csv_never_shows_a_secret(api: Api) -> None:
    made = await _make_keys(api, 1)
    response = await api.get(KEYS, params={"format": "csv", "limit": 200})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header = response.text.splitlines()[0].split(",")
    assert header == [
        "id",
        "name",
        "role",
        "prefix",
        "person_id",
        "created_at",
        "updated_at",
        "revoked_at",
    ]
    assert made[0]["id"] in response.text and made[0]["secret"] not in response.text


async def test_one_key_by_id_only_for_admins_and_never_its_secret(api: Api) -> None:
    created = (await api.post(KEYS, json={"name": "one", "role": "viewer"})).json()
    secret = created.pop("secret")
    one = await api.get(f"{KEYS}/{created['id']}")
    assert one.status_code == 200
    assert one.json() == created
    assert secret not in one.text and "secret" not in one.json()
    unchanged = await api.get(
        f"{KEYS}/{created['id']}", headers={"If-None-Match": one.headers["etag"]}
    )
    assert unchanged.status_code == 304
    assert_problem(await api.get(f"{KEYS}/{uuid.uuid4()}"), 404, "api_key_not_found")
    for role in ("pmo", "manager", "viewer"):
        # refused before anything is looked up: no way to probe which keys exist
        assert_problem(await api.get(f"{KEYS}/{created['id']}", role), 403, "role_forbidden")
        assert_problem(await api.get(f"{KEYS}/{uuid.uuid4()}", role), 403, "role_forbidden")
    revoked = (await api.delete(f"{KEYS}/{created['id']}")).json()
    after = await api.get(f"{KEYS}/{created['id']}")
    assert after.json() == revoked and revoked["revoked_at"] is not None
    assert after.headers["etag"] != one.headers["etag"]


async def test_a_create_is_never_replayed_with_its_secret(api: Api) -> None:
    """Its answer holds the secret, which nothing keeps: an Idempotency-Key is not taken
    (a stored answer would keep the secret), so each POST makes a key of its own."""
    headers = {"Idempotency-Key": f"key-{uuid.uuid4()}"}
    body = {"name": "twice", "role": "viewer"}
    first = await api.post(KEYS, json=body, headers=headers)
    second = await api.post(KEYS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["secret"] != second.json()["secret"]
