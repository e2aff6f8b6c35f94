"""Callback slots per area: Kari (Askim) and Ahmed (Mysen) publish Thursday's slots in their
own areas; a parent in Mysen's chat is offered only Mysen's times and one in Askim's only
Askim's; the generated slots follow each area's opening hours and roster; Ahmed cannot see,
publish to, or mark done, move, cancel or remove Askim's slots (403, audited); Lise, a
leader of all areas, sees both and picks the area she publishes to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.callback_jobs import CallbackJobs
from bot.schedule import Schedule
from bot.store.callbacks import Callbacks
from bot.store.models import AuditEntry, CallbackSlot
from tests.area_fixtures import areas_app, areas_web, citizen_api
from tests.console_fixtures import signed_in
from tests.fakes.clock import FakeClock
from tests.staff_browser import StaffBrowser

__all__ = ["areas_app", "areas_web", "citizen_api"]  # the fixtures
THU = "2026-11-26"


@dataclass
class Parent:
    """A parent in one area's web chat."""

    api: httpx.AsyncClient
    area: str
    token: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def says(self, text: str = "", button: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"text": text, "area": self.area, "language": "nb"}
        if button is not None:
            body["button"] = button
        headers = {"X-Chat-Token": self.token} if self.token else {}
        answer = await self.api.post("/api/chat", json=body, headers=headers)
        assert answer.status_code == 200
        self.token = answer.json()["token"]
        replies: list[dict[str, Any]] = answer.json()["replies"]
        return replies

    async def asks_for_a_call(self) -> list[str]:
        """Through the intake to "call me": the times offered."""
        return list(await self.offered())

    async def offered(self) -> dict[str, str]:
        """Through the intake to "call me": the times offered (label: payload)."""
        await self.says("Sønnen min på 8 år vil ikke gå på skolen lenger.")
        for button in ("person", "about:child", "age:6-12", "consent:services"):
            await self.says("", button=button)
        await self.says("", button="strengths:skip")
        await self.says("", button="done")
        offered = await self.says("", button="contact:call")
        return {b["label"]: b["payload"] for r in offered for b in r.get("buttons") or []}


async def publishes(who: StaffBrowser, start: str, end: str, **more: str) -> None:
    published = await who.post(
        "/staff/calls", {"day": THU, "from": start, "to": end, "every": "30", **more}
    )
    assert published.status_code == 303, published.text


def slots(app: App) -> list[tuple[str, str]]:
    with app.store.sessions() as session:
        rows = session.execute(
            select(CallbackSlot.area, CallbackSlot.starts_at).order_by(CallbackSlot.starts_at)
        ).all()
    oslo = Schedule(app.settings).zone
    return [(area, f"{at.replace(tzinfo=UTC).astimezone(oslo):%a %H:%M}") for area, at in rows]


async def test_a_family_is_offered_only_its_own_areas_slots(
    areas_web: Starlette, areas_app: App, citizen_api: httpx.AsyncClient
) -> None:
    async with signed_in(areas_web, "kari") as kari:
        await publishes(kari, "10:00", "11:00")
    async with signed_in(areas_web, "ahmed") as ahmed:
        await publishes(ahmed, "13:00", "14:00")
    assert slots(areas_app) == [
        ("askim", "Thu 10:00"),
        ("askim", "Thu 10:30"),
        ("mysen", "Thu 13:00"),
        ("mysen", "Thu 13:30"),
    ]

    in_mysen = await Parent(citizen_api, "mysen").asks_for_a_call()
    assert in_mysen[:2] == ["torsdag 26. november 13:00", "torsdag 26. november 13:30"]
    assert not [label for label in in_mysen if "10:" in label]
    askim_parent = Parent(citizen_api, "askim")
    in_askim = await askim_parent.asks_for_a_call()
    assert in_askim[:2] == ["torsdag 26. november 10:00", "torsdag 26. november 10:30"]
    assert not [label for label in in_askim if "13:" in label]


