"""Lists as the doors show them: each record beside figures that other domains own.

A project list shows each project's open risk count (raid's rule for OPEN); the people
list filters on over-allocation (staffing's query over assignments). These use cases sit
above the domains whose figures they join, so ``projects`` and ``people`` import neither
``raid`` nor ``staffing``.
"""
