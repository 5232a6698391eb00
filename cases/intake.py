"""The reporter's side: file a report, enable notifications, check status with a receipt.

This service runs in the bot process and holds only public keys (P2): it seals the report to a
fresh case key, seals that case key to the triage queue, and forgets the case private key.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

from cases.attachments import seal_attachment
from cases.categories import CATEGORIES, OTHER, Queue, Severity
from cases.danger import Danger, is_urgent, with_answer
from cases.deadlines import DeadlinePolicy, Deadlines
from cases.errors import InvalidInput, NotFound
from cases.lifecycle import Status
from cases.ports import (
    CaseRecord,
    EventRecord,
    IntakeMetaRecord,
    ItemRecord,
    LinkRecord,
    SiteParams,
    UnitOfWorkFactory,
)
from cases.references import new_id, new_reference
from cases.runtime import Clock, KdfPool, utcnow
from cases.status_view import StatusView, read_status
from cases.triage_rules import TriageEngine, TriageSuggestion, respecting_recusal
from storage.crypto import keys
from storage.crypto.notify import NotifyTarget, seal_link
from storage.crypto.primitives import new_keypair
from storage.crypto.receipts import ReceiptKeys, derive_receipt_keys

REPORT_KIND = "report"
NOTE_KIND = "note"
DEPARTMENT_KIND = "department"
ATTACHMENT_KIND = "attachment"
MAX_REPORT_CHARS = 20_000


class InvolvedHandler(StrEnum):
    """Whose report-handling staff a report involves (DESIGN §4 recusal)."""

    UNION = "union"
    DISCIPLINE = "discipline"


class HandlerRoute(StrEnum):
    """Where a report involving handlers goes instead."""

    UNION = "union"
    DISCIPLINE = "discipline"
    OVERSEER = "overseer"


@dataclass(frozen=True)
class Attachment:
    """A cleaned file: metadata stripped, renamed, within the size limit."""

    filename: str
    mime: str
    content: bytes


class NotifyLevel(StrEnum):
    """How much the reporter is told in the chat (DESIGN §7)."""

    FULL = "full"
    STATUS_ONLY = "status"
    OFF = "off"


@dataclass(frozen=True)
class Draft:
    """A report as the reporter confirmed it."""

    category: str
    text: str
    involves_handler: str | None = None
    handler_route: str | None = None
    department: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # Is anyone in danger right now; None when the reporter was not asked.
    danger: Danger | None = None


@dataclass(frozen=True)
class Submitted:
    """A committed case, as the bot needs it to offer notifications."""

    case_id: str
    reference: str
    reporter_seed: bytes


@dataclass(frozen=True)
class BlurPolicy:
    """P8: new reports reach officers after a random delay, so arrival time says little."""

    max_delay: dt.timedelta = dt.timedelta(minutes=20)

    def visible_after(self, now: dt.datetime, *, urgent: bool = False) -> dt.datetime:
        """When officers may see a new report: after the random delay, or now if urgent.

        Truncated to the minute, so the stored value never carries the second the reporter
        pressed the button (urgent reports skip the delay, not the truncation).
        """
        seconds = int(self.max_delay.total_seconds())
        delay = 0 if urgent or seconds <= 0 else secrets.randbelow(seconds + 1)
        return (now + dt.timedelta(seconds=delay)).replace(second=0, microsecond=0)


class IntakeService:
    """Everything the reporter conversation asks of the domain."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        kdf: KdfPool,
        *,
        notify_key: bytes,
        blur: BlurPolicy,
        clock: Clock = utcnow,
        triage: TriageEngine | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self._triage = triage
        # Only the triage deadline is needed here, so a received case is listed as overdue.
        self._deadlines = deadlines or Deadlines(DeadlinePolicy())
        self._uow = uow
        self._kdf = kdf
        self._notify_key = notify_key
        self._blur = blur
        self._clock = clock
        self._site: SiteParams | None = None

    async def _site_params(self) -> SiteParams:
        if self._site is None:
            async with self._uow() as uow:
                self._site = await uow.site.get()
            if self._site is None:
                raise NotFound("the site is not initialised; run `speakup init`")
        return self._site

    @property
    def uow(self) -> UnitOfWorkFactory:
        return self._uow

    @property
    def clock(self) -> Clock:
        return self._clock

    async def receipt_keys(self, receipt: str) -> ReceiptKeys:
        """Argon2 of the receipt, in the KDF pool so the event loop stays free."""
        return await self._receipt_keys(receipt)

    async def _receipt_keys(self, receipt: str) -> ReceiptKeys:
        site = await self._site_params()
        return await self._kdf.run(
            derive_receipt_keys, receipt, site.receipt_salt, site.receipt_cost
        )

    async def submit(self, draft: Draft, receipt: str) -> Submitted:
        """Commit a confirmed report under `receipt`. Only called after the reporter saved it."""
        if draft.category not in CATEGORIES:
            raise InvalidInput("unknown category")
        if not draft.text.strip() or len(draft.text) > MAX_REPORT_CHARS:
            raise InvalidInput("report text is empty or too long")
        _check_recusal(draft)
        danger = _danger(draft)
        suggestion = self._suggest(draft)
        # The reporter's "someone is in danger" and the rules' urgent flag take the same path.
        urgent = is_urgent(rules_urgent=suggestion.urgent, answer=danger)
        receipt_keys = await self._receipt_keys(receipt)
        now = self._clock()
        # P8 blurs arrival time, except where a life may be at stake: urgent cases at once.
        visible_after = self._blur.visible_after(now, urgent=urgent)
        case_pair = new_keypair()
        case_id, item_id = new_id(), new_id()
        async with self._uow() as uow:
            queues = {q.name: q for q in await uow.site.queues()}
            reference = new_reference()
            while await uow.cases.reference_taken(reference):
                reference = new_reference()
            case = CaseRecord(
                id=case_id,
                reference=reference,
                category=draft.category,
                severity=Severity.URGENT if urgent else Severity.NORMAL,
                status=Status.RECEIVED,
                routing=Queue.TRIAGE,
                received_on=now.date(),
                visible_after=visible_after,
                case_public_key=case_pair.public,
                reporter_public_key=receipt_keys.reporter.public,
                not_accepted_reason=None,
                reporter_unreachable=False,
                holders=(Queue.TRIAGE,),
                due_on=self._deadlines.triage_due(now.date()),
            )
            triage_grant = keys.seal_case_key(
                case_id, Queue.TRIAGE, queues[Queue.TRIAGE].public_key, case_pair.private
            )
            await uow.cases.add(case, receipt_keys.lookup_tag, {Queue.TRIAGE: triage_grant})
            sealed = keys.seal_item(case_pair.public, case_id, REPORT_KIND, item_id, draft.text)
            await uow.cases.add_item(
                ItemRecord(item_id, case_id, 1, REPORT_KIND, sealed, None, None, now.date())
            )
            position = 2
            sealed_extras: list[tuple[str, str, bytes]] = []
            if draft.department:
                item = new_id()
                sealed_extras.append(
                    (
                        item,
                        DEPARTMENT_KIND,
                        keys.seal_item(
                            case_pair.public, case_id, DEPARTMENT_KIND, item, draft.department
                        ),
                    )
                )
            for attachment in draft.attachments:
                item = new_id()
                sealed_extras.append(
                    (
                        item,
                        ATTACHMENT_KIND,
                        seal_attachment(case_pair.public, case_id, item, attachment),
                    )
                )
            for item, kind, sealed_extra in sealed_extras:
                await uow.cases.add_item(
                    ItemRecord(item, case_id, position, kind, sealed_extra, None, None, now.date())
                )
                position += 1
            await uow.cases.add_event(
                EventRecord(new_id(), case_id, position, Status.RECEIVED, now.date(), None, None)
            )
            await uow.intake_meta.put(
                IntakeMetaRecord(
                    case_id=case_id,
                    involves_handler=draft.involves_handler,
                    handler_route=draft.handler_route,
                    suggested_category=suggestion.category,
                    suggested_routing=suggestion.routing.value if suggestion.routing else None,
                    # The rules' flag; the reporter's answer sits with the rule ids.
                    urgent=suggestion.urgent,
                    rules=with_answer(suggestion.rules, danger),
                )
            )
            await uow.commit()
        return Submitted(case_id, reference, receipt_keys.reporter_seed)

    def _suggest(self, draft: Draft) -> TriageSuggestion:
        if self._triage is None:
            return TriageSuggestion(None, None, urgent=False, rules=())
        suggestion = self._triage.suggest(draft.text, draft.category or OTHER)
        # The reporter's recusal answer outranks the rules: never suggest the queue they said
        # is implicated (triage would refuse it anyway).
        return respecting_recusal(suggestion, draft.involves_handler, draft.handler_route)

    async def set_notifications(
        self, case_id: str, level: str, *, chat_id: int, language: str, reporter_seed: bytes
    ) -> None:
        """Store, replace or delete the notify link for a case.

        Opting in again also clears `reporter_unreachable`: the chat that was gone is back (or
        is another one), so officers should no longer read the case as unreachable.
        """
        async with self._uow() as uow:
            if level == NotifyLevel.OFF:
                await uow.outbox.delete_link(case_id)
            else:
                await uow.cases.update(case_id, reporter_unreachable=False)
                # Status-only links hold no reporter seed: the bot could not open officer
                # messages for that chat even if asked.
                seed = reporter_seed if level == NotifyLevel.FULL else None
                target = NotifyTarget(chat_id=chat_id, language=language, reporter_seed=seed)
                sealed = seal_link(self._notify_key, case_id, target)
                await uow.outbox.put_link(LinkRecord(case_id, level, sealed))
            await uow.commit()

    async def status(self, receipt: str) -> StatusView | None:
        """The reporter-visible history of the case a receipt opens, or None."""
        receipt_keys = await self._receipt_keys(receipt)
        async with self._uow() as uow:
            case = await uow.cases.by_lookup_tag(receipt_keys.lookup_tag)
            if case is None:
                return None
            return await read_status(uow, case, receipt_keys.reporter.private)


def _danger(draft: Draft) -> Danger | None:
    try:
        return None if draft.danger is None else Danger(draft.danger)
    except ValueError as error:
        raise InvalidInput("unknown answer to the danger question") from error


def _check_recusal(draft: Draft) -> None:
    """DESIGN §4: a report about union staff or funds goes to discipline; one about discipline
    staff goes to the union or the overseer, as the reporter chose."""
    allowed: dict[str | None, set[str | None]] = {
        None: {None},
        InvolvedHandler.UNION: {HandlerRoute.DISCIPLINE},
        InvolvedHandler.DISCIPLINE: {HandlerRoute.UNION, HandlerRoute.OVERSEER},
    }
    if draft.handler_route not in allowed.get(draft.involves_handler, set()):
        raise InvalidInput("this routing is not allowed for who the report involves")