def test_generated_slots_follow_each_areas_opening_hours_and_roster(
    areas_app: App, clock: FakeClock
) -> None:
    """Askim: Kari every weekday, 08:00-15:30 (Friday to 15:00). Mysen: Ahmed on Monday,
    Wednesday and Thursday, open 09:00-15:00 and on Thursday to 19:00, closed Tuesday."""
    router = areas_app.router
    calls = Callbacks(areas_app.store.sessions, clock)
    jobs = CallbackJobs(
        areas_app.settings.callbacks, calls, router.schedule, clock, router.schedules
    )
    assert jobs.generate() > 0 and jobs.generate() == 0  # once
    made = slots(areas_app)
    mysen_days = {at.split()[0] for area, at in made if area == "mysen"}
    assert mysen_days == {"Wed", "Thu", "Mon"}
    assert ("mysen", "Thu 18:30") in made and ("mysen", "Wed 08:30") not in made
    assert ("askim", "Tue 14:30") in made and ("askim", "Fri 14:30") in made
    assert ("askim", "Fri 15:00") not in made and ("askim", "Thu 18:30") not in made
    assert ("askim", "Thu 09:00") in made and ("mysen", "Thu 09:00") in made  # both areas
    assert ("default", "Thu 09:00") in made  # the top level's roster (Sara) and hours


async def test_staff_act_only_on_their_own_areas_slots(
    areas_web: Starlette, areas_app: App, citizen_api: httpx.AsyncClient, clock: FakeClock
) -> None:
    async with signed_in(areas_web, "kari") as kari:
        await publishes(kari, "10:00", "11:00")
    askim_parent = Parent(citizen_api, "askim")
    offered = await askim_parent.offered()
    await askim_parent.says("", button=offered["torsdag 26. november 10:30"])
    await askim_parent.says("98 76 54 32")
    sent = await askim_parent.says("", button="confirm:send")
    assert "torsdag 26. november 10:30" in sent[0]["text"]
    with areas_app.store.sessions() as session:
        free_id, other_id = sorted(session.scalars(select(CallbackSlot.id)))

    async with signed_in(areas_web, "ahmed") as ahmed:
        day = await ahmed.get(f"/staff/calls?day={THU}")
        assert day.status_code == 200 and f'id="call-{other_id}"' not in day.text
        assert f"/staff/calls/{free_id}/remove" not in day.text
        assert (await ahmed.get(f"/staff/calls?day={THU}&area=askim")).status_code == 403
        for action in ("done", "cancel", "remove"):
            refused = await ahmed.post(f"/staff/calls/{free_id}/{action}", {"day": THU})
            assert refused.status_code == 403, action
        moved = await ahmed.post(
            f"/staff/calls/{other_id}/move", {"day": THU, "to": "2026-11-26T10:00"}
        )
        assert moved.status_code == 403
        published = await ahmed.post(
            "/staff/calls",
            {"day": THU, "from": "12:00", "to": "13:00", "every": "30", "area": "askim"},
        )
        assert published.status_code == 403
    assert len(slots(areas_app)) == 2  # nothing removed, nothing published

    async with signed_in(areas_web, "leder") as lise:
        both = await lise.get(f"/staff/calls?day={THU}")
        assert 'id="publish-area"' in both.text and both.text.count("/remove") == 1
        await publishes(lise, "14:00", "15:00", area="mysen")
        only_mysen = await lise.get(f"/staff/calls?day={THU}&area=mysen")
        assert "Samtaler torsdag 26. november 2026 – Mysen" in only_mysen.text
        assert len(re.findall(r"<time datetime=\"2026-11-26T14:", only_mysen.text)) == 2
        assert "2026-11-26T10:00" not in only_mysen.text
    assert ("mysen", "Thu 14:00") in slots(areas_app)
    with areas_app.store.sessions() as session:
        refusals = [
            str(detail)
            for detail in session.scalars(
                select(AuditEntry.detail).where(
                    AuditEntry.action == "other_area", AuditEntry.actor == "ahmed"
                )
            )
        ]
    assert sorted(refusals) == sorted(
        [
            "callbacks area=askim",
            f"callback slot {free_id} area=askim",
            f"callback slot {free_id} area=askim",
            f"callback slot {free_id} area=askim",
            f"callback slot {other_id} area=askim",
            "callbacks area=askim",
        ]
    )


def test_the_migration_gives_each_slot_an_area_and_takes_it_away(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from bot.store.db import alembic_config, make_engine
    from bot.store.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'slots.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "callback_slot" in repr(d)] == []
    unique = inspect(engine).get_unique_constraints("callback_slots")
    assert [u["column_names"] for u in unique] == [["starts_at", "owner", "area"]]
    command.downgrade(alembic_config(engine), "0018m")
    assert "area" not in {c["name"] for c in inspect(engine).get_columns("callback_slots")}
    command.upgrade(alembic_config(engine), "head")
    assert "area" in {c["name"] for c in inspect(engine).get_columns("callback_slots")}
