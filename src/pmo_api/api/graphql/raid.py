"""The RAID log over GraphQL: risks, issues and change requests, their mutations, and
the per-request loaders behind the Project type's ``risks``, ``issues``, ``changes``
and ``openRiskCount`` (each one statement for a whole page of projects)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import (
    ChangeErrors,
    CreateErrors,
    parse_model,
)
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.people import Person
from pmo_api.api.graphql.records import ProjectRecord, load_person, record_fields
from pmo_api.api.graphql.relay import (
    Connection,
    LoaderSet,
    keyed_ref,
    list_params,
    uuid_ref,
)
from pmo_api.api.graphql.scalars import Money
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page
from pmo_api.raid import models
from pmo_api.raid import service as raid
from pmo_api.raid.models import ChangeStatus, IssueSeverity, IssueStatus, RiskResponse
from pmo_api.raid.models import RiskStatus as RiskStatus  # the Project type's filter
from pmo_api.raid.schemas import (
    ChangeCreate,
    ChangeDecision,
    ChangeUpdate,
    IssueCreate,
    IssueUpdate,
    RiskCreate,
    RiskUpdate,
)

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

strawberry.enum(RiskStatus, description="open and mitigating risks are OPEN.")
strawberry.enum(RiskResponse, description="The chosen response to a risk.")
strawberry.enum(IssueSeverity, description="How badly an issue hurts the project.")
strawberry.enum(IssueStatus, description="resolved and closed issues carry a resolution.")
strawberry.enum(ChangeStatus, description="proposed, then approved or rejected (once).")

REFERENCES = {"owner_id": "Person"}
PROJECT_ID_DESCRIPTION = "The project's global id, UUID or key."


# -- types -----------------------------------------------------------------------------------


@strawberry.type(description="A risk of a project: score = probability x impact.")
class Risk(ProjectRecord):
    title: str
    description: str | None
    probability: int = strawberry.field(description="1 to 5.")
    impact: int = strawberry.field(description="1 to 5.")
    score: int = strawberry.field(description="probability x impact, 1 to 25.")
    mitigation: str | None
    response: RiskResponse | None
    status: RiskStatus
    last_reviewed_on: date | None

    owner_id: strawberry.Private[UUID | None]

    @strawberry.field(description="Who owns the risk, if anyone.")
    async def owner(self, info: GqlInfo) -> Person | None:
        return await load_person(info, self.owner_id)

    @classmethod
    def from_model(cls, risk: models.Risk) -> Risk:
        return cls(
            **record_fields("Risk", risk),
            title=risk.title,
            description=risk.description,
            probability=risk.probability,
            impact=risk.impact,
            score=risk.score,
            mitigation=risk.mitigation,
            response=risk.response,
            status=risk.status,
            last_reviewed_on=risk.last_reviewed_on,
            owner_id=risk.owner_id,
        )


@strawberry.type(description="An issue of a project: something going wrong now.")
class ProjectIssue(ProjectRecord):
    title: str
    description: str | None
    severity: IssueSeverity
    status: IssueStatus
    resolution: str | None
    resolved_at: datetime | None = strawberry.field(
        description="When the issue was resolved or closed."
    )

    owner_id: strawberry.Private[UUID | None]

    @strawberry.field(description="Who owns the issue, if anyone.")
    async def owner(self, info: GqlInfo) -> Person | None:
        return await load_person(info, self.owner_id)

    @classmethod
    def from_model(cls, issue: models.ProjectIssue) -> ProjectIssue:
        return cls(
            **record_fields("ProjectIssue", issue),
            title=issue.title,
            description=issue.description,
            severity=issue.severity,
            status=issue.status,
            resolution=issue.resolution,
            resolved_at=issue.resolved_at,
            owner_id=issue.owner_id,
        )


@strawberry.type(
    description="A change of a project's budget or schedule; approving it applies it "
    "(planned budget += budgetImpact, planned end += scheduleImpactDays)."
)
class ChangeRequest(ProjectRecord):
    title: str
    description: str | None
    budget_impact: Money = strawberry.field(description="Negative: a saving.")
    schedule_impact_days: int = strawberry.field(description="Negative: an earlier end.")
    status: ChangeStatus
    decided_by: str | None = strawberry.field(description="The API key that decided it.")
    decided_at: datetime | None
    decision_note: str | None

    decided_by_person_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The person the deciding key acts for, if any.")
    async def decided_by_person(self, info: GqlInfo) -> Person | None:
        return await load_person(info, self.decided_by_person_id)

    @classmethod
    def from_model(cls, change: models.ChangeRequest) -> ChangeRequest:
        return cls(
            **record_fields("ChangeRequest", change),
            title=change.title,
            description=change.description,
            budget_impact=Money(change.budget_impact),
            schedule_impact_days=change.schedule_impact_days,
            status=change.status,
            decided_by=change.decided_by,
            decided_at=change.decided_at,
            decision_note=change.decision_note,
            decided_by_person_id=change.decided_by_person_id,
        )


# -- per-request loaders ---------------------------------------------------------------------


class RaidLoaders(LoaderSet):
    """The RAID loaders of one request: records by id (``node``), and per project the
    first page of each list and the open-risk count, each one statement per batch."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.risk = self.nodes("Risk", "risk", raid.get_risks, Risk.from_model)
        self.issue = self.nodes("ProjectIssue", "issue", raid.get_issues, ProjectIssue.from_model)
        self.change = self.nodes(
            "ChangeRequest", "change", raid.get_changes, ChangeRequest.from_model
        )
        self.open_risk_count = self.keyed(raid.open_risk_counts, int, 0)
        self.risks = self.pages(_risk_pages, Risk.from_model)
        self.issues = self.pages(raid.issues_of_projects, ProjectIssue.from_model)
        self.changes = self.pages(raid.changes_of_projects, ChangeRequest.from_model)

    async def risks_of(
        self,
        project_id: UUID,
        first: int | None,
        after: str | None,
        status: list[RiskStatus] | None,
    ) -> Connection[Risk]:
        wanted = tuple(sorted(set(status or ())))
        args: RiskPageArgs = (list_params(first, after, None), wanted)
        return await self.risks.load((project_id, args))

    async def issues_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[ProjectIssue]:
        return await self.issues.load((project_id, list_params(first, after, None)))

    async def changes_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[ChangeRequest]:
        return await self.changes.load((project_id, list_params(first, after, None)))


