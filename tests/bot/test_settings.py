"""Settings read from the environment, with their bounds."""

from __future__ import annotations

import pytest

from bot.settings import Settings


def test_cleaning_concurrency_is_read_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEAKUP_CLEANING_CONCURRENCY", "3")
    assert Settings(_env_file=None).cleaning_concurrency == 3
    monkeypatch.setenv("SPEAKUP_CLEANING_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="cleaning_concurrency"):
        Settings(_env_file=None)
