"""Clue transfers (线索移交) between the union and discipline queues."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import ErrorOut
from admin_api.schemas_admin import TransferDeclineIn, TransferIn, TransferOut
from cases.transfers import TransferView

router = APIRouter(prefix="/transfers", tags=["transfers"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
TransferId = Annotated[str, Path(min_length=1, max_length=64)]


def _out(view: TransferView) -> TransferOut:
    return TransferOut.model_validate(asdict(view))


@router.get("", responses=ERRORS)
async def list_transfers(
    session: OfficerDep,
    services: ServicesDep,
    direction: Annotated[str | None, Query(pattern="^(incoming|outgoing)$")] = None,
    status: Annotated[str | None, Query(pattern="^(pending|accepted|declined)$")] = None,
    overdue: bool = False,
) -> list[TransferOut]:
    """Transfers to and from your queues, soonest respond-by date first."""
    views = await services.transfers.list_transfers(
        session, direction=direction, status=status, overdue=overdue
    )
    return [_out(view) for view in views]


@router.post("", status_code=201, responses=ERRORS)
async def request_transfer(
    body: TransferIn, session: OfficerDep, services: ServicesDep
) -> TransferOut:
    """Offer a case your queue holds to the other queue; it must accept or decline."""
    view = await services.transfers.request(
        session, body.reference, body.to_queue, body.feedback, body.respond_by
    )
    return _out(view)


@router.post("/{transfer_id}/accept", responses=ERRORS)
async def accept(
    transfer_id: TransferId, session: OfficerDep, services: ServicesDep
) -> TransferOut:
    """Your queue takes the case and becomes one of its holders."""
    return _out(await services.transfers.accept(session, transfer_id))


@router.post("/{transfer_id}/decline", responses=ERRORS)
async def decline(
    transfer_id: TransferId, body: TransferDeclineIn, session: OfficerDep, services: ServicesDep
) -> TransferOut:
    """Your queue refuses the transfer; the reason goes to the sending queue."""
    return _out(await services.transfers.decline(session, transfer_id, body.reason))
