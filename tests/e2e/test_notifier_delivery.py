"""The notifier against the fake Bot API with injected faults: every update arrives, once,
within Telegram's limits."""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import update

from bot.notifier import NotifierLimits
from cases.casework import TriageDecision
from cases.categories import Routing
from cases.intake import NotifyLevel
from storage.models import OutboxRow
from tests.e2e.notify_rig import FAST, notify_rig


async def test_429_waits_at_least_retry_after_then_delivers_once(database_url: str) -> None:
    async with notify_rig(database_url) as rig:
        case = await rig.reporter_case(810001)
        [row] = await rig.queue_updates(case.case_id, 1)
        rig.fake.inject_fault(
            "sendMessage", status=429, description="Too Many Requests: retry after 2", retry_after=2
        )
        outcomes = await rig.settle(rig.notifier())
        assert outcomes == {row: "sent"}
        [refused] = rig.sends(ok=False)
        [delivered] = rig.sends()
        assert refused.error_code == 429
        assert delivered.time - refused.time >= 2.0
        assert len(rig.fake.bot_messages(810001)) == 1


async def test_502_three_times_then_delivered_once(database_url: str) -> None:
    async with notify_rig(database_url) as rig:
        case = await rig.reporter_case(810002)
        [row] = await rig.queue_updates(case.case_id, 1)
        rig.fake.inject_fault("sendMessage", status=502, description="Bad Gateway", times=3)
        outcomes = await rig.settle(rig.notifier())
        assert outcomes == {row: "sent"}
        assert [r.error_code for r in rig.sends(ok=False)] == [502, 502, 502]
        assert len(rig.sends()) == 1
        assert len(rig.fake.bot_messages(810002)) == 1
        # Backoff grows: after the n-th failure the next attempt waits at least backoff(n)
        # (0.1, 0.2, 0.4 s), measured from when the fake Bot API saw the failed call — the
        # notifier only starts waiting once it has the answer. A lower bound per attempt holds
        # however slow a loaded machine is; a ratio of two wall-clock gaps does not.
        times = [r.time for r in rig.sends(ok=None)]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        minimums = [FAST.backoff(attempt) for attempt in (1, 2, 3)]
        assert minimums == [0.1, 0.2, 0.4]
        for gap, minimum in zip(gaps, minimums, strict=True):
            assert gap >= minimum, (gaps, minimums)


async def test_dead_letter_after_max_attempts(database_url: str) -> None:
    async with notify_rig(database_url) as rig:
        case = await rig.reporter_case(810003)
        [row] = await rig.queue_updates(case.case_id, 1)
        rig.fake.inject_fault("sendMessage", status=500, description="Internal", times=10)
        limits = NotifierLimits(max_attempts=3, backoff_base=0.05, poll_seconds=0.05)
        outcomes = await rig.settle(rig.notifier(limits))
        assert outcomes == {row: "dead"}
        assert len(rig.sends(ok=False)) == 3
        assert rig.fake.bot_messages(810003) == []


async def test_403_drops_link_marks_case_and_worker_keeps_going(database_url: str) -> None:
    async with notify_rig(database_url) as rig:
        gone = await rig.reporter_case(810004)
        here = await rig.reporter_case(810005)
        rig.fake.user(810004, "Reporter").blocked = True
        [gone_row] = await rig.queue_updates(gone.case_id, 1)
        [here_row] = await rig.queue_updates(here.case_id, 1)
        outcomes = await rig.settle(rig.notifier())
        assert outcomes == {gone_row: "unreachable", here_row: "sent"}
        async with rig.uow() as uow:
            assert await uow.outbox.get_link(gone.case_id) is None
            assert await uow.outbox.get_link(here.case_id) is not None
            gone_case = await uow.cases.by_id(gone.case_id)
            here_case = await uow.cases.by_id(here.case_id)
        assert gone_case is not None
        assert gone_case.reporter_unreachable
        assert here_case is not None
        assert not here_case.reporter_unreachable
        # Later updates of the unreachable case have nobody to go to; nothing is sent.
        [later] = await rig.queue_updates(gone.case_id, 1)
        assert (await rig.settle(rig.notifier()))[later] == "no_link"
        assert len(rig.fake.bot_messages(810005)) == 1


