"""The vault's promises, each written as an attack that must fail."""

from __future__ import annotations

import pytest

from cases.errors import AuthenticationFailed, DecryptionError, InvalidInput
from storage.crypto import keys
from storage.crypto.notify import NotifyTarget, open_link, seal_link
from storage.crypto.primitives import Binding, KdfCost, new_keypair, open_sealed, random_bytes, seal
from storage.crypto.receipts import (
    derive_receipt_keys,
    format_receipt,
    new_receipt,
    normalize_receipt,
)

COST = KdfCost(memory_kib=64, iterations=1, lanes=1)
BINDING = Binding("case-a", "report", "item-1")


def test_sealed_item_round_trips() -> None:
    pair = new_keypair()
    assert open_sealed(pair.private, seal(pair.public, b"hello", BINDING), BINDING) == b"hello"


def test_tampered_ciphertext_does_not_open() -> None:
    pair = new_keypair()
    sealed = bytearray(seal(pair.public, b"the report", BINDING))
    sealed[-5] ^= 0x01
    with pytest.raises(DecryptionError):
        open_sealed(pair.private, bytes(sealed), BINDING)


@pytest.mark.parametrize(
    "moved_to",
    [
        Binding("case-b", "report", "item-1"),  # copied to another case
        Binding("case-a", "note", "item-1"),  # relabelled as another kind
        Binding("case-a", "report", "item-2"),  # copied to another row
    ],
)
def test_ciphertext_copied_elsewhere_does_not_open(moved_to: Binding) -> None:
    pair = new_keypair()
    sealed = seal(pair.public, b"the report", BINDING)
    with pytest.raises(DecryptionError):
        open_sealed(pair.private, sealed, moved_to)


def test_other_private_key_does_not_open() -> None:
    sealed = seal(new_keypair().public, b"secret", BINDING)
    with pytest.raises(DecryptionError):
        open_sealed(new_keypair().private, sealed, BINDING)


def test_officer_key_opens_only_with_the_password() -> None:
    wrapped = keys.create_officer_key("officer-1", "a long good password", COST)
    pair = keys.unlock_officer_key("officer-1", wrapped, "a long good password")
    assert pair.public == wrapped.public_key
    with pytest.raises(AuthenticationFailed):
        keys.unlock_officer_key("officer-1", wrapped, "a long good passworD")


def test_wrapped_officer_key_moved_to_another_officer_does_not_open() -> None:
    wrapped = keys.create_officer_key("officer-1", "pw pw pw pw pw", COST)
    with pytest.raises(DecryptionError):
        keys.unlock_officer_key("officer-2", wrapped, "pw pw pw pw pw")


def test_wrapped_officer_key_holds_no_plaintext_private_key() -> None:
    pair = new_keypair()
    wrapped = keys.wrap_officer_key("o", pair, "pw pw pw pw pw", COST)
    stored = wrapped.salt + wrapped.verifier + wrapped.wrapped_private + wrapped.public_key
    assert pair.private not in stored


def test_queue_key_grant_is_bound_to_its_queue_and_holder() -> None:
    officer, queue = new_keypair(), new_keypair()
    sealed = keys.seal_queue_key("union", "officer-1", officer.public, queue.private)
    assert keys.open_queue_key("union", "officer-1", officer.private, sealed) == queue.private
    with pytest.raises(DecryptionError):
        keys.open_queue_key("discipline", "officer-1", officer.private, sealed)
    with pytest.raises(DecryptionError):
        keys.open_queue_key("union", "officer-2", officer.private, sealed)


def test_recovery_words_round_trip_and_reject_typos() -> None:
    words, pair = keys.new_recovery_key()
    assert len(words.split()) == 24
    assert keys.recovery_key_from_words("  " + words.upper() + "\n") == pair
    wrong = words.split()
    wrong[3] = "zoo" if wrong[3] != "zoo" else "abandon"
    with pytest.raises(InvalidInput):
        keys.recovery_key_from_words(" ".join(wrong))


def test_receipt_format_and_normalization() -> None:
    receipt = new_receipt()
    assert len(receipt) == 16
    assert receipt.isdigit()
    shown = format_receipt(receipt)
    assert shown.count(" ") == 3
    assert normalize_receipt(shown) == receipt
    assert normalize_receipt(shown.replace(" ", "-")) == receipt
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in receipt)
    assert normalize_receipt(fullwidth) == receipt
    assert normalize_receipt(receipt[:-1]) is None
    assert normalize_receipt(receipt[:-1] + "x") is None


def test_receipt_keys_depend_on_every_digit_and_the_salt() -> None:
    salt = random_bytes(16)
    a = derive_receipt_keys("1234567812345678", salt, COST)
    assert a == derive_receipt_keys("1234567812345678", salt, COST)
    assert a.lookup_tag != derive_receipt_keys("1234567812345679", salt, COST).lookup_tag
    assert (
        a.lookup_tag != derive_receipt_keys("1234567812345678", random_bytes(16), COST).lookup_tag
    )
    assert a.lookup_tag != a.reporter_seed


def test_notify_link_opens_only_for_its_case_and_key() -> None:
    key = random_bytes(32)
    target = NotifyTarget(chat_id=424242, language="zh_CN", reporter_seed=random_bytes(32))
    blob = seal_link(key, "case-a", target)
    assert open_link(key, "case-a", blob) == target
    assert b"424242" not in blob
    with pytest.raises(DecryptionError):
        open_link(key, "case-b", blob)
    with pytest.raises(DecryptionError):
        open_link(random_bytes(32), "case-a", blob)


@pytest.mark.parametrize("lanes", [1, 4])
def test_concurrent_derivations_at_production_memory_finish(lanes: int) -> None:
    """Two logins at the same moment must not freeze the KDF (a multi-lane OpenSSL hang)."""
    from concurrent.futures import ThreadPoolExecutor, wait

    from storage.crypto.primitives import argon2id

    cost = KdfCost(memory_kib=65536, iterations=1, lanes=lanes)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(argon2id, b"password", b"s" * 16, cost) for _ in range(3)]
        done, pending = wait(futures, timeout=30)
    assert not pending
    assert len({f.result() for f in done}) == 1
