"""Every mapped table in one metadata: what the migrations must match.

The models live in three modules; importing this one registers all of them, whichever of
them the caller happened to import already.
"""

from __future__ import annotations

from storage import models_notify, models_reporter
from storage.models import Base

# Imported for their side effect: their tables join Base.metadata.
MODULES = (models_notify, models_reporter)
metadata = Base.metadata
