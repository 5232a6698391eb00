"""Public case references: 8 random characters, e.g. `K7Q2-9XMD` — never sequential, never time."""

from __future__ import annotations

import secrets

# Crockford-style alphabet without I, L, O, U, 0 and 1, which are misread when typed or spoken.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_reference() -> str:
    """A fresh reference from `secrets`."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_reference(text: str) -> str:
    """Upper-case `k7q29xmd` or `K7Q2-9XMD` to the stored form."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else text.strip().upper()


def new_id() -> str:
    """A random 128-bit internal id as hex: reveals neither order nor time (P8)."""
    return secrets.token_hex(16)
