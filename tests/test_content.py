"""Service content staff keep up to date: a leader changes Helsestasjonen's phone and its
bokmål text on "Innhold"; a citizen asking about helsestasjon in the web chat at once gets the
new text and number (as a link), in English the default; a young person gets the youth text
the leader wrote; invalid input is refused with the field named and nothing saved; revert
restores; every change is in the history and the audit log (never the text); a second
replica answers with the change once it read the revision; a los may not open the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App, build_app
from bot.store.models import AuditEntry, ContentChange
from bot.web import create_web_app
from tests.conftest import app_settings
from tests.console_fixtures import PASSWORD, signed_in
from tests.fakes.clock import FakeClock
from tests.staff_browser import StaffBrowser

NEW_TEXT = (
    "Helsestasjonen i {municipality} har flyttet til Kulturhuset. Vi følger barn fra fødsel "
    "til skolestart, med kontroller, vaksiner og råd om mat og søvn."
)
NEW_PHONE = "55 10 29 99"
HELSESTASJON = {"service": "helsestasjon", "language": "nb", "register": "adult"}


@pytest.fixture
async def leder(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with signed_in(web, "leder") as browser:
        yield browser


async def asks(web: Starlette, text: str, language: str = "nb", user: str = "") -> str:
    """A new visitor's message in the web chat; the bot's replies as one text."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang.local"
    ) as client:
        answer = await client.post(
            "/api/chat", json={"text": text, "id": f"m-{user or text}", "language": language}
        )
        assert answer.status_code == 200
        return "\n".join(r["text"] for r in answer.json()["replies"])


async def asks_with_links(web: Starlette, text: str) -> list[dict[str, str]]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang.local"
    ) as client:
        answer = await client.post("/api/chat", json={"text": text, "language": "nb"})
        return [p for r in answer.json()["replies"] for p in r["parts"]]


async def texts_form(leder: StaffBrowser, **changed: str) -> dict[str, str]:
    """The texts form as the page shows it (every field filled in), with some changed."""
    page = await leder.get("/staff/content?service=helsestasjon&language=nb&register=adult")
    assert page.status_code == 200
    fields = {
        name: _unescape(value)
        for name, value in re.findall(
            r'<textarea id="field-[^"]+" name="([a-z_]+)"[^>]*>([^<]*)</textarea>', page.text
        )
    }
    assert set(fields) == {"what", "next", "sms", "next_sms"}
    return {**HELSESTASJON, **fields, **changed}


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def contact_form(**changed: str) -> dict[str, str]:
    return {
        **HELSESTASJON,
        "phone": "55 10 20 01",
        "after_hours_phone": "",
        "email": "helsestasjon@fjordvik.kommune.example",
        "address": "Torget 2, 5353 Fjordvik",
        "url": "https://www.fjordvik.kommune.example/helsestasjon",
        **changed,
    }


def audit(app: App) -> list[tuple[str, str, str | None]]:
    with app.store.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("content_%")))
        return [(a.actor, a.action, a.detail) for a in rows]


async def test_a_leader_changes_the_phone_and_the_text_and_a_citizen_gets_them_at_once(
    leder: StaffBrowser, web: Starlette, offline_app: App
) -> None:
    before = await asks(web, "hvor er helsestasjonen?", user="a")
    assert "55 10 20 01" in before and "Kulturhuset" not in before

    saved = await leder.post(
        "/staff/content/texts", {**await texts_form(leder, what=NEW_TEXT), "action": "save"}
    )
    assert saved.status_code == 303
    saved = await leder.post(
        "/staff/content/contact", {**contact_form(phone=NEW_PHONE), "action": "save"}
    )
    assert saved.status_code == 303
    page = await leder.get(saved.headers["location"])
    assert "Kontaktopplysningene er lagret og brukes nå." in page.text

    after = await asks(web, "hvor er helsestasjonen?", user="b")
    assert "Helsestasjonen i Fjordvik kommune har flyttet til Kulturhuset." in after
    assert f"Telefon: {NEW_PHONE}" in after and "55 10 20 01" not in after
    links = await asks_with_links(web, "hvor er helsestasjonen?")
    assert {"text": NEW_PHONE, "href": "tel:+4755102999"} in links  # the new number, linked

    english = await asks(web, "Where can I find the health centre for my baby?", "en", user="c")
    assert "Kulturhuset" not in english and "health" in english.lower()
    assert NEW_PHONE in english  # a contact detail is the service's, in every language

    assert ("leder", "content_changed", "text helsestasjon what nb adult") in audit(offline_app)
    assert ("leder", "content_changed", "contact helsestasjon phone") in audit(offline_app)
    assert all(NEW_TEXT not in (detail or "") for _, _, detail in audit(offline_app))


