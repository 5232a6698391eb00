"""The `speakup` command line as an operator uses it: init, officers, grants, pin, help."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest

from bot.container import Storage
from bot.settings import Settings
from cases.officers import AuthService
from storage.db import make_engine, migrate
from tests.bot.conftest import (
    ADMIN_PASSWORD,
    PIN,
    WORDS,
    init_site,
    process_env,
    run,
    speakup,
)


def _activate(username: str, initial: str, own: str) -> str:
    """The officer's first login over the services `speakup api` runs: their own password and
    authenticator. Returns the key fingerprint GET /auth/me would show them."""

    async def activate() -> str:
        settings = Settings()
        storage = Storage(settings)
        try:
            auth = AuthService(storage.uow, storage.officer_kdf, settings.kdf_cost)
            session = await auth.login(username, initial)
            secret = auth.begin_enrolment(session).secret
            return await auth.activate(session, pyotp.TOTP(secret).now(), own)
        finally:
            await storage.close()

    return asyncio.run(activate())


def test_init_officer_add_and_grant(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = init_site(monkeypatch, capsys)
    words = WORDS.search(out)
    assert words, out
    assert (site_env / "speakup.db").exists()
    assert words.group(1) not in (site_env / "speakup.db").read_bytes().decode("latin-1")

    pin = PIN.search(out)
    assert pin, out
    assert run(monkeypatch, ["pin"]) == 0
    printed = capsys.readouterr()
    assert f"SPEAKUP_QUEUE_KEY_PIN={pin.group(1)}" in printed.out
    assert "only for a database you trust" in printed.err  # not a substitute for init's pin

    # Serving without the pin is refused in production, pointing at init's output.
    assert run(monkeypatch, ["api"]) == 78
    err = capsys.readouterr().err
    assert "SPEAKUP_QUEUE_KEY_PIN is not set" in err
    assert "`speakup init` printed" in err

    # A second init changes nothing and prints no new words.
    assert run(monkeypatch, ["init"]) == 0
    assert WORDS.search(capsys.readouterr().out) is None

    assert (
        run(
            monkeypatch,
            ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"],
            "another long password\n",
        )
        == 0
    )
    assert "not yet activated" in capsys.readouterr().out
    grant = ["officer", "grant", "--queue", "union", "--username", "li", "--fingerprint"]
    # Before li chose their own password, the account holds the operator's placeholder key.
    assert run(monkeypatch, [*grant, "0000-0000-0000-0000-0000"], words.group(1) + "\n") == 2
    assert "[officer_not_activated]" in capsys.readouterr().err
    fingerprint = _activate("li", "another long password", "li's own long password")
    wrong = "ffff-ffff-ffff-ffff-ffff"
    assert run(monkeypatch, [*grant, wrong], words.group(1) + "\n") == 2
    err = capsys.readouterr().err
    assert "[fingerprint_mismatch]" in err
    assert fingerprint not in err  # the operator must have it from li, not from the tool
    with pytest.raises(SystemExit):  # --fingerprint is required
        run(monkeypatch, grant[:-1], words.group(1) + "\n")
    capsys.readouterr()
    assert run(monkeypatch, [*grant, fingerprint], words.group(1) + "\n") == 0
    assert "granted" in capsys.readouterr().out

    # The administrator holds no queue key, and the refusal says so in plain words.
    to_admin = ["officer", "grant", "--queue", "union", "--username", "admin", "--fingerprint"]
    assert run(monkeypatch, [*to_admin, fingerprint], words.group(1) + "\n") == 2
    assert "an officer with the role administrator holds no queue key" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("username", "password", "refusal"),
    [
        ("admin", "short", "at least 12 characters"),
        ("admin", " " * 16, "not be only spaces"),
        ("bad name!", ADMIN_PASSWORD, "username must be"),
        ("", ADMIN_PASSWORD, "username must be"),
    ],
)
def test_init_checks_the_administrator_before_making_any_key(
    site_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    username: str,
    password: str,
    refusal: str,
) -> None:
    """A refused name or password used to come after the recovery words were printed: a site
    with keys and no administrator. Now nothing is created at all."""
    argv = ["init", "--admin-username", username, "--password-stdin"]
    assert run(monkeypatch, argv, password + "\n") == 2
    printed = capsys.readouterr()
    assert refusal in printed.err
    assert WORDS.search(printed.out) is None
    assert "SPEAKUP_QUEUE_KEY_PIN" not in printed.out
    assert not (site_env / "speakup.db").exists()
    assert not password.strip() or password not in printed.err  # never echoed


def test_a_second_init_creates_the_missing_first_administrator(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["init"]) == 0
    assert "No administrator account yet" in capsys.readouterr().out
    assert run(monkeypatch, ["init"]) == 0
    out = capsys.readouterr().out
    assert "Already initialised" in out
    assert "No administrator account yet" in out
    assert "--admin-username" in out

    argv = ["init", "--admin-username", "admin", "--password-stdin"]
    assert run(monkeypatch, argv, ADMIN_PASSWORD + "\n") == 0
    out = capsys.readouterr().out
    assert "Administrator 'admin' created" in out
    assert WORDS.search(out) is None  # still the same keys and words

    # With an administrator there, init does not become a way to add more of them.
    argv = ["init", "--admin-username", "admin2", "--password-stdin"]
    assert run(monkeypatch, argv, ADMIN_PASSWORD + "\n") == 1
    assert "speakup officer add --username admin2 --role administrator" in capsys.readouterr().err
    add = ["officer", "add", "--username", "admin2", "--role", "administrator", "--password-stdin"]
    assert run(monkeypatch, add, ADMIN_PASSWORD + "\n") == 0  # it was not created before


def test_grant_with_wrong_words_fails_clearly(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["init"]) == 0
    assert (
        run(
            monkeypatch,
            ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"],
            "another long password\n",
        )
        == 0
    )
    capsys.readouterr()
    assert (
        run(
            monkeypatch,
            ["officer", "grant", "--queue", "union", "--username", "li", "--fingerprint", "00"],
            "abandon " * 23 + "art\n",
        )
        == 2
    )
    assert "recovery words" in capsys.readouterr().err


def test_officer_add_refuses_bad_names_and_passwords(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["init"]) == 0
    add = ["officer", "add", "--role", "union", "--password-stdin", "--username"]
    assert run(monkeypatch, [*add, "li"], "short\n") == 2
    assert "at least 12" in capsys.readouterr().err
    assert run(monkeypatch, [*add, "li"], " " * 20 + "\n") == 2
    assert "only spaces" in capsys.readouterr().err
    for name in ("li triage", "li/triage", "lі.triage", ".li", "x" * 65):  # "lі": Cyrillic і
        assert run(monkeypatch, [*add, name], "another long password\n") == 2, name
        assert "username must be" in capsys.readouterr().err
    assert run(monkeypatch, [*add, "li.triage_2-b"], "another long password\n") == 0


def test_recovery_words_are_not_shown_while_typed(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal, `speakup officer grant` reads the words without echo (like a password):
    someone looking over the shoulder, or the terminal's scroll-back, must not get them."""
    words = WORDS.search(init_site(monkeypatch, capsys))
    assert words
    add = ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"]
    assert run(monkeypatch, add, "another long password\n") == 0
    fingerprint = _activate("li", "another long password", "li's own long password")
    capsys.readouterr()

    controller, terminal = pty.openpty()
    argv = ["officer", "grant", "--queue", "union", "--username", "li"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.cli", *argv, "--fingerprint", fingerprint],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=process_env(SPEAKUP_DATA_DIR=str(site_env)),
        cwd=site_env,
        start_new_session=True,  # no controlling terminal but this one
    )
    os.close(terminal)
    screen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal screen
        deadline = time.monotonic() + timeout
        while marker not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    screen += os.read(controller, 4096)
                except OSError:  # the process closed the terminal
                    break

    try:
        read_until(b"Recovery words")
        assert b"not shown as you type" in screen
        os.write(controller, words.group(1).encode() + b"\n")
        read_until(b"log in again")
        assert process.wait(timeout=30) == 0, screen.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert b"granted to 'li'" in screen
    assert words.group(1).split()[0].encode() not in screen  # nothing of the words echoed


