"""Documents from the family: a photo or a PDF reaches the los in an open case with consent,
encrypted, type-checked by its bytes, counted in "mine data" and deleted with the case;
before a case, or anonymously, the bot says kindly how to send it and keeps nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from starlette.applications import Starlette

from bot.app import App
from bot.attachments import check, sniff
from bot.channels.telegram import TelegramChannel
from bot.settings import AttachmentSettings
from bot.store.crypto import PREFIX
from bot.store.db import alembic_config, make_engine
from bot.store.enums import DocumentType
from bot.store.models import AuditEntry, Base, StoredAttachment
from flows import front_door
from flows.effects import AppendToCase, MarkUrgent, StoreAttachment
from flows.state import ConversationState, Phase
from flows.types import Attachment, AttachmentVerdict, FlowContext, Inbound
from nlu.understanding import Understanding
from tests.console_fixtures import signed_in
from tests.fakes.telegram_api import FakeTelegram, eventually
from tests.test_telegram import PARENT
from tests.test_telegram import telegram as telegram  # the fixture: the channel and its fake
from tests.test_whatsapp import PARENT as WHATSAPP_PARENT
from tests.test_whatsapp import Fixture as WhatsAppFixture
from tests.test_whatsapp import whatsapp as whatsapp  # the fixture: the channel and its fake

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n" + b"x" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
RECEIVED = "Takk, familielosen ser dokumentet i saken din."


# --- the checks: the bytes decide, never the name ------------------------------------------


def test_the_type_is_read_from_the_first_bytes_and_a_program_is_no_pdf() -> None:
    assert sniff(PDF) is DocumentType.PDF
    assert sniff(PNG) is DocumentType.PNG
    assert sniff(b"\xff\xd8\xff\xe0" + b"\x00" * 20) is DocumentType.JPEG
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") is DocumentType.WEBP
    assert sniff(EXE) is None
    assert sniff(b"<html><script>alert(1)</script>") is None
    limits = AttachmentSettings(max_bytes=1_000)
    assert check(PDF, limits).fact.verdict is AttachmentVerdict.TOO_BIG
    assert check(EXE, AttachmentSettings()).fact.verdict is AttachmentVerdict.BAD_TYPE
    only_pdf = AttachmentSettings(types=("application/pdf",))
    assert check(PNG, only_pdf).fact.verdict is AttachmentVerdict.BAD_TYPE
    assert check(PDF, only_pdf).storable


# --- the flow decides from the checked fact -------------------------------------------------


def _file(verdict: AttachmentVerdict = AttachmentVerdict.OK, caption: str = "") -> Inbound:
    return Inbound("web", "u", caption, media="document", attachment=Attachment(verdict, 2048))


def _plain(language: str = "nb") -> Understanding:
    return Understanding(language=language, intent="none", confidence=0.0)


def test_in_an_open_case_with_consent_the_document_goes_to_the_case(ctx: FlowContext) -> None:
    state = ConversationState("nb", Phase.CASE_OPEN, consent_version="v1", case_ref="K-ABCDEF")
    opened = FlowContext(ctx.settings, ctx.t, ctx.now, case_open=True)
    result = front_door.step(state, _file(caption="Brevet fra NAV"), _plain(), opened)
    assert result.replies[0].text == RECEIVED
    assert StoreAttachment("K-ABCDEF") in result.effects
    assert AppendToCase("K-ABCDEF", "Brevet fra NAV") in result.effects


def test_before_a_case_the_bot_explains_and_asks_for_nothing_to_be_kept(ctx: FlowContext) -> None:
    result = front_door.step(ConversationState("nb"), _file(), _plain(), ctx)
    assert "familielos har saken din" in result.replies[0].text
    assert "ikke lagret" in result.replies[0].text
    assert result.effects == ()


def test_an_anonymous_youth_is_told_why_no_document_is_taken(ctx: FlowContext) -> None:
    state = ConversationState("nb", Phase.CASE_OPEN, anonymous=True, case_ref="K-ABCDEF")
    opened = FlowContext(ctx.settings, ctx.t, ctx.now, case_open=True)
    result = front_door.step(state, _file(), _plain(), opened)
    assert "anonym samtale" in result.replies[0].text
    assert result.effects == ()


def test_too_big_and_wrong_type_name_the_limits(ctx: FlowContext) -> None:
    state = ConversationState("en", Phase.CASE_OPEN, consent_version="v1", case_ref="K-ABCDEF")
    big = front_door.step(state, _file(AttachmentVerdict.TOO_BIG), _plain("en"), ctx)
    assert "10 MB" in big.replies[0].text and "PDF" in big.replies[0].text
    wrong = front_door.step(state, _file(AttachmentVerdict.BAD_TYPE), _plain("en"), ctx)
    assert "JPEG, PNG or WebP" in wrong.replies[0].text
    assert big.effects == () and wrong.effects == ()


def test_the_crisis_check_still_runs_on_a_caption(ctx: FlowContext) -> None:
    from nlu.crisis import CrisisSignal

    state = ConversationState("nb", Phase.CASE_OPEN, consent_version="v1", case_ref="K-ABCDEF")
    opened = FlowContext(ctx.settings, ctx.t, ctx.now, case_open=True)
    signal = CrisisSignal("suicidal", "psykisk_helse", "nb", "v1")
    understood = Understanding(language="nb", intent="none", confidence=0.0, crisis=signal)
    result = front_door.step(state, _file(caption="jeg vil ikke leve"), understood, opened)
    assert result.crisis
    assert any(isinstance(e, MarkUrgent) for e in result.effects)
    assert StoreAttachment("K-ABCDEF") in result.effects


# --- journeys through the web chat and the console -------------------------------------------


@pytest.fixture
async def api(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang.local"
    ) as client:
        yield client


async def open_case(api: httpx.AsyncClient) -> dict[str, str]:
    """A mother asks for a person, consents, describes, sends: her case is open."""
    token = (await api.post("/api/chat", json={"button": "person"})).json()["token"]
    header = {"X-Chat-Token": token}
    for button in ("about:self", "age:18+", "consent:services", "strengths:skip"):
        await api.post("/api/chat", json={"button": button}, headers=header)
    await api.post(
        "/api/chat", json={"text": "Vi trenger hjelp med et brev fra NAV."}, headers=header
    )
    await api.post("/api/chat", json={"text": "Ferdig"}, headers=header)
    await api.post("/api/chat", json={"button": "contact:chat"}, headers=header)
    sent = await api.post("/api/chat", json={"text": "Send til familielosen"}, headers=header)
    assert sent.json()["replies"][0]["text"].startswith("Sendt.")
    return header


async def send_file(
    api: httpx.AsyncClient, header: dict[str, str], name: str, content: bytes, kind: str
) -> httpx.Response:
    return await api.post(
        "/api/upload",
        files={"file": (name, content, kind)},
        data={"id": f"up-{name}"},
        headers=header,
    )


def stored(app: App) -> list[StoredAttachment]:
    with app.store.sessions() as session:
        return list(session.scalars(select(StoredAttachment)).all())


async def test_a_mother_sends_a_pdf_and_the_los_downloads_it_from_the_case(
    api: httpx.AsyncClient, web: Starlette, offline_app: App
) -> None:
    header = await open_case(api)
    answer = await send_file(api, header, "brev-fra-nav.pdf", PDF, "application/pdf")
    assert answer.status_code == 200
    assert answer.json()["replies"][0]["text"] == RECEIVED
    history = (await api.get("/api/history", headers=header)).json()["messages"]
    assert [m["text"] for m in history][-2:] == ["Dokument sendt", RECEIVED]  # after a reload
    (row,) = stored(offline_app)
    assert row.size == len(PDF) and row.media_type is DocumentType.PDF
    with offline_app.store.sessions() as session:  # encrypted at rest, not the PDF itself
        raw = session.execute(text("SELECT content FROM attachments")).scalar_one()
    assert raw.startswith(PREFIX) and b"%PDF" not in raw.encode()

    (item,) = offline_app.queue.open_cases("kari")
    async with signed_in(web, "kari") as kari:
        page = await kari.get(f"/staff/case/{item.reference}")
        assert "Dokumenter fra familien" in page.text and "Last ned PDF" in page.text
        assert "Sendte et dokument:" in page.text  # in the conversation, where it came
        link = f"/staff/case/{item.reference}/document/{row.id}"
        assert link in page.text
        download = await kari.get(link)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    with offline_app.store.sessions() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "read_document")
        ).all()
    assert [(a.actor, a.case_reference) for a in audited] == [("kari", item.reference)]


async def test_a_document_of_another_case_is_no_case(
    api: httpx.AsyncClient, web: Starlette, offline_app: App
) -> None:
    header = await open_case(api)
    await send_file(api, header, "brev.pdf", PDF, "application/pdf")
    (row,) = stored(offline_app)
    async with signed_in(web, "kari") as kari:
        other = await kari.get(f"/staff/case/K-AAAAAA/document/{row.id}")
    assert other.status_code == 404 and other.content != PDF


async def test_a_program_renamed_pdf_is_refused_and_nothing_is_kept(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    header = await open_case(api)
    answer = await send_file(api, header, "brev.pdf", EXE, "application/pdf")
    assert "Denne filtypen kan jeg ikke ta imot" in answer.json()["replies"][0]["text"]
    assert stored(offline_app) == []


async def test_a_file_over_the_limit_is_not_read_and_the_limits_are_named(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    header = await open_case(api)
    huge = b"%PDF-1.4\n" + b"0" * (offline_app.settings.attachments.max_bytes + 70_000)
    answer = await send_file(api, header, "stor.pdf", huge, "application/pdf")
    assert "Filen er for stor" in answer.json()["replies"][0]["text"]
    assert "10 MB" in answer.json()["replies"][0]["text"]
    assert stored(offline_app) == []


async def test_an_anonymous_youth_sends_a_photo_and_is_told_kindly_nothing_is_kept(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    token = (await api.post("/api/chat", json={"button": "anon"})).json()["token"]
    header = {"X-Chat-Token": token}
    answer = await send_file(api, header, "bilde.png", PNG, "image/png")
    reply = answer.json()["replies"][0]["text"]
    assert "anonym samtale" in reply and "ikke lagret" in reply
    assert stored(offline_app) == []


async def test_an_upload_with_an_invented_token_is_refused_and_nothing_is_kept(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    refused = await api.post(
        "/api/upload",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers={"X-Chat-Token": "x" * 40 + ".invented"},
    )
    assert refused.status_code == 401
    assert stored(offline_app) == []
    first = await api.post("/api/upload", files={"file": ("a.pdf", PDF, "application/pdf")})
    assert first.status_code == 200 and first.json()["token"]  # a new visitor: told how
    assert "familielos har saken din" in first.json()["replies"][0]["text"]
    assert stored(offline_app) == []


async def test_my_data_counts_the_documents_and_deleting_it_deletes_their_bytes(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    header = await open_case(api)
    await send_file(api, header, "brev.pdf", PDF, "application/pdf")
    await send_file(api, header, "bilde.png", PNG, "image/png")
    mine = await api.post("/api/chat", json={"text": "/mine_data"}, headers=header)
    assert "Dokumenter du har sendt i saken: 2" in mine.json()["replies"][-1]["text"]
    await api.post("/api/chat", json={"text": "/slett"}, headers=header)
    await api.post("/api/chat", json={"button": "delete:yes"}, headers=header)
    with offline_app.store.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 0


def test_the_migration_makes_the_table_the_model_describes(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'documents.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "attachments" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0016")
    command.upgrade(alembic_config(engine), "head")


# --- Telegram: a photo or a document, fetched from the Bot API --------------------------------


async def test_a_photo_on_telegram_in_an_open_case_reaches_the_case(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram

    async def answered(before: int) -> None:
        await eventually(lambda: len(fake.sent) > before)
        await asyncio.sleep(0.3)  # an answer in two messages: both

    for button in ("person", "about:self", "age:18+", "consent:services", "strengths:skip"):
        before = len(fake.sent)
        fake.user_presses(PARENT, button)
        await answered(before)
    before = len(fake.sent)
    fake.user_says(PARENT, "Skolen har sendt et brev om fravær.")
    # The first words are understood (the offline model is read once, slow on a busy machine).
    await eventually(lambda: len(fake.sent) > before, timeout=60)
    for button in ("done", "contact:chat"):
        before = len(fake.sent)
        fake.user_presses(PARENT, button)
        await answered(before)
    fake.user_presses(PARENT, "confirm:send")
    await eventually(lambda: any("Sendt." in t for t in fake.texts_to(PARENT)))
    fake.files["big-photo"] = PNG
    small = {"file_id": "thumb", "file_unique_id": "t", "width": 90, "height": 90, "file_size": 9}
    large = {"file_id": "big-photo", "file_unique_id": "b", "width": 1280, "height": 960}
    fake.user_sends(PARENT, "photo", [small, {**large, "file_size": len(PNG)}], caption="Brevet")
    await eventually(lambda: RECEIVED in fake.texts_to(PARENT))
    (row,) = stored(offline_app)
    assert row.media_type is DocumentType.PNG and row.size == len(PNG)
    (item,) = offline_app.queue.open_cases("kari")
    view = offline_app.queue.view(item.reference, "kari")
    assert [d.id for d in view.documents] == [row.id]
    assert "Brevet" in [m.text for m in view.conversation]


async def test_a_document_on_telegram_before_a_case_is_explained_and_not_kept(
    telegram: tuple[FakeTelegram, TelegramChannel], offline_app: App
) -> None:
    fake, _ = telegram
    fake.files["letter"] = PDF
    document = {"file_id": "letter", "file_unique_id": "l", "file_size": len(PDF)}
    fake.user_sends(PARENT, "document", {**document, "file_name": "brev.pdf"})
    await eventually(lambda: fake.sent)
    assert "familielos har saken din" in fake.sent[-1]["text"]
    assert stored(offline_app) == []
    huge = {"file_id": "huge", "file_unique_id": "h", "file_size": 30_000_000}
    downloads = fake.downloads
    fake.user_sends(PARENT, "document", huge)
    await eventually(lambda: any("Filen er for stor" in t for t in fake.texts_to(PARENT)))
    assert fake.downloads == downloads  # a file too big is never fetched


# --- WhatsApp: an image or a document, fetched from the Graph API -----------------------------


async def test_a_pdf_on_whatsapp_in_an_open_case_reaches_the_case(
    whatsapp: WhatsAppFixture, offline_app: App
) -> None:
    fake, _ = whatsapp
    number = WHATSAPP_PARENT
    await fake.user_says(number, "hei")
    for button in ("person", "about:self", "age:18+", "consent:services", "strengths:skip"):
        await fake.user_taps(number, button)
    await fake.user_says(number, "Legen har skrevet et brev om sønnen vår.")
    for button in ("done", "contact:chat", "confirm:send"):
        await fake.user_taps(number, button)
    assert any("Sendt." in t for t in fake.texts_to(number))
    fake.media["m-1"] = PDF
    await fake.user_sends(number, "document", {"id": "m-1", "mime_type": "application/pdf"})
    assert fake.texts_to(number)[-1] == RECEIVED
    (row,) = stored(offline_app)
    assert row.media_type is DocumentType.PDF and row.size == len(PDF)
    fake.media["m-2"] = EXE
    await fake.user_sends(number, "image", {"id": "m-2", "caption": "bilde"})
    assert "Denne filtypen kan jeg ikke ta imot" in fake.texts_to(number)[-1]
    assert len(stored(offline_app)) == 1


async def test_a_key_rotation_re_encrypts_the_documents_and_they_still_download(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    from bot.key_cli import rotate
    from bot.store.crypto import keyring_of
    from bot.store.db import engine_of

    header = await open_case(api)
    for n in range(5):
        await send_file(api, header, f"side-{n}.pdf", PDF + bytes([n]), "application/pdf")
    engine = engine_of(offline_app.store.sessions)
    old = keyring_of(engine.dialect).current_id
    done = rotate(engine, batch=500, grace_s=0.0, sleep=lambda _s: None)
    assert done.current != old
    with offline_app.store.sessions() as session:
        raw = session.execute(text("SELECT content FROM attachments")).scalars().all()
    assert len(raw) == 5 and all(r.startswith(f"{PREFIX}{done.current}$") for r in raw)
    assert {row.size for row in stored(offline_app)} == {len(PDF) + 1}
    (item,) = offline_app.queue.open_cases("kari")
    first = offline_app.queue.read_document(item.reference, stored(offline_app)[0].id, "kari")
    assert first.content == PDF + bytes([0])


async def test_withdrawing_consent_deletes_the_documents_of_the_case(
    api: httpx.AsyncClient, offline_app: App
) -> None:
    header = await open_case(api)
    await send_file(api, header, "brev.pdf", PDF, "application/pdf")
    assert len(stored(offline_app)) == 1
    await api.post("/api/chat", json={"text": "trekk samtykke"}, headers=header)
    assert stored(offline_app) == []