async def test_only_what_changed_is_kept_and_a_text_like_the_default_stays_the_default(
    leder: StaffBrowser, offline_app: App
) -> None:
    await leder.post(
        "/staff/content/texts", {**await texts_form(leder, what=NEW_TEXT), "action": "save"}
    )
    await leder.post("/staff/content/texts", {**await texts_form(leder), "action": "save"})  # again
    with offline_app.store.sessions() as session:
        changes = session.scalars(select(ContentChange)).all()
        assert [(c.field, c.value) for c in changes] == [("what", NEW_TEXT)]


async def test_a_preview_shows_the_answer_and_its_sms_and_saves_nothing(
    leder: StaffBrowser, offline_app: App
) -> None:
    form = await texts_form(leder, what=NEW_TEXT, sms="Helsestasjonen er på Kulturhuset.")
    shown = await leder.post("/staff/content/texts", {**form, "action": "preview"})
    assert shown.status_code == 200
    assert "Forhåndsvisning av det du skrev: ikke lagret ennå." in shown.text
    preview = shown.text.split('id="preview"')[1].split("</section>")[0]
    assert "har flyttet til Kulturhuset" in preview and "Fjordvik kommune" in preview
    assert 'href="tel:+4755102001"' in preview  # the phone as the web chat links it
    assert re.search(r"På SMS: \d SMS, \d+ tegn", preview)
    assert "Helsestasjonen er på Kulturhuset." in preview  # the SMS form
    with offline_app.store.sessions() as session:
        assert session.scalars(select(ContentChange)).all() == []


@pytest.mark.parametrize(
    ("form", "field", "said"),
    [
        (
            {"what": "Helsestasjonen i kommunen er åpen."},
            "Hva tjenesten er",
            "{municipality} mangler",
        ),
        ({"next": "Ring {phone} for time."}, "Hva skjer videre", "{phone} er ikke en plassholder"),
        ({"what": NEW_TEXT + " <b>Velkommen!</b>"}, "Hva tjenesten er", "ikke HTML"),
        ({"sms": "x" * 401}, "Hva tjenesten er (SMS)", "høyst 400 tegn"),
        ({"next": ""}, "Hva skjer videre", "kan ikke være tom"),
    ],
)
async def test_a_text_that_breaks_a_rule_is_refused_with_its_field_named(
    leder: StaffBrowser, offline_app: App, form: dict[str, str], field: str, said: str
) -> None:
    refused = await leder.post(
        "/staff/content/texts", {**await texts_form(leder, **form), "action": "save"}
    )
    assert refused.status_code == 400
    alert = refused.text.split('role="alert"')[1].split("</div>")[0]
    assert "Ingenting ble lagret." in alert and field in alert and said in alert
    assert next(iter(form.values())).replace("<", "&lt;")[:40] in refused.text  # kept, escaped
    with offline_app.store.sessions() as session:
        assert session.scalars(select(ContentChange)).all() == []


@pytest.mark.parametrize(
    ("changed", "field", "said"),
    [
        ({"phone": "5510"}, "Telefon", "ikke et norsk telefonnummer"),
        ({"phone": "+46 55 10 20 01"}, "Telefon", "ikke et norsk telefonnummer"),
        ({"after_hours_phone": "ring oss"}, "Telefon utenom åpningstid", "8 sifre"),
        ({"email": "helsestasjon(at)fjordvik"}, "E-post", "ikke en e-postadresse"),
        ({"url": "http://fjordvik.example/helse"}, "Nettside (https)", "https://"),
        ({"address": '<a href="x">Torget</a>'}, "Adresse", "ikke HTML"),
    ],
)
async def test_a_contact_detail_that_is_not_one_is_refused_with_its_field_named(
    leder: StaffBrowser, offline_app: App, changed: dict[str, str], field: str, said: str
) -> None:
    refused = await leder.post(
        "/staff/content/contact", {**contact_form(**changed), "action": "save"}
    )
    assert refused.status_code == 400
    alert = refused.text.split('role="alert"')[1].split("</div>")[0]
    assert field in alert and said in alert
    with offline_app.store.sessions() as session:
        assert session.scalars(select(ContentChange)).all() == []


