"""Role rules shared by every domain: who may do what, before object rules apply."""

from __future__ import annotations

from pmo_api.core.context import Principal, Role
from pmo_api.core.errors import Forbidden

STAFF = frozenset({Role.ADMIN, Role.PMO})
WRITERS = frozenset({Role.ADMIN, Role.PMO, Role.MANAGER})


def is_staff(principal: Principal) -> bool:
    """Admins and the PMO write everywhere."""
    return principal.role in STAFF


def require(principal: Principal, allowed: frozenset[Role], action: str) -> None:
    if principal.role not in allowed:
        raise Forbidden(
            code="role_forbidden",
            detail=f"The {principal.role.value} role may not {action}.",
        )


def require_admin(principal: Principal, action: str) -> None:
    require(principal, frozenset({Role.ADMIN}), action)
