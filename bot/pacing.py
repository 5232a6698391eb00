"""Telegram's sending limits, kept on the sender's side so the server never has to refuse.

Windows are measured from when earlier sends *completed* to when the next one *starts*: the
server stamps a request somewhere in between, so however latency varies the server never sees
more than `per_second` sends in any one-second window, nor two sends to a chat closer than
`chat_interval`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `per_second` sends in any 1 s window overall, one per `chat_interval` per chat."""

    def __init__(
        self,
        per_second: float = 30.0,
        chat_interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = max(1, math.floor(per_second))
        self._window = self._capacity / per_second
        self._chat_interval = chat_interval
        self._clock = clock
        self._recent: deque[float] = deque()
        self._chat_ready: dict[int, float] = {}

    def global_ready(self) -> float:
        """The earliest moment another send may start without exceeding the global rate."""
        if len(self._recent) < self._capacity:
            return 0.0
        return self._recent[0] + self._window

    def chat_ready(self, chat_id: int) -> float:
        """The earliest moment the next send to `chat_id` may start."""
        return self._chat_ready.get(chat_id, 0.0)

    def ready_at(self, chat_id: int) -> float:
        return max(self.global_ready(), self.chat_ready(chat_id))

    def sent(self, chat_id: int) -> None:
        """Record a send that has just completed."""
        now = self._clock()
        self._recent.append(now)
        while len(self._recent) > self._capacity:
            self._recent.popleft()
        self._chat_ready[chat_id] = max(
            self._chat_ready.get(chat_id, 0.0), now + self._chat_interval
        )

    def defer(self, chat_id: int, seconds: float) -> None:
        """Hold a chat back (429 retry_after, backoff after an error)."""
        until = self._clock() + seconds
        self._chat_ready[chat_id] = max(self._chat_ready.get(chat_id, 0.0), until)

    def forget_idle(self) -> None:
        """Drop per-chat entries that no longer restrict anything (bounded memory)."""
        now = self._clock()
        for chat_id in [c for c, t in self._chat_ready.items() if t <= now]:
            del self._chat_ready[chat_id]
