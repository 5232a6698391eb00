"""The bot served as a webhook, behind a load balancer, with the fake Telegram delivering to it.

Telegram POSTs updates to the public URL (the fake balancer on loopback), which hands them to
one or two real bot processes; the fake retries what is not answered 2xx, as Telegram does.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.devtools.fake_balancer import FakeBalancer
from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.fake_webhook import SECRET_HEADER
from bot.devtools.scripted import OfficerClient, ScriptedReporter, has_button, says
from bot.runner import Running, running
from bot.settings import Settings
from tests.conftest import REDIS_URL
from tests.e2e.conftest import (
    TOKEN,
    capture_every_log,
    initialise,
    log_in,
    redis_overrides,
    stack_settings,
)
from tests.e2e.test_walking_skeleton import dump_database

SECRET = "e2e_webhook-Secret-" + "7" * 24
HOOK = "/telegram/updates"
CONCERN = "车间主任把加班费扣下了一半，说是“管理费”。"


@dataclass
class Rig:
    fake: FakeBotAPI
    balancer: FakeBalancer
    bots: list[Running]
    settings: Settings
    officer: OfficerClient

    def reporter(self, user_id: int, first_name: str = "Xiaoming") -> ScriptedReporter:
        user = self.fake.user(user_id, first_name, last_name="Wangsurname", username="wxm_hook")
        return ScriptedReporter(self.fake, user, "zh_CN")

    async def idle(self) -> None:
        """Until every bot process finished the updates it accepted."""
        for app in self.bots:
            assert app.webhook is not None
            await app.webhook.idle()

    async def cases(self) -> list[dict[str, object]]:
        """The cases the triage officer sees."""
        return await self.officer.cases()

    async def report_text(self, reference: str) -> str:
        """The report as the triage officer reads it, decrypted."""
        return str((await self.officer.case(reference))["report"])


@asynccontextmanager
async def webhook_rig(
    database_url: str, data_dir: Path, *, processes: int = 1, **overrides: object
) -> AsyncIterator[Rig]:
    """Fake Telegram → balancer (the public URL) → `processes` bot processes; one admin API."""
    async with FakeBotAPI(TOKEN) as fake, FakeBalancer() as balancer:
        settings = stack_settings(
            fake,
            database_url,
            data_dir,
            webhook_url=balancer.url + HOOK,
            webhook_secret=SECRET,
            webhook_port=0,
            **overrides,
        )
        activated = await initialise(settings)
        async with AsyncExitStack() as stack:
            bots = []
            for number in range(processes):
                app = await stack.enter_async_context(
                    running(settings, with_bot=True, with_api=number == 0)
                )
                assert app.webhook is not None
                balancer.backends.append(app.webhook.address)
                bots.append(app)
            assert bots[0].api_url is not None
            officer = await log_in(bots[0].api_url, "triage1", activated)
            stack.push_async_callback(officer.close)
            yield Rig(fake, balancer, bots, settings, officer)
        assert fake.rejections == [], f"Telegram would have refused: {fake.rejections}"


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log record of every logger down to DEBUG, for the identity scan."""
    with capture_every_log(caplog):
        yield


def assert_no_identity_in_logs(
    caplog: pytest.LogCaptureFixture, reporter: ScriptedReporter, *plaintexts: str
) -> None:
    """P1 over every log line: no reporter identifier, no report text, no secret."""
    logs = "\n".join(r.getMessage() for r in caplog.records)
    user = reporter.user.data
    needles = [str(reporter.user.user_id), user["first_name"], user["last_name"], user["username"]]
    for needle in [*needles, *plaintexts, SECRET, TOKEN]:
        assert needle not in logs, needle


