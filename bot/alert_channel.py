"""The officer-alert channel of the notifier: alert rows rendered in the officer's language.

Texts are built from metadata only (reference, queue, severity, due date) and sent without
parse mode like every notifier message.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from aiogram.utils.i18n import I18n

from bot.channels import Job
from cases.alert_delivery import AlertDeliveryService, OfficerAlert
from handlers.common import split_text


def render_alert(alert: OfficerAlert, i18n: I18n) -> str:
    """The alert's text; unknown values are shown as they are rather than dropped."""

    def t(key: str) -> str:
        return i18n.gettext(key, locale=alert.language)

    def label(prefix: str, value: Any) -> str:
        key = f"{prefix}.{value}"
        text = t(key)
        return str(value) if text == key else text

    def line(item: dict[str, Any]) -> str:
        due = item.get("due") or t("alert.no_due")
        text = t("alert.line").format(
            reference=item.get("reference", ""),
            queue=label("alert_queue", item.get("queue")),
            severity=label("alert_severity", item.get("severity")),
            due=due,
        )
        reasons = [label("alert_deadline", r) for r in item.get("reasons") or []]
        if reasons:
            text += " " + t("alert.overdue_because").format(
                reasons=t("alert.separator").join(reasons)
            )
        elif item.get("overdue"):
            text += " " + t("alert.overdue")
        if item.get("kind") == "transfer":
            text = t("alert.digest_transfer").format(line=text)
        return text

    data = alert.data
    if alert.kind == "digest":
        items = list(data.get("items", []))
        overdue = [i for i in items if i.get("overdue")]
        soon = [i for i in items if not i.get("overdue")]
        parts = [t("alert.digest").format(day=data.get("day", ""))]
        if overdue:
            parts.append(t("alert.digest_overdue") + "\n" + "\n".join(line(i) for i in overdue))
        if soon:
            parts.append(t("alert.digest_soon") + "\n" + "\n".join(line(i) for i in soon))
        body = "\n\n".join(parts)
    else:
        body = label("alert_kind", alert.kind) + "\n" + line(data)
    return body + "\n\n" + t("alert.footer")


class AlertChannel:
    """Officer alerts from `alert_outbox`, to the chats officers linked."""

    name = "alerts"

    def __init__(self, service: AlertDeliveryService, i18n: I18n) -> None:
        self._service = service
        self._i18n = i18n

    async def claim(self, limit: int) -> list[Job]:
        lease_until = time.monotonic() + self._service.lease.total_seconds()
        return [
            Job(
                row_id=alert.row_id,
                chat_id=alert.chat_id,
                parts=split_text(render_alert(alert, self._i18n)),
                channel=self,
                lease_until=lease_until,
                label=str(alert.data.get("reference", alert.kind)),
            )
            for alert in await self._service.claim(limit)
        ]

    async def part_sent(self, job: Job) -> None:
        return None  # alert rows keep no parts count (see cases.alert_delivery)

    async def delivered(self, job: Job) -> None:
        await self._service.delivered(job.row_id)

    async def unreachable(self, job: Job) -> None:
        await self._service.unreachable(job.row_id, job.chat_id)

    async def failed(self, job: Job, error: str) -> int:
        return await self._service.failed(job.row_id, error)

    async def release(self, jobs: list[Job], at: dt.datetime) -> None:
        await self._service.release([j.row_id for j in jobs], at)

    async def dead(self, job: Job) -> None:
        await self._service.give_up(job.row_id)

    async def migrated(self, job: Job, new_chat_id: int) -> bool:
        await self._service.migrated(job.chat_id, new_chat_id)
        return True
