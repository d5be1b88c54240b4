from __future__ import annotations

from tests.conftest import Api


async def test_create_and_read_project(api: Api) -> None:
    project = await api.make_project(planned_budget=1234.5)
    assert project["planned_budget"] == 1234.5
    response = await api.get(f"/api/v1/projects/{project['key']}")
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    listing = await api.get("/api/v1/projects", params={"limit": 2})
    assert listing.status_code == 200, listing.text
