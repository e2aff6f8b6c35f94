"""Retention really deletes: closed cases after closed_case_days (or longer, when their consent
promised longer), idle conversations after anonymous_conversation_days once no case of theirs
is left; open cases are kept. Every deletion is audited with counts, never text."""

from __future__ import annotations

from sqlalchemy import func, select, update

from bot.app import App
from bot.store.models import AuditEntry, Case, Consent, Conversation, Message
from bot.store.retention import run_retention
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.test_journeys import PARENT_WORDS, parent_sends_a_case


def count(app: App, model: type) -> int:
    with app.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stored_texts(app: App) -> list[str]:
    """Every message text (decrypted: an encrypted column cannot be searched in SQL)."""
    with app.store.sessions() as session:
        return list(session.scalars(select(Message.text)))


def retain(app: App, clock: FakeClock) -> object:
    return run_retention(app.settings, app.store.sessions, clock)


LATER_WORDS = "Han har begynt å spise igjen, men sover fortsatt dårlig."


async def closed_case(app: App, user: str) -> str:
    parent, reference = await parent_sends_a_case(app, user)
    app.queue.claim(reference, "kari")
    await parent.says(LATER_WORDS)  # joins the open case
    app.queue.close(reference, "kari", "ferdig")
    return reference


async def test_closed_cases_and_idle_conversations_are_deleted_in_time(
    offline_app: App, clock: FakeClock
) -> None:
    app = offline_app
    days = app.settings.retention.closed_case_days
    closed = await closed_case(app, "closed-family")
    _, still_open = await parent_sends_a_case(app, "open-family")
    await Citizen(app, "just-asked").says("hvor er helsestasjonen?")

    clock.advance(days=29)
    assert run_retention(app.settings, app.store.sessions, clock).cases == 0
    assert count(app, Conversation) == 3

    clock.advance(days=2)  # past 30 days: an idle conversation with no case left goes
    report = run_retention(app.settings, app.store.sessions, clock)
    assert report.conversations == 1 and report.cases == 0
    assert count(app, Conversation) == 2  # the closed case keeps its conversation ...
    assert "hvor er helsestasjonen?" not in stored_texts(app)
    with app.store.sessions() as session:
        assert set(session.scalars(select(Case.reference))) == {closed, still_open}
        kept = session.scalars(select(Case.conversation_id).where(Case.reference == closed)).one()
        rows = session.execute(
            select(Message.text, Message.case_reference).where(Message.conversation_id == kept)
        ).all()
        description = session.scalars(select(Case.description).where(Case.reference == closed))
        assert PARENT_WORDS in description.one()
    # ... but only the case's own words: its small talk and the bot's replies went
    assert rows == [(LATER_WORDS, closed)]

    clock.advance(days=days - 31 + 1)  # the closed case is past its period now
    report = run_retention(app.settings, app.store.sessions, clock)
    assert (report.cases, report.conversations) == (1, 1)
    with app.store.sessions() as session:
        assert session.scalars(select(Case.reference)).all() == [still_open]
    assert count(app, Conversation) == 1


async def test_a_consent_that_promised_longer_keeps_its_case_that_long(
    offline_app: App, clock: FakeClock
) -> None:
    app = offline_app
    days = app.settings.retention.closed_case_days
    promised = await closed_case(app, "promised-family")
    unrecorded = await closed_case(app, "older-family")  # retention_days NULL: configured days
    with app.store.sessions.begin() as session:
        session.execute(
            update(Consent)
            .where(Consent.case_reference == promised)
            .values(retention_days=days + 100)
        )

    clock.advance(days=days + 1)
    report = retain(app, clock)
    assert report.cases == 1 and report.kept_for_consent == 1  # type: ignore[attr-defined]
    with app.store.sessions() as session:
        assert session.scalars(select(Case.reference)).all() == [promised]

    clock.advance(days=98)
    assert retain(app, clock).cases == 0  # type: ignore[attr-defined]
    clock.advance(days=2)
    assert retain(app, clock).cases == 1  # type: ignore[attr-defined]
    assert count(app, Case) == 0

    with app.store.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.actor == "system")).all()
    deleted = {e.case_reference: e.detail for e in entries if e.action == "retention_delete"}
    assert deleted == {unrecorded: f"days={days}", promised: f"days={days + 100}"}
    runs = [e.detail or "" for e in entries if e.action == "retention"]
    assert len(runs) == 2 and all(run.startswith("cases=1 ") for run in runs)
    assert "kept_for_consent=1" in runs[0]
    for entry in entries:  # counts and references, never anything the citizen wrote
        assert PARENT_WORDS not in (entry.detail or "") and "98 76" not in (entry.detail or "")


async def test_a_run_that_deletes_nothing_is_not_audited(
    offline_app: App, clock: FakeClock
) -> None:
    await Citizen(offline_app, "someone").says("hvor er helsestasjonen?")
    retain(offline_app, clock)
    with offline_app.store.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "retention")
            )
            == 0
        )
