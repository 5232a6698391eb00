"""The bot process's alert loop: look for urgent, newly visible and due cases every few seconds.

The alerts themselves are queued in `alert_outbox` with dedup keys, so a restart, a second bot
process or an overlapping run never alerts twice; the notifier sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from cases.alerts import AlertService

log = logging.getLogger(__name__)


async def run_alert_scans(service: AlertService, interval: float, stop: asyncio.Event) -> None:
    """Scan for case alerts and the daily digest until `stop`; errors wait for the next turn."""
    while not stop.is_set():
        try:
            queued = await service.scan()
            queued += await service.digest()
            if queued:
                log.info("officer alerts queued: %d", queued)
        except Exception as exc:  # the database went away, say; never take the bot down
            log.error("alert scan failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
