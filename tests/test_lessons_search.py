"""Full-text search of lessons (``/api/v1/lessons?q=``): PostgreSQL's full-text search on
PostgreSQL, FTS5 on SQLite. Relevance order, snippets, web search syntax (quotes, ``or``,
``-word``), filters, paging by relevance, text that must never be an error. Both
databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Api
from tests.test_lessons import LESSONS, _lesson
from tests.test_raid import ok
from tests.test_rest_conventions import assert_problem


def _word() -> str:
    """A word no other test's lessons hold (letters only: every stemmer keeps it). Its
    third letter is a vowel: PostgreSQL's English stemmer (Snowball) leaves the plural
    "s" of a word whose only vowel is just before it ("zqbcdi" + "s"), and the plural of
    the word must find it."""
    return "zqo" + "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:10])


async def _search(api: Api, q: str, **params: Any) -> list[dict[str, Any]]:
    page = await ok(await api.get(LESSONS, params={"q": q, "limit": 200, **params}))
    return list(page["items"])


async def test_search_ranks_by_relevance_with_snippets_and_filters(api: Api) -> None:
    word = _word()
    portfolio = await api.make_portfolio()
    here = await api.make_project(portfolio["id"])
    elsewhere = await api.make_project()
    made = {}
    for name, project, fields in (
        ("title", here, {"title": f"Renegotiate the {word} contract", "tags": ["vendors"]}),
        (
            "body",
            here,
            {
                "category": "planning",
                "what_happened": f"Late in the year the {word} team had to stop the build "
                "while the licences were renewed.",
            },
        ),
        ("recommendation", elsewhere, {"recommendation": f"Ask {word} for a fixed price."}),
        ("unrelated", here, {}),
    ):
        made[name] = await ok(await api.post(LESSONS, json=_lesson(project, **fields)), 201)

    found = await _search(api, word)
    assert [item["id"] for item in found] == [
        made["title"]["id"],
        made["body"]["id"],
        made["recommendation"]["id"],
    ]  # a word in the title outranks it in the story, which outranks the recommendation
    relevance = [item["relevance"] for item in found]
    assert relevance == sorted(relevance, reverse=True) and relevance[-1] > 0
    for item in found:
        assert f"<mark>{word}</mark>" in item["snippet"].lower(), item["snippet"]

    # Stemming: the plural finds the word; filters narrow the hits.
    assert {i["id"] for i in await _search(api, f"{word}s")} == {i["id"] for i in found}
    assert [i["id"] for i in await _search(api, word, category="planning")] == [made["body"]["id"]]
    assert [i["id"] for i in await _search(api, word, tag="vendors")] == [made["title"]["id"]]
    by_portfolio = await _search(api, word, portfolio_id=portfolio["id"])
    assert {i["id"] for i in by_portfolio} == {made["title"]["id"], made["body"]["id"]}
    assert [i["id"] for i in await _search(api, word, project_id=elsewhere["id"])] == [
        made["recommendation"]["id"]
    ]

    # Another order on request, relevance and snippet still shown; none without q.
    by_title = await _search(api, word, sort="title")
    assert [i["title"] for i in by_title] == sorted(i["title"] for i in by_title)
    assert all(i["snippet"] and i["relevance"] for i in by_title)
    listed = await ok(await api.get(LESSONS, params={"project_id": here["id"]}))
    assert all(i["snippet"] is None and i["relevance"] is None for i in listed["items"])
    assert_problem(await api.get(LESSONS, params={"sort": "-relevance"}), 422, "sort_needs_search")


async def test_search_syntax_phrases_or_and_exclusions(api: Api) -> None:
    word, other = _word(), _word()
    project = await api.make_project()
    phrase = await ok(
        await api.post(
            LESSONS,
            json=_lesson(project, what_happened=f"The steering {word} committee met monthly."),
        ),
        201,
    )
    apart = await ok(
        await api.post(
            LESSONS,
            json=_lesson(project, what_happened=f"The {word} met the steering group twice."),
        ),
        201,
    )
    either = await ok(
        await api.post(LESSONS, json=_lesson(project, what_happened=f"Only {other} here.")), 201
    )
    ids = {"phrase": phrase["id"], "apart": apart["id"], "either": either["id"]}

    def named(items: list[dict[str, Any]]) -> set[str]:
        return {name for name, id_ in ids.items() if id_ in {i["id"] for i in items}}

    assert named(await _search(api, word)) == {"phrase", "apart"}
    assert named(await _search(api, f'"steering {word}"')) == {"phrase"}
    assert named(await _search(api, f"{word} or {other}")) == {"phrase", "apart", "either"}
    assert named(await _search(api, f"{word} -committee")) == {"apart"}
    assert named(await _search(api, f"{word} -{word}")) == set()
    assert await _search(api, _word()) == []  # nothing holds it: an empty page


async def test_any_text_is_a_search_never_an_error(api: Api) -> None:
    project = await api.make_project()
    word = _word()
    await ok(await api.post(LESSONS, json=_lesson(project, title=f"Naïve {word} café")), 201)
    assert len(await _search(api, f"naïve {word} café")) == 1
    for q in (
        '"unterminated',
        '""',
        "or",
        "-",
        "- -",
        "or or or",
        "***",
        "a AND OR NOT b",
        "(x",
        "NEAR(a b)",
        "col:value",
        "^start",
        "🚀 漢字 ‮ עברית",
        "'; DROP TABLE lessons; --",
        "\\",
        "-" + word,
        "x" * 200,
    ):
        response = await api.get(LESSONS, params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert_problem(await api.get(LESSONS, params={"q": "x" * 201}), 422)
    assert_problem(await api.get(LESSONS, params={"q": "a\x00b"}), 422)


async def test_search_pages_by_relevance_see_every_hit_once(api: Api) -> None:
    word = _word()
    project = await api.make_project()
    made = set()
    for n in range(7):
        story = " ".join([word] * (n % 3 + 1)) + f" happened in sprint {n}."
        lesson = await ok(await api.post(LESSONS, json=_lesson(project, what_happened=story)), 201)
        made.add(lesson["id"])
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": word, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await ok(await api.get(LESSONS, params=params))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(i["id"] for i in seen) == sorted(made)
    order = [(i["relevance"], i["id"]) for i in seen]
    assert order == sorted(order, reverse=True)
    # A cursor is bound to its search: another q cannot resume it.
    first = await ok(await api.get(LESSONS, params={"q": word, "limit": 2}))
    assert_problem(
        await api.get(LESSONS, params={"q": _word(), "cursor": first["next_cursor"]}),
        422,
        "cursor_mismatch",
    )


async def test_search_over_graphql_ranks_like_rest(api: Api) -> None:
    word = _word()
    project = await api.make_project()
    for title in (f"The {word} lesson", "Another lesson"):
        story = f"It was about {word}." if title == "Another lesson" else "It was so."
        await ok(
            await api.post(LESSONS, json=_lesson(project, title=title, what_happened=story)), 201
        )
    body = await api.gql(
        "query($q: String!) { lessons(filter: {q: $q}) "
        "{ edges { node { uuid title relevance snippet } } } }",
        {"q": word},
    )
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["lessons"]["edges"]]
    rest = await _search(api, word)
    assert [n["title"] for n in nodes] == [item["title"] for item in rest]
    assert [n["title"] for n in nodes] == [f"The {word} lesson", "Another lesson"]
    assert [(n["relevance"], n["snippet"]) for n in nodes] == [
        (item["relevance"], item["snippet"]) for item in rest
    ]
    # Read any other way, a lesson has no relevance nor snippet.
    one = await api.gql(
        "query($id: ID!) { lesson(id: $id) { relevance snippet } }", {"id": nodes[0]["uuid"]}
    )
    assert one["data"]["lesson"] == {"relevance": None, "snippet": None}, one


async def test_search_follows_changes_and_archiving(api: Api) -> None:
    before, after = _word(), _word()
    project = await api.make_project()
    lesson = await ok(
        await api.post(LESSONS, json=_lesson(project, title=f"Mind the {before}")), 201
    )
    assert [i["id"] for i in await _search(api, before)] == [lesson["id"]]
    changed = await ok(
        await api.patch(
            f"{LESSONS}/{lesson['id']}",
            json={"title": f"Mind the {after}"},
            headers={"If-Match": f'"{lesson["version"]}"'},
        )
    )
    assert await _search(api, before) == []
    assert [i["id"] for i in await _search(api, after)] == [lesson["id"]]
    await ok(
        await api.delete(
            f"{LESSONS}/{lesson['id']}", headers={"If-Match": f'"{changed["version"]}"'}
        )
    )
    assert await _search(api, after) == []
    archived = await _search(api, after, include_archived="true")
    assert [i["id"] for i in archived] == [lesson["id"]]


async def test_suggested_lessons_match_open_risks_and_prefer_projects_alike(api: Api) -> None:
    word, other_word = _word(), _word()
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"], methodology="Scrum")
    await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/risks",
            json={"title": f"The {word} supplier may deliver late", "probability": 3, "impact": 4},
        ),
        201,
    )
    await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/issues",
            json={"title": f"{other_word} licences expired", "severity": "high"},
        ),
        201,
    )
    sibling = await api.make_project(portfolio["id"])
    stranger = await api.make_project(methodology="Waterfall")
    alike = await ok(
        await api.post(LESSONS, json=_lesson(sibling, title=f"Chase the {word} supplier")), 201
    )
    unlike = await ok(
        await api.post(LESSONS, json=_lesson(stranger, title=f"Chase the {word} supplier")), 201
    )
    licences = await ok(
        await api.post(LESSONS, json=_lesson(stranger, what_happened=f"Our {other_word} ran out.")),
        201,
    )
    own = await ok(await api.post(LESSONS, json=_lesson(project, title=f"Our {word} lesson")), 201)
    unrelated = await ok(await api.post(LESSONS, json=_lesson(stranger)), 201)

    path = f"/api/v1/projects/{project['key']}/lessons/suggested"
    found = await ok(await api.get(path))
    assert found["project_id"] == project["id"]
    assert word in found["words"] and other_word in found["words"]
    ids = [item["id"] for item in found["items"]]
    assert {alike["id"], unlike["id"], licences["id"]} <= set(ids)
    assert own["id"] not in ids and unrelated["id"] not in ids  # its own; no shared word
    by_id = {item["id"]: item for item in found["items"]}
    near, far = by_id[alike["id"]], by_id[unlike["id"]]
    assert ids.index(alike["id"]) < ids.index(unlike["id"])  # the same text, a portfolio more
    assert near["why"] == ["matches its open risks and issues", "same portfolio"]
    assert far["why"] == ["matches its open risks and issues"]
    assert near["score"] == pytest.approx(far["score"] * 1.5, rel=1e-3)
    assert f"<mark>{word}</mark>" in near["snippet"].lower()
    scores = [item["score"] for item in found["items"]]
    assert scores == sorted(scores, reverse=True)
    assert len((await ok(await api.get(path, params={"limit": 1})))["items"]) == 1
    assert_problem(await api.get(path, params={"limit": 0}), 422)
    assert_problem(await api.get(path, params={"limit": 201}), 422)
    missing = "/api/v1/projects/NO-SUCH-PROJECT/lessons/suggested"
    assert_problem(await api.get(missing), 404, "project_not_found")

    # Nothing open to match on: the latest lessons of projects like it.
    quiet = await api.make_project(portfolio["id"])
    calm = await ok(await api.get(f"/api/v1/projects/{quiet['id']}/lessons/suggested"))
    assert calm["words"] == []
    assert {i["id"] for i in calm["items"]} >= {alike["id"], own["id"]}
    assert all("same portfolio" in i["why"] for i in calm["items"])


async def test_suggested_lessons_over_graphql_match_rest(api: Api) -> None:
    word = _word()
    project = await api.make_project()
    await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/risks",
            json={"title": f"The {word} may slip", "probability": 2, "impact": 3},
        ),
        201,
    )
    other = await api.make_project(project["portfolio_id"])
    lesson = await ok(await api.post(LESSONS, json=_lesson(other, title=f"Tame the {word}")), 201)
    query = (
        "query($id: String!) { project(idOrKey: $id) { suggestedLessons(first: 5) "
        "{ words items { id title score why snippet } } } }"
    )
    body = await api.gql(query, {"id": project["key"]})
    assert "errors" not in body, body
    shown = body["data"]["project"]["suggestedLessons"]
    rest = await ok(await api.get(f"/api/v1/projects/{project['id']}/lessons/suggested?limit=5"))
    assert shown["words"] == rest["words"] and word in shown["words"]
    assert [i["id"] for i in shown["items"]] == [i["id"] for i in rest["items"]]
    assert shown["items"][0]["id"] == lesson["id"]
    assert shown["items"][0]["why"] == rest["items"][0]["why"]
    refused = await api.gql(
        "query($id: String!) { project(idOrKey: $id) { suggestedLessons(first: 0) { words } } }",
        {"id": project["key"]},
    )
    assert refused["errors"][0]["extensions"]["code"] == "invalid_page_arguments", refused


async def test_a_search_past_its_ranked_window_lists_every_hit_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more hits than its window (here 2 a part), a search ranks the newest hits in
    a title or tags and the newest anywhere, then lists the others newest first, with
    relevance 0; pages of any size see every hit once."""
    from pmo_api.lessons import repository

    monkeypatch.setattr(repository, "WINDOW", 2)
    word = _word()
    project = await api.make_project()
    made = []
    for n in range(7):
        title = f"{word} in the title {n}" if n in (0, 1, 2) else f"Lesson {n}"
        story = f"The {word} happened in sprint {n}."
        body = _lesson(project, title=title, what_happened=story)
        made.append((await ok(await api.post(LESSONS, json=body), 201))["id"])
    found = await _search(api, word)
    assert sorted(i["id"] for i in found) == sorted(made)
    # Ranked: the 2 newest with the word in the title (1, 2) and the 2 newest (5, 6).
    ranked = [i for i in found if i["relevance"] > 0]
    assert {i["id"] for i in ranked} == {made[1], made[2], made[5], made[6]}
    assert [i["relevance"] for i in ranked] == sorted(
        (i["relevance"] for i in ranked), reverse=True
    )
    assert found[: len(ranked)] == ranked
    assert min(i["relevance"] for i in ranked if i["title"].startswith(word)) > max(
        i["relevance"] for i in ranked if not i["title"].startswith(word)
    )
    # The rest, newest first, relevance 0, each with its snippet.
    rest = found[len(ranked) :]
    assert [i["id"] for i in rest] == [made[4], made[3], made[0]]
    assert all(i["relevance"] == 0 and "<mark>" in i["snippet"] for i in rest)
    for size in (1, 2, 3, 5):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"q": word, "limit": size}
            if cursor:
                params["cursor"] = cursor
            page = await ok(await api.get(LESSONS, params=params))
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [i["id"] for i in found], size
    # The window holds the filters too: a category keeps its own newest.
    narrowed = await _search(api, word, category="vendors")
    assert {i["id"] for i in narrowed} == set(made)
    assert await _search(api, word, category="nothing-here") == []
