"""Rate limits: budgets per API key over a fixed window, counted in Redis, PostgreSQL or
the process itself (``counters.py``). It knows nothing of HTTP; ``api/ratelimit.py``
turns a verdict into headers and a 429."""
