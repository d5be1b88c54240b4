"""The registry of checks a policy rule runs (``check: {type, params}``).

A check is one function: it judges one project from the project's own fields and,
when it needs more, from figures that one statement reads for every project in scope
at once (``figures``: a select of ``project_id`` and the figures, given the subquery of
the project ids and every params value the rules use). Adding a check is adding one
``@check`` function here (and a ``figures`` query when it reads beyond the project):
the policies' validation, the compliance reports and the OpenAPI's description of the
rules pick it up from the registry.

Each check answers a ``Verdict``: pass, fail or not applicable, the reason in words,
and the figures it used.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, String, and_, case, exists, func, or_, select

from pmo_api.lessons.models import Lesson
from pmo_api.projects.models import Project
from pmo_api.raid.models import Risk, open_risk_clause
from pmo_api.reporting.models import ReportState, StatusReport
from pmo_api.schedule.models import Baseline, Milestone, overdue_clause
from pmo_api.standards.sql import DaysBetween, HoldsCertification, JsonAttribute, MoneyAmount
from pmo_api.training.models import Certification


class Outcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class Verdict(NamedTuple):
    """A check's answer on one project (a tuple: a roll-up makes one per project and
    rule, hundreds of thousands)."""

    outcome: Outcome
    template: str
    """The reason, with the figures' names in braces (``{age_days} days old``): worded
    only when a report shows it (``reason``); a roll-up over thousands of projects
    never does."""
    figures: dict[str, Any]
    """As the check computed them (``plain`` makes them JSON's, for a report)."""

    @property
    def reason(self) -> str:
        return self.template.format_map(self.figures)


def passed(reason: str, **figures: Any) -> Verdict:
    return Verdict(Outcome.PASS, reason, figures)


def failed(reason: str, **figures: Any) -> Verdict:
    return Verdict(Outcome.FAIL, reason, figures)


def not_applicable(reason: str, **figures: Any) -> Verdict:
    return Verdict(Outcome.NOT_APPLICABLE, reason, figures)


def plain(figures: Mapping[str, Any]) -> dict[str, Any]:
    """Figures as JSON shows them: money as a number, days as ISO dates."""
    out: dict[str, Any] = {}
    for name, value in figures.items():
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, uuid.UUID):
            value = str(value)
        out[name] = value
    return out


class Params(BaseModel):
    """A check's params: every one named, with its type; nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _a_number(value: Any) -> Any:
    """A JSON number (14 or 14.0 for a whole one), never a string or a boolean."""
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


Judge = Callable[[Mapping[str, Any], Mapping[str, Any] | None, Any, date], Verdict]
Fails = Callable[[Any, date], ColumnElement[bool]]
"""(the params, today) -> the SQL condition, on ``projects``, of a project the check
fails: what lists filter on (``?compliance=failing``, ``?failing_rule=``). It holds
exactly when the judge answers fail."""
"""(the project's fields, its figures or None, the params, today) -> Verdict."""
FigureQuery = Callable[[Select[Any], Sequence[Any], date], Any]
"""(the subquery of the project ids in scope, every params value used, today) -> a
select of ``project_id`` and the figures (a ``Select`` of as many columns as it has
figures: typed ``Any``, as SQLAlchemy types each width apart)."""


@dataclass(frozen=True)
class Check:
    name: str
    """Its type, as a rule names it (``status_report_fresh``)."""
    description: str
    params: type[Params]
    judge: Judge
    fails: Fails
    figures: FigureQuery | None = None
    moot: Fails | None = None
    """The SQL of a project the check itself does not apply to (no planned budget to
    compare with), for a check judged from the project's own fields alone: a roll-up
    then judges it in SQL (``compliance._judged_outcomes``)."""
    reads: tuple[str, ...] | None = None
    """The project fields its judge reads (None: any): a roll-up selects no others."""


CHECKS: dict[str, Check] = {}
"""Every check, by type."""


def check(
    type: str,
    params: type[Params],
    fails: Fails,
    figures: FigureQuery | None = None,
    *,
    moot: Fails | None = None,
    reads: tuple[str, ...] | None = None,
) -> Callable[[Judge], Judge]:
    """Register the decorated judge as the check ``type`` (its docstring describes it),
    with the SQL condition of a failing project (``fails``); see ``Check``."""

    def register(judge: Judge) -> Judge:
        if type in CHECKS:
            raise ValueError(f"the check {type!r} is registered twice")
        description = (judge.__doc__ or "").strip()
        CHECKS[type] = Check(type, description, params, judge, fails, figures, moot, reads)
        return judge

    return register


# The limits before the validator: they then bind to the number itself, and the
# contract states them (minimum, maximum).
Days = Annotated[
    int, Field(ge=0, le=3650, description="A number of days."), BeforeValidator(_a_number)
]
Count = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_a_number)]
Percent = Annotated[
    float,
    Field(ge=0, le=1000, description="The largest overrun allowed, in %."),
    BeforeValidator(_a_number),
]


