"""The notify link: how the bot finds a reporter's chat again, and nobody else can.

Stored as AES-GCM(notify_key, {chat id, reporter seed, language}) with the case id as
associated data. `notify_key` lives only in the bot process's settings, never in the admin API,
so the database plus the admin API cannot tell which chat filed which case (P1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.crypto.primitives import aead_decrypt, aead_encrypt


@dataclass(frozen=True)
class NotifyTarget:
    """Where and how to tell a reporter. `reporter_seed` is None for status-only links."""

    chat_id: int
    language: str
    reporter_seed: bytes | None


def seal_link(notify_key: bytes, case_id: str, target: NotifyTarget) -> bytes:
    """Encrypt a notify target, bound to its case."""
    body = {
        "chat": target.chat_id,
        "lang": target.language,
        "seed": target.reporter_seed.hex() if target.reporter_seed else None,
    }
    return aead_encrypt(notify_key, json.dumps(body).encode(), case_id.encode())


def open_link(notify_key: bytes, case_id: str, blob: bytes) -> NotifyTarget:
    """Decrypt a notify link; DecryptionError if it belongs to another case or was altered."""
    body = json.loads(aead_decrypt(notify_key, blob, case_id.encode()))
    seed = body.get("seed")
    return NotifyTarget(
        chat_id=int(body["chat"]),
        language=str(body["lang"]),
        reporter_seed=bytes.fromhex(seed) if seed else None,
    )
