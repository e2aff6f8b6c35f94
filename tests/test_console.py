"""The staff console: signed-in staff see the queue with each case's channel, read a case
(escaped, audited), take it, reply, close; others get nothing. Another site's page can make
a signed-in los's browser do nothing; every response carries the security headers."""

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
from starlette.applications import Starlette

from bot.app import App
from bot.settings import PROJECT_ROOT
from bot.staff_auth import WeakPassword, set_password, verify_password
from bot.store.models import AuditEntry
from bot.web import create_web_app
from tests.journey import Citizen

PASSWORD = "console-test-password"
ORIGIN = "http://inngang.local"


def auth(staff: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{staff}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def form_post(staff: str) -> dict[str, str]:
    """What the browser sends with the console's own form: credentials and the Origin."""
    return {**auth(staff), "Origin": ORIGIN}


async def asks_anonymously(app: App, user: str, question: str) -> Citizen:
    """Someone on the web chat asks a question anonymously; it lands in the queue."""
    citizen = Citizen(app, user, channel="web")
    await citizen.says("/anonym")
    await citizen.says(question)
    return citizen


@pytest.fixture
def web(offline_app: App) -> Starlette:
    return create_web_app(offline_app, staff_password=PASSWORD)


@pytest.fixture
async def console(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url=ORIGIN) as client:
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
    claimed = await console.post(f"{base}/claim", headers=form_post("kari"))
    assert claimed.status_code == 303
    await console.post(
        f"{base}/reply",
        data={"text": "Hei! Det er vanlig. Vil du prate mer?"},
        headers=form_post("kari"),
    )
    assert (await teen.inbox())[-1] == "Hei! Det er vanlig. Vil du prate mer?"
    await console.post(f"{base}/close", data={"outcome": "besvart"}, headers=form_post("kari"))
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


async def test_a_post_that_does_not_say_where_it_comes_from_is_refused(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "p2", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}/claim"
    for headers in (
        auth("kari"),  # neither Origin nor Referer
        {**auth("kari"), "Origin": "null"},  # a sandboxed frame, a no-referrer page
        {**auth("kari"), "Referer": "https://evil.example/staff"},
    ):
        assert (await console.post(base, headers=headers)).status_code == 403
    duty = await console.post("/staff/duty", data={"on": "0"}, headers=auth("kari"))
    assert duty.status_code == 403
    assert offline_app.queue.open_cases("kari")[0].claimed_by is None
    referer = {**auth("kari"), "Referer": f"{ORIGIN}/staff/case/{item.reference}"}
    assert (await console.post(base, headers=referer)).status_code == 303  # own page: yes
    assert offline_app.queue.open_cases("kari")[0].claimed_by == "kari"


async def test_another_sites_page_cannot_make_the_los_browser_read_a_case(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    """An <img> or a frame on another site would carry the los's cached credentials; the
    browser says who asks (Sec-Fetch-*), so the case is not read (no audit, no receipt)."""
    await asks_anonymously(offline_app, "p3", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    page = f"/staff/case/{item.reference}"
    with offline_app.store.sessions() as session:
        before = len(session.scalars(select(AuditEntry)).all())
    for site, dest, mode in (
        ("cross-site", "image", "no-cors"),
        ("cross-site", "iframe", "navigate"),
        ("same-site", "empty", "cors"),
    ):
        response = await console.get(
            page,
            headers={
                **auth("kari"),
                "Sec-Fetch-Site": site,
                "Sec-Fetch-Mode": mode,
                "Sec-Fetch-Dest": dest,
            },
        )
        assert response.status_code == 403
    with offline_app.store.sessions() as session:
        assert len(session.scalars(select(AuditEntry)).all()) == before
    clicked = {  # the los follows the link in a notification e-mail: that works
        **auth("kari"),
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-User": "?1",
    }
    assert (await console.get(page, headers=clicked)).status_code == 200


async def test_every_console_response_has_the_security_headers(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "p4", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    for response in (
        await console.get("/staff"),  # 401
        await console.get("/staff", headers=auth("kari")),
        await console.get(f"/staff/case/{item.reference}", headers=auth("kari")),
        await console.post(f"/staff/case/{item.reference}/claim", headers=auth("kari")),  # 403
        await console.get("/static/console.css"),
    ):
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] in ("no-referrer", "same-origin")
        assert response.headers["x-frame-options"] == "DENY"
    page = await console.get("/staff", headers=auth("kari"))
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_the_console_changes_nothing_on_a_get(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    """The actions are POSTs: a GET of them is not allowed and changes nothing."""
    await asks_anonymously(offline_app, "p5", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    for path in (f"{base}/claim", f"{base}/close?outcome=x", "/staff/duty?on=0"):
        assert (await console.get(path, headers=auth("kari"))).status_code == 405
    [still] = offline_app.queue.open_cases("kari")
    assert still.claimed_by is None and still.status == "open"
    with offline_app.store.sessions() as session:
        actions = {a.action for a in session.scalars(select(AuditEntry))}
    assert not actions & {"claim", "close", "duty"}


async def test_opening_a_case_tells_the_citizen_nothing_until_the_los_marks_it_read(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    """The case page (a GET) only records who read it; the citizen's read receipt is the
    page's own POST."""
    teen = await asks_anonymously(offline_app, "p6", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    await console.post(f"{base}/claim", headers=form_post("kari"))
    page = await console.get(base, headers=auth("kari"))
    assert f'action="{base}/read"' in page.text
    assert await teen.inbox() == []
    [unread] = offline_app.queue.open_cases("kari")
    assert unread.unread == 1
    with offline_app.store.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry))]
    assert "read_case" in actions

    assert (await console.post(f"{base}/read", headers=form_post("kari"))).status_code == 303
    [receipt] = await teen.inbox()
    assert receipt == offline_app.catalogs("case.read_receipt", "nb")
    [read] = offline_app.queue.open_cases("kari")
    assert read.unread == 0
    page = await console.get(base, headers=auth("kari"))
    assert f'action="{base}/read"' not in page.text


async def test_switching_duty_in_the_console_is_audited(
    console: httpx.AsyncClient, offline_app: App
) -> None:
    off = await console.post("/staff/duty", data={"on": "0"}, headers=form_post("kari"))
    assert off.status_code == 303
    await console.post("/staff/duty", data={"on": "1"}, headers=form_post("kari"))
    with offline_app.store.sessions() as session:
        duty = [
            (a.actor, a.detail)
            for a in session.scalars(select(AuditEntry).where(AuditEntry.action == "duty"))
        ]
    assert duty == [("kari", "off"), ("kari", "on")]


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
    set_password(
        offline_app.staff_records, "kari", "kari-sitt-eget-passord", offline_app.router.clock()
    )
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
    with pytest.raises(WeakPassword):
        set_password(offline_app.staff_records, "kari", "kort", offline_app.router.clock())


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


async def test_guessing_passwords_slows_down_the_guesser_not_the_staff_member(
    console: httpx.AsyncClient, web: Starlette
) -> None:
    """(The back-off in detail: tests/test_staff_access.py.)"""
    for guess in range(5):
        assert (
            await console.get("/staff", headers=auth("kari", f"gjett-{guess}"))
        ).status_code == 401
    throttled = await console.get("/staff", headers=auth("kari"))  # this address must wait
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web, client=("10.0.0.7", 5000)), base_url=ORIGIN
    ) as elsewhere:
        assert (await elsewhere.get("/staff", headers=auth("kari"))).status_code == 200


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
    set_password(
        offline_app.staff_records, "kari", "forste-passordet-mitt", offline_app.router.clock()
    )
    for _ in range(3):
        page = await console.get("/staff", headers=auth("kari", "forste-passordet-mitt"))
        assert page.status_code == 200
    assert len(verifications) == 1  # scrypt once, not per request
    set_password(
        offline_app.staff_records, "kari", "andre-passordet-mitt", offline_app.router.clock()
    )
    assert (
        await console.get("/staff", headers=auth("kari", "forste-passordet-mitt"))
    ).status_code == 401
    assert (
        await console.get("/staff", headers=auth("kari", "andre-passordet-mitt"))
    ).status_code == 200
