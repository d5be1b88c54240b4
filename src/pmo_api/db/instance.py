"""Per-deployment values kept in the database, shared by every process."""

from __future__ import annotations

import secrets

from sqlalchemy import String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base

CURSOR_SECRET = "cursor_secret"


class InstanceSetting(Base):
    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), nullable=False)


async def cursor_secret(session: AsyncSession) -> bytes:
    """The cursor-signing secret: made once (by the first process to ask), then shared."""
    value = await session.scalar(
        select(InstanceSetting.value).where(InstanceSetting.name == CURSOR_SECRET)
    )
    if value is None:
        value = secrets.token_hex(32)
        session.add(InstanceSetting(name=CURSOR_SECRET, value=value))
        await session.flush()
    return bytes.fromhex(value)


async def set_instance(session: AsyncSession, name: str, value: str) -> None:
    """Keep ``value`` under ``name`` (made or replaced)."""
    found = await session.get(InstanceSetting, name)
    if found is None:
        session.add(InstanceSetting(name=name, value=value))
    else:
        found.value = value


INSTANCE_VALUE = select(InstanceSetting.value).where(
    InstanceSetting.name == bindparam("name", type_=String)
)
"""One instance setting's value, read by name (the bound ``name``)."""
