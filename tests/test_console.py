"""The staff console: signed-in staff see the queue with each case's channel, read a case
(escaped, audited), take it, reply, close; others get nothing."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.store.models import AuditEntry
from bot.web import create_web_app
from tests.journey import Citizen

PASSWORD = "console-test-password"


def auth(staff: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{staff}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
async def console(offline_app: App) -> AsyncIterator[httpx.AsyncClient]:
    web = create_web_app(offline_app, staff_password=PASSWORD)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang.local"
    ) as client:
        yield client


async def test_only_signed_in_staff_see_the_queue(console: httpx.AsyncClient) -> None:
    assert (await console.get("/staff")).status_code == 401
    assert (await console.get("/staff", headers=auth("kari", "wrong"))).status_code == 401
    assert (await console.get("/staff", headers=auth("mallory"))).status_code == 401
    assert (await console.get("/staff", headers=auth("kari"))).status_code == 200


async def test_a_los_takes_a_case_replies_and_closes_it_in_the_browser(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    teen = Citizen(offline_app, "teen-web", channel="web")
    await teen.says("/anonym")
    await teen.says("<script>alert('x')</script> er det normalt å være så sliten?")
    queue = await console.get("/staff", headers=auth("kari"))
    [item] = offline_app.queue.open_cases("kari")
    assert item.reference in queue.text and "<td>web</td>" in queue.text

    page = await console.get(f"/staff/case/{item.reference}", headers=auth("kari"))
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text

    base = f"/staff/case/{item.reference}"
    claimed = await console.post(f"{base}/claim", headers=auth("kari"))
    assert claimed.status_code == 303
    await console.post(
        f"{base}/reply",
        data={"text": "Hei! Det er vanlig. Vil du prate mer?"},
        headers=auth("kari"),
    )
    assert teen.inbox()[-1] == "Hei! Det er vanlig. Vil du prate mer?"
    await console.post(f"{base}/close", data={"outcome": "besvart"}, headers=auth("kari"))
    assert offline_app.queue.open_cases("kari") == []
    with offline_app.store.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry))]
    assert {"read_case", "claim", "reply", "close"} <= set(actions)


async def test_a_cross_site_post_is_refused(console: httpx.AsyncClient, offline_app: App) -> None:
    parent = Citizen(offline_app, "p", channel="web")
    await parent.says("/anonym")
    await parent.says("hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    response = await console.post(
        f"/staff/case/{item.reference}/claim",
        headers={**auth("kari"), "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert offline_app.queue.open_cases("kari")[0].claimed_by is None


async def test_the_los_sees_at_a_glance_why_a_case_is_urgent(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    teen = Citizen(offline_app, "teen-web-2", channel="web")
    await teen.says("/anonym")
    await teen.says("jeg har ingen steder å sove i natt")
    queue = await console.get("/staff", headers=auth("kari"))
    assert "urgent: ikke noe sted å bo eller sove" in queue.text
    assert 'class="urgent"' in queue.text
