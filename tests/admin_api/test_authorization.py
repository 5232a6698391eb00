"""Authorization matrix: every route × every role over HTTP, against real rows, with the
expected status of each cell named.

Each role works on a target its own queue holds (a case in the state the route needs, a
transfer addressed to it), so an allowed role shows the real outcome — 2xx, or the 404/409/422
the domain gives — and a refused one must get 403 on a row that exists. A sixth column is an
officer who has not activated the account yet: everything but activation, password change
(409: activate instead) and logout is 403 for them. Calls that change a row get a fresh one;
logout and password changes run on sessions of their own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import httpx

from admin_api.app import create_app
from tests.admin_api.authz_world import ENROLLING, World
from tests.factories import OFFICERS, PASSWORD, build_site


@dataclass(frozen=True)
class Expect:
    status: int
    why: str


ROLE = Expect(403, "role may not")
ENROL_FIRST = Expect(403, "must enrol a TOTP authenticator first")
ROLES = [*OFFICERS, ENROLLING]


def expect(**cells: Expect) -> dict[str, Expect]:
    """Named cells; every other officer is refused for their role, the enrolling one for that."""
    table = {role: ROLE for role in OFFICERS} | {ENROLLING: ENROL_FIRST}
    return table | cells


def casework(triage1: Expect, union1: Expect, disc1: Expect | None = None) -> dict[str, Expect]:
    return expect(triage1=triage1, union1=union1, disc1=disc1 or union1)


def everyone(cell: Expect, enrolling: Expect = ENROL_FIRST) -> dict[str, Expect]:
    return {role: cell for role in OFFICERS} | {ENROLLING: enrolling}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # placeholders: {case} {item} {transfer} {queue} {spare} {member}
    body: Any
    cells: dict[str, Expect]
    target: str | None = None  # own, own+attachment, other, incoming, outgoing
    state: str = "accepted"
    fresh_session: bool = False


OK, CREATED, NO_CONTENT = Expect(200, "allowed"), Expect(201, "created"), Expect(204, "done")
TRIAGE_ONLY_RECEIVED = Expect(409, "triage holds only received cases; this needs another status")
ELSEWHERE = Expect(404, "held by another queue: absent, not forbidden")
NOT_MEMBER = Expect(403, "not a member of the union queue")
SENDER = Expect(404, "the sending queue cannot accept its own transfer")
C = "/api/v1/cases/{case}"
ROUTES: list[Route] = [
    Route("GET", "/api/v1/auth/me", None, everyone(OK)),
    Route("POST", "/api/v1/auth/totp", None, everyone(Expect(409, "already enrolled"), OK)),
    Route(
        "POST",
        "/api/v1/auth/totp/confirm",
        {"code": "123456", "new_password": "an own password of the officer"},
        everyone(Expect(409, "no enrolment started"), Expect(409, "no enrolment started")),
        fresh_session=True,
    ),
    Route(
        "POST",
        "/api/v1/auth/password",
        # The same password again: allowed to ask, refused as a change (a change that went
        # through would end the role's other sessions; see test_password_rotation.py).
        {"old_password": PASSWORD, "new_password": PASSWORD},
        everyone(
            Expect(422, "the new password must differ"),
            Expect(409, "activates with an own password instead"),
        ),
        fresh_session=True,
    ),
    Route(
        "POST", "/api/v1/auth/logout", None, everyone(NO_CONTENT, NO_CONTENT), fresh_session=True
    ),
    Route("GET", "/api/v1/cases", None, casework(OK, OK)),
    Route("GET", C, None, casework(OK, OK), "own"),
    Route("GET", C, None, casework(ELSEWHERE, ELSEWHERE), "other"),
    Route("POST", f"{C}/triage", {"routing": "union"}, expect(triage1=OK), "own", "received"),
    Route(
        "POST", f"{C}/status", {"status": "in_progress"}, casework(TRIAGE_ONLY_RECEIVED, OK), "own"
    ),
    Route(
        "POST",
        f"{C}/disposition",
        {"disposition": "mediation"},
        expect(union1=OK, disc1=Expect(422, "mediation is a union disposition")),
        "own",
        "in_progress",
    ),
    Route(
        "POST",
        f"{C}/rectification",
        {
            "owner_unit": "x",
            "due_on": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=60)).isoformat(),
        },
        casework(TRIAGE_ONLY_RECEIVED, OK),
        "own",
        "in_progress",
    ),
    Route(
        "POST",
        f"{C}/look-back",
        {"passed": False},
        casework(Expect(409, "the case is not in look-back"), OK),
        "own",
        "look_back",
    ),
    Route(
        "POST",
        f"{C}/close",
        {"text": "x"},
        casework(TRIAGE_ONLY_RECEIVED, OK),
        "own",
        "in_progress",
    ),
    Route(
        "POST",
        f"{C}/reopen",
        {"text": "x"},
        casework(Expect(409, "only a closed case reopens"), OK),
        "own",
        "closed",
    ),
    Route(
        "POST",
        f"{C}/extension",
        {"text": "x"},
        casework(Expect(409, "an extension needs a case under handling, not received"), OK),
        "own",
        "in_progress",
    ),
    Route("POST", f"{C}/messages", {"text": "x"}, casework(OK, OK), "own"),
    Route("POST", f"{C}/notes", {"text": "x"}, casework(NO_CONTENT, NO_CONTENT), "own"),
    Route("GET", f"{C}/attachments", None, casework(OK, OK), "own+attachment"),
    Route("GET", f"{C}/attachments/{{item}}", None, casework(OK, OK), "own+attachment"),
    Route("GET", "/api/v1/officers", None, expect(admin1=OK)),
    Route(
        "POST",
        "/api/v1/officers",
        {"username": "new1", "role": "union", "password": PASSWORD},
        expect(admin1=CREATED),
    ),
    Route("PATCH", "/api/v1/officers/{spare}", {"disabled": False}, expect(admin1=NO_CONTENT)),
    Route(
        "POST",
        "/api/v1/officers/{spare}/password-reset",
        {"password": PASSWORD},
        expect(admin1=NO_CONTENT),
    ),
    Route(
        "GET",
        "/api/v1/queues/{queue}/members",
        None,
        casework(NOT_MEMBER, OK, NOT_MEMBER),
    ),
    Route(
        "POST",
        "/api/v1/queues/{queue}/members",
        {"username": "{grantee}", "fingerprint": "{fingerprint}"},
        casework(NOT_MEMBER, CREATED, NOT_MEMBER),
    ),
    Route(
        "DELETE",
        "/api/v1/queues/{queue}/members/{member}",
        None,
        casework(NOT_MEMBER, NO_CONTENT, NOT_MEMBER),
    ),
    Route("GET", "/api/v1/audit", None, expect(admin1=OK, overseer1=OK)),
    Route("GET", "/api/v1/audit/verify", None, expect(admin1=OK, overseer1=OK)),
    Route("GET", "/api/v1/notifications/stats", None, expect(admin1=OK)),
    Route("GET", "/api/v1/transfers", None, expect(union1=OK, disc1=OK)),
    Route(
        "POST",
        "/api/v1/transfers",
        {"reference": "{case}", "to_queue": "discipline", "feedback": "x"},
        expect(union1=CREATED, disc1=Expect(422, "a queue cannot transfer to itself")),
        "own",
    ),
    Route(
        "POST", "/api/v1/transfers/{transfer}/accept", None, expect(union1=OK, disc1=OK), "incoming"
    ),
    Route(
        "POST",
        "/api/v1/transfers/{transfer}/accept",
        None,
        expect(union1=SENDER, disc1=SENDER),
        "outgoing",
    ),
    Route(
        "POST",
        "/api/v1/transfers/{transfer}/decline",
        {"reason": "x"},
        expect(union1=OK, disc1=OK),
        "incoming",
    ),
    Route("GET", "/api/v1/stats", None, expect(overseer1=OK)),
    Route("POST", "/api/v1/alerts/link-code", None, everyone(OK)),
    Route("DELETE", "/api/v1/alerts/link", None, everyone(NO_CONTENT)),
]
# What each placeholder is called in the OpenAPI document.
PARAMETERS = {
    "case": "reference",
    "item": "item_id",
    "transfer": "transfer_id",
    "queue": "queue",
    "spare": "username",
    "member": "username",
}
UNMATRIXED = {("POST", "/api/v1/auth/login"), ("GET", "/healthz")}  # no session to test


def _documented_form(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "{" + PARAMETERS[m.group(1)] + "}", path)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


async def test_every_role_on_every_route(database_url: str) -> None:
    site = await build_site(database_url)
    world = await World.build(site)
    app = create_app(site.api_services())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:

        async def login(username: str) -> str:
            totp = site.totp(username) if username in OFFICERS else None
            body = {"username": username, "password": PASSWORD, "totp": totp}
            response = await http.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, response.text
            token: str = response.json()["token"]
            return token

        documented = {
            (method.upper(), path)
            for path, item in app.openapi()["paths"].items()
            for method in item
        }
        tested = {(r.method, _documented_form(r.path)) for r in ROUTES}
        assert documented - tested - UNMATRIXED == set()

        tokens = {username: await login(username) for username in OFFICERS}
        failures = []
        for route in ROUTES:
            assert set(route.cells) == set(ROLES), route.path
            dummy = {"case": "AAAA-BBBB", "item": "ITEM1", "transfer": "t0", "queue": "union"}
            dummy |= {"spare": "nobody", "member": "nobody", "grantee": "nobody"}
            dummy |= {"fingerprint": "0000-0000-0000-0000-0000"}
            anonymous = await http.request(
                route.method, _fill(route.path, dummy), json=_fill(route.body, dummy)
            )
            assert anonymous.status_code == 401, (route.method, route.path)
            for role in ROLES:
                cell = route.cells[role]
                reuse = route.method == "GET" or not 200 <= cell.status < 300
                values = await world.target(route.target, role, route.state, reuse=reuse)
                fresh = route.fresh_session or role == ENROLLING
                token = await login(role) if fresh else tokens[role]
                response = await http.request(
                    route.method,
                    _fill(route.path, values),
                    json=_fill(route.body, values),
                    headers={"Authorization": f"Bearer {token}"},
                )
                if response.status_code != cell.status:
                    failures.append(
                        f"{route.method} {route.path} as {role}: expected {cell.status} "
                        f"({cell.why}), got {response.status_code} {response.text[:120]}"
                    )
                if response.status_code >= 400:
                    assert response.json().get("code"), response.text
                if route.path.endswith("/logout") and response.status_code == 204:
                    me = await http.get(
                        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
                    )
                    assert me.status_code == 401, "a logged-out token still works"
        assert not failures, "\n".join(failures)
    await site.engine.dispose()
