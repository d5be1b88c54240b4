"""A policy's rules: what each holds (``PolicyRule``), the checks a policy gets on save
(an unknown check, bad params, a filter on an unknown field or with a bad operator,
each refused with its exact place), and whether a rule applies to a project.

``applies_when`` filters projects by their fields, every condition to hold::

    {"budget": {"gte": 100000}, "status": {"in": ["active", "on_hold"]},
     "attributes.cost_center": {"eq": "CC-4711"}}
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from sqlalchemy import ColumnElement, Float, String, and_, false, func, literal, not_, or_, true

from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.schemas import Name
from pmo_api.projects.models import Project
from pmo_api.standards.checks import CHECKS
from pmo_api.standards.sql import JsonAttribute, MoneyAmount


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}

RuleCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,39}$"),
    Field(description="The rule's code, unique in its policy, e.g. STATUS-FRESH."),
]


class RuleCheck(BaseModel):
    """What a rule checks: a registered check type and its params."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z_]+$")]
    params: dict[str, Any] = Field(default_factory=dict, description="The check's params.")


def _check_schema() -> dict[str, Any]:
    """The contract of ``check``: one shape per registered check, its params' schema
    from the check's own ``Params`` (what ``check_rules`` validates them with)."""
    shapes = []
    for name, found in sorted(CHECKS.items()):
        params = found.params.model_json_schema()
        params.pop("title", None)
        required = ["type", "params"] if params.get("required") else ["type"]
        shapes.append(
            {
                "type": "object",
                "title": name,
                "description": found.description,
                "properties": {"type": {"const": name}, "params": params},
                "required": required,
                "additionalProperties": False,
            }
        )
    return {"description": "A registered check and its params.", "oneOf": shapes}


# -- applies_when ------------------------------------------------------------------------------

_NUMBER = "number"
_TEXT = "text"
_ID = "id"
_ANY = "any"

APPLIES_FIELDS: dict[str, tuple[str, str]] = {
    "budget": ("planned_budget", _NUMBER),
    "actual_cost": ("actual_cost", _NUMBER),
    "percent_complete": ("percent_complete", _NUMBER),
    "priority_score": ("priority_score", _NUMBER),
    "phase": ("phase", _TEXT),
    "status": ("status", _TEXT),
    "health": ("health", _TEXT),
    "methodology": ("methodology", _TEXT),
    "portfolio": ("portfolio_id", _ID),
}
"""The names a filter uses: (the project column, the kind of value it holds)."""

ORDERED = ("gt", "gte", "lt", "lte")
ATTRIBUTE_PATTERN = r"^attributes\.[A-Za-z0-9_.:-]{1,100}$"
_ATTRIBUTE = re.compile(ATTRIBUTE_PATTERN)
_NO_NUL = r"^[^\x00]*$"
OPERATORS = ("eq", "ne", "in", *ORDERED)


LIMIT = 1e15
"""The largest magnitude a number in a condition may have (a budget's, a count's, an
attribute's): what every database compares exactly."""
_BOUNDED = {"type": "number", "minimum": -LIMIT, "maximum": LIMIT}


def _condition_schema(kind: str) -> dict[str, Any]:
    scalars: dict[str, dict[str, Any]] = {
        _NUMBER: _BOUNDED,
        _TEXT: {"type": "string", "maxLength": 200, "pattern": _NO_NUL},
        _ID: {"type": "string", "format": "uuid"},
        _ANY: {
            "type": ["string", "number", "boolean"],
            "maxLength": 200,
            "pattern": _NO_NUL,
            "minimum": -LIMIT,
            "maximum": LIMIT,
        },
    }
    scalar = scalars[kind]
    ops: dict[str, Any] = {
        "eq": scalar,
        "ne": scalar,
        "in": {"type": "array", "items": scalar, "minItems": 1, "maxItems": 100},
    }
    if kind in (_NUMBER, _ANY):
        ops.update({op: _BOUNDED for op in ORDERED})
    return {"type": "object", "properties": ops, "additionalProperties": False, "minProperties": 1}


def _applies_schema() -> dict[str, Any]:
    """The contract of ``applies_when`` (what ``check_rules`` checks it against)."""
    return {
        "type": "object",
        "properties": {name: _condition_schema(kind) for name, (_, kind) in APPLIES_FIELDS.items()},
        "patternProperties": {ATTRIBUTE_PATTERN: _condition_schema(_ANY)},
        "additionalProperties": False,
    }


