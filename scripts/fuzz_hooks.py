"""Schemathesis hooks for the contract runs (loaded through SCHEMATHESIS_HOOKS).

``Money`` is the GraphQL schema's own scalar: a JSON number with at most two decimals.
Values come from the whole range a column holds, negative ones included (credit notes,
changes that lower a budget), so refusals of out-of-range money are exercised too.

``refusal_has_a_stated_cause`` holds REST to its contract: every limit the service
enforces on the shape of a request is in the OpenAPI document, so a request the
document calls valid is refused (4xx) only for a cause no schema can state, and the
problem's ``code`` says which one. The causes are listed below, each with the reason a
schema cannot state it; any other refusal of schema-valid data (``validation_failed``
above all) is a limit missing from the document, and a failure.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
from schemathesis.specs.openapi.schemas import OpenApiSchema

MONEY = st.decimals(
    min_value=Decimal("-999999999999.99"),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)

schemathesis.graphql.scalar("Money", MONEY.map(lambda value: nodes.Float(float(value))))


# A path or body names a record by its id (or key). The schema states the id's shape;
# whether such a record exists, is visible, or belongs to the project at hand is the
# database's state at the time of the request.
_RECORDS = (
    "api_key",
    "assignment",
    "baseline",
    "change",
    "cost",
    "deliverable",
    "issue",
    "milestone",
    "person",
    "portfolio",
    "project",
    "risk",
    "status_report",
)
_NOT_FOUND = {
    f"{record}_not_found": "no such record exists (state, not shape)" for record in _RECORDS
}

STATE_REFUSALS: dict[str, str] = {
    **_NOT_FOUND,
    "baseline_of_other_project": "the baseline exists but belongs to another project",
    # Versions and idempotency: what the request is compared with lives on the server.
    "version_mismatch": "If-Match names a version other than the record's current one",
    "idempotency_key_reused": "the Idempotency-Key was used before with another body",
    "idempotency_in_flight": "the Idempotency-Key's first request is still being served",
    # Cursors are opaque and signed: a schema states their length, not their signature,
    # nor which filters and sort they were made for.
    "invalid_cursor": "the cursor was not issued by this service, or was altered",
    "cursor_mismatch": "the cursor was made for other filters or another sort",
    # Uniqueness is against the other records.
    "duplicate_key": "another record already has this key or email",
    # The record's lifecycle: what it may still do depends on what happened to it.
    "already_archived": "the record was archived before",
    "already_revoked": "the API key was revoked before",
    "cannot_revoke_self": "the id names the very key making the request",
    "project_archived": "the project was archived: it takes no new records",
    "status_report_submitted": "the report was submitted: it no longer changes",
    "change_already_decided": "the change request was approved or rejected before",
    "portfolio_not_empty": "the portfolio still holds live portfolios or projects",
    "portfolio_cycle": "the new parent lies below the portfolio in the stored tree",
    "person_inactive": "the person named was made inactive",
    "status_report_period_overlap": "another report of the project covers the period",
    "no_planned_end": "the change moves a planned end the project does not have",
    # Totals that follow from stored figures: approving a change adds to them.
    "planned_budget_too_large": "approval would take the stored budget past the maximum",
    "planned_budget_negative": "approval would take the stored budget below zero",
    "planned_end_out_of_range": "approval would move the stored end off the calendar",
    # Rules between two values: JSON Schema compares a value with constants, never with
    # another field, another parameter or the stored record (a PATCH sends one date).
    "dates_out_of_order": "an end date before its start (in the request or on record)",
    "invalid_range": "a range's end before its start",
    "range_too_long": "a range's end too far from its start",
    "date_out_of_range": "weeks from a start run past the last day of the calendar",
    "resolution_required": "a PATCH resolving an issue whose stored resolution is empty",
    "done_date_not_done": "a done date on a PATCH of a milestone whose stored status is not done",
    # Sums over the stored records.
    "actual_cost_negative": "the project's costs would sum below zero",
    "actual_cost_too_large": "the project's costs would sum past the maximum",
    # The clock: a schema is the same every day.
    "review_in_future": "a review date after today",
    "done_date_in_future": "a done date after today",
}
"""The problem codes that may answer schema-valid data, each with why no schema states it."""

STATE_REFUSALS.update(
    {f"{record}_archived": "the record was archived: it no longer changes" for record in _RECORDS}
)


def _problem_code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


@schemathesis.check
def refusal_has_a_stated_cause(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid data is refused only for a cause no schema can state (STATE_REFUSALS)."""
    if not isinstance(case.operation.schema, OpenApiSchema):
        return None
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if is_unexpected_http_status_case(case) or not 400 <= response.status_code < 500:
        return None
    code = _problem_code(response)
    if code in STATE_REFUSALS:
        return None
    raise AssertionError(
        f"Schema-valid data refused with {response.status_code} and code {code!r}: either "
        "the OpenAPI document misses a limit the service enforces, or the refusal needs its "
        "own code (and a reason in scripts/fuzz_hooks.py STATE_REFUSALS).\n"
        f"{response.text[:500]}"
    )
