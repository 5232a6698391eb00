"""aiogram routers, one module per conversation. Thin: parse, call a `cases` service, reply."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    errors,
    fallback,
    hygiene,
    officer_link,
    report,
    report_files,
    report_submit,
    report_writing,
    start,
    status,
)


def build_router() -> Router:
    """A fresh router tree: errors, outside-private guard, conversations, fallback last."""
    root = Router(name="speakup")
    root.include_routers(
        errors.build(),
        start.build_outside(),
        start.build(
            officer_link.build(),
            hygiene.build(),
            report.build(),
            report_writing.build(),
            report_submit.build(),
            status.build(),
            report_files.build(),
            report_writing.build_last(),
            report_files.build_elsewhere(),
        ),
        fallback.build(),
    )
    return root
