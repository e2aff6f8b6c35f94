"""A trusted person in the conversation (mitt nettverk), through the real channels: a
15-year-old in the web chat asks for a code once Kari has the case, a friend joins with it
in another browser, Kari's answer reaches both (the friend nothing from before), the
friend's words reach the case as "Ola (invitert)", the young person removes the friend who
then gets nothing more. A code sent on the jsonl channel or Telegram joins too; expired, used
and wrong codes are explained; the young person's "delete my data" takes the participants
with it; the code and the first name are never stored in the clear."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from starlette.applications import Starlette

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.store.db import alembic_config, make_engine
from bot.store.models import AuditEntry, Base, CaseParticipant, Message, TrustedInvite
from bot.store.retention import run_retention
from flows import trusted
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram, eventually
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.test_own_voice import Teen, teen_sends_a_case, texts
from tests.test_telegram import telegram as telegram  # the fixture: the channel and its fake

CODE = re.compile(r"\b([A-Z2-9]{4})-([A-Z2-9]{4})\b")
FRIEND_ON_TELEGRAM = 5550001


@pytest.fixture
async def chat(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang.local"
    ) as client:
        yield client


def code_in(replies: list[dict[str, object]]) -> str:
    found = CODE.search(" ".join(str(r["text"]) for r in replies))
    assert found is not None, replies
    return found.group(1) + found.group(2)


async def a_case_with_a_code(
    chat: httpx.AsyncClient, kari: StaffBrowser, app: App
) -> tuple[Teen, str, str]:
    """Sara (15) sends a case, Kari takes it and answers, Sara asks for a code."""
    teen, reference = await teen_sends_a_case(chat, app)
    await kari.post(f"/staff/case/{reference}/claim")
    await kari.post(f"/staff/case/{reference}/reply", {"text": "Hei Sara, dette er Kari."})
    await teen.polls()
    replies = await teen.says("", button=trusted.INVITE)
    return teen, reference, code_in(replies)


async def joins(friend: Teen, code: str, name: str = "Ola") -> list[dict[str, object]]:
    welcome = await friend.says(f"{code[:4]}-{code[4:]}")
    assert "En ung person har invitert deg" in texts(welcome)[0]
    rules = await friend.says(name)
    assert f"Før du blir med, {name}" in texts(rules)[0]
    return await friend.says("", button=trusted.ACCEPT)


async def test_a_friend_joins_by_link_sees_the_los_from_then_on_and_is_removed_by_the_young_person(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, reference, code = await a_case_with_a_code(chat, kari, app)
    assert "/#join=" + code in " ".join(texts(teen.seen[-1:]))
    friend = Teen(chat, app)
    inside = await joins(friend, code)
    assert "Du er med nå, Ola" in texts(inside)[0]
    told = texts(await teen.polls())
    assert told and "Ola er med i samtalen nå" in told[-1]

    await kari.post(f"/staff/case/{reference}/reply", {"text": "Hei begge to! Velkommen, Ola."})
    assert "Hei begge to! Velkommen, Ola." in texts(await teen.polls())
    friend_got = texts(await friend.polls())
    assert friend_got == ["Hei begge to! Velkommen, Ola."]  # not "Hei Sara" from before
    assert [m["sender"] for m in friend.seen if m["text"] == friend_got[0]] == ["los"]

    assert await friend.says("Jeg er her for Sara. Vi kan komme på møtet sammen.") == []
    assert "Ola (invitert): Jeg er her for Sara." in texts(await teen.polls())[-1]
    view = app.queue.view(reference, "kari")
    last = view.conversation[-1]
    assert (last.author, last.text) == ("Ola", "Jeg er her for Sara. Vi kan komme på møtet sammen.")
    assert [p.name for p in view.participants] == ["Ola"]
    page = await kari.get(f"/staff/case/{reference}")
    assert "Med i samtalen" in page.text and "invitert av den unge" in page.text
    assert '<span class="sender">Ola (invitert)</span>' in page.text
    assert "nettchat" in page.text.split('id="trusted"', 1)[1].split("</section>", 1)[0]

    listed = await teen.says("/deltakere")
    assert "Ola" in texts(listed)[0]
    [remove] = [b for b in listed[0]["buttons"] if b["label"] == "Ta ut Ola"]  # type: ignore[attr-defined]
    removed = await teen.says("", button=str(remove["payload"]))
    assert "Ola er tatt ut" in texts(removed)[0]
    assert "avsluttet din del av samtalen" in texts(await friend.polls())[0]

    await kari.post(f"/staff/case/{reference}/reply", {"text": "Bare til deg nå, Sara."})
    assert await friend.polls() == []
    after = await friend.says("Hallo?")
    assert "ikke med i samtalen lenger" in texts(after)[0]
    assert app.queue.view(reference, "kari").conversation[-1].text == "Bare til deg nå, Sara."
    page = await kari.get(f"/staff/case/{reference}")
    assert "tatt ut av den unge" in page.text

    with app.store.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry))]
        details = " ".join(str(a.detail) for a in session.scalars(select(AuditEntry)))
    for action in ("trusted_code", "trusted_joined", "trusted_removed", "read_participants"):
        assert action in actions
    assert "Ola" not in details and code not in details


async def test_the_friend_sees_their_part_in_mine_data_and_can_leave_and_the_young_person_is_told(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    teen, _, code = await a_case_with_a_code(chat, kari, offline_app)
    friend = Teen(chat, offline_app)
    await joins(friend, code, "Ingrid")
    await teen.polls()
    mine = " ".join(texts(await friend.says("mine data")))
    assert "Du er med i samtalen til en ung person som «Ingrid»" in mine
    assert "Personer du har invitert inn i samtalen: Ingrid." in " ".join(
        texts(await teen.says("mine data"))
    )
    left = await friend.says("", button=trusted.LEAVE)
    assert "Du har gått ut av samtalen" in texts(left)[0]
    assert "Ingrid har gått ut av samtalen." in texts(await teen.polls())


async def test_a_code_sent_on_the_jsonl_channel_joins_and_cannot_be_used_twice(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    _, reference, code = await a_case_with_a_code(chat, kari, app)
    aunt = Citizen(app, "tante-anne")
    await aunt.says(code.lower())
    assert "En ung person har invitert deg" in aunt.last()
    await aunt.says("Anne")
    await aunt.says("1")  # "Ja, jeg blir med", typed as its number
    assert "Du er med nå, Anne" in aunt.last()
    await kari.post(f"/staff/case/{reference}/reply", {"text": "Takk for at du kom, Anne."})
    assert await aunt.inbox() == ["Takk for at du kom, Anne."]

    cousin = Citizen(app, "fetter")
    await cousin.says(code)
    assert "allerede brukt" in cousin.last()
    await cousin.says("ZZZZ-2222")
    assert "kjenner ikke igjen" in cousin.last()


async def test_an_expired_code_gets_a_clear_message(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    _, _, code = await a_case_with_a_code(chat, kari, offline_app)
    clock.advance(minutes=offline_app.settings.trusted.code_minutes + 1)
    late = Citizen(offline_app, "late-friend")
    await late.says(code)
    assert "har gått ut" in late.last()


async def test_guessing_codes_is_slowed_down(offline_app: App) -> None:
    guesser = Citizen(offline_app, "guesser")
    for n in range(offline_app.settings.trusted.max_tries):
        await guesser.says(f"AB{n + 2}D-EFGH")
        assert "kjenner ikke igjen" in guesser.last()
    await guesser.says("ABCD-EFG2")
    assert "Vent et kvarter" in guesser.last()


async def test_a_code_sent_on_telegram_joins_and_the_los_reaches_the_friend_there(
    chat: httpx.AsyncClient,
    kari: StaffBrowser,
    offline_app: App,
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, _ = telegram
    _, reference, code = await a_case_with_a_code(chat, kari, offline_app)
    fake.user_says(FRIEND_ON_TELEGRAM, f"{code[:4]}-{code[4:]}")
    await eventually(lambda: any("invitert deg" in t for t in fake.texts_to(FRIEND_ON_TELEGRAM)))
    fake.user_says(FRIEND_ON_TELEGRAM, "Mona")
    await eventually(lambda: any("Før du blir med" in t for t in fake.texts_to(FRIEND_ON_TELEGRAM)))
    fake.user_presses(FRIEND_ON_TELEGRAM, trusted.ACCEPT)
    await eventually(lambda: any("Du er med nå" in t for t in fake.texts_to(FRIEND_ON_TELEGRAM)))
    await kari.post(f"/staff/case/{reference}/reply", {"text": "Hei Mona!"})
    await eventually(lambda: "Hei Mona!" in fake.texts_to(FRIEND_ON_TELEGRAM), timeout=20)
    view = offline_app.queue.view(reference, "kari")
    assert [(p.name, p.channel) for p in view.participants] == [("Mona", "telegram")]


async def test_the_young_persons_delete_my_data_takes_the_participants_and_their_words(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    teen, _, code = await a_case_with_a_code(chat, kari, app)
    friend = Teen(chat, app)
    await joins(friend, code)
    await friend.says("Jeg er her for Sara.")
    with app.store.sessions() as session:
        raw_name = session.execute(text("SELECT first_name FROM case_participants")).scalar_one()
        hashes = session.execute(text("SELECT code_hash FROM trusted_invites")).scalars().all()
    assert "Ola" not in raw_name  # encrypted at rest
    assert code not in " ".join(hashes) and len(hashes[0]) == 64
    await teen.says("slett mine data")
    await teen.says("", button="delete:yes")
    with app.store.sessions() as session:
        assert session.scalars(select(CaseParticipant)).all() == []
        assert session.scalars(select(TrustedInvite)).all() == []
        kept = [m.text for m in session.scalars(select(Message))]
    assert not any("Jeg er her for Sara" in t for t in kept)  # the friend's words went too
    after = await friend.says("Er du der, Sara?")
    assert "ikke med i samtalen lenger" in texts(after)[0]


async def test_retention_deletes_the_participants_with_the_case_and_a_closed_case_takes_no_words(
    chat: httpx.AsyncClient, kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    app = offline_app
    _, reference, code = await a_case_with_a_code(chat, kari, app)
    friend = Teen(chat, app)
    await joins(friend, code)
    await friend.says("Jeg er her for Sara.")
    app.queue.close(reference, "kari", "answered")
    closed = await friend.says("Er dere der?")
    assert "ikke med i samtalen lenger" in texts(closed)[0]
    clock.advance(days=app.settings.retention.closed_case_days + 1)
    run_retention(app.settings, app.store.sessions, clock)
    with app.store.sessions() as session:
        assert session.scalars(select(CaseParticipant)).all() == []
        assert session.scalars(select(TrustedInvite)).all() == []
        kept = [m.text for m in session.scalars(select(Message))]
    assert not any("Jeg er her for Sara" in t for t in kept)


def test_the_migration_makes_the_tables_the_models_describe(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'trusted.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "trusted" in repr(d) or "participant" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0017d")
    command.upgrade(alembic_config(engine), "head")