class PolicyRule(BaseModel):
    """A machine-checked rule of a policy."""

    model_config = ConfigDict(extra="forbid")

    code: RuleCode
    title: Name
    severity: Severity = Severity.MEDIUM
    applies_when: Annotated[dict[str, dict[str, Any]], WithJsonSchema(_applies_schema())] = Field(
        default_factory=dict,
        description=(
            "Which projects the rule applies to: project fields (budget, actual_cost, "
            "percent_complete, priority_score, phase, status, health, methodology, "
            "portfolio, attributes.<name>) each with operators (eq, ne, in, gt, gte, lt, "
            "lte); every condition must hold. Empty: every project."
        ),
    )
    check: Annotated[RuleCheck, WithJsonSchema(_check_schema())]


Rules = Annotated[list[PolicyRule], Field(max_length=100)]


def _column_of(name: str) -> tuple[str, str] | None:
    if _ATTRIBUTE.match(name):
        return name, _ANY
    return APPLIES_FIELDS.get(name)


def _scalar_ok(kind: str, value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > LIMIT:
        return False
    if kind == _NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(value, str) and (len(value) > 200 or "\x00" in value):
        return False
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _ID:
        if not isinstance(value, str):
            return False
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    return isinstance(value, str | int | float | bool)


def _condition_errors(where: tuple[Any, ...], conditions: Any) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    if not isinstance(conditions, Mapping):
        return [ErrorDetail(where, "must be an object of field: {operator: value}", "type_error")]
    for name, operators in conditions.items():
        at = (*where, name)
        found = _column_of(name)
        if found is None:
            known = ", ".join((*APPLIES_FIELDS, "attributes.<name>"))
            errors.append(
                ErrorDetail(at, f"unknown project field; use one of {known}", "value_error")
            )
            continue
        _, kind = found
        if not isinstance(operators, Mapping) or not operators:
            errors.append(ErrorDetail(at, "must be an object of operator: value", "type_error"))
            continue
        for operator, value in operators.items():
            here = (*at, operator)
            if operator not in OPERATORS:
                errors.append(
                    ErrorDetail(
                        here, f"unknown operator; use one of {', '.join(OPERATORS)}", "value_error"
                    )
                )
            elif operator in ORDERED and kind not in (_NUMBER, _ANY):
                errors.append(ErrorDetail(here, f"{name} takes eq, ne and in only", "value_error"))
            elif operator == "in":
                if not isinstance(value, list) or not 1 <= len(value) <= 100:
                    errors.append(
                        ErrorDetail(here, "must be a list of 1 to 100 values", "type_error")
                    )
                elif not all(_scalar_ok(kind, item) for item in value):
                    errors.append(
                        ErrorDetail(here, f"every value must be a {_wanted(kind)}", "type_error")
                    )
            elif operator in ORDERED and not _scalar_ok(_NUMBER, value):
                errors.append(
                    ErrorDetail(here, "must be a number between -1e15 and 1e15", "type_error")
                )
            elif not _scalar_ok(kind, value):
                errors.append(ErrorDetail(here, f"must be a {_wanted(kind)}", "type_error"))
    return errors


def _wanted(kind: str) -> str:
    return {
        _NUMBER: "number between -1e15 and 1e15",
        _TEXT: "string (200 characters at most)",
        _ID: "portfolio id (UUID)",
    }.get(kind, "string (200 characters at most), number (-1e15 to 1e15) or boolean")


def compiled(conditions: Mapping[str, Mapping[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """``applies_when`` made once into a test of a project's row: a roll-up asks it of
    every project for every rule."""
    tests: list[tuple[str | None, str, list[tuple[str, Any]]]] = []
    for name, operators in conditions.items():
        column, _ = _column_of(name) or (name, _ANY)
        attribute = column.removeprefix("attributes.") if column.startswith("attributes.") else None
        tests.append((attribute, column, list(operators.items())))

    def test(project: Mapping[str, Any]) -> bool:
        for attribute, column, operators in tests:
            if attribute is not None:
                value = (project.get("attributes") or {}).get(attribute)
            else:
                value = _comparable(project.get(column))
            for operator, expected in operators:
                if not _holds(value, operator, expected):
                    return False
        return True

    return test


def _comparable(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _same(value: Any, expected: Any) -> bool:
    """JSON's equality: a boolean equals only a boolean (Python's ``True == 1`` does not
    hold here, nor in the SQL form)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return bool(value == expected)


def _holds(value: Any, operator: str, expected: Any) -> bool:
    if operator == "eq":
        return _same(value, expected)
    if operator == "ne":
        return not _same(value, expected)
    if operator == "in":
        return any(_same(value, item) for item in expected)
    if value is None or isinstance(value, bool | str):
        return False  # nothing to compare, or not a number (the bound is one)
    return _ORDER[operator](value, expected)


# -- a policy's rules on save ------------------------------------------------------------------


def check_rules(
    rules: Sequence[Mapping[str, Any]], where: tuple[Any, ...] = ("body", "rules")
) -> None:
    """422 ``invalid_policy`` naming every bad place: a check type not registered, its
    params wrong (missing, unknown, of the wrong type, out of range), a filter on an
    unknown field or with a bad operator or value, a code used twice."""
    errors: list[ErrorDetail] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        at = (*where, i)
        code = rule["code"]
        if code in seen:
            errors.append(
                ErrorDetail((*at, "code"), f"the code {code} is used twice", "value_error")
            )
        seen.add(code)
        errors += _condition_errors((*at, "applies_when"), rule.get("applies_when") or {})
        kind = rule["check"]["type"]
        found = CHECKS.get(kind)
        if found is None:
            known = ", ".join(sorted(CHECKS))
            errors.append(
                ErrorDetail(
                    (*at, "check", "type"), f"unknown check; use one of {known}", "value_error"
                )
            )
            continue
        try:
            found.params.model_validate(rule["check"].get("params") or {})
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                errors.append(
                    ErrorDetail(
                        (*at, "check", "params", *detail["loc"]), detail["msg"], detail["type"]
                    )
                )
    if errors:
        first = errors[0]
        twice = all(e.loc[-1] == "code" for e in errors)
        raise InvalidInput(
            # Two rules with one code is the one fault no schema states (uniqueness by a
            # property): it has a code of its own.
            code="duplicate_rule_code" if twice else "invalid_policy",
            detail=f"The policy's rules are not valid: {_place(first.loc)}: {first.msg}.",
            errors=errors,
        )


def _place(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- applies_when in SQL -----------------------------------------------------------------------


def applies_sql(conditions: Mapping[str, Mapping[str, Any]]) -> ColumnElement[bool]:
    """``applies_when`` as a condition on ``projects``: it holds exactly when
    ``compiled`` answers True (a lists' filter uses it: ``?failing_rule=``)."""
    parts = [
        _condition_sql(name, operator, expected)
        for name, operators in conditions.items()
        for operator, expected in operators.items()
    ]
    return and_(true(), *parts)


def _condition_sql(name: str, operator: str, expected: Any) -> ColumnElement[bool]:
    column, kind = _column_of(name) or (name, _ANY)
    if operator == "ne":
        return not_(func.coalesce(_condition_sql(name, "eq", expected), false()))
    if operator == "in":
        return or_(*(_condition_sql(name, "eq", item) for item in expected))
    if column.startswith("attributes."):
        return _attribute_sql(column.removeprefix("attributes."), operator, expected)
    target: Any = Project.__table__.c[column]
    if kind == _NUMBER:
        if column in ("planned_budget", "actual_cost"):
            target = MoneyAmount(target)
        if isinstance(expected, bool):
            return false()
        # Compared as a double, as the reports compare it: a bound beyond the column's
        # own integer range (priority_score < 1e15) binds all the same.
        return _compare(target, operator, literal(float(expected), Float()))
    if kind == _ID:
        return _compare(target, operator, uuid.UUID(expected))
    # Bound as text, not as the column's type: a status or health no project can have
    # ("purple") is a condition that never holds, not a value the enum's type refuses.
    return _compare(target, operator, literal(expected, String()))


def _attribute_sql(name: str, operator: str, expected: Any) -> ColumnElement[bool]:
    if isinstance(expected, bool):
        value = JsonAttribute(Project.attributes, name, "boolean")
        return _compare(value, operator, "true" if expected else "false")
    if isinstance(expected, str):
        return _compare(JsonAttribute(Project.attributes, name, "string"), operator, expected)
    return _compare(JsonAttribute(Project.attributes, name, "number"), operator, expected)


def _compare(target: Any, operator: str, expected: Any) -> ColumnElement[bool]:
    compared: ColumnElement[bool] = {
        "eq": lambda: target == expected,
        "gt": lambda: target > expected,
        "gte": lambda: target >= expected,
        "lt": lambda: target < expected,
        "lte": lambda: target <= expected,
    }[operator]()
    return compared
