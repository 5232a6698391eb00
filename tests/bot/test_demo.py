"""`speakup demo` as a newcomer runs it: the whole loop once, and stopping it while it serves."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.bot.conftest import process_env


def test_demo_once_plays_the_whole_loop(tmp_path: Path) -> None:
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
        env=process_env(),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""  # no log noise around the story
    out = result.stdout
    assert "已受理" in out  # the reporter heard about the routing …
    assert "办理中" in out  # … and about the union taking it on
    assert '"report": "我们小区物业的保安和保洁' in out  # the officer's decrypted view
    assert "appear in no table. ✓" in out
    for queue in ("triage", "union", "discipline"):  # officers activated, granted by fingerprint
        assert f"→ {queue} queue granted" in out
    assert "overseer.demo   activated (an overseer holds no queue key)" in out
    assert "Done: the loop is complete" in out

    # The transcript shows each tap and each screen the bot edited in place, in order.
    chat = out.split("=== Chat transcript")[1].split("\n=== ")[0]
    steps = [
        "👤 小明: /start",
        "👆 Reporter taps: 📝 新的反映",
        "👆 Reporter taps: 职工权益（工会）",
        "(edits the same message in place): 请选择具体类别",
        "👆 Reporter taps: 工资报酬（拖欠、克扣）",
        "(edits the same message in place): 现在是否有人",
        "👆 Reporter taps: 没有人面临危险",
        "(edits the same message in place): 这件事是否涉及",
        "👆 Reporter taps: 📨 确认提交",
        "👆 Reporter taps: 我已保存回执码",
        "✂ the bot deletes its message “您的回执码：”",
        "👆 Reporter taps: 🔔 通知我进展和答复",
        "(edits the same message in place): 好的，有进展时会在这里通知您",
        "新进展：已受理",
        "新进展：办理中",
        "👤 小明: /status",
        "✂ the bot deletes the reporter's message",
        "当前状态：办理中",
    ]
    positions = [chat.find(step) for step in steps]
    assert all(p >= 0 for p in positions), [
        s for s, p in zip(steps, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions), chat

    # Sent notifications show when they were sent, not retry bookkeeping.
    outbox = [line for line in out.splitlines() if line.startswith("outbox:")]
    assert len(outbox) == 2
    for line in outbox:
        assert "outcome=sent" in line
        assert "sent_at=" in line
        for bookkeeping in ("attempts=", "parts_sent=", "next_attempt_at=", "last_error="):
            assert bookkeeping not in line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Demo:
    """`speakup demo` (staying up) as a separate process, its output read as it comes."""

    def __init__(self, tmp_path: Path, *, ignore_sigint: bool) -> None:
        def deaf_to_ctrl_c() -> None:  # as `speakup demo &` from a script starts it
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        self.port = _free_port()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bot.cli", "demo", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # The temporary directory, with the demo database, is made here: we see it go.
            env=process_env(TMPDIR=str(tmp_path), PYTHONUNBUFFERED="1"),
            cwd=tmp_path,
            preexec_fn=deaf_to_ctrl_c if ignore_sigint else None,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while what not in self.output:
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, f"no {what!r} in:\n{self.output}"
            time.sleep(0.2)

    def api_answers(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/healthz"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def wait_for_api(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.api_answers():
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, "the demo's admin API never answered"
            time.sleep(0.2)

    def stop(self, number: int) -> int:
        self.process.send_signal(number)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def test_sigterm_mid_scenario_stops_the_demo_cleanly(tmp_path: Path) -> None:
    """SIGTERM (what `kill`, systemd and CI send) used to kill the demo at once and leave
    /tmp/speakup-demo-* with its database behind. Now it stops like Ctrl-C: temp dir gone."""
    demo = Demo(tmp_path, ignore_sigint=False)
    try:
        demo.wait_for_api()  # the scenario is playing now
        assert list(tmp_path.glob("speakup-demo-*"))  # the database is there while it runs
        assert demo.stop(signal.SIGTERM) == 130
    finally:
        demo.kill()
    assert "Stopped before the loop was complete." in demo.output
    assert "Traceback" not in demo.output
    assert not list(tmp_path.glob("speakup-demo-*"))


def test_a_serving_demo_deaf_to_ctrl_c_stops_on_sigterm(tmp_path: Path) -> None:
    """Started with SIGINT ignored, the serving demo stays deaf to it (its API used to stop
    while the demo waited forever), and SIGTERM stops it cleanly: exit 0, temp dir gone."""
    demo = Demo(tmp_path, ignore_sigint=True)
    try:
        demo.wait_for("Press Ctrl-C to stop")
        demo.process.send_signal(signal.SIGINT)
        time.sleep(1)
        assert demo.process.poll() is None
        assert demo.api_answers()
        assert demo.stop(signal.SIGTERM) == 0
    finally:
        demo.kill()
    assert "Stopping …" in demo.output
    assert "Traceback" not in demo.output
    assert "ERROR" not in demo.output
    assert not list(tmp_path.glob("speakup-demo-*"))
