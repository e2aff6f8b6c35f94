"""A handled step is saved whole or not at all, on SQLite (statement by statement) and on
PostgreSQL (a step without other effects: its writes in one statement that commits on its
own): the answer is stored and readable, the message is handled and in its case, the los has one more unread,
the outbox holds what a push channel sends; a step computed on an old state, or for a
message already handled, writes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from bot.app import App
from bot.store.effects import EffectRunner
from bot.store.models import Case, Conversation, Message, Outbox
from bot.store.repo import PendingMessage, StoredReply
from flows.effects import AppendToCase
from flows.types import Button
from tests.test_journeys import parent_sends_a_case

ANSWER = StoredReply("bot", "Helsestasjonen har åpent 08-15. ÆØÅ ✓ مرحبا", "nb")
FOLLOW_UP = StoredReply(
    "bot", "Vil du vite mer?", "nb", (Button("Ja", "yes"),), short="Mer? Svar JA"
)


def waiting(app: App, user: str, words: str, channel: str = "web") -> PendingMessage:
    """A citizen's message recorded and waiting to be handled."""
    recorded = app.store.record_inbound(
        channel, app.router.address(channel, user), words, None, "nb"
    )
    pending = app.store.next_unhandled(recorded.conversation_id)
    assert pending is not None and pending.id == recorded.message_id
    return pending


def save(app: App, pending: PendingMessage, **changes: object) -> object:
    values: dict[str, object] = {
        "state_json": '{"language": "nb"}',
        "language": "nb",
        "intent": "helsestasjon",
        "topic": "helsestasjon",
        "crisis": False,
        "replies": [ANSWER, FOLLOW_UP],
        "to_outbox": False,
    }
    return app.store.save_step(pending, **(values | changes))  # type: ignore[arg-type]


def test_a_question_is_answered_and_the_answer_reads_back_as_written(any_app: App) -> None:
    pending = waiting(any_app, "ola", "hvor er helsestasjonen?")
    saved = save(any_app, pending)
    assert saved is not None
    record = any_app.store.handled(pending.id)
    assert [r.text for r in record.replies] == [ANSWER.text, FOLLOW_UP.text]
    assert record.replies[1].buttons == FOLLOW_UP.buttons
    assert record.topic == "helsestasjon"
    assert any_app.store.next_unhandled(pending.conversation_id) is None
    with any_app.store.sessions() as session:
        conversation = session.get_one(Conversation, pending.conversation_id)
        assert conversation.version == pending.version + 1
        message = session.get_one(Message, pending.id)
        assert (message.intent, message.attempts, message.case_reference) == (
            "helsestasjon",
            pending.attempts + 1,
            None,
        )
        assert session.scalars(select(Outbox)).all() == []  # the web chat's response delivers


async def test_a_message_in_an_open_case_joins_it_and_counts_as_unread(any_app: App) -> None:
    parent, reference = await parent_sends_a_case(any_app)
    with any_app.store.sessions() as session:
        unread = session.scalars(select(Case).where(Case.reference == reference)).one()
        before = unread.citizen_unread
    pending = waiting(any_app, parent.user, "Vi har fått time, takk", channel=parent.channel)
    router = any_app.router
    joining = EffectRunner(
        pending.id,
        pending.created_at,
        router.catalogs,
        router.staffing,
        router.notices,
        [AppendToCase(reference, "Vi har fått time, takk")],
    )
    assert save(any_app, pending, effects=joining, replies=[ANSWER]) is not None
    with any_app.store.sessions() as session:
        assert session.get_one(Message, pending.id).case_reference == reference
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.citizen_unread == before + 1


def test_a_push_channel_gets_its_answer_queued_with_the_short_form(any_app: App) -> None:
    pending = waiting(any_app, "4741223344", "hvor er helsestasjonen?", channel="sms")
    assert save(any_app, pending, to_outbox=True) is not None
    with any_app.store.sessions() as session:
        queued = session.scalars(select(Outbox).order_by(Outbox.id)).all()
        assert [(q.text, q.short, q.reply_to) for q in queued] == [
            (ANSWER.text, None, pending.id),
            (FOLLOW_UP.text, FOLLOW_UP.short, pending.id),
        ]


def test_a_step_on_an_old_state_or_a_handled_message_writes_nothing(any_app: App) -> None:
    pending = waiting(any_app, "per", "hvor er helsestasjonen?")
    assert save(any_app, pending) is not None
    again = save(any_app, pending)  # the same message, handled meanwhile by another worker
    assert again is None
    assert len(any_app.store.handled(pending.id).replies) == 2

    later = waiting(any_app, "per", "og tannlegen?")
    stale = PendingMessage(**{**later.__dict__, "version": later.version - 1})
    assert save(any_app, stale) is None
    with any_app.store.sessions() as session:
        assert session.get_one(Message, later.id).handled_at is None
        assert session.get_one(Conversation, later.conversation_id).version == later.version
        assert session.scalars(select(Message).where(Message.reply_to == later.id)).all() == []


def test_a_message_that_waits_behind_the_step_is_read_with_it(
    any_app: App,
) -> None:
    pending = waiting(any_app, "sara", "hei")
    behind = any_app.store.record_inbound(
        "web", any_app.router.address("web", "sara"), "er dere der?", None, "nb"
    )
    saved = save(any_app, pending)
    assert saved is not None
    assert saved.next is not None and saved.next.id == behind.message_id  # type: ignore[attr-defined]


def test_on_postgresql_a_step_is_one_statement_and_one_round_trip(any_app: App) -> None:
    """PostgreSQL: the new state, the message handled, its replies (and their outbox rows)
    in one statement outside BEGIN and COMMIT: one round trip instead of five or six, each
    of which costs a wake-up of the server and of the store's thread. SQLite runs them one
    by one, in microseconds."""
    pending = waiting(any_app, "nora", "hvor er helsestasjonen?", channel="sms")
    engine = any_app.store.sessions.kw["bind"]
    statements: list[tuple[str, bool]] = []

    def count(connection: Any, *args: object) -> None:
        driver = connection.connection.driver_connection
        statements.append((str(args[1]), bool(getattr(driver, "autocommit", False))))

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert save(any_app, pending, to_outbox=True) is not None
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if engine.dialect.name == "postgresql":
        [(statement, on_its_own)] = statements
        assert statement.startswith("WITH moved AS") and on_its_own  # no BEGIN, no COMMIT
    else:
        assert len(statements) >= 4  # the state, the marking, the replies, the outbox rows
    assert len(any_app.store.handled(pending.id).replies) == 2
