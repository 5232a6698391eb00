"""A second process appending to the audit log, for the cross-process chain test.

`python -m tests.cases.audit_writer COUNT` appends COUNT rows to SPEAKUP_DATABASE_URL, each in
a transaction that reads nothing else first — the shape of a login or a case view.
"""

from __future__ import annotations

import asyncio
import os
import sys

from cases.runtime import utcnow
from storage.db import make_engine, make_sessionmaker
from storage.repositories import SqlUnitOfWork


async def append(database_url: str, count: int, tag: str) -> None:
    """Append `count` rows, one transaction each."""
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        for i in range(count):
            async with SqlUnitOfWork(sessionmaker) as uow:
                await uow.audit.append(
                    at=utcnow(),
                    officer_id=None,
                    action="test_append",
                    case_reference=None,
                    detail=f"{tag}:{i}",
                )
                await uow.commit()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(append(os.environ["SPEAKUP_DATABASE_URL"], int(sys.argv[1]), str(os.getpid())))
