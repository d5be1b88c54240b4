"""Object rules of the RAID log beyond the project's own (projects/control.py)."""

from __future__ import annotations

from pmo_api.core.access import is_staff
from pmo_api.core.context import Principal


def can_decide_change(principal: Principal) -> bool:
    """Only the PMO and admins approve or reject a change request: a manager proposes
    changes to their own project but does not approve them."""
    return is_staff(principal)
