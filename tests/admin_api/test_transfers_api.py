"""Clue transfers over HTTP: request, incoming list, decline, accept, error codes."""

from __future__ import annotations

from tests.admin_api.conftest import Api


async def test_transfer_over_http(api: Api) -> None:
    _, submitted = await api.site.file_report()
    ref = submitted.reference
    triage = api.bearer(await api.token("triage1"))
    await api.client.post(f"/api/v1/cases/{ref}/triage", json={"routing": "union"}, headers=triage)
    union = api.bearer(await api.token("union1"))
    disc = api.bearer(await api.token("disc1"))
    body = {"reference": ref, "to_queue": "discipline", "feedback": "涉嫌挪用工会经费"}
    missing = await api.client.post(
        "/api/v1/transfers", json={**body, "feedback": ""}, headers=union
    )
    assert missing.status_code == 422
    sent = await api.client.post("/api/v1/transfers", json=body, headers=union)
    assert sent.status_code == 201, sent.text
    transfer = sent.json()
    assert transfer["status"] == "pending"
    assert transfer["respond_by"] > transfer["requested_on"]
    twice = await api.client.post("/api/v1/transfers", json=body, headers=union)
    assert twice.status_code == 409
    assert twice.json()["code"] == "conflict"

    incoming = (await api.client.get("/api/v1/transfers?direction=incoming", headers=disc)).json()
    assert [(t["id"], t["feedback"]) for t in incoming] == [(transfer["id"], "涉嫌挪用工会经费")]
    hidden = await api.client.get(f"/api/v1/cases/{ref}", headers=disc)
    assert hidden.status_code == 404
    unknown = await api.client.post("/api/v1/transfers/nope/accept", headers=disc)
    assert unknown.status_code == 404
    accepted = await api.client.post(f"/api/v1/transfers/{transfer['id']}/accept", headers=disc)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    opened = await api.client.get(f"/api/v1/cases/{ref}", headers=disc)
    assert opened.status_code == 200
    assert opened.json()["case"]["routing"] == "joint"
    late = await api.client.post(
        f"/api/v1/transfers/{transfer['id']}/decline", json={"reason": "x"}, headers=disc
    )
    assert late.status_code == 409