RiskPageArgs = tuple[ListParams, tuple[RiskStatus, ...]]


async def _risk_pages(
    ctx: ServiceContext, project_ids: list[UUID], args: RiskPageArgs
) -> dict[UUID, Page[models.Risk]]:
    params, status = args
    return await raid.risks_of_projects(ctx, project_ids, params, list(status))


# -- inputs ----------------------------------------------------------------------------------


@strawberry.input(description="A new risk. ownerId takes a global id or a UUID.")
class CreateRiskInput:
    title: str
    probability: int
    impact: int
    description: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    mitigation: str | None = strawberry.UNSET
    response: RiskResponse | None = strawberry.UNSET
    status: RiskStatus | None = strawberry.UNSET
    last_reviewed_on: date | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdateRiskInput:
    title: str | None = strawberry.UNSET
    probability: int | None = strawberry.UNSET
    impact: int | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    mitigation: str | None = strawberry.UNSET
    response: RiskResponse | None = strawberry.UNSET
    status: RiskStatus | None = strawberry.UNSET
    last_reviewed_on: date | None = strawberry.field(
        default=strawberry.UNSET, description="Record a review: its date, not in the future."
    )


@strawberry.input(description="A new issue; a resolved or closed one needs a resolution.")
class CreateIssueInput:
    title: str
    description: str | None = strawberry.UNSET
    severity: IssueSeverity | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    status: IssueStatus | None = strawberry.UNSET
    resolution: str | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdateIssueInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    severity: IssueSeverity | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    status: IssueStatus | None = strawberry.UNSET
    resolution: str | None = strawberry.UNSET


@strawberry.input(description="A proposed change of the project's budget and schedule.")
class ProposeChangeInput:
    title: str
    description: str | None = strawberry.UNSET
    budget_impact: Money | None = strawberry.UNSET
    schedule_impact_days: int | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; only while proposed.")
class UpdateChangeInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    budget_impact: Money | None = strawberry.UNSET
    schedule_impact_days: int | None = strawberry.UNSET


# -- payloads and results --------------------------------------------------------------------


@strawberry.type
class RiskPayload:
    risk: Risk

    @classmethod
    def of(cls, risk: models.Risk) -> RiskPayload:
        return cls(risk=Risk.from_model(risk))


@strawberry.type
class ProjectIssuePayload:
    issue: ProjectIssue

    @classmethod
    def of(cls, issue: models.ProjectIssue) -> ProjectIssuePayload:
        return cls(issue=ProjectIssue.from_model(issue))


@strawberry.type
class ChangeRequestPayload:
    change: ChangeRequest

    @classmethod
    def of(cls, change: models.ChangeRequest) -> ChangeRequestPayload:
        return cls(change=ChangeRequest.from_model(change))


CreateRiskResult = Annotated[RiskPayload | CreateErrors, strawberry.union("CreateRiskResult")]
UpdateRiskResult = Annotated[RiskPayload | ChangeErrors, strawberry.union("UpdateRiskResult")]
ArchiveRiskResult = Annotated[RiskPayload | ChangeErrors, strawberry.union("ArchiveRiskResult")]
CreateIssueResult = Annotated[
    ProjectIssuePayload | CreateErrors, strawberry.union("CreateIssueResult")
]
UpdateIssueResult = Annotated[
    ProjectIssuePayload | ChangeErrors, strawberry.union("UpdateIssueResult")
]
ArchiveIssueResult = Annotated[
    ProjectIssuePayload | ChangeErrors, strawberry.union("ArchiveIssueResult")
]
ProposeChangeResult = Annotated[
    ChangeRequestPayload | CreateErrors, strawberry.union("ProposeChangeResult")
]
UpdateChangeResult = Annotated[
    ChangeRequestPayload | ChangeErrors, strawberry.union("UpdateChangeResult")
]
ApproveChangeResult = Annotated[
    ChangeRequestPayload | ChangeErrors, strawberry.union("ApproveChangeResult")
]
RejectChangeResult = Annotated[
    ChangeRequestPayload | ChangeErrors, strawberry.union("RejectChangeResult")
]

IdArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id or UUID.")]
ProjectArgument = Annotated[strawberry.ID, strawberry.argument(description=PROJECT_ID_DESCRIPTION)]
NoteArgument = Annotated[
    str | None, strawberry.argument(description="Why the change was approved or rejected.")
]


# -- queries and mutations -------------------------------------------------------------------


@strawberry.type
class RaidQuery:
    @strawberry.field(description="One risk by global id or UUID.")
    async def risk(self, info: GqlInfo, id: IdArgument) -> Risk | None:
        risk_id = uuid_ref(id, "Risk")
        return await info.context.loaders.raid.risk.load(risk_id)

    @strawberry.field(description="One project issue by global id or UUID.")
    async def project_issue(self, info: GqlInfo, id: IdArgument) -> ProjectIssue | None:
        issue_id = uuid_ref(id, "ProjectIssue")
        return await info.context.loaders.raid.issue.load(issue_id)

    @strawberry.field(description="One change request by global id or UUID.")
    async def change_request(self, info: GqlInfo, id: IdArgument) -> ChangeRequest | None:
        change_id = uuid_ref(id, "ChangeRequest")
        return await info.context.loaders.raid.change.load(change_id)


