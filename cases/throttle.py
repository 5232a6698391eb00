"""Failed-login throttling per username, the same for accounts that do and do not exist.

After `free` failures each further failure doubles a waiting period (1 s, 2 s, 4 s … capped).
The state is kept per *username string*, never per account row, so an unknown username is
throttled exactly like a real one and the response reveals nothing about existence. It lives
in this process's memory; several API processes each throttle on their own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from dataclasses import dataclass

from cases.errors import TooManyAttempts


@dataclass
class _State:
    failures: int
    not_before: dt.datetime | None


class LoginThrottle:
    def __init__(
        self, free: int = 5, cap: dt.timedelta = dt.timedelta(minutes=15), size: int = 10_000
    ) -> None:
        self._free = free
        self._cap = cap
        self._size = size
        self._states: OrderedDict[str, _State] = OrderedDict()

    @staticmethod
    def _key(username: str) -> str:
        return username.strip().casefold()

    def check(self, username: str, now: dt.datetime) -> None:
        """TooManyAttempts while the username is in its waiting period."""
        state = self._states.get(self._key(username))
        if state is not None and state.not_before is not None and now < state.not_before:
            raise TooManyAttempts(math.ceil((state.not_before - now).total_seconds()))

    def failed(self, username: str, now: dt.datetime) -> None:
        key = self._key(username)
        state = self._states.pop(key, None) or _State(0, None)
        state.failures += 1
        if state.failures >= self._free:
            delay = dt.timedelta(seconds=2 ** min(state.failures - self._free, 20))
            state.not_before = now + min(delay, self._cap)
        self._states[key] = state
        while len(self._states) > self._size:
            self._states.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._states.pop(self._key(username), None)

    def failures(self, username: str) -> int:
        state = self._states.get(self._key(username))
        return state.failures if state else 0
