"""The fake Bot API over real HTTP, driven by a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    TelegramObject,
    Update,
)

from bot.devtools.fake_bot_api import FakeBotAPI, FakeUser

TOKEN = "123456:TEST-fake-token"
NOT_MODIFIED_TAIL = (
    "specified new message content and reply markup are exactly the same as a current content "
    "and reply markup of the message"
)
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as api:
        yield api


def make_bot(fake: FakeBotAPI, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


@pytest.fixture
async def alice(fake: FakeBotAPI) -> FakeUser:
    user = fake.user(1001, "Reporter", username="alice")
    await user.send_text("/start")
    return user


async def test_get_me_and_wrong_token(fake: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "speakup_test_bot", True)
    intruder = make_bot(fake, "999:wrong")
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await intruder.get_me()
    await intruder.session.close()
    assert [(r.method, r.ok, r.error_code) for r in fake.requests] == [
        ("getMe", True, None),
        ("getMe", False, 401),
    ]


async def test_raw_http_json_query_and_unknown_method(fake: FakeBotAPI) -> None:
    fake.user(7, "Q")
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/bot{TOKEN}"
        async with http.get(f"{url}/nosuchMethod") as resp:
            body = await resp.json()
        assert (resp.status, body) == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
        )
        async with http.get(f"{url}/getChat?chat_id=7") as resp:
            assert (await resp.json())["result"]["type"] == "private"
        async with http.post(f"{url}/sendChatAction", json={"chat_id": 7, "action": "typing"}) as r:
            body = await r.json()
        # The user never wrote to the bot, so even a chat action is forbidden.
        assert (r.status, body["description"]) == (
            403,
            "Forbidden: bot can't initiate conversation with a user",
        )


async def test_send_round_trip_renders_html(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(
        alice.chat_id, "<b>Hi</b> &lt;you&gt; 😀", parse_mode="HTML", reply_markup=KEYBOARD
    )
    assert sent.text == "Hi <you> 😀"
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == KEYBOARD.model_dump(exclude_none=True)
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 2)]
    entry = fake.bot_messages(alice.chat_id)[-1]
    assert (entry.message_id, entry.text, entry.raw_text, entry.buttons) == (
        sent.message_id,
        "Hi <you> 😀",
        "<b>Hi</b> &lt;you&gt; 😀",
        [[("Go", "go")]],
    )
    assert [e.from_bot for e in fake.chat(alice.chat_id)] == [False, True]
    assert fake.transcript(alice.chat_id) == (
        "👤 Reporter: /start\n🤖 Bot: Hi <you> 😀\n    [buttons: Go]"
    )
    assert fake.rejections == []


async def test_unknown_and_unstarted_chats_are_refused(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(424242, "hi")
    silent = fake.user(2002, "Silent")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(silent.chat_id, "hi")
    assert [(r.chat_id, r.error_code) for r in fake.rejections] == [(424242, 400)]


# One bot per test keeps the file fast: closing an aiogram session sleeps 250 ms.
INVALID_TEXTS = [
    ("", None, "Bad Request: message text is empty"),
    ("<b> </b>", "HTML", "Bad Request: message text is empty"),
    ("x" * 4097, None, "Bad Request: message is too long"),
    ("😀" * 2048 + "x", None, "Bad Request: message is too long"),
    ("a <b & c", "HTML", "Bad Request: can't parse entities: Unclosed start tag"),
    ("<x>y</x>", "HTML", 'Bad Request: can\'t parse entities: Unsupported start tag "x"'),
    ("<b>open", "HTML", "Bad Request: can't parse entities: Can't find end tag"),
    ("Tom &bogus; Jerry", "HTML", 'Bad Request: can\'t parse entities: Character "&"'),
    ("Done.", "MarkdownV2", "Bad Request: can't parse entities: Character '.' is reserved"),
]


async def test_invalid_texts_are_refused(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    for text, parse_mode, description in INVALID_TEXTS:
        with pytest.raises(TelegramBadRequest) as info:
            await bot.send_message(alice.chat_id, text, parse_mode=parse_mode)
        assert info.value.message.startswith(description), (text[:20], info.value.message)
    assert [(r.method, r.error_code) for r in fake.rejections] == [("sendMessage", 400)] * len(
        INVALID_TEXTS
    )
    assert fake.bot_messages(alice.chat_id) == []
    # The boundaries themselves are accepted.
    assert (await bot.send_message(alice.chat_id, "😀" * 2048)).text == "😀" * 2048
    assert (await bot.send_message(alice.chat_id, r"Done\.", parse_mode="MarkdownV2")).text == (
        "Done."
    )
    assert (await bot.send_message(alice.chat_id, "a <b & c")).text == "a <b & c"  # no parse_mode


async def test_invalid_keyboards_are_refused(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    cases = [
        (InlineKeyboardButton(text="A", callback_data="x" * 65), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton(text="A", callback_data="工" * 22), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton(text="", callback_data="a"), "can't parse inline keyboard button"),
    ]
    for button, description in cases:
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        with pytest.raises(TelegramBadRequest, match=description):
            await bot.send_message(alice.chat_id, "pick", reply_markup=markup)
    assert len(fake.rejections) == len(cases)
    ok = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="工" * 21 + "x")]]
    )
    await bot.send_message(alice.chat_id, "pick", reply_markup=ok)  # exactly 64 bytes
    assert fake.bot_messages(alice.chat_id)[0].buttons == [[("A", "工" * 21 + "x")]]


async def test_edit_and_delete_rules(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(
        alice.chat_id, "<b>v1</b>", parse_mode="HTML", reply_markup=KEYBOARD
    )
    with pytest.raises(
        TelegramBadRequest,
        match="^Telegram server says - Bad Request: message is not modified: "
        + NOT_MODIFIED_TAIL
        + "$",
    ):
        await bot.edit_message_text(
            text="<strong>v1</strong>",
            chat_id=alice.chat_id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=KEYBOARD,
        )
    # Editing the text without reply_markup drops the keyboard, as on Telegram.
    await bot.edit_message_text(text="v2", chat_id=alice.chat_id, message_id=sent.message_id)
    entry = fake.bot_messages(alice.chat_id)[0]
    assert (entry.text, entry.buttons, entry.edited) == ("v2", [], True)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=alice.chat_id, message_id=9999)
    assert await bot.delete_message(alice.chat_id, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(alice.chat_id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_reply_markup(
            chat_id=alice.chat_id, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    assert fake.bot_messages(alice.chat_id)[0].deleted is True
    assert "🤖 Bot (edited) (deleted): v2" in fake.transcript(alice.chat_id)
    assert len(fake.rejections) == 4


async def test_rate_limits() -> None:
    async with FakeBotAPI(TOKEN, enforce_limits=True, global_per_second=3) as fake:
        limited = make_bot(fake)
        users = [fake.user(3000 + i, f"U{i}") for i in range(4)]
        for user in users:
            await user.send_text("hi")
        await limited.send_message(users[0].chat_id, "one")
        with pytest.raises(TelegramRetryAfter) as info:
            await limited.send_message(users[0].chat_id, "two")
        assert info.value.retry_after == 1
        await limited.send_message(users[1].chat_id, "one")
        await limited.send_message(users[2].chat_id, "one")
        with pytest.raises(TelegramRetryAfter, match="Too Many Requests: retry after 1"):
            await limited.send_message(users[3].chat_id, "one")
        await limited.session.close()
        assert [r.error_code for r in fake.requests] == [None, 429, None, None, 429]
        assert fake.rejections == []


async def test_fault_injection(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    fake.inject_fault(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    fake.inject_fault(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    fake.inject_fault("sendMessage", status=502, description="Bad Gateway", times=2, chat_id=5)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(alice.chat_id, "a")
    assert info.value.retry_after == 7
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "a")
    await bot.send_message(alice.chat_id, "a")  # the chat-5 fault does not apply here
    fake.user(5, "Five")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(5, "a")
    with pytest.raises(TelegramForbiddenError, match="can't initiate"):
        await bot.send_message(5, "a")  # faults used up; now the real rule applies
    assert [r.error_code for r in fake.requests] == [429, 403, None, 502, 502, 403]
    assert fake.rejections == []


async def test_migrated_group(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    group = fake.group(-100, "Team")
    mid = await group.send_text(alice, "hello")
    await bot.send_message(-100, "ok")
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(-100, mid)
    fake.migrate_to_supergroup(-100, -1001234)
    with pytest.raises(TelegramMigrateToChat) as info:
        await bot.send_message(-100, "again")
    assert info.value.migrate_to_chat_id == -1001234
    await bot.send_message(-1001234, "moved")
    assert [e.text for e in fake.bot_messages(-1001234)] == ["moved"]


async def test_get_updates_offsets_long_poll_and_webhook(
    fake: FakeBotAPI, bot: Bot, alice: FakeUser
) -> None:
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["/start"]
    assert first[0].message is not None
    assert first[0].message.entities is not None
    assert first[0].message.entities[0].type == "bot_command"
    assert await bot.get_updates(timeout=0) == first  # not confirmed yet
    assert await bot.get_updates(offset=first[0].update_id + 1, timeout=0) == []
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(offset=first[0].update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    await alice.send_text("later")
    got = await poll
    assert [u.message.text for u in got if u.message] == ["later"]
    assert loop.time() - started < 2
    await bot.set_webhook("https://example.test/hook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(offset=got[0].update_id + 1, timeout=0) == []


async def test_dispatcher_round_trip_and_duplicate_delivery(fake: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()
    seen: list[int] = []

    async def record(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        seen.append(event.update_id)
        return await handler(event, data)

    dp.update.outer_middleware(record)

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("<b>Welcome</b>, pick:", parse_mode="HTML", reply_markup=KEYBOARD)

    @dp.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Went &amp; done", parse_mode="HTML")
        await query.answer()

    user = fake.user(1001, "Reporter")
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        await user.send_text("/start")
        welcome = await fake.wait_for_bot_message(user.chat_id, timeout=5)
        assert (welcome.text, welcome.buttons) == ("Welcome, pick:", [[("Go", "go")]])
        query_id = await user.press("Go")
        edited = await fake.wait_for_bot_message(user.chat_id, after=welcome.sequence, timeout=5)
        assert (edited.message_id, edited.text, edited.edited) == (
            welcome.message_id,
            "Went & done",
            True,
        )
        for _ in range(50):
            if user.answered(query_id):
                break
            await asyncio.sleep(0.02)
        assert user.answered(query_id)
        with pytest.raises(LookupError, match="no inline button 'Go'"):
            await user.press("Go")  # the edit removed the keyboard
        user.resend_last_update()
        for _ in range(50):
            if fake.rejections:
                break
            await asyncio.sleep(0.02)
        assert seen == [1, 2, 2]
        with pytest.raises(TimeoutError, match="transcript:\n👤 Reporter: /start"):
            await fake.wait_for_bot_message(user.chat_id, after=edited.sequence, timeout=0.1)
    finally:
        await dp.stop_polling()
        await polling
    # The duplicate callback re-ran the handler, whose edit Telegram refuses as a no-op.
    assert [(r.method, r.description) for r in fake.rejections] == [
        ("editMessageText", "Bad Request: message is not modified: " + NOT_MODIFIED_TAIL)
    ]


async def test_misc_methods(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    chat = await bot.get_chat(alice.chat_id)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Reporter", "alice")
    assert await bot.set_my_commands([BotCommand(command="start", description="Begin")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.send_chat_action(alice.chat_id, "typing")
    first = await bot.send_message(alice.chat_id, "one")
    assert await bot.delete_messages(alice.chat_id, [first.message_id, 9999])
    assert fake.bot_messages(alice.chat_id)[0].deleted
    refusals = [
        (bot.set_my_commands([BotCommand(command="Bad-Name", description="x")]), "BOT_COMMAND"),
        (bot.send_chat_action(alice.chat_id, "dancing"), "wrong parameter action"),
        (bot.answer_callback_query("nope"), "query is too old"),
        (bot.send_message(alice.chat_id, "r", reply_to_message_id=first.message_id), "replied"),
    ]
    for call, description in refusals:
        with pytest.raises(TelegramBadRequest, match=description):
            await call
    assert len(fake.rejections) == len(refusals)
    await bot.send_message(
        alice.chat_id,
        "r",
        reply_parameters=ReplyParameters(message_id=9999, allow_sending_without_reply=True),
    )
    alice.blocked = True
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "hi")


async def test_user_side_updates(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    photo = {"file_id": "f1", "file_unique_id": "u1", "width": 1, "height": 1}
    mid = await alice.send_message(photo=[photo], caption="evidence", media_group_id="g1")
    sticker_id = await alice.send_message(
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    )
    await alice.edit_text(sticker_id - 2, "/start again")
    updates = await bot.get_updates(timeout=0)
    assert updates[1].message is not None
    assert updates[1].message.message_id == mid
    assert updates[1].message.caption == "evidence"
    assert updates[1].message.photo is not None
    assert updates[2].message is not None
    assert updates[2].message.sticker is not None
    edited = updates[3].edited_message
    assert edited is not None
    assert (edited.text, edited.message_id) == ("/start again", sticker_id - 2)
    assert fake.transcript(alice.chat_id) == (
        "👤 Reporter (edited): /start again\n👤 Reporter: evidence\n👤 Reporter: [sticker]"
    )


async def test_files_get_file_and_download(fake: FakeBotAPI, bot: Bot, alice: FakeUser) -> None:
    from bot.devtools.fake_files import BOT_DOWNLOAD_LIMIT

    content = b"%PDF-1.4 some bytes"
    await alice.send_document(content, "scan.pdf", "application/pdf", caption="see")
    big = fake.add_file(bytes(BOT_DOWNLOAD_LIMIT + 1), "bin")
    updates = await bot.get_updates()
    document = updates[-1].message.document  # type: ignore[union-attr]
    assert document is not None
    assert document.file_size == len(content)
    downloaded = await bot.download(document.file_id)
    assert downloaded is not None
    assert downloaded.read() == content
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big.file_id)
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/file/botWRONG/{big.path}"
        async with http.get(url) as response:
            assert response.status == 401