@strawberry.type
class RaidMutation:
    @strawberry.mutation(description="Raise a risk on a project (pmo, admin; a manager: own).")
    async def create_risk(
        self, info: GqlInfo, project_id: ProjectArgument, input: CreateRiskInput
    ) -> CreateRiskResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(RiskCreate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: raid.raise_risk(ctx, ref, data), RiskPayload.of
        )

    @strawberry.mutation(
        description="Change the fields sent; a new probability or impact recomputes the score."
    )
    async def update_risk(
        self,
        info: GqlInfo,
        id: IdArgument,
        input: UpdateRiskInput,
        expected_version: int | None = None,
    ) -> UpdateRiskResult:
        risk_id = uuid_ref(id, "Risk")
        patch = parse_model(RiskUpdate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: raid.update_risk(ctx, risk_id, patch, expected_version), RiskPayload.of
        )

    @strawberry.mutation(description="Archive a risk: readable by id, no longer listed.")
    async def archive_risk(
        self, info: GqlInfo, id: IdArgument, expected_version: int | None = None
    ) -> ArchiveRiskResult:
        risk_id = uuid_ref(id, "Risk")
        return await info.context.change(
            lambda ctx: raid.archive_risk(ctx, risk_id, expected_version), RiskPayload.of
        )

    @strawberry.mutation(description="Raise an issue on a project (pmo, admin; a manager: own).")
    async def create_issue(
        self, info: GqlInfo, project_id: ProjectArgument, input: CreateIssueInput
    ) -> CreateIssueResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(IssueCreate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: raid.raise_issue(ctx, ref, data), ProjectIssuePayload.of
        )

    @strawberry.mutation(description="Change the fields sent; resolving needs a resolution.")
    async def update_issue(
        self,
        info: GqlInfo,
        id: IdArgument,
        input: UpdateIssueInput,
        expected_version: int | None = None,
    ) -> UpdateIssueResult:
        issue_id = uuid_ref(id, "ProjectIssue")
        patch = parse_model(IssueUpdate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: raid.update_issue(ctx, issue_id, patch, expected_version),
            ProjectIssuePayload.of,
        )

    @strawberry.mutation(description="Archive an issue: readable by id, no longer listed.")
    async def archive_issue(
        self, info: GqlInfo, id: IdArgument, expected_version: int | None = None
    ) -> ArchiveIssueResult:
        issue_id = uuid_ref(id, "ProjectIssue")
        return await info.context.change(
            lambda ctx: raid.archive_issue(ctx, issue_id, expected_version),
            ProjectIssuePayload.of,
        )

    @strawberry.mutation(description="Propose a change (pmo, admin; a manager: own project).")
    async def propose_change(
        self, info: GqlInfo, project_id: ProjectArgument, input: ProposeChangeInput
    ) -> ProposeChangeResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(ChangeCreate, provided(input))
        return await info.context.change(
            lambda ctx: raid.propose_change(ctx, ref, data), ChangeRequestPayload.of
        )

    @strawberry.mutation(description="Change a proposed change request's fields.")
    async def update_change(
        self,
        info: GqlInfo,
        id: IdArgument,
        input: UpdateChangeInput,
        expected_version: int | None = None,
    ) -> UpdateChangeResult:
        change_id = uuid_ref(id, "ChangeRequest")
        patch = parse_model(ChangeUpdate, provided(input))
        return await info.context.change(
            lambda ctx: raid.update_change(ctx, change_id, patch, expected_version),
            ChangeRequestPayload.of,
        )

    @strawberry.mutation(
        description="Approve a proposed change (pmo, admin) and apply it to "
        "the project's planned budget and planned end. A ConflictError `no_planned_end` "
        "when scheduleImpactDays is not 0 and the project has no planned end."
    )
    async def approve_change(
        self,
        info: GqlInfo,
        id: IdArgument,
        note: NoteArgument = None,
        expected_version: int | None = None,
    ) -> ApproveChangeResult:
        change_id = uuid_ref(id, "ChangeRequest")
        decision = parse_model(ChangeDecision, {"note": note}, "query")
        return await info.context.change(
            lambda ctx: raid.approve_change(ctx, change_id, decision.note, expected_version),
            ChangeRequestPayload.of,
        )

    @strawberry.mutation(description="Reject a proposed change (pmo, admin).")
    async def reject_change(
        self,
        info: GqlInfo,
        id: IdArgument,
        note: NoteArgument = None,
        expected_version: int | None = None,
    ) -> RejectChangeResult:
        change_id = uuid_ref(id, "ChangeRequest")
        decision = parse_model(ChangeDecision, {"note": note}, "query")
        return await info.context.change(
            lambda ctx: raid.reject_change(ctx, change_id, decision.note, expected_version),
            ChangeRequestPayload.of,
        )
