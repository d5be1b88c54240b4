"""The reads of the people directory, readable by every role (derived from the
declaration: ``resources/repository.py``)."""

from __future__ import annotations

from typing import Any

from pmo_api.people.declaration import PEOPLE

PersonRepository: Any = PEOPLE.repository
