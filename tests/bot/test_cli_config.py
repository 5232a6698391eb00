"""Configuration mistakes an operator makes, each answered by one line on stderr that names the
setting and what to do, and a non-zero exit: 78 (EX_CONFIG) for a setting to fix, 69
(EX_UNAVAILABLE) for a service that does not answer. Never a traceback, never a secret."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.devtools.fake_bot_api import FakeBotAPI
from tests.bot.conftest import PIN, init_site, process_env, run, speakup
from tests.conftest import PG_URL, _drop_postgres_database, _fresh_postgres_database

KEY = base64.b64encode(os.urandom(32)).decode()
TOKEN = "123456:TEST-token"


@pytest.fixture
def pin(site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """An initialised site; returns its queue key pin."""
    found = PIN.search(init_site(monkeypatch, capsys))
    assert found
    return found.group(1)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _one_line(err: str, *names: str) -> None:
    assert err.startswith("speakup: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for name in names:
        assert name in err, err


def test_placeholders_do_not_stop_commands_that_do_not_use_them(
    pin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("BOT_TOKEN", "NOTIFY_KEY", "DRAFT_KEY"):
        monkeypatch.setenv(f"SPEAKUP_{name}", "change-me")
    assert run(monkeypatch, ["audit", "verify"]) == 0
    assert "Audit log intact" in capsys.readouterr().out
    assert run(monkeypatch, ["pin"]) == 0


@pytest.mark.parametrize(
    ("command", "settings", "message"),
    [
        (
            "bot",
            {"BOT_TOKEN": "change-me"},
            'SPEAKUP_BOT_TOKEN is still the placeholder "change-me"',
        ),
        ("bot", {"BOT_TOKEN": ""}, "SPEAKUP_BOT_TOKEN is not set"),
        ("run", {"BOT_TOKEN": "not a token"}, "SPEAKUP_BOT_TOKEN is not a bot token"),
        ("run", {"NOTIFY_KEY": ""}, "SPEAKUP_NOTIFY_KEY is not set: generate one with `speakup"),
        ("run", {"NOTIFY_KEY": "change-me"}, "SPEAKUP_NOTIFY_KEY is still the placeholder"),
        ("run", {"NOTIFY_KEY": "not base64!"}, "SPEAKUP_NOTIFY_KEY must be 32 random bytes"),
        ("bot", {"NOTIFY_KEY": base64.b64encode(b"short").decode()}, "SPEAKUP_NOTIFY_KEY must"),
        ("bot", {"DRAFT_KEY": "notbase64"}, "SPEAKUP_DRAFT_KEY must be 32 random bytes in base64"),
        ("bot", {"DRAFT_KEY": "change-me"}, "SPEAKUP_DRAFT_KEY is still the placeholder"),
        ("api", {"API_PORT": "eighty"}, "SPEAKUP_API_PORT: Input should be a valid integer"),
        ("pin", {"KDF_LANES": "x"}, "SPEAKUP_KDF_LANES"),
        ("pin", {"DATABASE_URL": "mysql://x"}, "SPEAKUP_DATABASE_URL: 'mysql' is not supported"),
        ("pin", {"DATABASE_URL": "garbage"}, "SPEAKUP_DATABASE_URL: not a database URL"),
        ("pin", {"DATABASE_URL": "postgresql+psycopg2://u@h/d"}, "write postgresql+asyncpg://"),
        ("pin", {"WEBHOOK_URL": "http://bot.example.org/x"}, "SPEAKUP_WEBHOOK_URL must be https"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(
    pin: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    settings: dict[str, str],
    message: str,
) -> None:
    defaults = {"BOT_TOKEN": TOKEN, "NOTIFY_KEY": KEY, "QUEUE_KEY_PIN": pin}
    # Nothing may reach Telegram: every mistake here is caught before.
    defaults["TELEGRAM_API_BASE"] = f"http://127.0.0.1:{_closed_port()}"
    for name, value in (defaults | settings).items():
        monkeypatch.setenv(f"SPEAKUP_{name}", value)
    assert run(monkeypatch, [command]) == 78
    err = capsys.readouterr().err
    _one_line(err, message)
    for value in settings.values():
        if len(value) > 8 and value != "change-me":
            assert value not in err  # what was typed is not repeated (it may be a secret)


def test_an_unknown_database_host_is_named_without_the_password(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPEAKUP_DATABASE_URL", "postgresql://speakup:s3cret-pw@db.invalid/speakup")
    assert run(monkeypatch, ["audit", "verify"]) == 69
    err = capsys.readouterr().err
    _one_line(err, "SPEAKUP_DATABASE_URL", "db.invalid")
    assert "s3cret-pw" not in err


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL not configured (set SPEAKUP_TEST_DATABASE_URL)")
def test_a_postgresql_url_without_a_driver_uses_asyncpg(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The URL as PostgreSQL documents it (postgresql://…) works: psycopg is not installed,
    and need not be."""
    url, name = asyncio.run(_fresh_postgres_database())
    try:
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        monkeypatch.setenv("SPEAKUP_DATABASE_URL", plain)
        assert run(monkeypatch, ["audit", "verify"]) == 78  # not initialised yet
        assert "is not initialised" in capsys.readouterr().err
        assert run(monkeypatch, ["init"]) == 0
        assert run(monkeypatch, ["audit", "verify"]) == 0
        assert "Audit log intact: 1 rows" in capsys.readouterr().out
    finally:
        asyncio.run(_drop_postgres_database(name))


