"""The case log (stafettlogg): a los or a leader writes notes on a case for colleagues; a note
is never sent to the citizen, keeps its author and time, is audited without its text, shows
with `inngang queue show`, is encrypted at rest, and goes when the case goes (retention,
"delete my data", withdrawn consent). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.queue import QueueError
from bot.staff import Permission, Role, may
from bot.store.db import alembic_config, make_engine
from bot.store.models import AuditEntry, Base, Case, CaseNote, Outbox
from bot.store.retention import run_retention
from tests.fakes.clock import FakeClock
from tests.test_journeys import parent_sends_a_case
from tests.test_staff_access import cli, token_for

NOTE = "Mor ringte skolen selv i går; PPT er ikke kontaktet ennå."


def notes_stored(app: App) -> int:
    with app.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CaseNote)) or 0)


def outbox_texts(app: App) -> list[str]:
    with app.store.sessions() as session:
        return list(session.scalars(select(Outbox.text)))


async def test_a_note_is_never_sent_to_the_citizen(any_app: App, clock: FakeClock) -> None:
    app = any_app
    parent, reference = await parent_sends_a_case(app)
    app.queue.claim(reference, "kari")
    clock.advance(minutes=3)
    app.queue.add_note(reference, "kari", NOTE)
    await parent.says("Er det noen der?")
    assert NOTE not in " ".join([*parent.seen, *await parent.inbox()])
    assert NOTE not in outbox_texts(app)
    view = app.queue.view(reference, "ahmed")  # a colleague reads it
    [note] = view.notes
    assert (note.author, note.text) == ("kari", NOTE)
    assert note.at == clock()
    assert all(m.text != NOTE for m in view.conversation)


async def test_notes_are_audited_without_their_text_and_in_order(
    any_app: App, clock: FakeClock
) -> None:
    app = any_app
    _, reference = await parent_sends_a_case(app)
    app.queue.add_note(reference, "kari", "første")
    clock.advance(minutes=1)
    app.queue.add_note(reference, "leder", "andre")  # a leader may too
    assert [n.text for n in app.queue.view(reference, "kari").notes] == ["første", "andre"]
    with app.store.sessions() as session:
        rows = [
            (a.actor, a.action, a.case_reference, a.detail)
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(("note", "read_case")))
            )
        ]
    assert ("kari", "note", reference, None) in rows
    assert ("leder", "note", reference, None) in rows
    assert ("kari", "read_case", reference, None) in rows
    assert not any("første" in str(r) or "andre" in str(r) for r in rows)


async def test_an_empty_note_or_one_on_no_case_is_refused(any_app: App) -> None:
    _, reference = await parent_sends_a_case(any_app)
    with pytest.raises(QueueError):
        any_app.queue.add_note(reference, "kari", "   ")
    with pytest.raises(QueueError):
        any_app.queue.add_note("K-NOSUCH", "kari", NOTE)
    assert notes_stored(any_app) == 0


def test_who_may_write_notes_is_decided_in_one_place() -> None:
    assert may(Role.LOS, Permission.ADD_NOTE) and may(Role.LEADER, Permission.ADD_NOTE)
    assert may(Role.SERVICE, Permission.ADD_NOTE)  # the invitation decides which case
    assert not may(Role.ADMIN, Permission.ADD_NOTE)


async def test_a_note_from_the_command_line_shows_with_queue_show(
    any_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import staff_cli

    _, reference = await parent_sends_a_case(any_app)
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(any_app, "kari"))
    assert cli(any_app, "queue", "note", reference, NOTE, "--as", "kari") == 0
    capsys.readouterr()
    assert cli(any_app, "queue", "show", reference, "--as", "kari") == 0
    shown = capsys.readouterr().out
    assert "notes (never sent to the citizen):" in shown
    assert f"note by kari: {NOTE}" in shown and "+01:00" in shown  # Oslo time
    assert cli(any_app, "queue", "--json", "show", reference, "--as", "kari") == 0
    [note] = json.loads(capsys.readouterr().out)["notes"]
    assert note["by"] == "kari" and note["text"] == NOTE
    assert cli(any_app, "queue", "note", reference, " ", "--as", "kari") == 1
    assert "empty note" in capsys.readouterr().err


async def test_a_service_member_cannot_write_notes_in_a_case_they_are_not_invited_to(
    any_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import staff_cli

    _, reference = await parent_sends_a_case(any_app)
    accounts = any_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("per", "Per PPT", "service", "ppt", any_app.router.clock())
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(any_app, "per"))
    assert cli(any_app, "queue", "note", reference, NOTE, "--as", "per") == 1
    assert f"no case {reference}" in capsys.readouterr().err
    assert notes_stored(any_app) == 0


async def test_deleting_my_data_deletes_the_notes_too(any_app: App) -> None:
    parent, reference = await parent_sends_a_case(any_app)
    any_app.queue.add_note(reference, "kari", NOTE)
    await parent.says("/slett")
    await parent.says("", button="delete:yes")
    assert notes_stored(any_app) == 0
    with any_app.store.sessions() as session:
        assert session.scalars(select(Case)).all() == []


async def test_withdrawing_consent_deletes_the_notes_and_takes_no_more(any_app: App) -> None:
    parent, reference = await parent_sends_a_case(any_app)
    any_app.queue.add_note(reference, "kari", NOTE)
    await parent.says("/trekk_samtykke")
    assert notes_stored(any_app) == 0
    with pytest.raises(QueueError):
        any_app.queue.add_note(reference, "kari", "etterpå")


async def test_retention_deletes_a_closed_cases_notes_with_it(
    any_app: App, clock: FakeClock
) -> None:
    app = any_app
    _, reference = await parent_sends_a_case(app)
    app.queue.claim(reference, "kari")
    app.queue.add_note(reference, "kari", NOTE)
    app.queue.close(reference, "kari", "answered")
    _, still_open = await parent_sends_a_case(app, "open-family")
    app.queue.add_note(still_open, "kari", "denne blir")
    clock.advance(days=app.settings.retention.closed_case_days + 400)
    assert run_retention(app.settings, app.store.sessions, clock).cases == 1
    assert [n.text for n in app.queue.view(still_open, "kari").notes] == ["denne blir"]
    assert notes_stored(app) == 1


async def test_a_note_is_encrypted_at_rest(any_app: App) -> None:
    from sqlalchemy import text

    _, reference = await parent_sends_a_case(any_app)
    any_app.queue.add_note(reference, "kari", NOTE)
    with any_app.store.sessions() as session:
        [raw] = session.execute(text("SELECT text FROM case_notes")).scalars().all()
    assert raw.startswith("$ig1$") and "PPT" not in raw


async def test_a_citizen_message_after_a_note_is_ordered_after_it(
    any_app: App, clock: FakeClock
) -> None:
    parent, reference = await parent_sends_a_case(any_app)
    any_app.queue.claim(reference, "kari")
    clock.advance(minutes=2)
    any_app.queue.add_note(reference, "kari", NOTE)
    clock.advance(minutes=2)
    await parent.says("Hei igjen")
    view = any_app.queue.view(reference, "kari")
    [note] = view.notes
    later = [m for m in view.conversation if m.text == "Hei igjen"]
    assert later and later[0].at > note.at


def test_the_migration_makes_the_table_the_model_describes(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "case_notes" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0010")
    command.upgrade(alembic_config(engine), "head")