def days_between(earlier: date, later: date) -> int:
    return (later - earlier).days


# -- the project's own fields ------------------------------------------------------------------


class NoParams(Params):
    pass


@check("baseline_present", NoParams, lambda _params, _today: Project.baseline_id.is_(None))
def baseline_present(
    project: Mapping[str, Any], _: Mapping[str, Any] | None, params: NoParams, today: date
) -> Verdict:
    """The project has a current baseline (a plan to measure it against)."""
    if project["baseline_id"] is None:
        return failed("The project has no baseline.", baseline_id=None)
    return passed("The project has a baseline.", baseline_id=project["baseline_id"])


PRESENT_FIELDS = (
    "description",
    "manager_id",
    "sponsor_id",
    "methodology",
    "phase",
    "planned_start",
    "planned_end",
    "actual_start",
)
"""The project fields ``field_present`` can ask for (and ``attributes.<name>``)."""


_FIELD_PATTERN = r"^(" + "|".join(PRESENT_FIELDS) + r"|attributes\.[A-Za-z0-9_.:-]{1,100})$"


class FieldParams(Params):
    field: str = Field(
        description=f"One of {', '.join(PRESENT_FIELDS)}, or attributes.<name>.",
        pattern=_FIELD_PATTERN,
    )


def project_value(project: Mapping[str, Any], name: str) -> Any:
    """A project field by name, ``attributes.<name>`` for one of its attributes."""
    if name.startswith("attributes."):
        return (project.get("attributes") or {}).get(name.removeprefix("attributes."))
    return project.get(name)


def _field_missing(params: FieldParams, _today: date) -> ColumnElement[bool]:
    if params.field.startswith("attributes."):
        name = params.field.removeprefix("attributes.")
        kind = JsonAttribute(Project.attributes, name, "type")
        text = JsonAttribute(Project.attributes, name, "string")
        return or_(kind.is_(None), kind == "null", text == "")
    column = Project.__table__.c[params.field]
    if isinstance(column.type, String):
        return or_(column.is_(None), column == "")
    return column.is_(None)


@check("field_present", FieldParams, _field_missing)
def field_present(
    project: Mapping[str, Any], _: Mapping[str, Any] | None, params: FieldParams, today: date
) -> Verdict:
    """A field of the project (or one of its attributes) holds a value."""
    value = project_value(project, params.field)
    if value is None or value == "":
        return failed("{field} is not set.", field=params.field)
    return passed("{field} is set.", field=params.field)


class VarianceParams(Params):
    max_percent: Percent


def _overrun(params: VarianceParams, _today: date) -> ColumnElement[bool]:
    planned, actual = MoneyAmount(Project.planned_budget), MoneyAmount(Project.actual_cost)
    return and_(planned != 0, (actual - planned) * 100 > planned * params.max_percent)


