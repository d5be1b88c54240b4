"""The reads of the people directory, readable by every role (derived from the
declaration: ``resources/repository.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_api.people.declaration import PEOPLE

if TYPE_CHECKING:
    from pmo_api.people.models import Person
    from pmo_api.resources.repository import ResourceRepository

    class PersonRepository(ResourceRepository[Person]):
        """The people directory's reads."""

else:
    PersonRepository = PEOPLE.repository
