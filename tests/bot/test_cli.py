"""The `speakup` command line as an operator uses it: init, officers, grants, demo."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

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
    assert (
        _run(
            monkeypatch,
            ["officer", "grant", "--queue", "union", "--username", "li"],
            words.group(1) + "\n",
        )
        == 0
    )
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
            ["officer", "grant", "--queue", "union", "--username", "li"],
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
    assert "Done: the loop is complete" in out
