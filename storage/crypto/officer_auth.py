"""The officer's second factor, kept under the password like the officer key (P4).

`K = Argon2id(password, salt)` yields the verifier, the officer-key wrapping key and — here —
a third independent subkey `HKDF(K, "totp")` that wraps the TOTP secret. So the database alone
reveals neither the private key nor the TOTP secret: an attacker with a dump cannot mint codes,
and password guessing offline still costs one Argon2id per guess.
"""

from __future__ import annotations

import datetime as dt
import hmac
import io
import string
from dataclasses import dataclass

import pyotp
import segno

from cases.errors import AuthenticationFailed, InvalidInput
from storage.crypto.keys import WrappedOfficerKey
from storage.crypto.primitives import (
    KdfCost,
    KeyPair,
    aead_decrypt,
    aead_encrypt,
    argon2id,
    hkdf,
    keypair_from_private,
    mac,
    new_keypair,
    random_bytes,
)

ISSUER = "SpeakUp"


@dataclass(frozen=True)
class UnlockedOfficer:
    """The officer keypair and the TOTP wrapping key, both only ever in memory."""

    pair: KeyPair
    totp_key: bytes


def _k(password: str, salt: bytes, cost: KdfCost) -> bytes:
    return argon2id(password.encode(), salt, cost)


def unlock(officer_id: str, wrapped: WrappedOfficerKey, password: str) -> UnlockedOfficer:
    """Check the password; AuthenticationFailed if wrong. One Argon2id run."""
    k = _k(password, wrapped.salt, wrapped.cost)
    if not hmac.compare_digest(mac(k, "verify"), wrapped.verifier):
        raise AuthenticationFailed("wrong credentials")
    private = aead_decrypt(hkdf(k, "officer-key"), wrapped.wrapped_private, officer_id.encode())
    return UnlockedOfficer(keypair_from_private(private), hkdf(k, "totp"))


def wrap(
    officer_id: str, pair: KeyPair, password: str, cost: KdfCost
) -> tuple[WrappedOfficerKey, bytes]:
    """Wrap `pair` under a (new) password; also returns the new TOTP wrapping key."""
    salt = random_bytes(16)
    k = _k(password, salt, cost)
    wrapped = aead_encrypt(hkdf(k, "officer-key"), pair.private, officer_id.encode())
    return WrappedOfficerKey(pair.public, salt, mac(k, "verify"), wrapped, cost), hkdf(k, "totp")


def activate(
    officer_id: str, initial: WrappedOfficerKey, password: str, cost: KdfCost
) -> tuple[WrappedOfficerKey, bytes]:
    """A NEW keypair wrapped under the officer's own password, and its TOTP wrapping key.

    The placeholder key of a new or reset account is wrapped under a password an administrator
    chose; it is dropped, never re-wrapped, so nothing that password (or a database dump taken
    while it was current) opens will ever receive a grant. The initial password is refused as
    the new one: it would leave the administrator able to open the new key. Two Argon2id runs.
    """
    k_initial = _k(password, initial.salt, initial.cost)
    if hmac.compare_digest(mac(k_initial, "verify"), initial.verifier):
        raise InvalidInput("choose a password of your own, not the initial one")
    return wrap(officer_id, new_keypair(), password, cost)


def seal_totp(totp_key: bytes, officer_id: str, secret: str) -> bytes:
    return aead_encrypt(totp_key, secret.encode(), b"totp\x00" + officer_id.encode())


def open_totp(totp_key: bytes, officer_id: str, blob: bytes) -> str:
    return aead_decrypt(totp_key, blob, b"totp\x00" + officer_id.encode()).decode()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def verify_code(secret: str, code: str, at: dt.datetime | None = None) -> bool:
    """RFC 6238, 30 s steps, one step of clock drift either way."""
    return matched_step(secret, code, at or dt.datetime.now(dt.UTC)) is not None


def matched_step(secret: str, code: str, at: dt.datetime) -> int | None:
    """The 30 s time-step whose code `code` is (within one step of `at`), or None.

    The caller remembers the last step it accepted per officer and refuses any step not newer,
    so a code seen once (over a shoulder, in a proxy log) cannot be used again.
    """
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    # ASCII digits of the exact length only: str.isdigit() also accepts Arabic-Indic or
    # full-width digits, and comparing those would raise instead of failing like a wrong code.
    if len(code) != totp.digits or not all(c in string.digits for c in code):
        return None
    given = code.encode("ascii")
    now = totp.timecode(at)
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode("ascii"), given):
            return step
    return None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_png(uri: str) -> bytes:
    """The provisioning URI as a QR code PNG, for an authenticator app to scan."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=6, border=4)
    return out.getvalue()
