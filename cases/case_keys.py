"""Opening a case's private key for an officer session, and the public key new items go to.

Items are sealed to the public key derived from the case private key the session opened, never
to the stored `case_public_key` column alone: someone who can write the database and swaps that
column would otherwise receive every later note. A column that disagrees is refused as
tampering, and so is any view of the case, so the swap is noticed at once.
"""

from __future__ import annotations

import hmac
import logging

from cases.errors import DecryptionError
from cases.officers import OfficerSession
from cases.ports import CaseRecord, UnitOfWork
from storage.crypto import keys
from storage.crypto.primitives import keypair_from_private

log = logging.getLogger(__name__)


def checked_public(case: CaseRecord, case_private: bytes) -> bytes:
    """The case public key derived from its private key; the stored column must agree."""
    public = keypair_from_private(case_private).public
    if not hmac.compare_digest(public, case.case_public_key):
        # Only a database writer changes this column; nothing is sealed or shown after it.
        log.error("case %s: stored public key does not match the case key", case.reference)
        raise DecryptionError("the case's stored public key was altered; refusing to use it")
    return public


async def held_case_key(uow: UnitOfWork, session: OfficerSession, case: CaseRecord) -> bytes | None:
    """The case private key, opened with the key of a queue that holds the case (P3)."""
    for queue, sealed in (await uow.cases.case_keys(case.id)).items():
        queue_private = session.queue_key(queue)
        if queue_private is not None:
            return keys.open_case_key(case.id, queue, queue_private, sealed)
    return None


async def parked_case_key(
    uow: UnitOfWork, session: OfficerSession, case: CaseRecord
) -> bytes | None:
    """The case private key a pending transfer parked for one of the session's queues (a
    receiving queue that declines writes its reason before it holds the case)."""
    for transfer in await uow.transfers.pending_for_case(case.id):
        queue_private = session.queue_key(transfer.to_queue)
        if queue_private is not None and transfer.sealed_case_key is not None:
            return keys.open_case_key(
                case.id, transfer.to_queue, queue_private, transfer.sealed_case_key
            )
    return None
