"""The reporter after filing: reply to the officers, change notifications — with the receipt."""

from __future__ import annotations

from cases.errors import InvalidInput
from cases.intake import MAX_REPLY_CHARS, REPLY_KIND, IntakeService
from cases.ports import ItemRecord
from cases.references import new_id
from storage.crypto import keys


class ReporterFollowUp:
    """What a reporter does with a receipt after filing: reply to officers, change notices.

    Kept next to IntakeService and sharing its receipt derivation; it only ever seals (to the
    case key and the reporter key), so the bot still cannot read stored content (P2).
    """

    def __init__(self, intake: IntakeService) -> None:
        self._intake = intake

    async def reply(self, receipt: str, text: str) -> bool:
        """Seal a reply to the case key (officers) and the reporter key (their own history)."""
        if not text.strip() or len(text) > MAX_REPLY_CHARS:
            raise InvalidInput(f"a reply has 1 to {MAX_REPLY_CHARS} characters")
        receipt_keys = await self._intake.receipt_keys(receipt)
        today = self._intake.clock().date()
        async with self._intake.uow() as uow:
            case = await uow.cases.by_lookup_tag(receipt_keys.lookup_tag)
            if case is None:
                return False
            item_id = new_id()
            await uow.cases.add_item(
                ItemRecord(
                    id=item_id,
                    case_id=case.id,
                    position=await uow.cases.next_position(case.id),
                    kind=REPLY_KIND,
                    sealed=keys.seal_item(case.case_public_key, case.id, REPLY_KIND, item_id, text),
                    sealed_for_reporter=keys.seal_item(
                        case.reporter_public_key, case.id, REPLY_KIND, item_id, text
                    ),
                    officer_id=None,
                    created_on=today,
                )
            )
            await uow.commit()
        return True

    async def change_notifications(
        self, receipt: str, level: str, *, chat_id: int, language: str
    ) -> bool:
        """Replace the notify link of the case the receipt opens; False for a wrong receipt."""
        receipt_keys = await self._intake.receipt_keys(receipt)
        async with self._intake.uow() as uow:
            case = await uow.cases.by_lookup_tag(receipt_keys.lookup_tag)
        if case is None:
            return False
        await self._intake.set_notifications(
            case.id,
            level,
            chat_id=chat_id,
            language=language,
            reporter_seed=receipt_keys.reporter_seed,
        )
        return True
