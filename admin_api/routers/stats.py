"""Overseer statistics: counts only, small cells suppressed (P10)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import ErrorOut
from admin_api.schemas_admin import StatsOut

router = APIRouter(prefix="/stats", tags=["stats"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}


@router.get("", responses=ERRORS)
async def stats(session: OfficerDep, services: ServicesDep) -> StatsOut:
    """Cases received before the current month (`as_of`) by queue, category, status, month
    received and handler route; closing figures. The same all month long. Overseer only."""
    return StatsOut.model_validate(asdict(await services.stats.statistics(session)))
