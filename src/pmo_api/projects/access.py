"""Object rules for projects: the PMO and admins change any; a manager only their own."""

from __future__ import annotations

import uuid

from pmo_api.core.access import is_staff
from pmo_api.core.context import Principal, Role
from pmo_api.projects.models import Project


def manages(principal: Principal, manager_id: uuid.UUID | None) -> bool:
    return (
        principal.role is Role.MANAGER
        and principal.person_id is not None
        and principal.person_id == manager_id
    )


def can_create(principal: Principal, manager_id: uuid.UUID | None) -> bool:
    return is_staff(principal) or manages(principal, manager_id)


def can_edit(principal: Principal, project: Project) -> bool:
    return is_staff(principal) or manages(principal, project.manager_id)


def can_reassign_manager(principal: Principal) -> bool:
    return is_staff(principal)


def can_archive(principal: Principal, project: Project) -> bool:
    return is_staff(principal)
