"""Receipt checks through the real bot: the global cap answers `rate.busy`, and Argon2 work at
the production cost never stalls the other chats (DESIGN §3: KDF in a thread pool)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.container import Storage, setup_service
from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import ScriptedReporter, has_button, says
from bot.runner import running
from bot.settings import Settings
from storage.crypto.primitives import KdfCost, argon2id
from storage.db import migrate
from tests.e2e.conftest import TOKEN, stack_settings

WRONG = "1111 2222 3333 4444"


@asynccontextmanager
async def bot_only(settings: Settings, fake: FakeBotAPI) -> AsyncIterator[None]:
    """A migrated, initialised site (no officers: none are needed) and the bot running."""
    storage = Storage(settings)
    await migrate(storage.engine)
    await setup_service(storage, settings).initialize()
    await storage.close()
    async with running(settings, with_bot=True, with_api=False):
        yield
    assert fake.rejections == []


def reporter(fake: FakeBotAPI, user_id: int, language: str = "en") -> ScriptedReporter:
    locale = "en" if language == "en" else "zh_CN"
    return ScriptedReporter(fake, fake.user(user_id, "Someone", language_code=language), locale)


async def _clear_of_minute_boundary(margin: float = 10.0) -> None:
    """The global cap counts per UTC minute: start a short test well inside one."""
    now = dt.datetime.now(dt.UTC)
    second = now.second + now.microsecond / 1e6
    if second > 60 - margin:
        await asyncio.sleep(60 - second + 0.2)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_global_receipt_check_cap_answers_busy(
    database_url: str, tmp_path: Path, language: str
) -> None:
    async with FakeBotAPI(TOKEN) as fake:
        settings = stack_settings(fake, database_url, tmp_path, receipt_checks_per_minute=2)
        async with bot_only(settings, fake):
            people = [reporter(fake, 776001 + i, language) for i in range(3)]
            for person in people:
                await person.say("/status", says(person.t("status.ask_receipt")[:10]))
            await _clear_of_minute_boundary()
            for person in people[:2]:
                await person.say(WRONG, says(person.t("status.not_found")[:10]))
            # A third chat, which never guessed wrong, is refused before any Argon2 work.
            third = people[2]
            busy = await third.say(WRONG, says(third.t("rate.busy")[:10]))
            assert busy.text == third.t("rate.busy")
            assert has_button(third.t("menu.check_status"))(busy)
            assert not any(
                third.t("status.not_found") in e.text for e in fake.bot_messages(third.chat_id)
            )


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(15):
        while not condition():  # noqa: ASYNC110 - the fake signals no event for deletions
            await asyncio.sleep(0.005)


async def test_bot_answers_help_while_argon2_checks_receipts_at_production_cost(
    database_url: str, tmp_path: Path
) -> None:
    """Given four chats checking receipts at once with Argon2id at the production cost
    (64 MiB, 3 passes), when a fifth chat asks for /help while those derivations run, then
    its answer comes sooner than one derivation takes."""
    production = Settings.model_fields
    cost = KdfCost(
        production["kdf_memory_kib"].default,
        production["kdf_iterations"].default,
        production["kdf_lanes"].default,
    )
    assert cost.memory_kib >= 64 * 1024
    assert cost.iterations >= 3
    started = time.monotonic()
    await asyncio.to_thread(argon2id, b"0" * 16, b"s" * 16, cost)
    one_derivation = time.monotonic() - started

    async with FakeBotAPI(TOKEN) as fake:
        settings = stack_settings(
            fake,
            database_url,
            tmp_path,
            kdf_memory_kib=cost.memory_kib,
            kdf_iterations=cost.iterations,
            kdf_lanes=cost.lanes,
        )
        async with bot_only(settings, fake):
            checkers = [reporter(fake, 776101 + i) for i in range(4)]
            for person in checkers:
                await person.say("/status", says(person.t("status.ask_receipt")[:10]))
            asker = reporter(fake, 776201)
            marks = {p.chat_id: p.mark() for p in checkers}
            typed = [(p.chat_id, await p.user.send_text(WRONG)) for p in checkers]

            def checks_started() -> bool:
                # The bot deletes a typed receipt right before deriving its key.
                entries = {(c, e.message_id): e for c, _ in typed for e in fake.chat(c)}
                return all(entries[key].deleted for key in typed)

            await _until(checks_started)
            help_mark = asker.mark()
            asked_at = time.monotonic()
            await asker.user.send_text("/help")
            helped = await asker.expect(has_button(asker.t("menu.new_report")), help_mark)
            help_latency = time.monotonic() - asked_at
            answers = [
                await p.expect(says(p.t("status.not_found")[:10]), marks[p.chat_id])
                for p in checkers
            ]
            checks_took = time.monotonic() - asked_at

    # With the derivations on the event loop the answer waits for them: several times this.
    assert help_latency < one_derivation, (help_latency, one_derivation)
    assert helped.text
    assert len(answers) == len(checkers)
    # The checks did real work after /help was asked: derivations were still running.
    assert checks_took > one_derivation / 2