def test_a_wrong_or_missing_pin_stops_every_server(
    pin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked at start-up, not when the first report is sealed."""
    monkeypatch.setenv("SPEAKUP_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SPEAKUP_NOTIFY_KEY", KEY)
    monkeypatch.setenv("SPEAKUP_TELEGRAM_API_BASE", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("SPEAKUP_API_PORT", "0")
    for command in ("bot", "api", "run"):
        monkeypatch.setenv("SPEAKUP_QUEUE_KEY_PIN", "0" * 32)
        assert run(monkeypatch, [command]) == 78, command
        _one_line(capsys.readouterr().err, "SPEAKUP_QUEUE_KEY_PIN does not match")
        monkeypatch.delenv("SPEAKUP_QUEUE_KEY_PIN")
        assert run(monkeypatch, [command]) == 78, command
        err = capsys.readouterr().err
        _one_line(err, "SPEAKUP_QUEUE_KEY_PIN is not set", "`speakup init` printed", "trust")


def test_queue_keys_swapped_in_the_database_stop_start_up(
    pin: str, site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: someone with write access to the database puts their own public key in for the
    union queue, hoping the bot seals new reports to it. The pinned processes refuse to start."""
    with sqlite3.connect(site_env / "speakup.db") as db:
        db.execute("UPDATE queues SET public_key = ? WHERE name = 'union'", (os.urandom(32),))
    monkeypatch.setenv("SPEAKUP_QUEUE_KEY_PIN", pin)
    monkeypatch.setenv("SPEAKUP_API_PORT", "0")
    assert run(monkeypatch, ["api"]) == 78
    _one_line(capsys.readouterr().err, "SPEAKUP_QUEUE_KEY_PIN does not match", "replaced")


def test_a_busy_port_is_one_line(
    pin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("SPEAKUP_API_PORT", str(taken.getsockname()[1]))
        monkeypatch.setenv("SPEAKUP_QUEUE_KEY_PIN", pin)
        assert run(monkeypatch, ["api"]) == 78
    _one_line(capsys.readouterr().err, "SPEAKUP_API_PORT: cannot listen on 127.0.0.1:")


def test_telegram_out_of_reach_is_one_line_and_nothing_left_open(pin: str, site_env: Path) -> None:
    """As a real process: a session or task left behind would print at exit ("Unclosed client
    session", "Task exception was never retrieved")."""
    env = process_env(
        SPEAKUP_DATA_DIR=str(site_env),
        SPEAKUP_QUEUE_KEY_PIN=pin,
        SPEAKUP_BOT_TOKEN=TOKEN,
        SPEAKUP_NOTIFY_KEY=KEY,
        SPEAKUP_TELEGRAM_API_BASE=f"http://127.0.0.1:{_closed_port()}",
        SPEAKUP_API_PORT="0",
    )
    for command in ("bot", "run"):
        result = speakup(command, env=env, cwd=site_env)
        assert result.returncode == 69, result.stderr
        _one_line(result.stderr, "cannot reach Telegram", "SPEAKUP_TELEGRAM_API_BASE")


async def test_a_token_telegram_refuses_is_named(pin: str, site_env: Path) -> None:
    async with FakeBotAPI("999:the-real-token") as fake:
        env = process_env(
            SPEAKUP_DATA_DIR=str(site_env),
            SPEAKUP_QUEUE_KEY_PIN=pin,
            SPEAKUP_BOT_TOKEN=TOKEN,
            SPEAKUP_NOTIFY_KEY=KEY,
            SPEAKUP_TELEGRAM_API_BASE=fake.base_url,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "bot",
            env=env,
            cwd=site_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 78
    _one_line(err.decode(), "Telegram refused SPEAKUP_BOT_TOKEN", "@BotFather")
    assert TOKEN not in err.decode()
