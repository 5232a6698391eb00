"""The reporter's follow-up after filing: how many replies one case takes in a day."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from cases.casework import TriageDecision
from cases.categories import Routing
from cases.errors import ReplyLimitReached
from cases.followup import ReporterFollowUp
from cases.intake import BlurPolicy, IntakeService
from cases.runtime import KdfPool
from cases.status_view import REPLY_KIND
from tests.factories import build_site


async def test_a_case_takes_only_so_many_replies_a_day_whoever_sends_them(
    database_url: str,
) -> None:
    """Given a receipt (anyone holding it, from any number of chats), when replies pile up
    in one day past the cap, then the next is refused and nothing more is stored; the next
    day the case takes replies again."""
    site = await build_site(database_url, officers=False)
    receipt, submitted = await site.file_report()
    followup = ReporterFollowUp(site.intake, replies_per_case_per_day=3)
    for n in range(3):
        assert await followup.reply(receipt, f"reply {n}")
    with pytest.raises(ReplyLimitReached) as refused:
        await followup.reply(receipt, "one too many")
    assert refused.value.limit == 3

    async def stored() -> list[dt.date]:
        async with site.uow() as uow:  # type: ignore[operator]
            items = await uow.cases.items(submitted.case_id)
        return [i.created_on for i in items if i.kind == REPLY_KIND]

    assert len(await stored()) == 3
    # Another case is not affected by this one's cap.
    other_receipt, _ = await site.file_report()
    assert await followup.reply(other_receipt, "a reply elsewhere")
    # The next (UTC) day starts afresh.
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    next_day = IntakeService(
        site.intake.uow,
        KdfPool(1),
        notify_key=site.notify_key,
        blur=BlurPolicy(dt.timedelta(0)),
        clock=lambda: tomorrow,
    )
    assert await ReporterFollowUp(next_day, 3).reply(receipt, "the next day")
    assert sorted(await stored())[-1] == tomorrow.date()
    await site.engine.dispose()


async def test_a_reply_and_an_officer_note_at_the_same_moment_are_both_kept(
    database_url: str,
) -> None:
    """Given a case an officer is working, when the reporter replies while the officer writes
    a note, again and again, then every reply and every note is stored, each at a history
    position of its own (before, the two read the same next position and one failed)."""
    site = await build_site(database_url)
    receipt, submitted = await site.file_report()
    await site.casework.triage(
        await site.login("triage1"), submitted.reference, TriageDecision(routing=Routing.UNION)
    )
    union = await site.login("union1")
    followup = ReporterFollowUp(site.intake)
    rounds = 8
    for n in range(rounds):
        replied, noted = await asyncio.gather(
            followup.reply(receipt, f"reply {n}"),
            site.casework.internal_note(union, submitted.reference, f"note {n}"),
        )
        assert replied is True
        assert noted is None
    async with site.uow() as uow:  # type: ignore[operator]
        items = await uow.cases.items(submitted.case_id)
    kinds = [i.kind for i in items]
    assert kinds.count(REPLY_KIND) == rounds
    assert kinds.count("internal_note") == rounds
    positions = [i.position for i in items]
    assert len(positions) == len(set(positions))
    await site.engine.dispose()
