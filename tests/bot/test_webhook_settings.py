"""Webhook settings refuse what would leak or weaken the secret, outside demo and test."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import PLACEHOLDER, Settings

GOOD_SECRET = "a" * 16 + "B-_9" * 5


def settings(**fields: Any) -> Settings:
    return Settings.model_validate({"bot_token": "123456:real-token", **fields})


def test_without_a_webhook_url_nothing_is_required() -> None:
    assert settings().webhook_url == ""


def test_a_production_webhook_with_a_strong_secret_is_accepted() -> None:
    s = settings(webhook_url="https://bot.example.org/telegram/hook", webhook_secret=GOOD_SECRET)
    assert s.webhook_route == "/telegram/hook"
    assert (
        settings(
            webhook_url="https://bot.example.org/public/hook",
            webhook_path="/hook",
            webhook_secret=GOOD_SECRET,
        ).webhook_route
        == "/hook"
    )
    assert (
        settings(webhook_url="https://bot.example.org", webhook_secret=GOOD_SECRET).webhook_route
        == "/"
    )


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({}, "SPEAKUP_WEBHOOK_SECRET must be set"),
        ({"webhook_secret": PLACEHOLDER}, "SPEAKUP_WEBHOOK_SECRET must be set"),
        ({"webhook_secret": "short-but-valid"}, "at least 32"),
        ({"webhook_secret": "x" * 40 + "+/="}, "A-Z, a-z, 0-9"),
        (
            {"webhook_url": "http://bot.example.org/hook", "webhook_secret": GOOD_SECRET},
            "must be https",
        ),
        (
            {
                "webhook_url": f"https://bot.example.org/{GOOD_SECRET}",
                "webhook_secret": GOOD_SECRET,
            },
            "must not contain a secret",
        ),
        (
            {"webhook_path": f"/hook/{GOOD_SECRET}", "webhook_secret": GOOD_SECRET},
            "must not contain a secret",
        ),
        (
            {
                "webhook_url": "https://bot.example.org/123456:real-token",
                "webhook_secret": GOOD_SECRET,
            },
            "must not contain a secret",
        ),
        (
            {"webhook_url": "https://bot.example.org/hook?key=1", "webhook_secret": GOOD_SECRET},
            "nothing else",
        ),
        ({"webhook_path": "hook", "webhook_secret": GOOD_SECRET}, "must start with /"),
    ],
)
def test_unsafe_webhook_settings_are_refused_in_production(
    fields: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        settings(**{"webhook_url": "https://bot.example.org/hook", **fields})


def test_demo_and_test_may_use_loopback_http_and_no_secret() -> None:
    for environment in ("demo", "test"):
        s = settings(environment=environment, webhook_url="http://127.0.0.1:9999/hook")
        assert s.webhook_secret.get_secret_value() == ""
    # Telegram's own rules still hold there: it would refuse these characters.
    with pytest.raises(ValidationError, match="A-Z, a-z, 0-9"):
        settings(environment="test", webhook_url="http://127.0.0.1/h", webhook_secret="a b")


def test_the_secret_never_prints() -> None:
    s = settings(webhook_url="https://bot.example.org/hook", webhook_secret=GOOD_SECRET)
    assert GOOD_SECRET not in repr(s)
    assert GOOD_SECRET not in str(s.model_dump())
