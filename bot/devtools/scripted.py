"""Scripted people for the demo and the end-to-end tests.

`ScriptedReporter` taps through the real conversation in a fake Telegram client, finding
buttons by their translated labels, exactly as a person would. `OfficerClient` is an officer
using the admin API over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp

from bot.devtools.fake_bot_api import ChatEntry, FakeBotAPI, FakeUser
from handlers.i18n import CatalogI18n

RECEIPT_RE = re.compile(r"\d{4} \d{4} \d{4} \d{4}")
REFERENCE_RE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


@dataclass(frozen=True)
class Filed:
    receipt: str
    reference: str


def has_button(label: str) -> Callable[[ChatEntry], bool]:
    return lambda e: any(text == label for row in e.buttons for text, _ in row)


def says(fragment: str) -> Callable[[ChatEntry], bool]:
    return lambda e: fragment in e.text


class ScriptedReporter:
    """A reporter in a private chat with the bot, speaking `locale`."""

    def __init__(
        self, fake: FakeBotAPI, user: FakeUser, locale: str, i18n: CatalogI18n | None = None
    ) -> None:
        self.fake = fake
        self.user = user
        self.locale = locale
        self._i18n = i18n or CatalogI18n()

    def t(self, key: str) -> str:
        return self._i18n.gettext(key, locale=self.locale)

    @property
    def chat_id(self) -> int:
        return self.user.chat_id

    def mark(self) -> int:
        """The newest sequence in the chat; wait for bot messages after it."""
        return max((e.sequence for e in self.fake.chat(self.chat_id)), default=0)

    async def expect(self, predicate: Callable[[ChatEntry], bool], after: int) -> ChatEntry:
        """The first bot message after `after` that matches, or TimeoutError with the chat."""
        return await self.fake.wait_for_bot_message(
            self.chat_id, predicate, after=after, timeout=15.0
        )

    async def tap(self, label_key: str, then: Callable[[ChatEntry], bool]) -> ChatEntry:
        mark = self.mark()
        await self.user.press(self.t(label_key))
        return await self.expect(then, mark)

    async def say(self, text: str, then: Callable[[ChatEntry], bool]) -> ChatEntry:
        mark = self.mark()
        await self.user.send_text(text)
        return await self.expect(then, mark)

    async def begin_report(
        self,
        group: str | None,
        category: str,
        *,
        danger: str = "no",
        involves: str | None = None,
        route: str | None = None,
        department: str | None = None,
    ) -> None:
        """/start → new report → category → anyone in danger → who it involves → department →
        writing step.

        `danger` is "yes", "no" or "not_sure"; `involves` is None, "union" or "discipline";
        `route` (for "discipline") is "union" or "overseer"; `department` is a configured
        department name, None to prefer not to say.
        """
        await self.say("/start", has_button(self.t("menu.new_report")))
        await self.tap("menu.new_report", has_button(self.t("category.not_sure")))
        danger_step = has_button(self.t("danger.yes"))
        if group is not None:
            await self.tap(f"group.{group}", has_button(self.t(f"category.{category}")))
            await self.tap(f"category.{category}", danger_step)
        else:
            await self.tap("category.not_sure", danger_step)
        await self.tap(f"danger.{danger}", has_button(self.t("handler.none")))
        department_step = has_button(self.t("department.prefer_not"))
        if involves is None:
            await self.tap("handler.none", department_step)
        elif involves == "union":
            await self.tap("handler.union", department_step)
        else:
            await self.tap("handler.discipline", has_button(self.t("handler.route_overseer")))
            await self.tap(f"handler.route_{route or 'union'}", department_step)
        if department is None:
            await self.tap("department.prefer_not", has_button(self.t("button.done")))
        else:
            mark = self.mark()
            await self.user.press(department)
            await self.expect(has_button(self.t("button.done")), mark)

    async def file_report(
        self,
        group: str | None,
        category: str,
        parts: list[str],
        *,
        notify: bool | str = True,
        danger: str = "no",
        involves: str | None = None,
        route: str | None = None,
        department: str | None = None,
    ) -> Filed:
        """A whole report: begin → text → review → confirm → receipt → saved → notify.

        `notify` is True (full), False (off) or a level: "full", "status", "off".
        """
        await self.begin_report(
            group, category, danger=danger, involves=involves, route=route, department=department
        )
        for part in parts:
            await self.say(part, has_button(self.t("button.done")))
        return await self.finish_report(notify=notify)

    async def finish_report(self, *, notify: bool | str = True) -> Filed:
        """From the writing step: Done → confirm → receipt → saved → notification choice."""
        await self.tap("button.done", has_button(self.t("button.confirm")))
        return await self.finish_report_from_review(notify=notify)

    async def finish_report_from_review(self, *, notify: bool | str = True) -> Filed:
        """From the review screen: confirm → receipt → saved → notification choice."""
        receipt_message = await self.tap("button.confirm", has_button(self.t("button.saved")))
        found = RECEIPT_RE.search(receipt_message.text)
        if found is None:
            raise AssertionError("no receipt in: " + receipt_message.text)
        filed = await self.tap("button.saved", has_button(self.t("notify.full")))
        reference = REFERENCE_RE.search(filed.text)
        if reference is None:
            raise AssertionError("no case reference in: " + filed.text)
        level = ("full" if notify else "off") if isinstance(notify, bool) else notify
        choice = {"full": "notify.full", "status": "notify.status_only", "off": "notify.off"}[level]
        await self.tap(choice, says(self.t("report.clear_chat")[:20]))
        return Filed(found.group(0), reference.group(0))

    async def check_status(self, receipt: str) -> str:
        """/status → receipt → the plain-text history the bot shows."""
        await self.say("/status", says(self.t("status.ask_receipt")[:10]))
        mark = self.mark()
        await self.user.send_text(receipt)
        await self.expect(says(self.t("status.done")), mark)
        return "\n".join(
            e.text
            for e in self.fake.bot_messages(self.chat_id)
            if e.sequence > mark and not e.deleted
        )


class OfficerClient:
    """An officer using the admin API over HTTP."""

    def __init__(self, api_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=api_url, timeout=30)
        self.totp_secret: str | None = None
        self.fingerprint: str | None = None

    async def login(
        self,
        username: str,
        password: str,
        totp_secret: str | None = None,
        step: int | None = None,
        new_password: str | None = None,
    ) -> Any:
        """Password and TOTP login. A first login (with the initial password) activates the
        account as an officer would: enrols an authenticator, as with a phone app, keeping its
        secret in `totp_secret` for later logins, and sets `new_password`; the new key's
        fingerprint is kept in `fingerprint`.

        `step` picks the TOTP time-step to use (default: now); the server accepts each step
        once, so a second login within 30 s passes the next step (one step of drift is allowed).
        """
        self.totp_secret = totp_secret or self.totp_secret
        code = None
        if self.totp_secret:
            totp = pyotp.TOTP(self.totp_secret)
            code = totp.generate_otp(step) if step is not None else totp.now()
        response = await self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": password, "totp": code}
        )
        body = self._ok(response)
        self.http.headers["Authorization"] = f"Bearer {body['token']}"
        if body.get("enrolment_required"):
            if new_password is None:
                raise AssertionError(f"{username} must activate the account: pass new_password")
            enrolment = self._ok(await self.http.post("/api/v1/auth/totp"))
            self.totp_secret = enrolment["secret"]
            code = pyotp.TOTP(enrolment["secret"]).now()
            confirm = {"code": code, "new_password": new_password}
            me = self._ok(await self.http.post("/api/v1/auth/totp/confirm", json=confirm))
            self.fingerprint = me["key_fingerprint"]
        return body

    async def get(self, path: str, **params: Any) -> Any:
        return self._ok(await self.http.get(f"/api/v1{path}", params=params))

    async def post(self, path: str, body: Any = None) -> Any:
        return self._ok(await self.http.post(f"/api/v1{path}", json=body))

    async def cases(self, **params: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ok(await self.http.get("/api/v1/cases", params=params))
        return result

    async def case(self, reference: str) -> Any:
        return self._ok(await self.http.get(f"/api/v1/cases/{reference}"))

    async def triage(self, reference: str, **body: Any) -> Any:
        return self._ok(await self.http.post(f"/api/v1/cases/{reference}/triage", json=body))

    async def set_status(self, reference: str, status: str, note: str | None) -> Any:
        response = await self.http.post(
            f"/api/v1/cases/{reference}/status", json={"status": status, "note": note}
        )
        return self._ok(response)

    async def attachments(self, reference: str) -> list[dict[str, Any]]:
        """The case's attachments: item ids, cleaned names, types and sizes."""
        path = f"/api/v1/cases/{reference}/attachments"
        result: list[dict[str, Any]] = self._ok(await self.http.get(path))
        return result

    async def download(self, reference: str, item_id: str) -> httpx.Response:
        """One attachment, decrypted; the response carries the bytes and the file name."""
        response = await self.http.get(f"/api/v1/cases/{reference}/attachments/{item_id}")
        if response.is_error:
            raise AssertionError(f"download: {response.status_code} {response.text}")
        return response

    async def logout(self) -> None:
        self._ok(await self.http.post("/api/v1/auth/logout"))

    async def close(self) -> None:
        await self.http.aclose()

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.is_error:
            raise AssertionError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text}"
            )
        return response.json() if response.content else None
