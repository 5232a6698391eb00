"""Receipts (P5) and the reporter key derived from them.

A receipt is 16 random digits, shown once. The database stores only a lookup tag derived from
it through Argon2id with a site salt, so the tag cannot be reversed by trying all 10^16
receipts cheaply, and a reporter key seed the server never stores.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from storage.crypto.primitives import KdfCost, KeyPair, argon2id, hkdf, keypair_from_private, mac

RECEIPT_DIGITS = 16


@dataclass(frozen=True)
class ReceiptKeys:
    """What one receipt unlocks: the lookup tag and the reporter keypair."""

    lookup_tag: bytes
    reporter_seed: bytes

    @property
    def reporter(self) -> KeyPair:
        return reporter_keypair(self.reporter_seed)


def new_receipt() -> str:
    """16 digits from `secrets`, as a plain digit string."""
    return "".join(str(secrets.randbelow(10)) for _ in range(RECEIPT_DIGITS))


def format_receipt(digits: str) -> str:
    """`1234 5678 9012 3456`."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def normalize_receipt(text: str) -> str | None:
    """Digits of a typed receipt (spaces, dashes and full-width digits allowed), or None."""
    digits = "".join(unicodedata.normalize("NFKC", ch) for ch in text if ch not in " -\u3000\t\n")
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def derive_receipt_keys(digits: str, site_salt: bytes, cost: KdfCost) -> ReceiptKeys:
    """R = Argon2id(receipt, site_salt); tag = HMAC(R, "lookup"); seed = HKDF(R, "reporter-key")."""
    r = argon2id(digits.encode(), site_salt, cost)
    return ReceiptKeys(lookup_tag=mac(r, "lookup"), reporter_seed=hkdf(r, "reporter-key"))


def reporter_keypair(seed: bytes) -> KeyPair:
    """The X25519 reporter keypair for a seed."""
    return keypair_from_private(seed)