async def test_500_rows_for_50_chats_stay_within_telegram_limits(database_url: str) -> None:
    async with notify_rig(database_url, enforce_limits=True) as rig:
        chats = list(range(820000, 820050))
        for chat_id in chats:
            case = await rig.reporter_case(chat_id)
            # Ten in a row per chat: the worst order for a naive sender.
            await rig.queue_updates(case.case_id, 10)
        started = time.monotonic()
        outcomes = await rig.settle(rig.notifier(NotifierLimits(poll_seconds=0.05)))
        elapsed = time.monotonic() - started
        assert len(outcomes) == 500
        assert set(outcomes.values()) == {"sent"}
        sends = rig.sends()
        assert len(sends) == 500
        assert rig.sends(ok=False) == []  # not one 429
        times = sorted(s.time for s in sends)
        assert all(
            sum(1 for t in times[i : i + 31] if t - times[i] < 1.0) <= 30 for i in range(len(times))
        )
        per_chat: dict[int | None, list[float]] = defaultdict(list)
        for s in sends:
            per_chat[s.chat_id].append(s.time)
        assert sorted(c for c in per_chat if c is not None) == chats
        for chat_times in per_chat.values():
            assert len(chat_times) == 10
            assert all(b - a >= 1.0 for a, b in zip(chat_times, chat_times[1:], strict=False))
        # Close to the limit: 500 messages at 30/s take a little under 17 s.
        assert elapsed < 22


async def test_two_workers_on_postgresql_send_every_row_exactly_once(postgres_url: str) -> None:
    async with notify_rig(postgres_url) as rig:
        chats = list(range(830000, 830050))
        for chat_id in chats:
            case = await rig.reporter_case(chat_id)
            await rig.queue_updates(case.case_id, 10)
        fast = NotifierLimits(per_second=2000, chat_interval=0.0, batch=20, poll_seconds=0.02)
        first, second = rig.notifier(fast), rig.notifier(fast)
        outcomes = await rig.settle(first, second)
        assert set(outcomes.values()) == {"sent"}
        assert len(outcomes) == 500
        assert len(rig.sends()) == 500
        for chat_id in chats:
            assert len(rig.fake.bot_messages(chat_id)) == 10
        # Both workers did part of the work.
        assert first.counters.sent > 0
        assert second.counters.sent > 0
        assert first.counters.sent + second.counters.sent == 500


async def test_long_note_is_split_sent_plain_and_resumes_after_sent_parts(
    database_url: str,
) -> None:
    async with notify_rig(database_url) as rig:
        case = await rig.reporter_case(810006)
        session = await rig.site.login("triage1")
        note = ("<b>工资</b> & <i>加班</i> 😀 " * 200)[:3990]
        await rig.site.casework.triage(
            session, case.reference, TriageDecision(routing=Routing.UNION, note=note)
        )
        # As if a crash happened after Telegram accepted the first part and it was recorded.
        async with rig.site.engine.begin() as conn:
            await conn.execute(update(OutboxRow).values(parts_sent=1))
        outcomes = await rig.settle(rig.notifier(FAST))
        assert set(outcomes.values()) == {"sent"}
        [second_part] = rig.fake.bot_messages(810006)
        assert second_part.parse_mode is None
        assert len(second_part.text) <= 4096
        assert note[-50:] in second_part.text


async def test_long_note_reaches_the_chat_whole(database_url: str) -> None:
    async with notify_rig(database_url) as rig:
        case = await rig.reporter_case(810007)
        session = await rig.site.login("triage1")
        note = ("<b>工资</b> & <i>加班</i> 😀 " * 200)[:3990]
        await rig.site.casework.triage(
            session, case.reference, TriageDecision(routing=Routing.UNION, note=note)
        )
        await rig.settle(rig.notifier(FAST))
        parts = rig.fake.bot_messages(810007)
        assert len(parts) == 2
        assert all(p.parse_mode is None and len(p.text) <= 4096 for p in parts)
        assert note in "".join(p.text for p in parts)


async def test_status_only_message_carries_nothing_the_officer_wrote(database_url: str) -> None:
    """Attack: an officer's note must not reach a chat that chose "status only"."""
    async with notify_rig(database_url) as rig:
        quiet = await rig.reporter_case(810008, NotifyLevel.STATUS_ONLY)
        loud = await rig.reporter_case(810009, NotifyLevel.FULL)
        session = await rig.site.login("triage1")
        secret = "约谈记录 SECRET-NOTE 4417 财务室"
        for case in (quiet, loud):
            await rig.site.casework.triage(
                session, case.reference, TriageDecision(routing=Routing.UNION, note=secret)
            )
        await rig.settle(rig.notifier(FAST))
        [quiet_msg] = rig.fake.bot_messages(810008)
        [loud_msg] = rig.fake.bot_messages(810009)
        assert secret in loud_msg.text  # the control: the note does travel on "full"
        assert quiet.reference in quiet_msg.text
        assert "Accepted" in quiet_msg.text
        for word in secret.split():
            assert word not in quiet_msg.text
