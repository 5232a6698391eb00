"""Running the `speakup` command line as an operator does: in this process through `main`, or
as a real process (signals, terminals, what reaches stderr)."""

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
PIN = re.compile(r"SPEAKUP_QUEUE_KEY_PIN=([0-9a-f]{32})")
ADMIN_PASSWORD = "a long admin password"


@pytest.fixture
def site_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean SPEAKUP_* environment with the embedded database under `tmp_path`."""
    for key in [k for k in os.environ if k.startswith("SPEAKUP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SPEAKUP_DATA_DIR", str(tmp_path))
    for key, value in LOW_COST.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return tmp_path


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    """`speakup ARGV` in this process, with `stdin` as its standard input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def init_site(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """`speakup init` with a first administrator; returns what it printed."""
    argv = ["init", "--admin-username", "admin", "--password-stdin"]
    assert run(monkeypatch, argv, ADMIN_PASSWORD + "\n") == 0
    return capsys.readouterr().out


def process_env(**settings: str) -> dict[str, str]:
    """This environment without SPEAKUP_*, with cheap Argon2, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAKUP_")}
    return env | LOW_COST | settings


def speakup(
    *argv: str, env: dict[str, str], cwd: Path, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`speakup ARGV` as a separate process, in `cwd` (where no .env lies)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.cli", *argv],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
