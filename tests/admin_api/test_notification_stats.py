"""GET /api/v1/notifications/stats: counts for administrators, nothing for anyone else."""

from __future__ import annotations

import httpx

from admin_api.app import create_app
from bot.notifier import NotifierLimits
from tests.e2e.notify_rig import notify_rig
from tests.factories import PASSWORD


async def test_dead_letters_are_counted_for_administrators_only(database_url: str) -> None:
    async with notify_rig(database_url) as rig:
        case = await rig.reporter_case(840001)
        await rig.queue_updates(case.case_id, 1)
        rig.fake.inject_fault("sendMessage", status=500, description="Internal", times=5)
        limits = NotifierLimits(max_attempts=2, backoff_base=0.05, poll_seconds=0.05)
        await rig.settle(rig.notifier(limits))
        site = rig.site
        app = create_app(site.api_services())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:

            async def token(username: str) -> str:
                body = {"username": username, "password": PASSWORD, "totp": site.totp(username)}
                response = await http.post("/api/v1/auth/login", json=body)
                return str(response.json()["token"])

            admin = {"Authorization": f"Bearer {await token('admin1')}"}
            response = await http.get("/api/v1/notifications/stats", headers=admin)
            assert response.status_code == 200
            body = response.json()
            assert body["dead_letters"] == 1
            assert body["reporter"] == {"dead": 1}
            # Counts only: no reference, no text, no chat.
            assert case.reference not in response.text
            assert "840001" not in response.text

            union = {"Authorization": f"Bearer {await token('union1')}"}
            refused = await http.get("/api/v1/notifications/stats", headers=union)
            assert refused.status_code == 403
            assert refused.json()["code"] == "forbidden"
            assert (await http.get("/api/v1/notifications/stats")).status_code == 401
