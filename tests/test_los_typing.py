"""While the los types a reply, the citizen's web chat says she is writing: the console tells
the server (the fact only, never the text), only for a case she holds, for a few seconds at a
time; her reply ends it. (In a real Chromium: tests/test_web_chat.py.)"""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from bot.app import App
from bot.store.models import AuditEntry
from tests.fakes.clock import FakeClock
from tests.staff_browser import StaffBrowser


async def citizen_asks_for_a_person(chat: httpx.AsyncClient) -> str:
    """A parent on the web chat sends an anonymous question; returns the chat token."""
    answer = await chat.post("/api/chat", json={"text": "/anonym", "id": "m-1"})
    token = answer.json()["token"]
    headers = {"X-Chat-Token": token}
    await chat.post(
        "/api/chat",
        json={"text": "Hvordan kan jeg hjelpe sønnen min som ikke vil på skolen?", "id": "m-2"},
        headers=headers,
    )
    return str(token)


async def los_typing_shown(chat: httpx.AsyncClient, token: str) -> bool:
    answer = await chat.post("/api/poll", headers={"X-Chat-Token": token})
    assert answer.status_code == 200
    return bool(answer.json()["los_typing"])


@pytest.fixture
async def chat(web: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://inngang")


async def test_the_citizen_sees_the_los_writing_until_her_reply_comes(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    token = await citizen_asks_for_a_person(chat)
    [item] = offline_app.queue.open_cases("kari")
    assert not await los_typing_shown(chat, token)

    offline_app.queue.claim(item.reference, "kari")
    await kari.get(f"/staff/case/{item.reference}")
    said = await kari.post(f"/staff/case/{item.reference}/typing")
    assert said.status_code == 204
    assert await los_typing_shown(chat, token)

    clock.advance(seconds=7)  # she stopped typing: it fades by itself
    assert not await los_typing_shown(chat, token)

    await kari.post(f"/staff/case/{item.reference}/typing")
    await kari.post(f"/staff/case/{item.reference}/reply", {"text": "Hei! Jeg heter Kari."})
    answer = await chat.post("/api/poll", headers={"X-Chat-Token": token})
    assert [m["text"] for m in answer.json()["messages"]][-1] == "Hei! Jeg heter Kari."
    assert answer.json()["los_typing"] is False  # her message ended it


async def test_a_los_who_does_not_hold_the_case_shows_nothing_and_nothing_is_audited(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    token = await citizen_asks_for_a_person(chat)
    [item] = offline_app.queue.open_cases("kari")
    assert (await kari.post(f"/staff/case/{item.reference}/typing")).status_code == 409
    offline_app.queue.claim(item.reference, "ahmed")
    assert (await kari.post(f"/staff/case/{item.reference}/typing")).status_code == 409
    assert (await kari.post(f"/staff/case/{item.reference}/typing", csrf="x")).status_code == 403
    assert not await los_typing_shown(chat, token)
    with offline_app.store.sessions() as session:
        actions = {a.action for a in session.query(AuditEntry).all()}
    assert "typing" not in actions
