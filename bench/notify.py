"""Benchmark: drain 3,000 notifications for 300 chats against the fake Bot API with Telegram's
limits enforced, and print the achieved rate, its ratio to 30/s, 429s received and rows lost.

    .venv/bin/python -m bench.notify [--rows 3000] [--chats 300] [--database-url URL]

A script, not a test: it takes a little over 100 s at 30 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bot.notifier import NotifierLimits
from tests.e2e.notify_rig import notify_rig

LIMIT = 30.0


async def run(rows: int, chats: int, database_url: str) -> None:
    async with notify_rig(database_url, enforce_limits=True) as rig:
        per_chat = rows // chats
        for chat_id in range(900_000, 900_000 + chats):
            case = await rig.reporter_case(chat_id)
            await rig.queue_updates(case.case_id, per_chat)
        queued = per_chat * chats
        notifier = rig.notifier(NotifierLimits(per_second=LIMIT, poll_seconds=0.05))
        started = time.monotonic()
        outcomes = await rig.settle(notifier, timeout=queued / LIMIT * 3 + 60)
        elapsed = time.monotonic() - started
        sends = rig.sends()
        first, last = min(s.time for s in sends), max(s.time for s in sends)
        # Rate over the sending span: n sends take (n - 1) gaps.
        rate = (len(sends) - 1) / (last - first)
        rate_429 = sum(1 for s in rig.sends(ok=False) if s.error_code == 429)
        delivered = sum(1 for o in outcomes.values() if o == "sent")
        print(f"queued:            {queued} rows for {chats} chats")
        print(f"drained in:        {elapsed:.1f} s (first to last send {last - first:.1f} s)")
        print(f"achieved:          {rate:.2f} messages/s")
        print(f"ratio to {LIMIT:.0f}/s:     {rate / LIMIT:.3f}")
        print(f"429s received:     {rate_429}")
        print(f"rows lost:         {queued - delivered}")
        print(f"duplicate sends:   {len(sends) - delivered}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(args.rows, args.chats, url))


if __name__ == "__main__":
    main()
