"""SMS per area: a parent who texts Mysen's number gets the answer from Mysen's number, and
Ahmed's later reply from it too; a text to a number no area claims is answered from
``sms.sender``."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from bot.app import App
from bot.channels.sms import SmsChannel, sign
from bot.settings import SmsSettings
from bot.web import create_web_app
from flows.types import Outbound
from tests.area_fixtures import areas_app

__all__ = ["areas_app"]  # the fixture
MYSEN_NUMBER = "+4726110002"


async def texts(channel: SmsChannel, app: App, sender: str, to: str, text: str, n: int) -> None:
    """A signed message from the gateway: ``sender`` texted ``to``."""
    body = json.dumps({"from": sender, "to": to, "text": text, "id": f"in-{n}"}).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "X-Timestamp": stamp,
        "X-Signature": sign("secret", stamp, body),
    }
    web = create_web_app(app, sms=channel)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang"
    ) as client:
        answered = await client.post("/sms/inbound", content=body, headers=headers)
        assert answered.status_code == 200


async def test_replies_go_out_from_the_areas_own_number_else_from_the_sender(
    areas_app: App,
) -> None:
    sent: list[dict[str, Any]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(202, json={"id": "out"})

    channel = SmsChannel(
        areas_app.router,
        SmsSettings(enabled=True, sender="Inngang"),
        "secret",
        "token",
        transport=httpx.MockTransport(gateway),
    )
    await texts(channel, areas_app, "+4791234567", "+47 26 11 00 02", "hvor er helsestasjonen?", 1)
    assert sent and {m["from"] for m in sent} == {MYSEN_NUMBER}
    assert {m["to"] for m in sent} == {"+4791234567"}

    sent.clear()
    await texts(channel, areas_app, "+4797654321", "+4799999999", "hvor er helsestasjonen?", 2)
    assert sent and {m["from"] for m in sent} == {"Inngang"}  # no area's number: the default

    sent.clear()  # a reply pushed later (the los's, from the outbox) goes from it too
    address = areas_app.router.address("sms", "+4791234567")
    later = Outbound("Hei, dette er Ahmed.", "nb")
    assert areas_app.store.enqueue("sms", address, [later])
    assert await channel.push_pending() == 1
    assert [(m["from"], m["text"]) for m in sent] == [(MYSEN_NUMBER, "Hei, dette er Ahmed.")]
    await channel.aclose()
