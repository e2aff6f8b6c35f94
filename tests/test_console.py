"""The staff console: signed-in staff see the queue with each case's channel, read a case
(escaped, audited), take it, reply, close; others get nothing."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.settings import PROJECT_ROOT
from bot.staff_auth import WeakPassword, set_password, verify_password
from bot.store.models import AuditEntry
from bot.web import create_web_app
from tests.journey import Citizen

PASSWORD = "console-test-password"


def auth(staff: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{staff}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def asks_anonymously(app: App, user: str, question: str) -> Citizen:
    """Someone on the web chat asks a question anonymously; it lands in the queue."""
    citizen = Citizen(app, user, channel="web")
    await citizen.says("/anonym")
    await citizen.says(question)
    return citizen


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
    teen = await asks_anonymously(
        offline_app, "teen-web", "<script>alert('x')</script> er det normalt å være så sliten?"
    )
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
    await asks_anonymously(offline_app, "p", "hvordan får vi støttekontakt?")
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
    await asks_anonymously(offline_app, "teen-web-2", "jeg har ingen steder å sove i natt")
    queue = await console.get("/staff", headers=auth("kari"))
    assert "urgent: ikke noe sted å bo eller sove" in queue.text
    assert 'class="urgent"' in queue.text


async def test_a_los_with_her_own_password_must_use_it_and_no_one_else_can(
    console: httpx.AsyncClient, offline_app: App, tmp_path: Path
) -> None:
    with offline_app.store.sessions.begin() as session:
        set_password(session, "kari", "kari-sitt-eget-passord", offline_app.router.clock())
    assert (
        await console.get("/staff", headers=auth("kari", "kari-sitt-eget-passord"))
    ).status_code == 200
    assert (await console.get("/staff", headers=auth("kari"))).status_code == 401  # shared: no
    assert (await console.get("/staff", headers=auth("ahmed"))).status_code == 200  # has none yet
    assert (
        await console.get("/staff", headers=auth("ahmed", "kari-sitt-eget-passord"))
    ).status_code == 401
    assert (await console.get("/staff", headers=auth("ukjent"))).status_code == 401
    dump = "\n".join(sqlite3.connect(tmp_path / "inngang.db").iterdump())
    assert "kari-sitt-eget-passord" not in dump and "scrypt$" in dump


def test_a_short_password_is_refused(offline_app: App) -> None:
    with offline_app.store.sessions.begin() as session, pytest.raises(WeakPassword):
        set_password(session, "kari", "kort", offline_app.router.clock())


def test_staff_set_their_password_from_the_shell(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_SECRET_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", "password", "kari", "--stdin"],
        input="et-langt-nok-passord\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stored = (
        sqlite3.connect(tmp_path / "inngang.db")
        .execute("select password_hash from staff_credentials where staff_id = 'kari'")
        .fetchone()[0]
    )
    assert verify_password("et-langt-nok-passord", stored)
    assert not verify_password("et-annet-passord", stored)


async def test_guessing_a_password_locks_that_staff_id_for_a_while(
    console: httpx.AsyncClient,
) -> None:
    for guess in range(5):
        assert (
            await console.get("/staff", headers=auth("kari", f"gjett-{guess}"))
        ).status_code == 401
    assert (await console.get("/staff", headers=auth("kari"))).status_code == 401  # even right
    assert (await console.get("/staff", headers=auth("ahmed"))).status_code == 200  # others not


async def test_a_password_is_verified_once_not_on_every_page_and_a_new_one_replaces_it(
    console: httpx.AsyncClient, offline_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.staff_auth

    verifications: list[str] = []
    real = bot.staff_auth.verify_password

    def counting(password: str, stored: str) -> bool:
        verifications.append(password)
        return real(password, stored)

    monkeypatch.setattr(bot.staff_auth, "verify_password", counting)
    with offline_app.store.sessions.begin() as session:
        set_password(session, "kari", "forste-passordet-mitt", offline_app.router.clock())
    for _ in range(3):
        page = await console.get("/staff", headers=auth("kari", "forste-passordet-mitt"))
        assert page.status_code == 200
    assert len(verifications) == 1  # scrypt once, not per request
    with offline_app.store.sessions.begin() as session:
        set_password(session, "kari", "andre-passordet-mitt", offline_app.router.clock())
    assert (
        await console.get("/staff", headers=auth("kari", "forste-passordet-mitt"))
    ).status_code == 401
    assert (
        await console.get("/staff", headers=auth("kari", "andre-passordet-mitt"))
    ).status_code == 200
