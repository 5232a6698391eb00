"""What an authenticated officer carries between requests: identity and unlocked queue keys.

The keys live only here, in memory (P4). `wipe` zeroes the buffers on logout or expiry — best
effort in Python, but it keeps them from lingering in a session store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class OfficerSession:
    """An authenticated officer and the queue private keys their grants opened."""

    officer_id: str
    username: str
    role: str
    queue_keys: dict[str, bytearray] = field(default_factory=dict, repr=False)
    # When each time-limited grant runs out; the key is dropped from the session then.
    grant_expiry: dict[str, dt.datetime] = field(default_factory=dict)
    # Set only between a first login (the initial password) and activation: the session may
    # then only enrol an authenticator and choose the officer's own password.
    enrolment_pending: bool = False
    pending_secret: str | None = field(default=None, repr=False)
    # The fingerprint of the officer's own key, shown to them to tell whoever grants them a
    # queue; None until the account is activated.
    key_fingerprint: str | None = None
    # When the account was activated (own password, new key). A login shows it, and whether it
    # is the first login since, so an officer who never activated the account themselves notices.
    activated_at: dt.datetime | None = None
    first_login_since_activation: bool = False
    # Wrong old passwords given to a password change in this session; past a few the session
    # ends (a stolen token must not be a password-guessing oracle).
    password_failures: int = 0
    # Set when the session was ended from inside (too many wrong old passwords): the session
    # store treats it as gone.
    ended: bool = False

    def queue_key(self, queue: str) -> bytes | None:
        key = self.queue_keys.get(queue)
        return bytes(key) if key is not None else None

    def drop_queue(self, queue: str) -> None:
        key = self.queue_keys.pop(queue, None)
        if key is not None:
            key[:] = bytes(len(key))
        self.grant_expiry.pop(queue, None)

    def drop_expired(self, now: dt.datetime) -> None:
        for queue, until in list(self.grant_expiry.items()):
            if until <= now:
                self.drop_queue(queue)

    def mark_activated(self, fingerprint: str, at: dt.datetime) -> None:
        """The account now has the officer's own key: a full session (with no queue key yet)."""
        self.enrolment_pending = False
        self.pending_secret = None
        self.key_fingerprint = fingerprint
        self.activated_at = at

    def wipe(self) -> None:
        for queue in list(self.queue_keys):
            self.drop_queue(queue)
        self.pending_secret = None

    def end(self) -> None:
        """Wipe the keys now and make the token useless from the next request on."""
        self.wipe()
        self.ended = True
