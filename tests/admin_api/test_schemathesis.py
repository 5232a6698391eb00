"""Schemathesis over the OpenAPI document, authenticated, against the running admin API:
no generated request may get a 5xx. Bounded (few examples per operation) to stay fast.

The database is not empty: a case sits in each queue, a transfer waits, a case has an
attachment, and path parameters are drawn from those rows first (`fuzz_rows`), so generated
requests reach the decrypting, state-changing code and not only the 404 paths."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pyotp
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from bot.runner import shutdown, start
from bot.settings import Settings
from tests.admin_api.fuzz_rows import Rows, file_reports, seed
from tests.e2e.conftest import Activated, initialise, totp_step_after
from tests.factories import PASSWORD, TEST_COST

T = TypeVar("T")
ROLES = ("triage1", "union1", "disc1", "admin1", "overseer1")
# Ending one's own session or changing one's password would only turn later examples into 401s.
SKIPPED = ("/api/v1/auth/logout", "/api/v1/auth/password")


@dataclass
class LiveApi:
    url: str
    tokens: dict[str, str]
    rows: Rows


def _login(url: str, username: str, activated: Activated) -> str:
    """Password and TOTP login of an officer who activated their account."""
    step, wait = totp_step_after(activated.step)
    time.sleep(wait)
    with httpx.Client(base_url=url, timeout=30) as http:
        code = pyotp.TOTP(activated.secret).generate_otp(step)
        body = {"username": username, "password": PASSWORD, "totp": code}
        token: str = http.post("/api/v1/auth/login", json=body).raise_for_status().json()["token"]
    return token


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The real admin API on loopback, served from its own event-loop thread so the
    synchronous schemathesis calls can reach it."""
    data: Path = tmp_path_factory.mktemp("schemathesis")
    config = Settings(
        environment="test",
        data_dir=data,
        database_url=f"sqlite+aiosqlite:///{data / 'api.db'}",
        bot_token="123456:TEST-token",
        notify_key=base64.b64encode(os.urandom(32)).decode(),
        api_port=0,
        kdf_memory_kib=TEST_COST.memory_kib,
        kdf_iterations=TEST_COST.iterations,
        kdf_lanes=TEST_COST.lanes,
        blur_max_minutes=0,
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    activated = run(initialise(config))
    handle = run(start(config, with_bot=False, with_api=True))
    assert handle.api_url is not None
    try:
        references = run(file_reports(handle.storage, config))
        tokens = {u: _login(handle.api_url, u, activated[u]) for u in ROLES}
        yield LiveApi(handle.api_url, tokens, seed(handle.api_url, tokens, references))
    finally:
        run(shutdown(handle))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _check_operation(
    operation: Any, live_api: LiveApi, seen: Counter[tuple[str, str, int]]
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=4,
        deadline=dt.timedelta(seconds=10),
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        live_api.rows.point(case)
        for username, token in live_api.tokens.items():
            response = case.call(
                base_url=live_api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            seen[(case.method, operation.path, response.status_code)] += 1
            assert response.status_code < 500, (
                username,
                case.method,
                case.formatted_path,
                response.status_code,
                response.text[:500],
            )

    check()


def test_no_generated_request_gets_a_server_error(live_api: LiveApi) -> None:
    document = httpx.get(f"{live_api.url}/openapi.json", timeout=30).raise_for_status().json()
    schema = schemathesis.openapi.from_dict(document)
    seen: Counter[tuple[str, str, int]] = Counter()
    checked = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation in the document loads
        operation = result.ok()
        if operation.path in SKIPPED:
            continue
        _check_operation(operation, live_api, seen)
        checked += 1
    assert checked > 30
    # The seeded rows were reached, not only the 404 paths: a case opened and an attachment
    # downloaded by its queue, the waiting transfer answered by the receiving queue.
    reached = {(method, path) for method, path, status in seen if status < 300}
    assert {
        ("GET", "/api/v1/cases/{reference}"),
        ("GET", "/api/v1/cases/{reference}/attachments/{item_id}"),
        ("POST", "/api/v1/transfers/{transfer_id}/accept"),
    } <= reached, sorted(seen.items())
