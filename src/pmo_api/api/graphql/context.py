"""The context of one GraphQL operation: the unit of work's ServiceContext, the
per-request DataLoaders, and the two ways a resolver reaches a service.

GraphQL resolves sibling fields concurrently, but one AsyncSession serves one
statement at a time: every service call, loader batches included, goes through
``fetch`` or ``change``, which take turns on a lock. The lock is held only around the
service call and the presenting of its result, never while a loader is awaited.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from strawberry import Info
from strawberry.fastapi import BaseContext

from pmo_api.core.context import ServiceContext
from pmo_api.db.errors import translate_db_errors
from pmo_api.db.transaction import savepoint

if TYPE_CHECKING:
    from pmo_api.api.graphql.loaders import Loaders

M = TypeVar("M")
R = TypeVar("R")


class GraphQLContext(BaseContext):
    def __init__(
        self,
        service: ServiceContext | None,
        make_loaders: type[Loaders],
    ) -> None:
        super().__init__()
        self._service = service
        self._lock = asyncio.Lock()
        self._make_loaders = make_loaders
        self._loaders: Loaders | None = None
        self.unavailable = False
        """Set when a field failed because the database is unreachable: the door answers 503."""
        self.charge: Callable[[int], Awaitable[bool]] | None = None
        """Charges an operation's cost to the caller's rate-limit budget before it runs
        (``cost.py``), answering whether the budget allowed it; set by the door."""

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders, made when a field first needs one (a page whose
        nodes' objects were preloaded never does)."""
        if self._loaders is None:
            self._loaders = self._make_loaders(self)
        return self._loaders

    async def read_nodes(self, type_name: str, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """``Loaders.read_nodes``: nodes by id, read at once, without making the loaders."""
        return await self._make_loaders.read_nodes(self, type_name, ids)

    @property
    def service(self) -> ServiceContext:
        if self._service is None:
            raise RuntimeError("this request carries no operation (GraphiQL page or refusal)")
        return self._service

    async def fetch(
        self, read: Callable[[ServiceContext], Awaitable[M]], present: Callable[[M], R]
    ) -> R:
        """Call one service read and present its result while the session is ours."""
        async with self._lock:
            return present(await read(self.service))

    async def change(
        self, write: Callable[[ServiceContext], Awaitable[M]], present: Callable[[M], R]
    ) -> R:
        """Call one service write in a savepoint: if it raises, nothing of it stays (the
        exception then becomes the mutation's typed error, see errors.py). A write that
        lost a race to another request (its version-guarded UPDATE matched no row) is a
        version mismatch, as over REST."""
        try:
            with translate_db_errors():
                async with self._lock, savepoint(self.service.session):
                    return present(await write(self.service))
        finally:
            # Loaded objects may have changed: later fields read them afresh.
            if self._loaders is not None:
                self._loaders.clear_all()


GqlInfo: TypeAlias = Info[GraphQLContext, None]
