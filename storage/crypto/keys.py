"""Officer, queue, case and recovery keys (DESIGN §3 *Keys*).

Key hierarchy, from the content up:

    content item ──sealed to──▶ case key ──sealed to──▶ queue key ──sealed to──▶ officer key
                                                                   └──sealed to──▶ recovery key
    officer private key ──wrapped with──▶ HKDF(Argon2id(password), "officer-key")

The server stores only public keys and sealed or wrapped private keys, so nothing at rest opens
a case without an officer's password (P3, P4) or the offline recovery words.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from mnemonic import Mnemonic

from cases.errors import AuthenticationFailed, InvalidInput
from storage.crypto.primitives import (
    Binding,
    KdfCost,
    KeyPair,
    aead_decrypt,
    aead_encrypt,
    argon2id,
    hkdf,
    keypair_from_private,
    mac,
    new_keypair,
    open_sealed,
    random_bytes,
    seal,
)

QUEUE_KEY_KIND = "queue-key"
CASE_KEY_KIND = "case-key"
RECOVERY_HOLDER = "recovery"


@dataclass(frozen=True)
class WrappedOfficerKey:
    """What the database holds for an officer: nothing here opens without the password."""

    public_key: bytes
    salt: bytes
    verifier: bytes
    wrapped_private: bytes
    cost: KdfCost


def _password_key(password: str, salt: bytes, cost: KdfCost) -> bytes:
    return argon2id(password.encode(), salt, cost)


def create_officer_key(officer_id: str, password: str, cost: KdfCost) -> WrappedOfficerKey:
    """A new officer keypair, the private half wrapped under the password."""
    return wrap_officer_key(officer_id, new_keypair(), password, cost)


def wrap_officer_key(
    officer_id: str, keypair: KeyPair, password: str, cost: KdfCost
) -> WrappedOfficerKey:
    """Wrap an existing keypair under a (new) password; used on creation and password change."""
    salt = random_bytes(16)
    k = _password_key(password, salt, cost)
    # The verifier and the wrapping key come from K through different functions, so the
    # stored verifier tells nothing about the wrapping key.
    wrapped = aead_encrypt(hkdf(k, "officer-key"), keypair.private, officer_id.encode())
    return WrappedOfficerKey(keypair.public, salt, mac(k, "verify"), wrapped, cost)


def unlock_officer_key(officer_id: str, wrapped: WrappedOfficerKey, password: str) -> KeyPair:
    """The officer's keypair, or AuthenticationFailed for a wrong password."""
    k = _password_key(password, wrapped.salt, wrapped.cost)
    if not hmac.compare_digest(mac(k, "verify"), wrapped.verifier):
        raise AuthenticationFailed("wrong credentials")
    private = aead_decrypt(hkdf(k, "officer-key"), wrapped.wrapped_private, officer_id.encode())
    return keypair_from_private(private)


# 20 hex digits (80 bits) of SHA-256: short enough to read out to a colleague, long enough
# that nobody can make a second key with the same fingerprint.
_FINGERPRINT_HEX = 20


def officer_key_fingerprint(public_key: bytes) -> str:
    """A short, readable digest of an officer's public key, e.g. `3f2a-9c1e-77b0-d41f-0a5e`.

    The officer reads it from their own session and tells it, in person, to the colleague who
    grants them a queue; the grant is sealed only if it matches. So a key somebody else made
    for the account (an administrator racing the officer to activation) receives nothing.
    """
    digest = hashlib.sha256(b"speakup/v1 officer-key\x00" + public_key).hexdigest()
    short = digest[:_FINGERPRINT_HEX]
    return "-".join(short[i : i + 4] for i in range(0, _FINGERPRINT_HEX, 4))


def fingerprint_matches(given: str, public_key: bytes) -> bool:
    """Whether `given` (any case; spaces, dashes and colons ignored) is this key's fingerprint."""
    typed = "".join(c for c in given.lower() if c not in " -:\t")
    if len(typed) != _FINGERPRINT_HEX or not all(c in "0123456789abcdef" for c in typed):
        return False
    expected = officer_key_fingerprint(public_key).replace("-", "")
    return hmac.compare_digest(typed.encode("ascii"), expected.encode("ascii"))


def seal_queue_key(queue: str, holder: str, holder_public: bytes, queue_private: bytes) -> bytes:
    """Seal a queue's private key to one holder (an officer id, or the recovery key)."""
    return seal(holder_public, queue_private, Binding(queue, QUEUE_KEY_KIND, holder))


def open_queue_key(queue: str, holder: str, holder_private: bytes, sealed: bytes) -> bytes:
    """Open a queue-key grant with the holder's private key."""
    return open_sealed(holder_private, sealed, Binding(queue, QUEUE_KEY_KIND, holder))


def queue_key_pin(public_keys: dict[str, bytes]) -> str:
    """A fingerprint of every queue public key, kept in settings outside the database.

    Queue public keys decide who can read what is sealed next. Someone able to write the
    database could otherwise swap in a key of their own and read every new report, or every old
    one as triage routes it; with the pin configured, a swapped key is refused before use.
    """
    digest = hashlib.sha256(b"speakup/v1 queue-keys")
    for name in sorted(public_keys):
        digest.update(b"\x00" + name.encode() + b"\x00" + public_keys[name])
    return digest.hexdigest()[:32]


def seal_case_key(case_id: str, queue: str, queue_public: bytes, case_private: bytes) -> bytes:
    """Seal a case's private key to a queue that holds the case."""
    return seal(queue_public, case_private, Binding(case_id, CASE_KEY_KIND, queue))


def open_case_key(case_id: str, queue: str, queue_private: bytes, sealed: bytes) -> bytes:
    """Open a case-key grant with the queue's private key."""
    return open_sealed(queue_private, sealed, Binding(case_id, CASE_KEY_KIND, queue))


def seal_item(case_public: bytes, case_id: str, kind: str, item_id: str, plaintext: str) -> bytes:
    """Seal one content item (report text, note, message) to a case or reporter public key."""
    return seal(case_public, plaintext.encode(), Binding(case_id, kind, item_id))


def open_item(private: bytes, case_id: str, kind: str, item_id: str, sealed: bytes) -> str:
    """Open one content item sealed with `seal_item`."""
    return open_sealed(private, sealed, Binding(case_id, kind, item_id)).decode()


# Recovery key: 32 random bytes shown once as 24 BIP-39 words, whose checksum catches typos.
_WORDS = Mnemonic("english")


def new_recovery_key() -> tuple[str, KeyPair]:
    """Fresh recovery words and the keypair they encode. Only the public half is stored."""
    entropy = random_bytes(32)
    return _WORDS.to_mnemonic(entropy), keypair_from_private(entropy)


def recovery_key_from_words(words: str) -> KeyPair:
    """The recovery keypair from its words; InvalidInput if they do not check out."""
    phrase = " ".join(words.lower().split())
    if not _WORDS.check(phrase):
        raise InvalidInput("the recovery words are not valid")
    return keypair_from_private(bytes(_WORDS.to_entropy(phrase)))
