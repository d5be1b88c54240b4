"""Schemathesis hooks for the GraphQL contract run (loaded through SCHEMATHESIS_HOOKS).

``Money`` is this schema's own scalar: a JSON number with at most two decimals. Values
come from the whole range a column holds, negative ones included (credit notes,
changes that lower a budget), so refusals of out-of-range money are exercised too.
"""

from __future__ import annotations

from decimal import Decimal

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

MONEY = st.decimals(
    min_value=Decimal("-999999999999.99"),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)

schemathesis.graphql.scalar("Money", MONEY.map(lambda value: nodes.Float(float(value))))