def test_help_says_what_each_option_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(monkeypatch, ["init", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "recovery words" in text
    assert "asks for its initial password" in text  # --admin-username
    assert "first line of standard input" in text  # --password-stdin
    with pytest.raises(SystemExit):
        run(monkeypatch, ["keygen", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "SPEAKUP_NOTIFY_KEY" in text
    assert "SPEAKUP_DRAFT_KEY" in text
    with pytest.raises(SystemExit):
        run(monkeypatch, ["--help"])
    assert "SPEAKUP_DRAFT_KEY" in capsys.readouterr().out


def test_one_shot_commands_log_nothing_unless_verbose(tmp_path: Path) -> None:
    env = process_env(SPEAKUP_DATA_DIR=str(tmp_path))
    init = speakup("init", env=env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert init.stderr == ""  # no "INFO alembic…" lines
    pin = speakup("pin", env=env, cwd=tmp_path)
    assert pin.returncode == 0
    assert "alembic" not in pin.stderr
    assert "INFO" not in pin.stderr
    verbose = speakup("pin", "--verbose", env=env, cwd=tmp_path)
    assert verbose.returncode == 0
    assert "INFO alembic" in verbose.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "verify"],
        ["pin"],
        ["retention", "--dry-run"],
        ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"],
        ["api"],
    ],
)
def test_commands_refuse_a_database_that_was_never_initialised(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    site_env: Path,
    argv: list[str],
) -> None:
    """A mistyped SPEAKUP_DATA_DIR used to create an empty database and report on it ("Audit
    log intact: 0 rows"). Now nothing is created and the command says to run init."""
    missing = tmp_path / "nonexistent" / "dir"
    monkeypatch.setenv("SPEAKUP_DATA_DIR", str(missing))
    assert run(monkeypatch, argv, "another long password\n") == 78
    err = capsys.readouterr().err
    assert err.startswith("speakup: ")
    assert err.count("\n") == 1
    assert "run `speakup init` first" in err
    assert not (tmp_path / "nonexistent").exists()

    # Tables without a site (an init that never finished) are not initialised either.
    monkeypatch.setenv("SPEAKUP_DATA_DIR", str(site_env))

    async def migrate_only() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{site_env / 'speakup.db'}")
        await migrate(engine)
        await engine.dispose()

    asyncio.run(migrate_only())
    assert run(monkeypatch, argv, "another long password\n") == 78
    assert "is not initialised: run `speakup init` first" in capsys.readouterr().err
