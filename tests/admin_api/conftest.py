"""The real FastAPI app over HTTP (httpx with the ASGI transport), on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from admin_api.app import create_app
from tests.factories import PASSWORD, Site, build_site


@dataclass
class Api:
    site: Site
    client: httpx.AsyncClient
    app_state: object

    async def token(self, username: str) -> str:
        response = await self.client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": PASSWORD, "totp": self.site.totp(username)},
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    site = await build_site(database_url)
    app = create_app(site.api_services())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin.test") as client:
        yield Api(site, client, app.state)
    await site.engine.dispose()
