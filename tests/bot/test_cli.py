"""The `speakup` command line as an operator uses it: init, officers, grants, demo."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from bot.cli import main
from bot.container import Storage
from bot.settings import Settings
from cases.officers import AuthService

LOW_COST = {"SPEAKUP_KDF_MEMORY_KIB": "64", "SPEAKUP_KDF_ITERATIONS": "1", "SPEAKUP_KDF_LANES": "1"}
WORDS = re.compile(r"^ {4}((?:[a-z]+ ){23}[a-z]+)$", re.MULTILINE)


@pytest.fixture
def site_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPEAKUP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SPEAKUP_DATABASE_URL", raising=False)
    for key, value in LOW_COST.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path


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


def _run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_init_officer_add_and_grant(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _run(
            monkeypatch,
            ["init", "--admin-username", "admin", "--password-stdin"],
            "a long admin password\n",
        )
        == 0
    )
    out = capsys.readouterr().out
    words = WORDS.search(out)
    assert words, out
    assert (site_env / "speakup.db").exists()
    assert words.group(1) not in (site_env / "speakup.db").read_bytes().decode("latin-1")

    pin = re.search(r"SPEAKUP_QUEUE_KEY_PIN=([0-9a-f]{32})", out)
    assert pin, out
    assert _run(monkeypatch, ["pin"]) == 0
    assert f"SPEAKUP_QUEUE_KEY_PIN={pin.group(1)}" in capsys.readouterr().out

    # Serving without the pin is refused in production.
    with pytest.raises(SystemExit, match="SPEAKUP_QUEUE_KEY_PIN"):
        _run(monkeypatch, ["api"])

    # A second init changes nothing and prints no new words.
    assert _run(monkeypatch, ["init"]) == 0
    assert WORDS.search(capsys.readouterr().out) is None

    assert (
        _run(
            monkeypatch,
            ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"],
            "another long password\n",
        )
        == 0
    )
    assert "not yet activated" in capsys.readouterr().out
    grant = ["officer", "grant", "--queue", "union", "--username", "li", "--fingerprint"]
    # Before li chose their own password, the account holds the operator's placeholder key.
    assert _run(monkeypatch, [*grant, "0000-0000-0000-0000-0000"], words.group(1) + "\n") == 2
    assert "[officer_not_activated]" in capsys.readouterr().err
    fingerprint = _activate("li", "another long password", "li's own long password")
    wrong = "ffff-ffff-ffff-ffff-ffff"
    assert _run(monkeypatch, [*grant, wrong], words.group(1) + "\n") == 2
    err = capsys.readouterr().err
    assert "[fingerprint_mismatch]" in err
    assert fingerprint not in err  # the operator must have it from li, not from the tool
    with pytest.raises(SystemExit):  # --fingerprint is required
        _run(monkeypatch, grant[:-1], words.group(1) + "\n")
    capsys.readouterr()
    assert _run(monkeypatch, [*grant, fingerprint], words.group(1) + "\n") == 0
    assert "granted" in capsys.readouterr().out


def test_grant_with_wrong_words_fails_clearly(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, ["init"]) == 0
    assert (
        _run(
            monkeypatch,
            ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"],
            "another long password\n",
        )
        == 0
    )
    capsys.readouterr()
    assert (
        _run(
            monkeypatch,
            ["officer", "grant", "--queue", "union", "--username", "li", "--fingerprint", "00"],
            "abandon " * 23 + "art\n",
        )
        == 2
    )
    assert "recovery words" in capsys.readouterr().err


def test_short_password_is_refused(
    site_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, ["init"]) == 0
    assert (
        _run(
            monkeypatch,
            ["officer", "add", "--username", "li", "--role", "union", "--password-stdin"],
            "short\n",
        )
        == 2
    )
    assert "at least 12" in capsys.readouterr().err


def test_demo_once_plays_the_whole_loop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAKUP_")}
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "bot.cli",
            "demo",
            "--once",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "已受理" in out  # the reporter heard about the routing …
    assert "办理中" in out  # … and about the union taking it on
    assert '"report": "我们小区物业的保安和保洁' in out  # the officer's decrypted view
    assert "appear in no table. ✓" in out
    assert "→ union queue granted" in out  # officers activated, granted by fingerprint
    assert "Done: the loop is complete" in out