@check(
    "budget_variance",
    VarianceParams,
    _overrun,
    moot=lambda _params, _today: MoneyAmount(Project.planned_budget) == 0,
)
def budget_variance(
    project: Mapping[str, Any], _: Mapping[str, Any] | None, params: VarianceParams, today: date
) -> Verdict:
    """The actual cost exceeds the planned budget by at most ``max_percent`` %."""
    planned: Decimal = project["planned_budget"]
    actual: Decimal = project["actual_cost"]
    if not planned:
        return not_applicable("The project has no planned budget.", planned_budget=planned)
    overrun = (actual - planned) * 100 / planned
    figures = {
        "planned_budget": planned,
        "actual_cost": actual,
        "overrun_percent": round(float(overrun), 2),
        "max_percent": params.max_percent,
    }
    if overrun > Decimal(str(params.max_percent)):
        return failed(
            "The actual cost is {overrun_percent:.2f} % over the planned budget "
            "(at most {max_percent:g} % allowed).",
            **figures,
        )
    return passed("The actual cost is within the allowed variance.", **figures)


# -- figures read for every project at once ------------------------------------------------


class FreshParams(Params):
    days: Days


def _last_report(ids: Select[Any], _: Sequence[Any], today: date) -> Any:
    return (
        select(
            StatusReport.project_id,
            func.max(StatusReport.period_end).label("last_period_end"),
        )
        .where(
            StatusReport.project_id.in_(ids),
            StatusReport.state == ReportState.SUBMITTED,
            StatusReport.archived_at.is_(None),
        )
        .group_by(StatusReport.project_id)
    )


def _stale(params: FreshParams, today: date) -> ColumnElement[bool]:
    return ~exists().where(
        StatusReport.project_id == Project.id,
        StatusReport.state == ReportState.SUBMITTED,
        StatusReport.archived_at.is_(None),
        StatusReport.period_end >= today - timedelta(days=params.days),
    )


@check("status_report_fresh", FreshParams, _stale, _last_report, reads=())
def status_report_fresh(
    project: Mapping[str, Any], figures: Mapping[str, Any] | None, params: FreshParams, today: date
) -> Verdict:
    """The latest submitted status report covers a period that ended at most ``days``
    days ago."""
    last = figures["last_period_end"] if figures else None
    if last is None:
        return failed("No status report has been submitted.", max_days=params.days)
    age = days_between(last, today)
    shown = {"last_period_end": last, "age_days": age, "max_days": params.days}
    if age > params.days:
        return failed(
            "The latest status report is {age_days} days old (at most {max_days}).", **shown
        )
    return passed("The latest status report is {age_days} days old.", **shown)


class ReviewParams(Params):
    count: Count
    days: Days


def _reviews(ids: Select[Any], used: Sequence[Any], today: date) -> Any:
    windows = sorted({params.days for params in used})
    return (
        select(
            Risk.project_id,
            func.count().label("open_risks"),
            *(
                func.sum(
                    case((Risk.last_reviewed_on >= today - timedelta(days=days), 1), else_=0)
                ).label(f"reviewed_{days}")
                for days in windows
            ),
        )
        .where(Risk.project_id.in_(ids), open_risk_clause())
        .group_by(Risk.project_id)
    )


def _unreviewed(params: ReviewParams, today: date) -> ColumnElement[bool]:
    def counted(*conditions: Any) -> Any:
        return (
            select(func.count())
            .where(Risk.project_id == Project.id, open_risk_clause(), *conditions)
            .scalar_subquery()
        )

    reviewed = counted(Risk.last_reviewed_on >= today - timedelta(days=params.days))
    return and_(reviewed < params.count, reviewed < counted())


