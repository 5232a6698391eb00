"""SQLAlchemy models. Content columns hold ciphertext only; see storage/crypto.

P8: no case-facing table holds the exact moment a reporter acted: cases, report items and
reporter events carry a date, and ids are random, never sequential.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cases.references import new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Site(Base):
    """Site-wide public parameters, one row, written by `speakup init`."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary)
    # The receipt KDF cost is fixed at init: changing it would orphan every receipt.
    receipt_kdf_memory_kib: Mapped[int] = mapped_column(Integer)
    receipt_kdf_iterations: Mapped[int] = mapped_column(Integer)
    receipt_kdf_lanes: Mapped[int] = mapped_column(Integer)
    recovery_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Queue(Base):
    """A queue (triage, union, discipline) and its public key."""

    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The queue private key sealed to the offline recovery key.
    sealed_for_recovery: Mapped[bytes] = mapped_column(LargeBinary)


class Officer(Base):
    """An officer account. The private key is stored only wrapped under the password."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary)
    kdf_memory_kib: Mapped[int] = mapped_column(Integer)
    kdf_iterations: Mapped[int] = mapped_column(Integer)
    kdf_lanes: Mapped[int] = mapped_column(Integer)
    verifier: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The TOTP secret, AES-GCM under HKDF(password key, "totp"): the database alone does not
    # reveal it. None until the officer enrols (forced at first login).
    totp_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The last TOTP time-step a login accepted, so a code seen once cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # When the officer chose their own password and got a new keypair at first login. None for
    # an account an administrator created or reset: its key is a placeholder wrapped under the
    # administrator-chosen password, and nothing may be granted to it.
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class QueueGrant(Base):
    """A queue's private key sealed to one member officer."""

    __tablename__ = "queue_grants"

    queue: Mapped[str] = mapped_column(ForeignKey("queues.name"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(
        ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True
    )
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Case(Base):
    """Case metadata. No content, no reporter identity, no exact creation time."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(9), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    routing: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[dt.date] = mapped_column(Date)
    visible_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    case_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    reporter_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    lookup_tag: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    not_accepted_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reporter_unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Workflow metadata (issue 4). Dates only, never content: owner units and outcomes are
    # sealed items.
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    handling_due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rectification_due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    look_back_failures: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_cases_status_received", "status", "received_on"),
        Index("ix_cases_category", "category"),
        Index("ix_cases_severity", "severity"),
        Index("ix_cases_due_on", "due_on"),
        Index("ix_cases_received_on", "received_on"),
    )


class CaseKey(Base):
    """A case's private key sealed to one holding queue."""

    __tablename__ = "case_keys"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    queue: Mapped[str] = mapped_column(ForeignKey("queues.name"), primary_key=True, index=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class CaseItem(Base):
    """One sealed content item: the report, a note, a message, a reply.

    `sealed` opens with the case key; `sealed_for_reporter`, when present, with the reporter key
    (reporter-visible texts only).
    """

    __tablename__ = "case_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_for_reporter: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"), nullable=True)
    created_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("case_id", "position"),)


class CaseEvent(Base):
    """A status change, with the reporter-visible note it carried, if any."""

    __tablename__ = "case_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"), nullable=True)
    note_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("case_items.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (UniqueConstraint("case_id", "position"),)


class OutboxRow(Base):
    """A reporter-facing notification, written in the same transaction as its change."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("case_events.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "sent", "no_link" (nobody to tell), "unreachable" or "dead"; None while pending.
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # How many parts of a split message Telegram already accepted, so a retry resumes there.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_outbox_pending", "outcome", "next_attempt_at"),)


class NotifyLink(Base):
    """AES-GCM(notify_key, {chat id, reporter seed}) — opens only in the bot process."""

    __tablename__ = "notify_links"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(8))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class AuditRow(Base):
    """Hash-chained audit log of officer actions (P6). Never content, never reporter data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    officer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    case_reference: Mapped[str | None] = mapped_column(String(9), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Transfer(Base):
    """A clue transfer (线索移交) from one queue to the other.

    `sealed_case_key` is the case key already sealed to the receiving queue by the sender, who
    can open it; accepting moves it into `case_keys`, declining deletes it.
    """

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_queue: Mapped[str] = mapped_column(ForeignKey("queues.name"))
    to_queue: Mapped[str] = mapped_column(ForeignKey("queues.name"))
    status: Mapped[str] = mapped_column(String(16))
    requested_on: Mapped[dt.date] = mapped_column(Date)
    respond_by: Mapped[dt.date] = mapped_column(Date)
    responded_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    sealed_case_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    feedback_item_id: Mapped[str] = mapped_column(ForeignKey("case_items.id"))
    reason_item_id: Mapped[str | None] = mapped_column(ForeignKey("case_items.id"), nullable=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    # The sender's feedback text sealed to the receiving queue's public key (bound to case id,
    # kind and transfer id), so the receiver can decide before it may open the case itself.
    sealed_feedback: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (Index("ix_transfers_to_queue_status", "to_queue", "status"),)
