"""Repository for the reporter-side tables (`storage.models_reporter`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cases.ports import IntakeMetaRecord
from storage.models_reporter import CaseIntake


class SqlIntakeMetaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put(self, meta: IntakeMetaRecord) -> None:
        await self._s.merge(
            CaseIntake(
                case_id=meta.case_id,
                involves_handler=meta.involves_handler,
                handler_route=meta.handler_route,
                suggested_category=meta.suggested_category,
                suggested_routing=meta.suggested_routing,
                urgent=meta.urgent,
                rules=",".join(meta.rules),
            )
        )
        await self._s.flush()

    async def get(self, case_id: str) -> IntakeMetaRecord | None:
        row = await self._s.get(CaseIntake, case_id)
        if row is None:
            return None
        return IntakeMetaRecord(
            case_id=row.case_id,
            involves_handler=row.involves_handler,
            handler_route=row.handler_route,
            suggested_category=row.suggested_category,
            suggested_routing=row.suggested_routing,
            urgent=row.urgent,
            rules=tuple(r for r in row.rules.split(",") if r),
        )