@check("risks_reviewed", ReviewParams, _unreviewed, _reviews, reads=())
def risks_reviewed(
    project: Mapping[str, Any], figures: Mapping[str, Any] | None, params: ReviewParams, today: date
) -> Verdict:
    """At least ``count`` of the project's open risks were reviewed within ``days`` days
    (all of them, when it has fewer open risks)."""
    open_risks = int(figures["open_risks"]) if figures else 0
    if open_risks == 0:
        return not_applicable("The project has no open risks.", open_risks=0)
    reviewed = int(figures[f"reviewed_{params.days}"] or 0) if figures else 0
    needed = min(params.count, open_risks)
    shown = {
        "open_risks": open_risks,
        "reviewed": reviewed,
        "required": needed,
        "days": params.days,
    }
    if reviewed < needed:
        return failed(
            "{reviewed} of {open_risks} open risks were reviewed within {days} days "
            "({required} required).",
            **shown,
        )
    return passed("{reviewed} open risks were reviewed within {days} days.", **shown)


class SlipParams(Params):
    max_days: Days


def _baseline_end(ids: Select[Any], _: Sequence[Any], today: date) -> Any:
    return select(Project.id.label("project_id"), Baseline.planned_end.label("baseline_end")).where(
        Project.id.in_(ids), Baseline.id == Project.baseline_id
    )


def _slipped(params: SlipParams, _today: date) -> ColumnElement[bool]:
    baseline_end = (
        select(Baseline.planned_end).where(Baseline.id == Project.baseline_id).scalar_subquery()
    )
    return DaysBetween(baseline_end, Project.planned_end) > params.max_days


@check("schedule_slip", SlipParams, _slipped, _baseline_end, reads=("planned_end",))
def schedule_slip(
    project: Mapping[str, Any], figures: Mapping[str, Any] | None, params: SlipParams, today: date
) -> Verdict:
    """The planned end is at most ``max_days`` days after the baseline's."""
    baseline_end = figures["baseline_end"] if figures else None
    planned_end = project["planned_end"]
    if baseline_end is None or planned_end is None:
        return not_applicable(
            "No baseline end date or no planned end date to compare.",
            baseline_end=baseline_end,
            planned_end=planned_end,
        )
    slip = days_between(baseline_end, planned_end)
    shown = {
        "baseline_end": baseline_end,
        "planned_end": planned_end,
        "slip_days": slip,
        "max_days": params.max_days,
    }
    if slip > params.max_days:
        return failed(
            "The planned end is {slip_days} days after the baseline's (at most {max_days}).",
            **shown,
        )
    if slip <= 0:
        return passed("The planned end is not after the baseline's.", **shown)
    return passed("The schedule slipped {slip_days} days.", **shown)


class OverdueParams(Params):
    max_days: Days


def _oldest_overdue(ids: Select[Any], _: Sequence[Any], today: date) -> Any:
    return (
        select(
            Milestone.project_id,
            func.min(Milestone.due_date).label("oldest_due"),
            func.count().label("overdue_milestones"),
        )
        .where(Milestone.project_id.in_(ids), overdue_clause(today))
        .group_by(Milestone.project_id)
    )


def _long_overdue(params: OverdueParams, today: date) -> ColumnElement[bool]:
    return exists().where(
        Milestone.project_id == Project.id,
        overdue_clause(today),
        Milestone.due_date < today - timedelta(days=params.max_days),
    )


@check("milestone_overdue", OverdueParams, _long_overdue, _oldest_overdue, reads=())
def milestone_overdue(
    project: Mapping[str, Any],
    figures: Mapping[str, Any] | None,
    params: OverdueParams,
    today: date,
) -> Verdict:
    """No open milestone is overdue by more than ``max_days`` days."""
    oldest = figures["oldest_due"] if figures else None
    if oldest is None:
        return passed("No milestone is overdue.", overdue_milestones=0)
    late = days_between(oldest, today)
    shown = {
        "overdue_milestones": int(figures["overdue_milestones"]) if figures else 0,
        "oldest_due": oldest,
        "days_overdue": late,
        "max_days": params.max_days,
    }
    if late > params.max_days:
        return failed("A milestone is {days_overdue} days overdue (at most {max_days}).", **shown)
    return passed("The oldest overdue milestone is {days_overdue} days late.", **shown)


