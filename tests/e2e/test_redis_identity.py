"""P1 for Redis, as an attack: while a reporter files a report (with a photo) and checks its
status through the running bot with Redis as the conversation store, and after the bot has
stopped, whoever reads every key and value in that Redis database must find none of the
reporter's identifiers, nothing of the report, and no record left once the reporter is done."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from bot.devtools.fake_bot_api import FakeBotAPI
from bot.devtools.scripted import RECEIPT_RE, ScriptedReporter, has_button, says
from bot.runner import running
from tests.cases.test_cleaning import NAME, jpeg_with_gps
from tests.e2e.conftest import TOKEN, initialise, redis_overrides, stack_settings

CONCERN = "REDIS-SCAN 食堂承包商每月给行政科长送购物卡"


async def dump(client: Any) -> dict[bytes, bytes]:
    """Every key of the whole database (not only our prefix) with its value.

    Strings are read as they are (DUMP would compress them, hiding a plaintext match).
    """
    found = {}
    async for key in client.scan_iter():
        if await client.type(key) == b"string":
            found[key] = (await client.get(key)) or b""
        else:
            found[key] = (await client.dump(key)) or b""
    return found


async def test_redis_holds_no_identity_and_nothing_once_the_reporter_is_done(
    database_url: str, tmp_path: Path, redis: tuple[Any, str]
) -> None:
    client, prefix = redis
    user_id = 6_000_000_000 + secrets.randbelow(999_999_999)
    first, last, username = "Rediswei", "Hashsurname", f"rds_{secrets.token_hex(3)}"
    photo = jpeg_with_gps()
    async with FakeBotAPI(TOKEN) as fake:
        settings = stack_settings(
            fake,
            database_url,
            tmp_path,
            **redis_overrides(prefix),
        )
        await initialise(settings)
        user = fake.user(user_id, first, last_name=last, username=username, language_code="zh-hans")
        r = ScriptedReporter(fake, user, "zh_CN")
        snapshots: list[dict[bytes, bytes]] = []
        async with running(settings, with_bot=True, with_api=False):
            await r.begin_report("integrity", "bribery")
            snapshots.append(await dump(client))
            await r.say(CONCERN, has_button(r.t("button.done")))
            mark = r.mark()
            await r.user.send_photo(photo, caption="CAPTION-仓库门口")
            await r.expect(has_button(r.t("button.done")), mark)
            snapshots.append(await dump(client))
            await r.tap("button.done", has_button(r.t("button.confirm")))
            snapshots.append(await dump(client))
            receipt_message = await r.tap("button.confirm", has_button(r.t("button.saved")))
            snapshots.append(await dump(client))  # the receipt is in the draft now
            await r.tap("button.saved", has_button(r.t("notify.full")))
            snapshots.append(await dump(client))
            await r.tap("notify.off", says(r.t("report.clear_chat")[:20]))
            # The report is filed and the conversation reset: nothing of it stays in Redis.
            assert [k async for k in client.scan_iter(match=f"{prefix}:fsm:*")] == []
            found = RECEIPT_RE.search(receipt_message.text)
            assert found is not None
            digits = found.group(0).replace(" ", "")
            await r.say("/status", says(r.t("status.ask_receipt")[:10]))
            await r.say(found.group(0), has_button(r.t("status.reply_button")))
            snapshots.append(await dump(client))  # viewing the status: the receipt again
            await r.say("/start", has_button(r.t("menu.new_report")))
            assert [k async for k in client.scan_iter(match=f"{prefix}:fsm:*")] == []
        snapshots.append(await dump(client))
        assert fake.rejections == []

    drafts = f"{prefix}:fsm:".encode()
    ours = [{k: v for k, v in snap.items() if k.startswith(drafts)} for snap in snapshots]
    # Not an empty store: the draft was in Redis at every step before filing. (The update
    # ledger and the isolation locks share the prefix; they are scanned like the rest.)
    assert all(ours[:5])
    identifiers = [str(user_id), first, last, username, f"@{username}", NAME, "PhoneMaker"]
    contents = [CONCERN[:10], "购物卡", "CAPTION-", digits, digits[:8], "ReportFlow", "StatusFlow"]
    chunk = photo[len(photo) // 2 : len(photo) // 2 + 32]
    for snapshot in snapshots:
        for key, value in snapshot.items():
            for needle in identifiers + contents:
                assert needle.encode() not in key, needle
                assert needle.encode() not in value, (needle, key)
            assert chunk not in value
            if key.startswith(drafts):
                # `<prefix>:fsm:<keyed hash>`: nothing else in the name.
                assert len(key.removeprefix(drafts)) == 64
