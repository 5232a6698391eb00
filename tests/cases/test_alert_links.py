"""One-time link codes: stored hashed, expire, work once, and a new one replaces the old."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cases.alert_links import AlertLinkService, LinkResult, normalize_code
from cases.runtime import utcnow
from storage.models_notify import AlertLinkCode, OfficerChat
from tests.factories import build_site


async def test_codes_are_hashed_expire_and_replace_each_other(database_url: str) -> None:
    site = await build_site(database_url)
    now = [utcnow()]
    links = AlertLinkService(site.uow, ttl=dt.timedelta(minutes=10), clock=lambda: now[0])  # type: ignore[arg-type]
    session = await site.login("union1")

    first = await links.new_code(session)
    assert first.expires_at == now[0] + dt.timedelta(minutes=10)
    async with site.engine.connect() as conn:
        stored = list(await conn.scalars(select(AlertLinkCode.code_hash)))
    # Attack: a database dump does not show the code.
    assert len(stored) == 1
    assert normalize_code(first.code).encode() not in stored[0]

    second = await links.new_code(session)
    assert await links.link(first.code, 5551, "en") is LinkResult.INVALID  # replaced

    now[0] += dt.timedelta(minutes=10, seconds=1)
    assert await links.link(second.code, 5551, "en") is LinkResult.INVALID  # expired

    third = await links.new_code(session)
    assert await links.link(f" {third.code.lower()} ", 5552, "en") is LinkResult.LINKED
    async with site.engine.connect() as conn:
        chats = list(await conn.execute(select(OfficerChat.chat_id, OfficerChat.language)))
        codes = list(await conn.scalars(select(AlertLinkCode.code_hash)))
    assert [tuple(c) for c in chats] == [(5552, "en")]
    assert codes == []  # used: gone

    assert await links.unlink(session) is True
    assert await links.unlink(session) is False
    await site.engine.dispose()
