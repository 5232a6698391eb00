"""The reporter's chat in the demo, told in order: each message as it appeared, each screen the
bot edited in place, each button the reporter tapped, each message the bot deleted.

The fake Telegram keeps only the current version of a message, so a transcript read at the end
would show a menu already edited into the next step, and no tap at all. This records the chat
while the scenario plays: it catches up before every tap, and once more at the end.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.devtools.fake_bot_api import ChatEntry, FakeBotAPI, FakeUser
from bot.devtools.scripted import ScriptedReporter
from handlers.i18n import CatalogI18n


class Transcript:
    """A running log of one chat."""

    def __init__(self, fake: FakeBotAPI, chat_id: int) -> None:
        self._fake = fake
        self._chat_id = chat_id
        self._seen: dict[int, ChatEntry] = {}
        self.lines: list[str] = []

    def catch_up(self) -> None:
        """Record what changed in the chat since the last call."""
        entries = sorted(self._fake.chat(self._chat_id), key=lambda e: e.sequence)
        for entry in entries:  # deletions of what was shown before come first: no new sequence
            before = self._seen.get(entry.message_id)
            if before is not None and entry.deleted and not before.deleted:
                self._deleted(entry)
        for entry in entries:
            before = self._seen.get(entry.message_id)
            if before is None:
                self._show(entry, edited=False)
                if entry.deleted:
                    self._deleted(entry)
            elif entry.sequence != before.sequence:
                self._show(entry, edited=True)
            self._seen[entry.message_id] = entry

    def action(self, text: str) -> None:
        """Something the reporter did that leaves no message (a tap), in its place."""
        self.catch_up()
        self.lines.append(f"👆 {text}")

    def note(self, text: str) -> None:
        """What happened meanwhile outside the chat, as a stage direction."""
        self.catch_up()
        self.lines.append(f"   ({text})")

    def text(self) -> str:
        self.catch_up()
        return "\n".join(self.lines)

    def _show(self, entry: ChatEntry, *, edited: bool) -> None:
        who = "🤖 Bot" if entry.from_bot else f"👤 {entry.from_name}"
        if edited:
            who += " (edits the same message in place)"
        self.lines.append(f"{who}: " + entry.text.replace("\n", "\n    "))
        self.lines.extend(
            "    [buttons: " + " | ".join(text for text, _ in row) + "]" for row in entry.buttons
        )

    def _deleted(self, entry: ChatEntry) -> None:
        whose = "its message" if entry.from_bot else "the reporter's message"
        first = entry.text.strip().splitlines()[0] if entry.text.strip() else ""
        first = first if len(first) <= 24 else first[:24] + "…"
        self.lines.append(f"   ✂ the bot deletes {whose} “{first}”")


class NarratedReporter(ScriptedReporter):
    """A scripted reporter whose taps go into a `Transcript`."""

    def __init__(
        self,
        fake: FakeBotAPI,
        user: FakeUser,
        locale: str,
        transcript: Transcript,
        i18n: CatalogI18n | None = None,
    ) -> None:
        super().__init__(fake, user, locale, i18n)
        self.transcript = transcript

    async def tap(self, label_key: str, then: Callable[[ChatEntry], bool]) -> ChatEntry:
        self.transcript.action(f"Reporter taps: {self.t(label_key)}")
        return await super().tap(label_key, then)
