"""aiogram routers, one module per conversation. Thin: parse, call a `cases` service, reply."""

from __future__ import annotations

from aiogram import Router

from handlers import errors, fallback, report, start, status


def build_router() -> Router:
    """A fresh router tree: errors, outside-private guard, conversations, fallback last."""
    root = Router(name="speakup")
    root.include_routers(
        errors.build(),
        start.build_outside(),
        start.build(report.build(), status.build()),
        fallback.build(),
    )
    return root
