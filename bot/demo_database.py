"""What the demo shows of the database: one case's rows as stored, and an identity scan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Outbox columns that only matter while a message is still to be sent (retries, a lease).
PENDING_ONLY = ("next_attempt_at", "attempts", "last_error", "parts_sent")


async def case_rows(engine: AsyncEngine, reference: str) -> list[str]:
    """What the database holds for one case, bytes shown as sizes and a hex prefix."""

    def show(value: Any) -> str:
        if isinstance(value, bytes | memoryview):
            raw = bytes(value)
            return f"<{len(raw)} bytes {raw[:12].hex()}…>"
        return str(value)

    out: list[str] = []
    async with engine.connect() as conn:
        case = (
            (await conn.execute(text("SELECT * FROM cases WHERE reference = :r"), {"r": reference}))
            .mappings()
            .one()
        )
        out.append("cases: " + ", ".join(f"{k}={show(v)}" for k, v in case.items()))
        for table in ("case_keys", "case_items", "case_events", "notify_links", "outbox"):
            rows = await conn.execute(
                text(f"SELECT * FROM {table} WHERE case_id = :c"),  # noqa: S608 - fixed names
                {"c": case["id"]},
            )
            for row in rows.mappings():
                shown = {
                    k: v
                    for k, v in row.items()
                    if not (table == "outbox" and row["outcome"] == "sent" and k in PENDING_ONLY)
                }
                out.append(f"{table}: " + ", ".join(f"{k}={show(v)}" for k, v in shown.items()))
    return out


async def identity_leaks(engine: AsyncEngine, needles: list[str]) -> list[str]:
    """Which of the reporter's identifiers appear anywhere in the database (should be none)."""
    found: set[str] = set()
    async with engine.connect() as conn:
        tables = [
            "site",
            "queues",
            "officers",
            "queue_grants",
            "cases",
            "case_keys",
            "case_items",
            "case_events",
            "outbox",
            "notify_links",
            "audit_log",
        ]
        for table in tables:
            for row in await conn.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                blob = " ".join(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                )
                found.update(n for n in needles if n in blob)
    return sorted(found)
