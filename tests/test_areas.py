"""Several municipalities on one installation (examples/config-areas.yml: Indre Østfold with
Askim and Mysen): each area answers with its own contacts and hours, a conversation keeps
the area it came in through, staff see only their area's cases, a leader of all sees every
area's and the figures per area and together. Without areas nothing changes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App, build_app
from bot.areas import Areas, start_area
from bot.channels.sms import SmsChannel, sign
from bot.settings import (
    PROJECT_ROOT,
    ConfigError,
    Settings,
    SmsSettings,
    load_settings,
    settings_from_mapping,
)
from bot.store.models import AuditEntry, Case, Conversation, StaffNotification
from bot.web import create_web_app
from tests.conftest import matcher_when_down
from tests.console_fixtures import PASSWORD, signed_in
from tests.fakes.clock import FakeClock

EXAMPLE = PROJECT_ROOT / "examples" / "config-areas.yml"
ASKIM_HELSESTASJON = "69 81 10 01"
MYSEN_HELSESTASJON = "69 89 20 01"
DEFAULT_HELSESTASJON = "55 10 20 01"


def area_settings(tmp_path: Path) -> Settings:
    env = {
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_NLU_URL": "http://127.0.0.1:9",
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "test-secret",
    }
    return matcher_when_down(load_settings(EXAMPLE, env=env))


@pytest.fixture
def area_app(tmp_path: Path, clock: FakeClock) -> App:
    return build_app(area_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key")


@pytest.fixture
def area_web(area_app: App) -> Starlette:
    return create_web_app(area_app, staff_password=PASSWORD)


@pytest.fixture
async def api(area_web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=area_web), base_url="http://inngang.local"
    ) as client:
        yield client


async def chat(api: httpx.AsyncClient, body: dict[str, Any], token: str = "") -> tuple[str, str]:
    """One message in the web chat: the token and the bot's replies as one text."""
    headers = {"X-Chat-Token": token} if token else {}
    answer = await api.post("/api/chat", json=body, headers=headers)
    assert answer.status_code == 200
    data = answer.json()
    return data["token"], "\n".join(r["text"] for r in data["replies"])


