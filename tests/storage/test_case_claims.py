"""The compare-and-set under every case change, at the repository: a status (or the one
extension) cannot be written past a request that read an older case."""

from __future__ import annotations

import pytest

from cases.lifecycle import Status
from tests.factories import build_site


async def test_a_claim_on_an_old_status_writes_nothing(database_url: str) -> None:
    site = await build_site(database_url, officers=False)
    _, submitted = await site.file_report()
    # Given one request that moved the case on...
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.cases.claim(
            submitted.case_id, {"status": Status.RECEIVED}, status=Status.NOT_ACCEPTED
        )
        await uow.commit()
    # ...a second one that read it as received claims nothing and changes nothing.
    async with site.uow() as uow:  # type: ignore[operator]
        stale = await uow.cases.claim(
            submitted.case_id,
            {"status": Status.RECEIVED},
            status=Status.ACCEPTED,
            routing="union",
        )
        assert not stale
        await uow.commit()
        case = await uow.cases.by_id(submitted.case_id)
    assert case is not None
    assert (case.status, case.routing) == (Status.NOT_ACCEPTED, "triage")
    # The extension compares `extended` besides the status.
    async with site.uow() as uow:  # type: ignore[operator]
        expected = {"status": Status.NOT_ACCEPTED, "extended": False}
        assert await uow.cases.claim(submitted.case_id, expected, extended=True)
        assert not await uow.cases.claim(submitted.case_id, expected, extended=True)
    await site.engine.dispose()


async def test_guarded_columns_change_only_through_a_claim(database_url: str) -> None:
    site = await build_site(database_url, officers=False)
    _, submitted = await site.file_report()
    async with site.uow() as uow:  # type: ignore[operator]
        with pytest.raises(ValueError, match="claim"):
            await uow.cases.update(submitted.case_id, status=Status.CLOSED)
        with pytest.raises(ValueError, match="claim"):
            await uow.cases.update(submitted.case_id, extended=True)
        with pytest.raises(ValueError, match="status"):
            await uow.cases.claim(submitted.case_id, {"extended": False}, extended=True)
    await site.engine.dispose()
