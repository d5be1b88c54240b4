"""The rate limits at the HTTP edge (the budgets themselves are ``pmo_api.limits``).

* REST: every request of a known API key costs 1 of its ``rest`` budget, charged when
  the caller is found (``requests.caller``), before the route runs; over the budget,
  429 problem+json ``rate_limited`` with ``Retry-After``.
* GraphQL: an operation costs what ``api/graphql/cost.py`` computes, charged to the
  ``graphql`` budget before it executes; over the budget, the same 429 and nothing
  runs. A GraphQL request refused before its cost is known (syntax, validation, over
  the cost limit, a malformed body) costs 1.
* Requests without a valid key are answered 401 and count against no budget: there is
  no key to charge (a limit per client address belongs to the proxy in front).

Every response to a request whose key was charged carries the budget as the IETF
draft "RateLimit header fields for HTTP" writes it (structured fields)::

    RateLimit-Policy: "rest";q=6000;w=60
    RateLimit: "rest";r=5982;t=41

``q``: the quota per window, ``w``: the window in seconds, ``r``: what is left, ``t``:
seconds until the window closes. The request middleware adds them (``headers``) from
the verdict left in the request's state (``RATE_VERDICT``), so errors carry them too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Scope

from pmo_api.core.context import Principal
from pmo_api.limits.budget import Policy, RateLimiter, Verdict, rate_limited

RATE_VERDICT = "pmo.rate"
"""Where a request's last verdict is kept, in the scope's ``state`` (shared by the
copies of the scope the routing makes, so the middleware sees it)."""


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


async def charge_rest(limiter: RateLimiter | None, scope: Scope, principal: Principal) -> None:
    """Charge one request to the caller's REST budget; RateLimited (429) over it."""
    if limiter is None or principal.key_id is None:
        return
    verdict = await limiter.spend(limiter.rest, str(principal.key_id), 1)
    _state(scope)[RATE_VERDICT] = verdict
    if not verdict.allowed:
        raise rate_limited(verdict)


def graphql_meter(
    limiter: RateLimiter | None, scope: Scope, principal: Principal
) -> Callable[[int], Awaitable[bool]] | None:
    """What charges a GraphQL operation's cost to the caller's budget, answering
    whether it may run (``GraphQLContext.charge``); None without limits."""
    if limiter is None or principal.key_id is None:
        return None
    policy, subject, state = limiter.graphql, str(principal.key_id), _state(scope)

    async def charge(cost: int) -> bool:
        verdict = await limiter.spend(policy, subject, cost)
        state[RATE_VERDICT] = verdict
        return verdict.allowed

    return charge


def charged(scope: Scope) -> bool:
    """Whether this request has been charged to a budget."""
    return RATE_VERDICT in scope.get("state", {})


def refusal(scope: Scope) -> Exception | None:
    """The 429 a request's charge earned, if it went over its budget."""
    verdict: Verdict | None = scope.get("state", {}).get(RATE_VERDICT)
    if verdict is None or verdict.allowed:
        return None
    return rate_limited(verdict)


_POLICY_HEADERS: dict[Policy, bytes] = {}


def headers(state: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The RateLimit headers of a response (none when nothing was charged)."""
    verdict: Verdict | None = state.get(RATE_VERDICT)
    if verdict is None:
        return []
    policy = verdict.policy
    stated = _POLICY_HEADERS.get(policy)
    if stated is None:
        stated = _POLICY_HEADERS[policy] = (
            f'"{policy.name}";q={policy.quota};w={policy.window}'.encode()
        )
    current = f'"{policy.name}";r={verdict.remaining};t={verdict.reset_seconds}'.encode()
    return [(b"ratelimit-policy", stated), (b"ratelimit", current)]


# -- the contract --------------------------------------------------------------------------

_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The API key\'s budget (IETF RateLimit header fields): `"rest";q=6000;'
        "w=60` is 6,000 requests per 60-second window (GraphQL: `graphql`, its query cost).",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of the budget: `"rest";r=5982;t=41` is 5,982 more '
        "requests, for the 41 seconds until the window closes.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds until the budget is whole again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
_RATE_LIMITED = {
    "description": "The API key spent its budget for the window (code `rate_limited`); "
    "retry after Retry-After seconds.",
    "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in _HEADERS},
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_BUDGET_HEADERS = {
    name: {"$ref": f"#/components/headers/{name}"} for name in ("RateLimit-Policy", "RateLimit")
}


def document(schema: dict[str, Any]) -> None:
    """State the rate limits in an OpenAPI document, in place: every operation that
    authenticates (all of ``/api``, and any that can answer 401) can answer 429, and
    its successful answers carry the RateLimit headers."""
    components = schema.setdefault("components", {})
    components.setdefault("headers", {}).update(_HEADERS)
    components.setdefault("responses", {})["RateLimited"] = _RATE_LIMITED
    for template, path in schema.get("paths", {}).items():
        for operation in path.values():
            responses = operation.get("responses", {})
            if not (template.startswith("/api") or "401" in responses):
                continue
            for status, response in responses.items():
                if status.startswith("2") and "$ref" not in response:
                    response.setdefault("headers", {}).update(_BUDGET_HEADERS)
            responses["429"] = {"$ref": "#/components/responses/RateLimited"}
            operation["responses"] = dict(sorted(responses.items()))
