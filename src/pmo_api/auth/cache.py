"""A brief in-process memory of authenticated keys, so most requests skip the key query.

Only successful look-ups are kept (a new key works at once), for ``ttl`` seconds at
most. A revocation made through this process forgets the key at once; another
process sharing the database forgets it within ``ttl`` (PMO_AUTH_CACHE_SECONDS).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pmo_api.core.context import Principal

MAX_ENTRIES = 10_000


@dataclass
class PrincipalCache:
    ttl: float = 5.0
    _entries: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    def get(self, cache_key: str) -> Principal | None:
        entry = self._entries.get(cache_key)
        if entry is None:
            return None
        expires, principal = entry
        if expires < time.monotonic():
            self._entries.pop(cache_key, None)
            return None
        return principal

    def put(self, cache_key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # rare: more live keys than entries; start afresh
        self._entries[cache_key] = (time.monotonic() + self.ttl, principal)

    def forget_key(self, key_id: object) -> None:
        for digest, (_, principal) in list(self._entries.items()):
            if principal.key_id == key_id:
                self._entries.pop(digest, None)


principals = PrincipalCache()
"""The process's cache; the app sets its ttl from the settings at start."""
