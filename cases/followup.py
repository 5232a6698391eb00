"""The reporter after filing: reply to the officers, change notifications — with the receipt."""

from __future__ import annotations

from cases.errors import Conflict, InvalidInput, ReplyLimitReached
from cases.intake import IntakeService
from cases.ports import CaseRecord, ItemRecord, UnitOfWork
from cases.references import new_id
from cases.status_view import REPLY_KIND
from storage.crypto import keys

# One reply is one Telegram message, and Telegram delivers at most 4096 characters in one; a
# longer text reaches the bot as several messages, each saved as a reply of its own.
MAX_REPLY_CHARS = 4096
# Replies one case takes in a (UTC) day, whichever chats they come from: enough for a
# reporter answering several questions at length, not for filling the case with noise.
REPLIES_PER_CASE_PER_DAY = 30
# Times a reply re-reads a case whose status moved under its claim before giving up.
_CLAIM_ATTEMPTS = 5


class ReporterFollowUp:
    """What a reporter does with a receipt after filing: reply to officers, change notices.

    Kept next to IntakeService and sharing its receipt derivation. It only ever seals, and
    what the reporter writes goes to the case key alone, so the bot cannot read it back (P2).
    """

    def __init__(
        self, intake: IntakeService, replies_per_case_per_day: int = REPLIES_PER_CASE_PER_DAY
    ) -> None:
        self._intake = intake
        self.replies_per_case_per_day = replies_per_case_per_day

    async def reply(self, receipt: str, text: str) -> bool:
        """Seal a reply for the officers; False when the receipt opens no case (any more).

        Sealed to the case key only, like the report: a copy under the reporter key would be
        open to the bot, whose notify links hold the reporter seed (P2). The reporter's history
        shows that they replied and when, not the text. A case takes at most
        `replies_per_case_per_day` replies a day (`ReplyLimitReached`): the per-chat rate
        limits bound the Argon2 work, this bounds what a receipt can pile into one case.
        """
        if not text.strip() or len(text) > MAX_REPLY_CHARS:
            raise InvalidInput(f"a reply has 1 to {MAX_REPLY_CHARS} characters")
        receipt_keys = await self._intake.receipt_keys(receipt)
        today = self._intake.clock().date()
        async with self._intake.uow() as uow:
            case = await _claimed(uow, receipt_keys.lookup_tag)
            if case is None:
                return False
            taken = await uow.cases.count_items(case.id, REPLY_KIND, today)
            if taken >= self.replies_per_case_per_day:
                raise ReplyLimitReached(self.replies_per_case_per_day)
            item_id = new_id()
            await uow.cases.add_item(
                ItemRecord(
                    id=item_id,
                    case_id=case.id,
                    position=await uow.cases.next_position(case.id),
                    kind=REPLY_KIND,
                    sealed=keys.seal_item(case.case_public_key, case.id, REPLY_KIND, item_id, text),
                    sealed_for_reporter=None,
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


async def _claimed(uow: UnitOfWork, lookup_tag: bytes) -> CaseRecord | None:
    """The receipt's case with its row claimed, or None when there is none (any more).

    A reply fits any status, but it takes the case's next history position, like an officer's
    note does: claiming the row first (as every officer step does) makes the two wait for each
    other instead of colliding on the position. A status that moved under the claim is read
    again; the reply is as welcome in the new status.
    """
    for _ in range(_CLAIM_ATTEMPTS):
        case = await uow.cases.by_lookup_tag(lookup_tag)
        if case is None or await uow.cases.claim(case.id, {"status": case.status}):
            return case
    raise Conflict("the case kept changing while the reply was saved")
