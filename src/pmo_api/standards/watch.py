"""The compliance watch: every live project judged against the rules in force, and
what changed since the last look recorded as events. A project turning non-compliant
is a ``compliance.failed`` event (its failing rules in the change), one complying again
``compliance.passed``; what was found is kept (``compliance_states``) for the next look.

The server looks every ``compliance_watch_seconds`` (one process at a time across
servers sharing PostgreSQL: a transaction-scoped advisory lock), and ``pmo-api
compliance watch`` looks once (for a scheduler). A look costs what the organisation's
compliance report costs: a bounded number of statements, whatever the number of
projects, and one upsert per project whose state changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text, update

from pmo_api.core.context import ServiceContext
from pmo_api.db.instance import set_instance
from pmo_api.events.service import record
from pmo_api.events.types import Event, RecordEvent
from pmo_api.projects.models import Project
from pmo_api.standards.checks import Outcome
from pmo_api.standards.compliance import judge, scoped_projects
from pmo_api.standards.models import ComplianceRecord

log = logging.getLogger("pmo_api.compliance")

FAILED = RecordEvent("compliance", "failed")
PASSED = RecordEvent("compliance", "passed")

LAST_LOOK = "compliance_watch_last_look"
"""The instance setting holding when the watch last looked (ISO 8601, UTC)."""

WATCH_LOCK = 7_100_411
"""The advisory lock key one watching process holds for its look (PostgreSQL)."""


async def look(ctx: ServiceContext) -> tuple[int, int]:
    """One look at every live project (see the module's docstring), in the caller's unit
    of work: (projects judged, events recorded). On PostgreSQL a look that another
    process is making already is skipped: (0, 0)."""
    session = ctx.session
    if session.get_bind().dialect.name == "postgresql":
        held = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": WATCH_LOCK}
        )
        if not held:
            return 0, 0
    projects = await scoped_projects(ctx, Project.archived_at.is_(None))
    judged = await judge(ctx, Project.archived_at.is_(None), projects)
    known = {row.project_id: row for row in (await session.scalars(select(ComplianceRecord))).all()}
    counted = {
        row.id: (row.rules_passed, row.rules_failed)
        for row in await session.execute(
            select(Project.id, Project.rules_passed, Project.rules_failed).where(
                Project.archived_at.is_(None)
            )
        )
    }
    recounts: list[dict[str, Any]] = []
    recorded = 0
    for project in projects:
        verdicts = judged.get(project["id"], [])
        failing = [
            {"policy_key": item.policy["key"], "rule": item.rule.code}
            for item, verdict in verdicts
            if verdict.outcome == Outcome.FAIL
        ]
        passed = sum(verdict.outcome == Outcome.PASS for _, verdict in verdicts)
        if counted.get(project["id"]) != (passed, len(failing)):
            recounts.append({"pid": project["id"], "passed": passed, "failed": len(failing)})
        before = known.get(project["id"])
        compliant = not failing
        if before is not None and before.compliant == compliant and before.failing == failing:
            continue
        was = None if before is None else before.failing
        if not compliant and (before is None or before.compliant):
            await record(
                ctx, Event(FAILED, project["id"], {"failing": {"before": was, "after": failing}})
            )
            recorded += 1
        elif compliant and before is not None and not before.compliant:
            await record(
                ctx, Event(PASSED, project["id"], {"failing": {"before": was, "after": []}})
            )
            recorded += 1
        if before is None:
            session.add(
                ComplianceRecord(
                    project_id=project["id"],
                    compliant=compliant,
                    failing=failing,
                    checked_at=ctx.now,
                )
            )
        else:
            before.compliant, before.failing, before.checked_at = compliant, failing, ctx.now
    if recounts:
        # The rules passed and failed on each project's row, where a rollup sums them
        # (one statement for all, run once per changed project).
        table = cast(Table, Project.__table__)
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("pid"))
            .values(
                rules_passed=bindparam("passed"),
                rules_failed=bindparam("failed"),
                rules_judged_at=ctx.now,
            ),
            recounts,
        )
    await set_instance(session, LAST_LOOK, ctx.now.isoformat())
    await session.flush()
    return len(projects), recorded


async def keep_watching(seconds: float, look_once: Callable[[], Awaitable[Any]]) -> None:
    """Look every ``seconds`` until cancelled; a failed look is logged, the next one
    comes all the same."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await look_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the compliance watch failed; it looks again in %s s", seconds)
