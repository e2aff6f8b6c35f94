"""Content per area: Astrid, a leader of Askim, changes Askim's helsestasjon number and a
parent in Askim gets it at once while a parent in Mysen keeps Mysen's; Mysen's content is
not hers to open, change or revert (403, audited); Lise, a leader of all areas, picks
Mysen and sees Mysen's own defaults and history."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.store.models import AuditEntry, ContentChange
from tests.area_fixtures import areas_app, areas_web, asks, citizen_api, inputs
from tests.console_fixtures import signed_in

__all__ = ["areas_app", "areas_web", "citizen_api"]  # the fixtures
ASKIM_NEW = "69 81 77 77"
ASKIM_HELSESTASJON = "69 81 10 01"
MYSEN_HELSESTASJON = "69 89 20 01"
PICK = "service=helsestasjon&language=nb&register=adult"


def other_area_refusals(app: App) -> list[tuple[str, str | None]]:
    with app.store.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "other_area"))
        return [(a.actor, a.detail) for a in rows]


async def test_an_edit_in_askim_reaches_an_askim_parent_and_not_a_mysen_parent(
    areas_web: Starlette, areas_app: App, citizen_api: httpx.AsyncClient
) -> None:
    async with signed_in(areas_web, "astrid") as astrid:
        page = await astrid.get(f"/staff/content?{PICK}")
        assert page.status_code == 200
        assert "Område: <strong>Askim</strong>" in page.text  # her own; no area to pick
        assert 'id="pick-area"' not in page.text
        form = inputs(page.text)
        assert form["phone"] == ASKIM_HELSESTASJON  # Askim's default, not the top level's
        saved = await astrid.post(
            "/staff/content/contact",
            {"service": "helsestasjon", **form, "phone": ASKIM_NEW, "action": "save"},
        )
        assert saved.status_code == 303
        assert saved.headers["location"].startswith(f"/staff/content?{PICK}&area=askim")

    in_askim = await asks(citizen_api, "hvor er helsestasjonen?", "askim")
    in_mysen = await asks(citizen_api, "hvor er helsestasjonen?", "mysen")
    assert ASKIM_NEW in in_askim and ASKIM_HELSESTASJON not in in_askim
    assert MYSEN_HELSESTASJON in in_mysen and ASKIM_NEW not in in_mysen
    with areas_app.store.sessions() as session:
        assert list(session.scalars(select(ContentChange.area))) == ["askim"]

    async with signed_in(areas_web, "leder") as lise:
        mysen = await lise.get(f"/staff/content?{PICK}&area=mysen")
        assert mysen.status_code == 200 and 'id="pick-area"' in mysen.text
        assert re.search(r'<option value="mysen" selected>Mysen</option>', mysen.text)
        assert inputs(mysen.text)["phone"] == MYSEN_HELSESTASJON
        assert ASKIM_NEW not in mysen.text  # Askim's change is not in Mysen's history
        askim = await lise.get(f"/staff/content?{PICK}&area=askim")
        assert inputs(askim.text)["phone"] == ASKIM_NEW and "Askim" in askim.text


async def test_a_leader_of_askim_cannot_open_change_or_revert_mysens_content(
    areas_web: Starlette, areas_app: App, citizen_api: httpx.AsyncClient
) -> None:
    async with signed_in(areas_web, "leder") as lise:  # a change in Mysen to revert
        page = await lise.get(f"/staff/content?{PICK}&area=mysen")
        await lise.post(
            "/staff/content/contact",
            {
                "service": "helsestasjon",
                **inputs(page.text),
                "area": "mysen",
                "phone": "69 89 55 55",
                "action": "save",
            },
        )
    with areas_app.store.sessions() as session:
        change = session.scalars(select(ContentChange.id)).one()

    async with signed_in(areas_web, "astrid") as astrid:
        opened = await astrid.get(f"/staff/content?{PICK}&area=mysen")
        assert opened.status_code == 403 and "69 89" not in opened.text
        page = await astrid.get(f"/staff/content?{PICK}")
        changed = await astrid.post(
            "/staff/content/contact",
            {
                "service": "helsestasjon",
                **inputs(page.text),
                "area": "mysen",
                "phone": "69 81 00 00",
                "action": "save",
            },
        )
        assert changed.status_code == 403
        hours = await astrid.post("/staff/content/hours", {"area": "mysen", "closed-monday": "1"})
        assert hours.status_code == 403
        reverted = await astrid.post(f"/staff/content/revert/{change}", {"area": "askim"})
        assert reverted.status_code == 403

    assert "69 89 55 55" in await asks(citizen_api, "hvor er helsestasjonen?", "mysen")
    with areas_app.store.sessions() as session:
        assert session.scalars(select(ContentChange.id)).all() == [change]
    assert other_area_refusals(areas_app) == [("astrid", "content area=mysen")] * 4
