"""Schemathesis hooks for the contract runs (loaded through SCHEMATHESIS_HOOKS).

``Money`` is the GraphQL schema's own scalar: a JSON number with at most two decimals.
Values come from the whole range a column holds, negative ones included (credit notes,
changes that lower a budget), so refusals of out-of-range money are exercised too.

``refusal_has_a_stated_cause`` holds both doors to their contracts: every limit the
service enforces on the shape of a request is in the OpenAPI document, so a request the
document calls valid is refused (4xx) only for a cause no schema can state, and the
problem's ``code`` says which one. The causes are listed below, each with the reason a
schema cannot state it; any other refusal of schema-valid data (``validation_failed``
above all) is a limit missing from the document, and a failure. GraphQL is held to what
an SDL can state: types and nullability, not lengths, patterns or ranges.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema_rs
import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.graphql import nodes
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
from schemathesis.specs.openapi.schemas import OpenApiSchema

from pmo_api.control import PROJECT_RECORDS, RESOURCES

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
    # Every resource and every record a project keeps, as the one registry declares them.
    *(resource.name for resource in RESOURCES),
    *(record.name for record in PROJECT_RECORDS),
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
    # One parameter that needs another: a schema of independent parameters cannot say it
    # (the sort's description does).
    "sort_needs_search": "sort=relevance without q: the relevance is to a search",
    # Uniqueness is against the other records.
    "duplicate_key": "another record already has this key or email",
    # The record's lifecycle: what it may still do depends on what happened to it.
    "already_archived": "the record was archived before",
    "already_revoked": "the API key was revoked before",
    "cannot_revoke_self": "the id names the very key making the request",
    "project_archived": "the project was archived: it takes no new records",
    "status_report_submitted": "the report was submitted: it no longer changes",
    "change_already_decided": "the change request was approved or rejected before",
    "standard_not_draft": "the standard's revision was published or retired: it is frozen",
    "standard_not_published": "only the revision in force can be retired",
    "standard_discarded": "the draft was discarded before",
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
    "duplicate_rule_code": "two rules of one policy share a code (JSON Schema states no "
    "uniqueness by a property)",
    "resolution_required": "a PATCH resolving an issue whose stored resolution is empty",
    "done_date_not_done": "a done date on a PATCH of a milestone whose stored status is not done",
    # Sums over the stored records.
    "actual_cost_negative": "the project's costs would sum below zero",
    "actual_cost_too_large": "the project's costs would sum past the maximum",
    # The clock: a schema is the same every day.
    "review_in_future": "a review date after today",
    "done_date_in_future": "a done date after today",
    # A project's way through its methodology: the stored methodology revision, the
    # project's phase and status, and the gate's criteria decide.
    "methodology_not_published": "the methodology revision named is a draft or retired",
    "template_not_found": "no revision of the template key is published, or no template has the id",
    "template_not_published": "the template revision named is a draft or retired",
    "unknown_phase": "the phase is not one of the stored methodology's phases",
    "duplicate_phase": "two phases of one methodology share a name (JSON Schema states no "
    "uniqueness by a property)",
    "phase_by_transition": "the project follows a methodology: its phase moves by transitions",
    "methodology_by_reference": "the project follows a methodology revision by its id",
    "no_methodology": "the project follows no methodology",
    "project_closed": "the project was completed or cancelled",
    "already_in_phase": "the project is already in that phase",
    "phase_not_next": "the phase is not the one after the project's current phase",
    "gate_not_met": "the gate's deliverables, approvals or rules do not hold yet",
    "reason_required": "going back to an earlier phase (known from the stored phase) needs "
    "a reason",
    "justification_required": "a forced transition needs a justification (a rule between "
    "two fields)",
    "justification_without_force": "a justification comes only with force (a rule between "
    "two fields)",
    # An audit's life and its findings': what they may still do depends on what happened.
    "already_aligned": "the project is aligned with that objective already",
    "priority_weights_zero": "a PATCH setting the weights sent to 0 when the stored others "
    "are 0 too (a rule between fields and the record)",
    "rule_not_found": "the finding's rule code names no rule of the stored policies",
    "audit_not_started": "the audit is planned: it takes answers and findings once started",
    "audit_started": "the audit was started before",
    "audit_completed": "the audit was completed: it is frozen",
    "audit_unanswered": "items of the stored checklist have no answer yet",
    "unknown_checklist_item": "the item is not one of the stored checklist's",
    "finding_closed": "the finding was resolved or accepted: it is final",
    "finding_in_remediation": "the finding's remediation started before",
    "finding_not_in_remediation": "only a finding in remediation is resolved",
    # An enrollment's life: its stored status decides what it may still do.
    "already_enrolled": "the person is already enrolled in the course, not yet completed or "
    "withdrawn",
    "enrollment_already_completed": "the enrollment was completed before",
    "invalid_enrollment_transition": "the enrollment's stored status does not allow the change",
    "enrollment_not_completed": "a score for an enrollment that is not completed",
    # An export's parameters are its collection's list's: the collection is named in the
    # path, and one operation's schema cannot tie its query to a path parameter.
    "unknown_filter": "a parameter the list of the collection named in the path does not take",
    # The metrics' history: which days it holds, and the clock.
    "before_history": "as_of before the first stored snapshot",
    "as_of_in_future": "as_of after today (a schema is the same every day)",
    "too_many_points": "a series from `from` to `to` by `interval` past the most points "
    "(a rule between three parameters)",
}
"""The problem codes that may answer schema-valid data, each with why no schema states it."""
STATE_REFUSALS["rate_limited"] = (
    "the key spent its budget for the window: a state of the deployment, not of the input "
    "(the fuzzer's servers have budgets it never meets; 429 is documented everywhere)"
)

STATE_REFUSALS.update(
    {f"{record}_archived": "the record was archived: it no longer changes" for record in _RECORDS}
)
STATE_REFUSALS.update(
    {
        "webhook_url_refused": "the url's host resolves (now) to a private or loopback "
        "address, or does not resolve: a fact of the network, not of the schema",
        "unknown_event_type": "an event type the service does not record (GET "
        "/api/v1/event-types lists them): a list the schema's pattern cannot hold",
        "delivery_pending": "the delivery is still pending: the worker will send it",
        "webhook_archived": "the subscription was deleted: it is not pinged nor rotated",
    }
)


GRAPHQL_UNSTATED: dict[str, str] = {
    # What the GraphQL type system cannot say, whatever the server's schema.
    "invalid_identifier": "an ID names a record of one type; the ID scalar carries no type",
    "invalid_page_arguments": "first/last are Int (Relay connections), which have no range",
    "invalid_within_days": "trainingGaps' withinDays is an Int, which has no range",
    "invalid_sort": "sort is a String (`field` or `-field`): a GraphQL enum value cannot "
    "carry the `-` of a descending sort, and one String serves every connection",
    "query_too_expensive": "a query's cost (its fields, times its pages' sizes) is a sum "
    "over the whole document; no type of the SDL can bound it (api/graphql/cost.py)",
}
"""GraphQL refusal codes (``extensions.code``) allowed beside STATE_REFUSALS."""

GRAPHQL_UNSTATED_ERRORS = frozenset(
    {
        # Lengths, patterns, ranges and decimals: a GraphQL String, Int or Float has none.
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "too_short",
        "too_long",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
        "money_format",
        "value_error",
        "dates_out_of_order",
        # An id inside an input is an ID: a global id or the REST UUID. The ID scalar
        # states neither form (a UUID scalar would refuse the global ids Relay uses).
        "uuid_parsing",
    }
)
"""Error types inside a GraphQL ``validation_failed`` that no SDL can state. Any other
type (``bool_type`` for a null in a nullable Boolean...) is a type the schema could
have stated, and a failure."""


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _problem_code(response: Any) -> str | None:
    body = _json(response)
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _graphql_refusals(response: Any) -> list[dict[str, Any]]:
    body = _json(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors or [] if isinstance(e, dict)]


def _graphql_cause_is_unstated(error: dict[str, Any]) -> bool:
    extensions = error.get("extensions")
    if not isinstance(extensions, dict):
        return False
    code = extensions.get("code")
    if code in STATE_REFUSALS or code in GRAPHQL_UNSTATED:
        return True
    if code != "validation_failed":
        return False
    details = extensions.get("errors") or []
    return all(
        isinstance(d, dict) and d.get("type") in GRAPHQL_UNSTATED_ERRORS for d in details
    ) and bool(details)


def _is_positive(case: Any) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _sends_a_header_outside_its_schema(case: Any) -> bool:
    """Whether a case labelled positive sends a header its own schema refuses.

    Schemathesis' coverage phase builds header values from letters and digits only; for a
    pattern that needs other characters (an ETag's quotes: ``If-Match: "3"``) it then
    sends a value outside the pattern (``If-Match: 0``) and still calls the case positive.
    Such a case is not schema-valid data. A header declared nullable is judged as sent:
    a header cannot carry null, so the declaration is the fault, not the case."""
    sent = {name.lower(): value for name, value in (case.headers or {}).items()}
    for parameter in case.operation.iter_parameters():
        if parameter.location != ParameterLocation.HEADER:
            continue
        value = sent.get(parameter.name.lower())
        if value is None:
            continue
        validator = jsonschema_rs.validator_for(parameter.definition.get("schema", {}))
        if not validator.is_valid(None) and not validator.is_valid(str(value)):
            return True
    return False


@schemathesis.check
def refusal_has_a_stated_cause(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid data is refused only for a cause no schema can state.

    REST: a 4xx whose problem ``code`` is in STATE_REFUSALS. GraphQL: errors whose
    ``extensions.code`` is in STATE_REFUSALS or GRAPHQL_UNSTATED, or ``validation_failed``
    on limits an SDL cannot carry (GRAPHQL_UNSTATED_ERRORS).
    """
    if not _is_positive(case):
        return None
    if isinstance(case.operation.schema, OpenApiSchema):
        if is_unexpected_http_status_case(case) or not 400 <= response.status_code < 500:
            return None
        if _sends_a_header_outside_its_schema(case):
            return None
        code = _problem_code(response)
        if code in STATE_REFUSALS:
            return None
        raise AssertionError(
            f"Schema-valid data refused with {response.status_code} and code {code!r}: either "
            "the OpenAPI document misses a limit the service enforces, or the refusal needs "
            "its own code (and a reason in scripts/fuzz_hooks.py STATE_REFUSALS).\n"
            f"{response.text[:500]}"
        )
    if response.status_code >= 500:
        return None  # not_a_server_error reports it
    unexplained = [e for e in _graphql_refusals(response) if not _graphql_cause_is_unstated(e)]
    if unexplained:
        raise AssertionError(
            "Schema-valid GraphQL input refused for a cause the schema could state (or "
            "without a code):\n" + "\n".join(str(e)[:400] for e in unexplained[:3])
        )
    return None