async def test_short_numbers_and_plus_47_are_numbers(leder: StaffBrowser, web: Starlette) -> None:
    form = contact_form(phone="+47 55 10 29 99", after_hours_phone="116 111")
    assert (
        await leder.post("/staff/content/contact", {**form, "action": "save"})
    ).status_code == 303
    answer = await asks(web, "hvor er helsestasjonen?")
    assert "Telefon: +47 55 10 29 99" in answer and "Utenom åpningstid: 116 111" in answer


async def test_revert_puts_back_what_was_before_and_the_history_shows_the_difference(
    leder: StaffBrowser, web: Starlette, offline_app: App
) -> None:
    await leder.post(
        "/staff/content/texts", {**await texts_form(leder, what=NEW_TEXT), "action": "save"}
    )
    page = await leder.get("/staff/content?service=helsestasjon&language=nb&register=adult")
    history = page.text.split('id="history"')[1]
    assert "Helsestasjon – Hva tjenesten er – bokmål, voksne" in history
    assert "<ins>" in history and "Kulturhuset" in history and "<del>" in history
    assert re.search(r"\d\d\.\d\d\.2026 kl\. \d\d:\d\d CET", history)  # Oslo time
    [change] = re.findall(r'action="/staff/content/revert/(\d+)"', history)

    reverted = await leder.post(f"/staff/content/revert/{change}", HELSESTASJON)
    assert reverted.status_code == 303
    answer = await asks(web, "hvor er helsestasjonen?")
    assert "Kulturhuset" not in answer and "følger alle barn fra fødsel til skolestart" in answer
    assert ("leder", "content_reverted", "text helsestasjon what nb adult") in audit(offline_app)
    page = await leder.get(reverted.headers["location"])
    assert "Endringen er angret, brukes nå." in page.text
    assert "tilbake til standard" in page.text.split('id="history"')[1]


async def test_back_to_default_with_one_button(
    leder: StaffBrowser, web: Starlette, offline_app: App
) -> None:
    await leder.post("/staff/content/contact", {**contact_form(phone=NEW_PHONE), "action": "save"})
    page = await leder.get("/staff/content?service=helsestasjon&language=nb&register=adult")
    assert "Tilbake til standard: Telefon" in page.text
    reset = await leder.post("/staff/content/reset", {**HELSESTASJON, "field": "phone"})
    assert reset.status_code == 303
    assert "55 10 20 01" in await asks(web, "hvor er helsestasjonen?")
    assert ("leder", "content_reset", "contact helsestasjon phone") in audit(offline_app)


async def test_a_young_person_gets_the_youth_text_the_leader_wrote(
    leder: StaffBrowser, web: Starlette
) -> None:
    page = await leder.get("/staff/content?service=helsestasjon&language=nb&register=youth")
    assert "Tekster: Helsestasjon, bokmål, unge (uformelt)" in page.text
    youth = "Helsestasjonen i {municipality} er for de minste, men du kan få råd der også!"
    form = {**HELSESTASJON, "register": "youth", "what": youth}
    form |= {k: v for k, v in (await texts_form(leder)).items() if k in ("next", "sms", "next_sms")}
    assert (await leder.post("/staff/content/texts", {**form, "action": "save"})).status_code == 303

    young = await asks(web, "halla hvor er helsestasjonen", user="young")
    assert "men du kan få råd der også!" in young
    adult = await asks(web, "Hvor er helsestasjonen?", user="adult")
    assert "men du kan få råd der også" not in adult


