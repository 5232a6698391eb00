"""Notification delivery figures for administrators: counts only, never content."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import ErrorOut

router = APIRouter(prefix="/notifications", tags=["notifications"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}


class DeliveryStatsOut(BaseModel):
    """Rows per outcome: pending, sent, dead (dead-lettered), unreachable, no_link."""

    reporter: dict[str, int]
    officer_alerts: dict[str, int]
    dead_letters: int


@router.get("/stats", responses=ERRORS)
async def stats(session: OfficerDep, services: ServicesDep) -> DeliveryStatsOut:
    """How many notifications were sent, wait, or were dead-lettered. Administrators only."""
    figures = await services.delivery_stats.stats(session)
    return DeliveryStatsOut(
        reporter=figures.reporter,
        officer_alerts=figures.officer_alerts,
        dead_letters=figures.dead_letters,
    )
