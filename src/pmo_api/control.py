"""Project control: every record type a project keeps, one line each.

Each is declared once in its package (``<package>/declaration.py``, see
``records/declaration.py``); registering it here gives it its REST routes, its
GraphQL type, mutations and ``Project`` connection, and its table in the migrations'
metadata. The order is the contract's: the GraphQL mutations follow it.
"""

from __future__ import annotations

from typing import Any

from pmo_api.assumptions.declaration import ASSUMPTIONS
from pmo_api.finance.declaration import COSTS
from pmo_api.raid.declaration import CHANGES, ISSUES, RISKS
from pmo_api.records.declaration import RecordType
from pmo_api.reporting.declaration import STATUS_REPORTS
from pmo_api.schedule.declaration import BASELINES, DELIVERABLES, MILESTONES
from pmo_api.staffing.declaration import ASSIGNMENTS

PROJECT_RECORDS: tuple[RecordType[Any], ...] = (
    RISKS,
    ISSUES,
    CHANGES,
    MILESTONES,
    DELIVERABLES,
    BASELINES,
    STATUS_REPORTS,
    COSTS,
    ASSIGNMENTS,
    ASSUMPTIONS,
)
