"""Officer alerts: a one-time code to link a Telegram chat (`/link CODE`), and unlinking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import ErrorOut

router = APIRouter(prefix="/alerts", tags=["alerts"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}


class LinkCodeOut(BaseModel):
    """Type `/link <code>` in a private chat with the bot before `expires_at`. Works once."""

    code: str
    expires_at: dt.datetime


@router.post("/link-code", responses=ERRORS)
async def link_code(session: OfficerDep, services: ServicesDep) -> LinkCodeOut:
    """A fresh one-time code for linking your own Telegram chat; earlier codes stop working."""
    issued = await services.alert_links.new_code(session)
    return LinkCodeOut(code=issued.code, expires_at=issued.expires_at)


@router.delete("/link", status_code=204, responses=ERRORS)
async def unlink(session: OfficerDep, services: ServicesDep) -> Response:
    """Stop alerts: forget the chat you linked (nothing happens if none was linked)."""
    await services.alert_links.unlink(session)
    return Response(status_code=204)