async def open_case(api: httpx.AsyncClient, area: str) -> str:
    """A parent in ``area``'s web chat asks for a person and sends her case; its reference."""
    token, _ = await chat(api, {"button": "person", "area": area})
    for button in ("about:self", "age:18+", "consent:services", "strengths:skip"):
        await chat(api, {"button": button}, token)
    await chat(api, {"text": "Vi trenger hjelp med et brev fra NAV."}, token)
    await chat(api, {"text": "Ferdig"}, token)
    await chat(api, {"button": "contact:chat"}, token)
    _, sent = await chat(api, {"text": "Send til familielosen"}, token)
    assert sent.startswith("Sendt."), sent
    return sent.split("K-", 1)[1][:6].join(("K-", ""))


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def invalid(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        settings_from_mapping(data, {}, EXAMPLE)
    return str(error.value)


# --- the configuration ------------------------------------------------------------------


def test_each_area_is_the_top_level_with_its_own_differences() -> None:
    areas = Areas.of(load_settings(EXAMPLE, env={}))
    assert areas.ids == ("default", "askim", "mysen")
    askim, mysen = areas.get("askim"), areas.get("mysen")
    assert askim.service("helsestasjon").phone == ASKIM_HELSESTASJON
    assert mysen.service("helsestasjon").phone == MYSEN_HELSESTASJON
    # what an area does not override is the top level's
    assert askim.service("helsestasjon").email == "helsestasjon@fjordvik.kommune.example"
    assert askim.service("ppt").phone == areas.get("default").service("ppt").phone
    assert askim.municipality.name == "Indre Østfold kommune (Askim)"
    assert "tuesday" not in mysen.opening_hours.weekly
    assert [m.id for m in askim.roster.staff] == ["kari", "leder", "per"]
    assert mysen.roster.on_duty["monday"] == ("ahmed",)
    assert areas.get("no-such-area") is areas.get("default")
    assert areas.by_sms("+47 26 11 00 02") == "mysen"
    assert areas.by_sms("4726110001") == "askim"
    assert areas.by_sms("+4799999999") == "default"


def test_without_areas_there_is_one_area_and_it_is_the_configuration_itself() -> None:
    settings = load_settings(PROJECT_ROOT / "config.yml", env={})
    areas = Areas.of(settings)
    assert areas.ids == ("default",) and not areas.several
    assert areas.get("default") is settings


def test_mistakes_in_the_areas_are_refused_at_start_with_the_reason() -> None:
    data = example_data()
    data["areas"][0]["services"].append({"id": "tannlege", "phone": "12345678"})
    assert "unknown service id 'tannlege'" in invalid(data)

    data = example_data()
    data["areas"][1]["id"] = "askim"
    assert "duplicate ids ['askim']" in invalid(data)

    data = example_data()
    data["areas"][1]["sms_number"] = "4726110001"
    assert "duplicate sms_numbers" in invalid(data)

    data = example_data()
    del data["roster"]["staff"][1]["area"]
    assert "kari is in no area" in invalid(data)

    data = example_data()
    data["roster"]["staff"][1]["area"] = "spydeberg"
    assert "unknown area 'spydeberg'" in invalid(data)

    data = example_data()
    data["areas"][1]["roster"]["on_duty"]["monday"] = ["kari"]
    assert "'kari' is not staff of mysen" in invalid(data)

    data = example_data()
    data["areas"][0]["id"] = "all"
    assert "reserved" in invalid(data)


def test_a_telegram_deep_link_names_its_area() -> None:
    assert start_area("/start askim") == "askim"
    assert start_area("/start") == ""
    assert start_area("hei /start askim") == ""


# --- the citizen ------------------------------------------------------------------------


async def test_a_parent_in_askim_and_one_in_mysen_each_get_their_own_helsestasjon(
    api: httpx.AsyncClient,
) -> None:
    _, askim = await chat(api, {"text": "hvor er helsestasjonen?", "area": "askim"})
    _, mysen = await chat(api, {"text": "hvor er helsestasjonen?", "area": "mysen"})
    _, shared = await chat(api, {"text": "hvor er helsestasjonen?"})
    assert ASKIM_HELSESTASJON in askim and "Rådhusgata 1" in askim
    assert MYSEN_HELSESTASJON in mysen and "Storgata 5" in mysen
    assert DEFAULT_HELSESTASJON in shared
    assert MYSEN_HELSESTASJON not in askim and ASKIM_HELSESTASJON not in mysen


async def test_each_area_answers_with_its_own_opening_hours(api: httpx.AsyncClient) -> None:
    """A Tuesday morning: Askim's familielos is at work, Mysen's office is closed on
    Tuesdays and says when it opens (Wednesday 09:00)."""
    token, _ = await chat(api, {"button": "person", "area": "mysen"})
    for button in ("about:self", "age:18+", "consent:services", "strengths:skip"):
        await chat(api, {"button": button}, token)
    await chat(api, {"text": "Vi trenger hjelp."}, token)
    await chat(api, {"text": "Ferdig"}, token)
    await chat(api, {"button": "contact:chat"}, token)
    _, mysen = await chat(api, {"text": "Send til familielosen"}, token)
    assert "onsdag" in mysen and "09:00" in mysen, mysen

    token, _ = await chat(api, {"button": "person", "area": "askim"})
    for button in ("about:self", "age:18+", "consent:services", "strengths:skip"):
        await chat(api, {"button": button}, token)
    await chat(api, {"text": "Vi trenger hjelp."}, token)
    await chat(api, {"text": "Ferdig"}, token)
    await chat(api, {"button": "contact:chat"}, token)
    _, askim = await chat(api, {"text": "Send til familielosen"}, token)
    assert "onsdag" not in askim


async def test_the_area_page_names_its_municipality_and_a_conversation_keeps_its_area(
    api: httpx.AsyncClient, area_app: App
) -> None:
    page = await api.get("/a/askim/")
    assert page.status_code == 200 and "Indre Østfold kommune (Askim)" in page.text
    assert '"_area": "askim"' in page.text
    assert (await api.get("/a/spydeberg/")).status_code == 404
    token, _ = await chat(api, {"text": "hei", "area": "askim"})
    _, later = await chat(api, {"text": "hvor er helsestasjonen?", "area": "mysen"}, token)
    assert ASKIM_HELSESTASJON in later  # the conversation began in Askim: it stays there
    with area_app.store.sessions() as session:
        assert list(session.scalars(select(Conversation.area))) == ["askim"]


async def test_a_text_to_mysens_number_is_a_mysen_conversation(area_app: App) -> None:
    sent: list[dict[str, str]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(202, json={"id": "out"})

    channel = SmsChannel(
        area_app.router,
        SmsSettings(enabled=True),
        "secret",
        "token",
        transport=httpx.MockTransport(gateway),
    )
    web = create_web_app(area_app, sms=channel)
    body = json.dumps(
        {"from": "+4791234567", "to": "+4726110002", "text": "hvor er helsestasjonen?", "id": "1"}
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "X-Timestamp": stamp,
        "X-Signature": sign("secret", stamp, body),
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang"
    ) as client:
        assert (await client.post("/sms/inbound", content=body, headers=headers)).status_code == 200
    await channel.aclose()
    assert MYSEN_HELSESTASJON in " ".join(m["text"] for m in sent)
    with area_app.store.sessions() as session:
        assert list(session.scalars(select(Conversation.area))) == ["mysen"]


# --- the staff --------------------------------------------------------------------------


async def test_los_see_only_their_own_areas_cases_and_a_leader_of_all_sees_both(
    api: httpx.AsyncClient, area_web: Starlette, area_app: App
) -> None:
    in_askim = await open_case(api, "askim")
    in_mysen = await open_case(api, "mysen")
    with area_app.store.sessions() as session:
        areas = {r: a for r, a in session.execute(select(Case.reference, Case.area))}
    assert areas == {in_askim: "askim", in_mysen: "mysen"}

    async with signed_in(area_web, "kari") as kari:
        queue = (await kari.get("/staff")).text
        assert in_askim in queue and in_mysen not in queue
        assert (await kari.get(f"/staff/case/{in_askim}")).status_code == 200
        refused = await kari.get(f"/staff/case/{in_mysen}")
        assert refused.status_code == 403 and "Brev fra NAV" not in refused.text
        claim = await kari.post(f"/staff/case/{in_mysen}/claim", {})
        assert claim.status_code == 403
    async with signed_in(area_web, "ahmed") as ahmed:
        queue = (await ahmed.get("/staff")).text
        assert in_mysen in queue and in_askim not in queue
    async with signed_in(area_web, "leder") as leder:
        queue = (await leder.get("/staff")).text
        assert in_askim in queue and in_mysen in queue and "Askim" in queue
        only_mysen = (await leder.get("/staff?area=mysen")).text
        assert in_mysen in only_mysen and in_askim not in only_mysen
        assert (await leder.get(f"/staff/case/{in_mysen}")).status_code == 200
    with area_app.store.sessions() as session:
        refusals = session.execute(
            select(AuditEntry.actor, AuditEntry.case_reference).where(
                AuditEntry.action == "other_area"
            )
        ).all()
    assert set(refusals) == {("kari", in_mysen)}


async def test_a_new_case_is_told_to_its_own_areas_los(
    api: httpx.AsyncClient, area_app: App
) -> None:
    """Tuesday: Kari is on duty in Askim, nobody in Mysen (its leader of all is told)."""
    in_askim = await open_case(api, "askim")
    in_mysen = await open_case(api, "mysen")
    with area_app.store.sessions() as session:
        told = session.execute(
            select(StaffNotification.case_reference, StaffNotification.staff_id)
        ).all()
    assert {s for r, s in told if r == in_askim} == {"kari"}
    assert {s for r, s in told if r == in_mysen} == {"leder"}


async def test_a_leader_of_all_reads_the_figures_per_area_and_together(
    api: httpx.AsyncClient, area_web: Starlette, area_app: App
) -> None:
    await open_case(api, "askim")
    async with signed_in(area_web, "leder") as leder:
        together = await leder.get("/staff/figures")
        assert together.status_code == 200 and 'name="area"' in together.text
        askim = await leder.get("/staff/figures?area=askim")
        assert "Indre Østfold kommune: Askim" in askim.text
        csv = await leder.get("/staff/figures.csv?area=mysen")
        assert csv.status_code == 200
    async with signed_in(area_web, "kari") as kari:
        assert (await kari.get("/staff/figures")).status_code == 403
    with area_app.store.sessions() as session:
        details = [
            d or ""
            for d in session.scalars(
                select(AuditEntry.detail).where(AuditEntry.action == "figures")
            )
        ]
    assert len(details) == 3
    assert not details[0].endswith("area=askim")  # all together
    assert details[1].endswith("area=askim") and details[2].endswith("area=mysen")


def test_the_counts_of_one_area_are_only_its_own(area_app: App, clock: FakeClock) -> None:
    from bot.stats import period_start

    with area_app.store.sessions.begin() as session:
        for area in ("askim", "askim", "mysen"):
            session.add(
                Conversation(
                    channel="web",
                    address_hash=f"{area}-{time.perf_counter_ns()}",
                    handle=f"h{time.perf_counter_ns()}"[:32],
                    language="nb",
                    created_at=clock(),
                    updated_at=clock(),
                    area=area,
                )
            )
    since = period_start(clock(), 30)
    records = area_app.staff_records
    assert records.figures(since, "leder", clock(), "t", area="askim").conversations_started == 2
    assert records.figures(since, "leder", clock(), "t", area="mysen").conversations_started == 1
    assert records.figures(since, "leder", clock(), "t").conversations_started == 3


def test_the_migration_adds_the_area_columns_and_takes_them_away(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from bot.store.db import alembic_config, make_engine
    from bot.store.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'areas.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "area" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0018t")
    assert "area" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    command.upgrade(alembic_config(engine), "head")
    assert "area" in {c["name"] for c in inspect(engine).get_columns("conversations")}
