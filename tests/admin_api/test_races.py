"""Two officers acting on one case at the same moment, over HTTP, on each database.

Each round sends two requests that cannot both apply (two triage decisions, two extensions,
close against rectification, two answers to one transfer, two transfers to one queue) at
once with `asyncio.gather`. Exactly one may succeed; the other is the 409 it would have got
had it come second, and nothing it did is kept: no status, event, outbox row, sealed item,
case key or audit row of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import AuditRow, Case, CaseEvent, CaseItem, CaseKey, OutboxRow, Transfer
from tests.admin_api.conftest import Api

ROUNDS = 10
Headers = dict[str, str]


@dataclass(frozen=True)
class State:
    """Everything of one case a lost request could leave behind."""

    status: str
    routing: str
    not_accepted_reason: str | None
    extended: bool
    events: tuple[str, ...]
    outbox: int
    holders: tuple[str, ...]
    items: Counter[str]
    audit: Counter[str]
    transfers: tuple[str, ...]


async def _state(api: Api, reference: str) -> State:
    async with api.site.engine.connect() as conn:
        case = (await conn.execute(select(Case).where(Case.reference == reference))).one()
        events = await conn.scalars(
            select(CaseEvent.status)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.position)
        )
        outbox = await conn.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.case_id == case.id)
        )
        holders = await conn.scalars(
            select(CaseKey.queue).where(CaseKey.case_id == case.id).order_by(CaseKey.queue)
        )
        items = await conn.scalars(select(CaseItem.kind).where(CaseItem.case_id == case.id))
        audit = await conn.scalars(
            select(AuditRow.action).where(AuditRow.case_reference == reference)
        )
        transfers = await conn.scalars(
            select(Transfer.status).where(Transfer.case_id == case.id).order_by(Transfer.status)
        )
        return State(
            case.status,
            case.routing,
            case.not_accepted_reason,
            bool(case.extended),
            tuple(events),
            int(outbox or 0),
            tuple(holders),
            Counter(items),
            Counter(audit),
            tuple(transfers),
        )


async def _race(
    api: Api, *calls: tuple[str, dict[str, Any], Headers], flip: bool = False
) -> list[httpx.Response]:
    """Send the requests at once (started in reverse with `flip`, so either may be ahead);
    the responses in the order given."""
    order = list(reversed(calls)) if flip else list(calls)
    responses = await asyncio.gather(
        *(api.client.post(path, json=body, headers=headers) for path, body, headers in order)
    )
    return list(reversed(responses)) if flip else list(responses)


def _one_wins(responses: list[httpx.Response], won: int = 200) -> int:
    """The index of the request that won; the other must be a 409."""
    codes = [r.status_code for r in responses]
    assert sorted(codes) == sorted([won, 409]), [r.text for r in responses]
    return codes.index(won)


def _refused_as_second(loser: httpx.Response, allowed: list[str], via: dict[str, str]) -> None:
    body = loser.json()
    assert body["code"] == "invalid_transition", body
    assert body["allowed"] == allowed
    assert body["via"] == via


async def _headers(api: Api, *usernames: str) -> list[Headers]:
    return [api.bearer(await api.token(name)) for name in usernames]


async def _case(api: Api, triage: Headers, routing: str | None, *then: Headers) -> str:
    """A new case, routed by triage (if `routing`) and put in progress by `then[0]`."""
    _, submitted = await api.site.file_report()
    ref = submitted.reference
    if routing is not None:
        done = await api.client.post(
            f"/api/v1/cases/{ref}/triage", json={"routing": routing}, headers=triage
        )
        assert done.status_code == 200, done.text
    for headers in then:
        moved = await api.client.post(
            f"/api/v1/cases/{ref}/status", json={"status": "in_progress"}, headers=headers
        )
        assert moved.status_code == 200, moved.text
    return ref


async def test_two_triage_decisions_at_once_one_wins(api: Api) -> None:
    # Given two triage officers deciding the same new report at the same moment, one routing
    # it to the union and one recording it as not accepted...
    await api.site.add_officer("triage2", "triage", "triage")
    first, second = await _headers(api, "triage1", "triage2")
    for round_ in range(ROUNDS):
        _, submitted = await api.site.file_report()
        ref = submitted.reference
        path = f"/api/v1/cases/{ref}/triage"
        responses = await _race(
            api,
            (path, {"routing": "union", "note": "转工会处理"}, first),
            (path, {"not_accepted_reason": "out_of_scope", "note": "不予受理"}, second),
            flip=round_ % 2 == 1,
        )
        # ...then exactly one decision stands, and the other is refused as a second one.
        union_won = _one_wins(responses) == 0
        state = await _state(api, ref)
        assert state.audit["case_triaged"] == 1
        assert state.outbox == 1  # the reporter is told one decision
        assert state.items["note"] == 1
        if union_won:
            _refused_as_second(responses[1], ["in_progress"], {"in_progress": "status"})
            assert (state.status, state.not_accepted_reason) == ("accepted", None)
            assert state.events == ("received", "accepted")
            assert state.holders == ("union",)  # re-sealed once; triage let go
        else:
            _refused_as_second(responses[0], ["closed"], {"closed": "close"})
            assert (state.status, state.not_accepted_reason) == ("not_accepted", "out_of_scope")
            assert state.events == ("received", "not_accepted")
            assert state.holders == ("triage",)  # the union never got the case key
            assert state.routing != "union"


async def test_two_extensions_at_once_only_one_applies(api: Api) -> None:
    # Given two union officers extending the handling deadline of one case at once...
    await api.site.add_officer("union2", "union", "union")
    triage, first, second = await _headers(api, "triage1", "union1", "union2")
    for _ in range(ROUNDS):
        ref = await _case(api, triage, "union", first)
        before = await _state(api, ref)
        path = f"/api/v1/cases/{ref}/extension"
        responses = await _race(
            api, (path, {"text": "需调取监控"}, first), (path, {"text": "需补充询问"}, second)
        )
        # ...then the one-extension rule holds: one 200, one 409, one reason kept.
        loser = responses[1 - _one_wins(responses)]
        assert loser.json()["code"] == "conflict", loser.text
        state = await _state(api, ref)
        assert state.extended
        assert state.items["internal_note"] == before.items["internal_note"] + 1
        assert state.audit["deadline_extended"] == 1
        assert (state.events, state.outbox) == (before.events, before.outbox)


async def test_close_and_rectification_at_once_only_one_applies(api: Api) -> None:
    # Given one officer closing an in-progress case while another orders rectification...
    await api.site.add_officer("union2", "union", "union")
    triage, first, second = await _headers(api, "triage1", "union1", "union2")
    due = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    for round_ in range(ROUNDS):
        ref = await _case(api, triage, "union", first)
        before = await _state(api, ref)
        responses = await _race(
            api,
            (f"/api/v1/cases/{ref}/close", {"text": "已协调补发工资"}, first),
            (
                f"/api/v1/cases/{ref}/rectification",
                {"owner_unit": "人力资源部", "due_on": due, "note": "限期整改"},
                second,
            ),
            flip=round_ % 2 == 1,
        )
        # ...then one of them happened, whole, and the other is refused as a second request.
        closed = _one_wins(responses) == 0
        state = await _state(api, ref)
        assert state.outbox == before.outbox + 1
        assert state.items["note"] == before.items["note"] + 1
        if closed:
            _refused_as_second(responses[1], ["in_progress"], {"in_progress": "reopen"})
            assert state.status == "closed"
            assert state.events == (*before.events, "closed")
            assert state.items["rectification"] == 0
            assert (state.audit["case_closed"], state.audit["rectification_ordered"]) == (1, 0)
        else:
            _refused_as_second(responses[0], ["look_back"], {"look_back": "status"})
            assert state.status == "rectification"
            assert state.events == (*before.events, "rectification")
            assert state.items["rectification"] == 1
            assert (state.audit["case_closed"], state.audit["rectification_ordered"]) == (0, 1)


async def _transfer(api: Api, ref: str, union: Headers) -> str:
    body = {"reference": ref, "to_queue": "discipline", "feedback": "涉嫌挪用工会经费"}
    sent = await api.client.post("/api/v1/transfers", json=body, headers=union)
    assert sent.status_code == 201, sent.text
    transfer_id: str = sent.json()["id"]
    return transfer_id


@pytest.mark.parametrize("answers", [("accept", "accept"), ("accept", "decline")])
async def test_two_answers_to_one_transfer_only_one_applies(
    api: Api, answers: tuple[str, str]
) -> None:
    # Given two discipline officers answering the same pending transfer at once...
    await api.site.add_officer("disc2", "discipline", "discipline")
    triage, union, first, second = await _headers(api, "triage1", "union1", "disc1", "disc2")
    for round_ in range(ROUNDS):
        ref = await _case(api, triage, "union", union)
        transfer = await _transfer(api, ref, union)
        before = await _state(api, ref)
        reason = {"reason": "不属于纪检监察职责"}
        responses = await _race(
            api,
            *(
                (f"/api/v1/transfers/{transfer}/{answer}", reason, headers)
                for answer, headers in zip(answers, (first, second), strict=True)
            ),
            flip=round_ % 2 == 1,
        )
        # ...then the transfer is answered once, and the case keys say which way.
        winner = _one_wins(responses)
        loser = responses[1 - winner].json()
        assert loser["code"] == "conflict", loser
        state = await _state(api, ref)
        audit = (state.audit["transfer_accepted"], state.audit["transfer_declined"])
        if answers[winner] == "accept":
            assert state.transfers == ("accepted",)
            assert state.holders == ("discipline", "union")
            assert state.routing == "joint"
            assert state.items["transfer_declined"] == 0
            assert audit == (1, 0)
        else:
            assert state.transfers == ("declined",)
            assert state.holders == before.holders == ("union",)
            assert state.routing == "union"
            assert state.items["transfer_declined"] == 1
            assert audit == (0, 1)


async def test_two_transfers_to_one_queue_at_once_only_one_is_made(api: Api) -> None:
    # Given two union officers offering the same case to discipline at once...
    await api.site.add_officer("union2", "union", "union")
    triage, first, second = await _headers(api, "triage1", "union1", "union2")
    for _ in range(ROUNDS):
        ref = await _case(api, triage, "union", first)
        body = {"reference": ref, "to_queue": "discipline", "feedback": "涉嫌挪用工会经费"}
        responses = await _race(
            api, ("/api/v1/transfers", body, first), ("/api/v1/transfers", body, second)
        )
        # ...then one transfer waits, as if the second had come later.
        loser = responses[1 - _one_wins(responses, won=201)].json()
        assert loser["code"] == "conflict", loser
        state = await _state(api, ref)
        assert state.transfers == ("pending",)
        assert state.items["transfer_feedback"] == 1
        assert state.audit["transfer_requested"] == 1


async def test_a_message_racing_the_close_never_follows_it_as_in_progress(api: Api) -> None:
    # Given one officer writing to the reporter while another closes the case...
    await api.site.add_officer("union2", "union", "union")
    triage, first, second = await _headers(api, "triage1", "union1", "union2")
    for round_ in range(ROUNDS):
        ref = await _case(api, triage, "union", first)
        before = await _state(api, ref)
        closing, message = await _race(
            api,
            (f"/api/v1/cases/{ref}/close", {"text": "已协调补发工资"}, first),
            (f"/api/v1/cases/{ref}/messages", {"text": "请补充材料"}, second),
            flip=round_ % 2 == 1,
        )
        # ...then the close stands, and the message either came first, recorded under the
        # status it was written for, or is refused: the reporter's history never shows the
        # case "in progress" after "closed".
        assert closing.status_code == 200, closing.text
        state = await _state(api, ref)
        if message.status_code == 200:
            # Before the close, or read after it (a message to a closed case is allowed).
            assert state.events[len(before.events) :] in {
                ("in_progress", "closed"),
                ("closed", "closed"),
            }
            assert state.outbox == before.outbox + 2
        else:
            assert message.status_code == 409, message.text
            assert message.json()["code"] in {"conflict", "invalid_transition"}
            assert state.events == (*before.events, "closed")
            assert state.outbox == before.outbox + 1
