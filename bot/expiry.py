"""Expiry times at rest that name a window, not a moment (P8).

A record stored with "expire in N seconds" tells anyone who dumps the store when it was
written, to the millisecond: its expiry minus N. Stores are therefore given an absolute
expiry rounded up to `EXPIRY_GRAIN`, so the expiry says only in which ten minutes the
record was written — of a reporter's draft step, or of an update's arrival, either of which
could be matched with when a case was filed.
"""

from __future__ import annotations

import math

# Stores expire records at a multiple of this, so an expiry time names a window, not a second.
EXPIRY_GRAIN = 600


def expiry_at(timestamp: float) -> int:
    """`timestamp` (seconds since the epoch) rounded up to the next multiple of the grain."""
    return math.ceil(timestamp / EXPIRY_GRAIN) * EXPIRY_GRAIN
