"""U+0000 in any text a request carries — path, query or JSON body — is refused with 422
`invalid_input` before it reaches the database; PostgreSQL cannot store it, and these requests
used to fail there as server errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.admin_api.conftest import Api
from tests.factories import PASSWORD

# (who, method, path, JSON body): every one of these reached a PostgreSQL query before.
ATTACKS: list[tuple[str | None, str, str, Any]] = [
    (None, "POST", "/api/v1/auth/login", {"username": "union1\x00", "password": PASSWORD}),
    ("union1", "GET", "/api/v1/cases/AB%00", None),
    ("union1", "GET", "/api/v1/cases?category=a%00b", None),
    ("union1", "GET", "/api/v1/cases/AB%00/attachments", None),
    ("union1", "POST", "/api/v1/transfers/x%00/accept", None),
    ("union1", "POST", "/api/v1/transfers/x%00/decline", {"reason": "no"}),
    (
        "union1",
        "POST",
        "/api/v1/transfers",
        {"reference": "AB\x00", "to_queue": "discipline", "feedback": "f"},
    ),
    ("union1", "POST", "/api/v1/queues/union/members", {"username": "disc1\x00"}),
    ("union1", "DELETE", "/api/v1/queues/union/members/x%00", None),
    ("admin1", "PATCH", "/api/v1/officers/x%00", {"disabled": True}),
    ("admin1", "POST", "/api/v1/officers/x%00/password-reset", {"password": PASSWORD}),
    (
        "admin1",
        "POST",
        "/api/v1/officers",
        {"username": "new\x00", "role": "union", "password": PASSWORD},
    ),
    ("admin1", "GET", "/api/v1/audit?action=login%00", None),
    # Nested and in a key: the check walks the whole body.
    ("union1", "POST", "/api/v1/cases/AAAA-BBBB/notes", {"text": "ok", "x\x00": ["a", {"b": 1}]}),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body"), ATTACKS, ids=[f"{m} {p}" for _, m, p, _ in ATTACKS]
)
async def test_nul_is_refused_as_invalid_input(
    api: Api, who: str | None, method: str, path: str, body: Any
) -> None:
    headers = api.bearer(await api.token(who)) if who else {}
    response = await api.client.request(method, path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"


async def test_text_without_nul_still_goes_through(api: Api) -> None:
    # The same routes with clean text answer as before (not 422): the check is not too broad.
    union = api.bearer(await api.token("union1"))
    listed = await api.client.get("/api/v1/cases?category=a%01b", headers=union)
    # Not the NUL refusal: an unknown category, refused as such (test_case_filters.py).
    assert listed.json()["code"] == "validation_error"
    assert listed.json()["fields"] == ["query.category"]
    missing = await api.client.get("/api/v1/cases/AB%01", headers=union)
    assert missing.status_code == 404
    login = await api.client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "x", "totp": "1"}
    )
    assert login.status_code == 401


# FastAPI reads a body as JSON whatever the case of its media type (and `+json` types): each of
# these reached PostgreSQL before the check parsed every body, not only `…json` in lower case.
MEDIA_TYPES = [
    "application/JSON",
    "Application/Json; charset=utf-8",
    "APPLICATION/VND.SPEAKUP+JSON",
    None,
]
JSON_ATTACKS: list[tuple[str | None, str, Any]] = [
    (None, "/api/v1/auth/login", {"username": "union1\x00", "password": PASSWORD}),
    ("admin1", "/api/v1/officers", {"username": "n\x00", "role": "union", "password": PASSWORD}),
    (
        "union1",
        "/api/v1/queues/union/members",
        {"username": "disc1\x00", "fingerprint": "0000-0000-0000-0000-0000"},
    ),
]


@pytest.mark.parametrize(
    ("who", "path", "body"), JSON_ATTACKS, ids=[path for _, path, _ in JSON_ATTACKS]
)
async def test_nul_is_refused_whatever_the_media_type_says(
    api: Api, who: str | None, path: str, body: Any
) -> None:
    token = await api.token(who) if who else None
    for media_type in MEDIA_TYPES:
        headers = api.bearer(token) if token else {}
        if media_type is not None:
            headers["Content-Type"] = media_type
        response = await api.client.post(path, content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 422, (media_type, response.text)
        assert response.json()["code"] == "invalid_input", media_type
