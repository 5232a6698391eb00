"""Tables added for the reporter conversation: intake metadata per case.

Kept apart from `storage.models` so the reporter side's schema reads as one piece; the table
shares the same metadata (and migrations) as every other.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class CaseIntake(Base):
    """Recusal choice and triage suggestion of a case. Codes and rule ids, never content."""

    __tablename__ = "case_intake"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    # "union" / "discipline": the report involves someone who handles reports there.
    involves_handler: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Where the reporter asked it to go instead: "union", "discipline" or "overseer".
    handler_route: Mapped[str | None] = mapped_column(String(16), nullable=True)
    suggested_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    suggested_routing: Mapped[str | None] = mapped_column(String(16), nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Comma-separated ids of the triage rules that fired, and the reporter's answer to
    # "is anyone in danger right now" as `reporter:danger=<answer>` (`cases.danger`).
    rules: Mapped[str] = mapped_column(Text, default="")
