"""Bodies for the workflow steps of a case."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from cases.dispositions import Disposition


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class DispositionIn(BaseModel):
    disposition: Disposition
    note: str | None = Field(default=None, max_length=4000)
    # The note is internal unless the officer says the reporter may read it.
    reporter_visible: bool = False


class RectificationIn(BaseModel):
    owner_unit: str = Field(min_length=1, max_length=200)
    due_on: dt.date
    note: str | None = Field(default=None, max_length=4000)


class LookBackIn(BaseModel):
    passed: bool
    note: str | None = Field(default=None, max_length=4000)
    # Failed only: a new rectification due date (else the old one stands).
    due_on: dt.date | None = None
