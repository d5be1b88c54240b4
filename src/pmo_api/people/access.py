"""Who may change the people directory: the PMO and admins."""

from __future__ import annotations

from pmo_api.core.access import is_staff
from pmo_api.core.context import Principal


def can_edit(principal: Principal) -> bool:
    return is_staff(principal)
