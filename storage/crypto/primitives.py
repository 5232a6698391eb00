"""Cryptographic building blocks, each used the one way SpeakUp needs it.

HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM seals
content to a public key. The HPKE `info` carries a `Binding` so a ciphertext opens only in the
place it was written for (P7): moving it to another row, kind or case makes it fail.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cases.errors import DecryptionError

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_NONCE_BYTES = 12
KEY_BYTES = 32


@dataclass(frozen=True)
class Binding:
    """Where a sealed item lives: (scope, kind, item id). Scope is a case id or a queue name."""

    scope: str
    kind: str
    item_id: str

    def info(self) -> bytes:
        # NUL cannot occur in our ids or kinds, so the encoding is unambiguous.
        return b"\x00".join((b"speakup/v1", *(p.encode() for p in self.as_tuple())))

    def as_tuple(self) -> tuple[str, str, str]:
        return (self.scope, self.kind, self.item_id)


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost. Production: 64 MiB, 3 passes; tests use a low cost to stay fast."""

    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 1


@dataclass(frozen=True)
class KeyPair:
    """Raw X25519 key bytes. The private half is only ever held in memory."""

    private: bytes
    public: bytes


def new_keypair() -> KeyPair:
    """A fresh X25519 keypair from the OS random source."""
    return keypair_from_private(X25519PrivateKey.generate().private_bytes_raw())


def keypair_from_private(private: bytes) -> KeyPair:
    """The keypair whose private half is `private` (any 32 bytes are a valid X25519 key)."""
    key = X25519PrivateKey.from_private_bytes(private)
    return KeyPair(private=bytes(private), public=key.public_key().public_bytes_raw())


def seal(public: bytes, plaintext: bytes, binding: Binding) -> bytes:
    """HPKE-seal `plaintext` to `public`, bound to `binding`."""
    return _SUITE.encrypt(plaintext, X25519PublicKey.from_public_bytes(public), binding.info())


def open_sealed(private: bytes, ciphertext: bytes, binding: Binding) -> bytes:
    """Open an HPKE seal; any failure (wrong key, tampering, other binding) is DecryptionError."""
    try:
        key = X25519PrivateKey.from_private_bytes(bytes(private))
        return _SUITE.decrypt(ciphertext, key, binding.info())
    except Exception as exc:  # the Rust binding raises its own types for malformed input
        raise DecryptionError("sealed item did not open") from exc


# OpenSSL's Argon2 with more than one lane hangs (or fails with a false MemoryError) when two
# derivations run at once in one process. Multi-lane costs are therefore serialised; the
# default cost uses one lane, so concurrent derivations stay concurrent.
_MULTI_LANE = threading.Lock()


def argon2id(secret: bytes, salt: bytes, cost: KdfCost) -> bytes:
    """Stretch a low-entropy secret (password, receipt) into a 32-byte key."""
    kdf = Argon2id(
        salt=salt,
        length=KEY_BYTES,
        iterations=cost.iterations,
        lanes=cost.lanes,
        memory_cost=cost.memory_kib,
    )
    if cost.lanes == 1:
        return kdf.derive(secret)
    with _MULTI_LANE:
        return kdf.derive(secret)


def hkdf(key: bytes, info: str) -> bytes:
    """Derive an independent 32-byte subkey for one purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode()).derive(
        key
    )


def mac(key: bytes, message: str) -> bytes:
    """HMAC-SHA256 of a purpose label."""
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random nonce, returned as nonce || ciphertext."""
    # A random 96-bit nonce is safe here: each key encrypts a handful of messages at most.
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse of `aead_encrypt`; DecryptionError on any failure."""
    try:
        return AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("encrypted item did not open") from exc


def random_bytes(n: int = KEY_BYTES) -> bytes:
    """Bytes from the OS random source."""
    return os.urandom(n)
