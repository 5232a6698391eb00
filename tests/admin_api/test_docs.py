"""/docs and /redoc work with no network and pull no third-party script into the officers'
browser: every asset comes from the API itself."""

from __future__ import annotations

import re

import httpx

from admin_api.app import create_app
from tests.factories import build_site

ASSET = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


async def test_docs_pages_load_only_their_own_assets(database_url: str) -> None:
    site = await build_site(database_url, officers=False)
    app = create_app(site.api_services())
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://admin.test") as http:
            for page in ("/docs", "/redoc"):
                response = await http.get(page)
                assert response.status_code == 200, page
                html = response.text
                assert "cdn.jsdelivr.net" not in html
                assert "fastapi.tiangolo.com" not in html
                assert "fonts.googleapis.com" not in html
                assert "validator.swagger.io" not in html
                # The browser is told so too: nothing from anywhere else.
                policy = response.headers["content-security-policy"]
                assert "default-src 'none'" in policy
                assert "https:" not in policy
                assert "http:" not in policy
                urls = [a or b for a, b in ASSET.findall(html)]
                assert len(urls) >= 3, html  # script, style sheet or font-free page, icon, spec
                for url in urls:
                    assert url.startswith("/"), url  # same origin, no scheme, no host
                    asset = await http.get(url)
                    assert asset.status_code == 200, url
                    assert len(asset.content) > 1000, url
    finally:
        await site.engine.dispose()
