"""Real rows for the schemathesis run: a case in each queue, a pending transfer, an
attachment, spare accounts — and each generated request pointed at them: its path parameters
(and the body fields that name a row) are taken in turn from those rows, an unknown value
and a hostile one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp

from bot.container import Storage, bot_services
from bot.settings import Settings
from cases.intake import Attachment, Draft
from storage.crypto.receipts import new_receipt
from tests.factories import PASSWORD

UNKNOWN = {"reference": "AAAA-BBBB", "item_id": "ITEM1", "transfer_id": "t0", "username": "nobody"}
HOSTILE = "é\x00%2F'--"  # non-ASCII, NUL, an encoded slash, SQL punctuation

# Body fields that name a row: operation → (field, the path parameter whose rows it takes).
BODY_FIELDS = {
    ("POST", "/api/v1/transfers"): ("reference", "reference"),
    ("POST", "/api/v1/queues/{queue}/members"): ("username", "username"),
}


@dataclass
class Rows:
    """Real values per path parameter name, handed out in turn with an unknown and a hostile
    one, so every operation meets several rows and the run stays deterministic."""

    values: dict[str, list[str]]
    _turns: dict[str, Iterator[str]] = field(default_factory=dict)

    def next(self, name: str) -> str:
        if name not in self._turns:
            self._turns[name] = itertools.cycle([*self.values[name], UNKNOWN[name], HOSTILE])
        return next(self._turns[name])

    def point(self, case: Any) -> None:
        """Replace the generated row names in a schemathesis `case` with ours."""
        for name in list(case.path_parameters or {}):
            if name in self.values:
                case.path_parameters[name] = self.next(name)
        body_field = BODY_FIELDS.get((case.method, case.path))
        if body_field is not None and isinstance(case.body, dict) and body_field[0] in case.body:
            case.body[body_field[0]] = self.next(body_field[1])


async def file_reports(storage: Storage, settings: Settings) -> list[str]:
    """Four reports through the bot's own (write-only) intake; the first has an attachment."""
    intake = bot_services(storage, settings).intake
    references = []
    for i in range(4):
        files = (Attachment("attachment-1.txt", "text/plain", b"evidence"),) if i == 0 else ()
        draft = Draft(category="wages", text=f"report {i}", attachments=files)
        references.append((await intake.submit(draft, new_receipt())).reference)
    return references


def _activate(url: str, username: str) -> str:
    """The officer's first login with their initial password (PASSWORD): an authenticator and
    a password of their own. Returns the key fingerprint they would read out."""
    with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
        body = {"username": username, "password": PASSWORD}
        token = http.post("/auth/login", json=body).raise_for_status().json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        secret = http.post("/auth/totp").raise_for_status().json()["secret"]
        confirm = {"code": pyotp.TOTP(secret).now(), "new_password": "spare's own password"}
        me = http.post("/auth/totp/confirm", json=confirm).raise_for_status().json()
    fingerprint: str = me["key_fingerprint"]
    return fingerprint


def seed(url: str, tokens: dict[str, str], references: list[str]) -> Rows:
    """Route the reports to union, discipline, both, and leave one with triage; offer the union
    case to discipline; two spare union accounts, one of them a union member."""
    union_case, discipline_case, joint_case, _ = references

    def call(who: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
            response = http.request(method, path, json=body, headers=headers).raise_for_status()
        return response.json() if response.content else None

    for reference, routing in [
        (union_case, "union"),
        (discipline_case, "discipline"),
        (joint_case, "joint"),
    ]:
        call("triage1", "POST", f"/cases/{reference}/triage", {"routing": routing})
    call("union1", "POST", f"/cases/{union_case}/status", {"status": "in_progress"})
    offer = {"reference": union_case, "to_queue": "discipline", "feedback": "请纪检核查"}
    transfer = call("union1", "POST", "/transfers", offer)
    [attachment] = call("union1", "GET", f"/cases/{union_case}/attachments")
    for username in ("spare1", "spare2"):
        account = {"username": username, "role": "union", "password": PASSWORD}
        call("admin1", "POST", "/officers", account)
    grant = {"username": "spare2", "fingerprint": _activate(url, "spare2")}
    call("union1", "POST", "/queues/union/members", grant)
    return Rows(
        {
            "reference": references,
            "item_id": [attachment["item_id"]],
            "transfer_id": [transfer["id"]],
            "username": ["spare1", "spare2"],
        }
    )