class CertifiedParams(Params):
    certification: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00]+$",
        description="The certification's name, as the person's certifications name it.",
    )


def _held(name: str) -> str:
    """The prefix of a certification's figures (its name may be any text)."""
    return "held_" + hashlib.sha256(name.encode()).hexdigest()[:16]


def _manager_certifications(ids: Select[Any], used: Sequence[Any], today: date) -> Any:
    """Per project, for each certification the rules name, the manager's live ones of
    that name: how many, how many never expire, and the latest expiry."""
    names = sorted({params.certification for params in used})
    columns: list[Any] = []
    for name in names:
        named, held = Certification.name == name, _held(name)
        columns += [
            func.sum(case((named, 1), else_=0)).label(f"{held}_count"),
            func.sum(case((and_(named, Certification.expires_on.is_(None)), 1), else_=0)).label(
                f"{held}_lasting"
            ),
            func.max(case((named, Certification.expires_on))).label(f"{held}_until"),
        ]
    return (
        select(Project.id.label("project_id"), *columns)
        .join(Certification, Certification.person_id == Project.manager_id)
        .where(
            Project.id.in_(ids),
            Certification.archived_at.is_(None),
            Certification.name.in_(names),
        )
        .group_by(Project.id)
    )


def _uncertified(params: CertifiedParams, today: date) -> ColumnElement[bool]:
    held = HoldsCertification(
        Certification.__table__, Project.manager_id, params.certification, today
    )
    return or_(Project.manager_id.is_(None), ~held)


@check(
    "manager_certified",
    CertifiedParams,
    _uncertified,
    _manager_certifications,
    reads=("manager_id",),
)
def manager_certified(
    project: Mapping[str, Any],
    figures: Mapping[str, Any] | None,
    params: CertifiedParams,
    today: date,
) -> Verdict:
    """The project's manager holds the certification ``certification``, not expired."""
    wanted = params.certification
    if project["manager_id"] is None:
        return failed("The project names no manager.", certification=wanted)
    held = _held(wanted)
    if not (figures and figures[f"{held}_count"]):
        return failed(
            "The manager does not hold {certification}.",
            certification=wanted,
            manager_id=project["manager_id"],
        )
    if figures[f"{held}_lasting"]:
        return passed("The manager holds {certification}.", certification=wanted)
    until = figures[f"{held}_until"]
    latest = until if isinstance(until, date) else date.fromisoformat(str(until))
    shown = {"certification": wanted, "expires_on": latest}
    if latest < today:
        return failed("The manager's {certification} expired on {expires_on}.", **shown)
    return passed("The manager holds {certification} until {expires_on}.", **shown)


class LessonsParams(Params):
    count: Count = Field(default=1, description="The fewest lessons the project records.")


def _lessons(ids: Select[Any], _: Sequence[Any], today: date) -> Any:
    return (
        select(Lesson.project_id, func.count().label("lessons"))
        .where(Lesson.project_id.in_(ids), Lesson.archived_at.is_(None))
        .group_by(Lesson.project_id)
    )


def _too_few_lessons(params: LessonsParams, _today: date) -> ColumnElement[bool]:
    recorded = (
        select(func.count())
        .where(Lesson.project_id == Project.id, Lesson.archived_at.is_(None))
        .scalar_subquery()
    )
    return recorded < params.count


@check("lessons_recorded", LessonsParams, _too_few_lessons, _lessons, reads=())
def lessons_recorded(
    project: Mapping[str, Any],
    figures: Mapping[str, Any] | None,
    params: LessonsParams,
    today: date,
) -> Verdict:
    """The project records at least ``count`` lessons learned. Before closing: apply it
    to the closing phase or status (``applies_when``), or name it in the gate into the
    closing phase."""
    recorded = int(figures["lessons"]) if figures else 0
    shown = {"lessons": recorded, "required": params.count}
    if recorded < params.count:
        return failed("{lessons} lesson(s) recorded ({required} required).", **shown)
    return passed("{lessons} lesson(s) recorded.", **shown)
