"""Messages to one conversation are handled one at a time, in arrival order, also across
processes; a locked database slows one request, never the whole server."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.app import App, build_app
from bot.store.models import Case, Message
from bot.web import create_web_app
from flows.types import Inbound
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.journey import Citizen

PARTS = [f"Del {n}: sønnen min sover dårlig og gruer seg til skolen hver dag." for n in range(8)]


async def to_describe_step(citizen: Citizen) -> None:
    await citizen.says("", button="person")
    await citizen.says("", button="about:child")
    await citizen.says("", button="age:6-12")
    await citizen.says("", button="consent:los")
    await citizen.says("", button="strengths:skip")


def arrival_order(app: App) -> list[str]:
    """The parts in the order the server recorded them (its arrival order)."""
    with app.store.sessions() as session:
        rows = session.scalars(
            select(Message).where(Message.direction == "in").order_by(Message.id)
        ).all()
        return [m.text for m in rows if m.text in PARTS]


async def send_the_case(citizen: Citizen) -> list[str]:
    await citizen.says("", button="done")
    await citizen.says("", button="contact:chat")
    await citizen.says("", button="confirm:send")
    with citizen.app.store.sessions() as session:
        import json

        case = session.scalars(select(Case)).one()
        return list(json.loads(case.description))


async def test_eight_messages_at_once_all_reach_the_description_in_order(
    offline_app: App,
) -> None:
    parent = Citizen(offline_app, "parent-fast")
    await to_describe_step(parent)
    await asyncio.gather(*(parent.says(part) for part in PARTS))
    arrived = arrival_order(offline_app)
    assert sorted(arrived) == PARTS  # every part kept
    assert await send_the_case(parent) == arrived  # and handled in the order it arrived


async def test_two_processes_on_one_database_keep_the_order(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = app_settings(tmp_path)
    first = build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")
    second = build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")
    parent = Citizen(first, "parent-two")
    await to_describe_step(parent)
    routers = [first.router, second.router]
    await asyncio.gather(
        *(
            routers[n % 2].handle(Inbound("jsonl", "parent-two", part))
            for n, part in enumerate(PARTS)
        )
    )
    arrived = arrival_order(first)
    assert sorted(arrived) == PARTS
    assert await send_the_case(parent) == arrived
    with first.store.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert all(m.handled_at is not None for m in inbound)


async def test_a_locked_database_slows_one_request_not_the_server(offline_app: App) -> None:
    path = offline_app.settings.sqlite_path
    assert path is not None
    web = create_web_app(offline_app)
    transport = httpx.ASGITransport(app=web)
    locked, release = threading.Event(), threading.Event()

    def backup_holding_the_write_lock() -> None:
        connection = sqlite3.connect(path)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(10)
        connection.rollback()
        connection.close()

    holder = threading.Thread(target=backup_holding_the_write_lock)
    holder.start()
    locked.wait(5)
    async with httpx.AsyncClient(transport=transport, base_url="http://inngang") as client:
        message = asyncio.create_task(client.post("/api/chat", json={"text": "hvor er PPT?"}))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        page = await client.get("/")  # the event loop is free while the message waits
        assert page.status_code == 200 and time.monotonic() - started < 1.0
        assert not message.done()
        release.set()
        response = await message
    holder.join()
    assert response.status_code == 200 and "55 10 20 03" in response.text
    with offline_app.store.sessions() as session:
        assert [
            m.text for m in session.scalars(select(Message).where(Message.direction == "in"))
        ] == ["hvor er PPT?"]