async def test_a_report_filed_through_the_webhook_gets_its_receipt(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_rig(database_url, tmp_path) as rig:
        reporter = rig.reporter(790001)
        filed = await reporter.file_report("rights", "wages", [CONCERN])
        [case] = await rig.cases()
        assert case["reference"] == filed.reference
        assert await rig.report_text(filed.reference) == CONCERN
        dump = await dump_database(rig.bots[0].storage.engine)
    fake = rig.fake
    # Every update came by webhook, with our secret, at the public URL; nobody polled.
    assert (fake.webhook_url, fake.webhook_secret) == (rig.balancer.url + HOOK, SECRET)
    assert {"message", "callback_query"} <= set(fake.webhook_allowed_updates)
    assert fake.webhook_deliveries
    assert all(d.with_secret and d.status == 200 for d in fake.webhook_deliveries)
    calls = [r.method for r in fake.requests]
    assert "getUpdates" not in calls
    # Shutting down left the webhook in place for other processes (and for our restart).
    assert "deleteWebhook" not in calls
    assert calls.count("setWebhook") == 1
    # P1 on the webhook path: the access log names the path only, and nothing names the reporter.
    access = [r.getMessage() for r in caplog.records if r.name == "bot.webhook.access"]
    assert access
    assert all(line.startswith(f"POST {HOOK} 200 ") for line in access)
    assert_no_identity_in_logs(caplog, reporter, CONCERN[:8], filed.receipt.replace(" ", ""))
    for needle in (str(reporter.user.user_id), "Xiaoming", "Wangsurname", "wxm_hook"):
        assert needle not in dump, needle


async def test_a_retried_or_repeated_delivery_is_processed_once(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with webhook_rig(database_url, tmp_path) as rig:
        reporter = rig.reporter(790002)
        await reporter.begin_report("rights", "wages")
        # The bot takes the update, but its answer is lost on the way back (a proxy timeout):
        # Telegram sees 504 and delivers the same update again.
        rig.balancer.lose_answers(1)
        first_id = rig.fake.upcoming_update_id()
        await reporter.say("PART-ONE", has_button(reporter.t("button.done")))
        # Telegram sends the next one twice on purpose (updates go out in order, so the
        # retry of the first one comes before it).
        second_id = rig.fake.upcoming_update_id()
        mark = reporter.mark()
        await reporter.user.send_text("PART-TWO")
        reporter.user.resend_last_update()
        await reporter.expect(has_button(reporter.t("button.done")), mark)
        await reporter.tap("button.done", has_button(reporter.t("button.confirm")))
        await reporter.tap("button.confirm", has_button(reporter.t("button.saved")))
        mark = reporter.mark()
        saved_id = rig.fake.upcoming_update_id()
        await reporter.user.press(reporter.t("button.saved"))
        reporter.user.resend_last_update()
        await reporter.expect(has_button(reporter.t("notify.full")), mark)
        await reporter.tap("notify.off", says(reporter.t("report.clear_chat")[:20]))
        [case] = await rig.cases()
        # Each part once: a second processing of a delivery would have added it again.
        assert await rig.report_text(str(case["reference"])) == "PART-ONE\n\nPART-TWO"
        deliveries = rig.fake.webhook_deliveries
        assert [d.status for d in deliveries if d.update_id == first_id] == [504, 200]
        assert [d.status for d in deliveries if d.update_id == second_id] == [200, 200]
        assert [d.status for d in deliveries if d.update_id == saved_id] == [200, 200]
    assert_no_identity_in_logs(caplog, reporter, "PART-ONE", "PART-TWO")


async def test_forged_posts_without_the_secret_are_refused_and_change_nothing(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An attacker who finds the bot's webhook posts an update claiming to be the reporter:
    text into their draft, with the update id Telegram will use next."""
    async with webhook_rig(database_url, tmp_path) as rig:
        reporter = rig.reporter(790003)
        await reporter.begin_report("rights", "wages")
        sent_before = len(rig.fake.bot_messages(reporter.chat_id))
        next_id = rig.fake.upcoming_update_id()
        forged = {
            "update_id": next_id,
            "message": {
                "message_id": 999_001,
                "date": int(time.time()),
                "chat": {"id": reporter.chat_id, "type": "private", "first_name": "Xiaoming"},
                "from": reporter.user.data,
                "text": "FORGED-注入的内容",
            },
        }
        assert rig.bots[0].webhook is not None
        targets = [rig.bots[0].webhook.address + HOOK, rig.balancer.url + HOOK]
        wrong: list[dict[str, str]] = [{}] + [
            {SECRET_HEADER: v} for v in ("", SECRET[:-1], SECRET + "x", SECRET.upper())
        ]
        async with aiohttp.ClientSession() as http:
            for url in targets:
                for headers in wrong:
                    async with http.post(url, json=forged, headers=headers) as answer:
                        assert answer.status == 401, (url, headers)
                # The secret in the URL instead of the header does not count either.
                async with http.post(f"{url}?secret_token={SECRET}", json=forged) as answer:
                    assert answer.status == 401
        # The real update with that same id is not taken for a duplicate: it is processed.
        assert rig.fake.upcoming_update_id() == next_id
        await reporter.say("REAL-真实内容", has_button(reporter.t("button.done")))
        filed = await reporter.finish_report(notify=False)
        assert await rig.report_text(filed.reference) == "REAL-真实内容"
        # The bot said nothing in reply to the forgeries.
        replies = rig.fake.bot_messages(reporter.chat_id)[sent_before:]
        assert all("FORGED" not in e.text for e in replies)
    refused = [r for r in caplog.records if "secret token refused" in r.getMessage()]
    assert len(refused) == 2 * len(wrong) + 2
    assert_no_identity_in_logs(caplog, reporter, "FORGED", "REAL-")


async def test_two_bot_processes_sharing_redis_make_one_case_of_one_update(
    database_url: str, tmp_path: Path, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """DESIGN §9: two bot processes behind one load balancer. Steps of the conversation land
    on either process; an update handed to both at once is processed by one of them."""
    redis = pytest.importorskip("redis.asyncio")
    async with webhook_rig(
        database_url,
        tmp_path,
        processes=2,
        **redis_overrides(redis_prefix),
    ) as rig:
        reporter = rig.reporter(790004, first_name="Meimei")
        await reporter.begin_report("rights", "wages")
        await reporter.say("ALTERNATING", has_button(reporter.t("button.done")))
        rig.balancer.mirror(1)  # the same update_id reaches both processes at the same moment
        mirrored_id = rig.fake.upcoming_update_id()
        await reporter.say("MIRRORED", has_button(reporter.t("button.done")))
        await rig.idle()  # had the other process taken it too, it would have added it again
        await reporter.tap("button.done", has_button(reporter.t("button.confirm")))
        await reporter.tap("button.confirm", has_button(reporter.t("button.saved")))
        rig.balancer.mirror(1)
        mark = reporter.mark()
        await reporter.user.press(reporter.t("button.saved"))
        await reporter.expect(has_button(reporter.t("notify.full")), mark)
        await reporter.tap("notify.off", says(reporter.t("report.clear_chat")[:20]))
        [case] = await rig.cases()
        assert await rig.report_text(str(case["reference"])) == "ALTERNATING\n\nMIRRORED"
        backends = {backend for backend, _ in rig.balancer.forwarded}
        assert backends == {app.webhook.address for app in rig.bots if app.webhook}
    # Redis holds the ledger: one constant per update id, expiring after Telegram's 24 hours.
    client = redis.from_url(REDIS_URL)
    keys = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}:*")]
    ledger = [k for k in keys if k.startswith(f"{redis_prefix}:update:")]
    assert f"{redis_prefix}:update:{mirrored_id}" in ledger
    for key in ledger:
        assert await client.get(key) == b"1"
        assert dt.timedelta(hours=24) < dt.timedelta(seconds=await client.ttl(key))
    # No key outside the draft storage (its own concern) names the reporter's chat.
    others = [k for k in keys if not k.startswith(f"{redis_prefix}:fsm:")]
    assert all(str(reporter.chat_id) not in k for k in others), others
    await client.aclose()
    assert_no_identity_in_logs(caplog, reporter, "ALTERNATING", "MIRRORED")
