"""Fault tests: the service as a separate process, faults injected, a ledger checked.

Every test here is marked ``slow``: ``make test`` skips them, ``pytest -m slow`` (and
``.ci/run``) runs them. Each test prints a one-line summary of what it measured and
adds it to ``faults-report.json`` under pytest's base temporary directory.
"""
