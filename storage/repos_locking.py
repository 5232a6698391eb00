"""Row claiming shared by the notifier's repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession


def lock_skipping(session: AsyncSession, stmt: Select[Any]) -> Select[Any]:
    """`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers claim disjoint rows; SQLite
    has a single writer and needs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt
