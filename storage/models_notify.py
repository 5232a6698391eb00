"""Tables of the notifier that are not about reporters: officer alert chats and their queue.

Officers are not anonymous (DESIGN §1), so their chat ids are stored plainly. Alerts carry a
case reference, queue, severity and due date — never report content — so nothing here is sealed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.references import new_id
from storage.models import Base, UTCDateTime


class OfficerChat(Base):
    """The Telegram chat an officer linked for alerts (private chat or a group)."""

    __tablename__ = "officer_chats"

    officer_id: Mapped[str] = mapped_column(
        ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8))
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AlertLinkCode(Base):
    """A one-time code an officer types as `/link CODE`; stored only as a hash."""

    __tablename__ = "alert_link_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AlertRow(Base):
    """An officer alert waiting for the notifier. Metadata only, never report content."""

    __tablename__ = "alert_outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    # One alert per (officer, kind, subject): re-running a scan never alerts twice.
    dedup_key: Mapped[str] = mapped_column(String(96), unique=True)
    # JSON of metadata (reference, queue, severity, due date); rendered in the officer's language.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_alert_outbox_pending", "outcome", "next_attempt_at"),)


class DigestDay(Base):
    """Days the deadline digest already went out, so a restart does not send it twice."""

    __tablename__ = "alert_digest_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