async def test_the_opening_hours_are_the_los_offices_and_a_change_counts_at_once(
    leder: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    from flows.state import ConversationState

    assert offline_app.router.schedule.is_open(clock())  # Tuesday 10:30 in Oslo
    form = {**HELSESTASJON}
    for day in ("monday", "wednesday", "thursday", "friday"):
        form |= {f"opens-{day}": "08:00", f"closes-{day}": "15:30"}
    form |= {"opens-tuesday": "11:00", "closes-tuesday": "15:30"}
    form |= {"closed-saturday": "1", "closed-sunday": "1"}
    wrong = {**form, "opens-tuesday": "15:30", "closes-tuesday": "11:00"}
    refused = await leder.post("/staff/content/hours", wrong)
    assert refused.status_code == 400
    alert = refused.text.split('role="alert"')[1].split("</div>")[0]
    assert (
        'href="#opens-tuesday">Tirsdag</a>: åpner 15:30, som ikke er før den stenger 11:00.'
        in alert
    )
    assert offline_app.router.schedule.is_open(clock())
    assert (await leder.post("/staff/content/hours", form)).status_code == 303
    assert not offline_app.router.schedule.is_open(clock())
    ctx = offline_app.router.context(ConversationState(language="nb"))
    assert not ctx.office_open and ctx.next_opening is not None
    assert f"{ctx.next_opening.astimezone(ZoneInfo('Europe/Oslo')):%A %H:%M}" == "Tuesday 11:00"
    assert ctx.settings.opening_hours.weekly["thursday"] == ("08:00", "15:30")  # was 18:00
    assert ("leder", "content_changed", "hours tuesday") in audit(offline_app)


async def test_the_crisis_lines_are_not_on_the_form_and_the_page_says_so(
    leder: StaffBrowser,
) -> None:
    page = await leder.get("/staff/content")
    assert "Nødnumrene og hjelpetelefonene (113, 112, 110, 116 111" in page.text
    assert "config.yml" in page.text
    assert 'name="crisis' not in page.text


async def test_a_los_may_not_change_content_but_an_admin_may(
    kari: StaffBrowser, web: Starlette, offline_app: App
) -> None:
    assert (await kari.get("/staff/content")).status_code == 403
    assert "/staff/content" not in (await kari.get("/staff")).text
    kari_form = {**contact_form(phone=NEW_PHONE), "action": "save"}
    assert (await kari.post("/staff/content/contact", kari_form)).status_code == 403
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("ida", "Ida Admin", "admin", None, offline_app.router.clock())
    async with signed_in(web, "ida") as browser:
        assert (await browser.get("/staff/content")).status_code == 200
    with offline_app.store.sessions() as session:
        assert session.scalars(select(ContentChange)).all() == []


async def test_a_form_without_the_csrf_token_changes_nothing(
    leder: StaffBrowser, offline_app: App
) -> None:
    form = {**contact_form(phone=NEW_PHONE), "action": "save"}
    refused = await leder.post("/staff/content/contact", form, csrf="not-the-token")
    assert refused.status_code == 403
    with offline_app.store.sessions() as session:
        assert session.scalars(select(ContentChange)).all() == []


async def test_a_second_replica_answers_with_the_change_once_it_read_the_revision(
    leder: StaffBrowser, offline_app: App, tmp_path: Path, clock: FakeClock
) -> None:
    other = build_app(app_settings(tmp_path), clock=clock, secret_file=tmp_path / "secret.key")
    ticks = [100.0]
    other.router.content.monotonic = lambda: ticks[0]
    other_web = create_web_app(other, staff_password=PASSWORD)
    assert "Kulturhuset" not in await asks(other_web, "hvor er helsestasjonen?", user="1")

    await leder.post(
        "/staff/content/texts", {**await texts_form(leder, what=NEW_TEXT), "action": "save"}
    )
    ticks[0] += 1.0  # within the couple of seconds: the revision is not even read
    assert "Kulturhuset" not in await asks(other_web, "hvor er helsestasjonen?", user="2")
    ticks[0] += 1.5
    assert "Kulturhuset" in await asks(other_web, "hvor er helsestasjonen?", user="3")


def test_the_migration_makes_the_tables_the_models_describe(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.db import alembic_config, make_engine
    from bot.store.models import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'content.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "content_" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0017d")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:  # the counter's one row is there again
        from sqlalchemy import text

        assert connection.execute(text("SELECT id, value FROM content_revision")).all() == [(1, 0)]


def test_on_telegram_a_changed_number_is_written_to_tap_and_call(offline_app: App) -> None:
    from bot.channels.telegram import live_tappable
    from bot.store.content import ContentKey, ContentStore

    tap = live_tappable(offline_app.router.content)
    assert tap("Telefon: 55 10 29 99") == "Telefon: 55 10 29 99"  # nobody's number yet
    store = ContentStore(offline_app.store.sessions, offline_app.router.clock)
    store.save({ContentKey("contact", "helsestasjon", "phone"): NEW_PHONE}, "leder")
    offline_app.router.content.reload()
    assert tap("Telefon: 55 10 29 99") == "Telefon: +47 55 10 29 99"
