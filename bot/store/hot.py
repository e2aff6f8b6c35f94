"""The statements every message runs, built once.

A parameter of an UPDATE is never named as a column of its table: Core would take it as a
value to set.

Building an ORM statement, and its cache key, costs 50-150 µs each time; SQLite runs most
of these in 10-30 µs. So the reads and writes of a message's path (record it, read the next
one waiting, save the step) are Core statements on the tables, built here at import with
named parameters, and run on the session's connection: the same transaction, the same
encrypted columns (the column types encrypt and decrypt), no objects in the identity map.
Statements that run now and then stay in the ORM where they are.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, null, select, update

from bot.store.enums import Direction
from bot.store.models import Case, Conversation, Message, Outbox, StaffDuty

CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)
CASES = cast(Table, Case.__table__)
OUTBOX = cast(Table, Outbox.__table__)
DUTY = cast(Table, StaffDuty.__table__)

_C = CONVERSATIONS.c
_M = MESSAGES.c
WAITING_DIRECTIONS = (Direction.IN, Direction.EVENT)
"""What waits to be handled: a citizen's message, or an event (a los closed the case)."""

_seen = (
    select(_M.id)
    .where(_M.conversation_id == _C.id, _M.external_id == bindparam("external_id"))
    .limit(1)
    .correlate(CONVERSATIONS)
    .scalar_subquery()
)


def _known(seen: Any) -> Select[Any]:
    return (
        select(_C.id, _C.handle, _C.state_json, _C.unreachable, seen)
        .where(_C.channel == bindparam("channel"), _C.address_hash == bindparam("address"))
        .with_for_update(of=CONVERSATIONS)
    )


KNOWN = _known(_seen)
"""(id, handle, state_json, unreachable, the message already recorded under
``external_id``) of the conversation at (``channel``, ``address``).

The conversation's row is locked until the recording commits (PostgreSQL; SQLite's writes
are serialised anyway): two messages to one conversation are recorded one after the other,
so their ids are in the order they commit. Without it a message could take a lower id than
another, commit after it, and be handled after it (the kill test's burst of eight saw that
on PostgreSQL now and then): the drain handles the lowest id it can see."""
KNOWN_NO_ID = _known(null())
"""``KNOWN`` for a message without a platform id (never a duplicate)."""

RECORD = insert(MESSAGES).returning(_M.id)
"""A new message; returns its id."""

PENDING = (
    select(
        _M.id,
        _M.conversation_id,
        _C.channel,
        _M.direction,
        _M.text,
        _M.button,
        _M.media,
        _M.hint,
        _M.attempts,
        _M.created_at,
        _C.state_json,
        _C.version,
        _C.area,
    )
    .join(CONVERSATIONS, _C.id == _M.conversation_id)
    .where(
        _M.conversation_id == bindparam("conversation_id"),
        _M.handled_at.is_(None),
        _M.direction.in_(WAITING_DIRECTIONS),
    )
    .order_by(_M.id)
    .limit(1)
)
"""The conversation's oldest unhandled message with the state to handle it on, in
``PendingMessage``'s field order."""

_waiting_after = (
    select(_M.id)
    .where(
        _M.conversation_id == bindparam("conversation_id"),
        _M.handled_at.is_(None),
        _M.direction.in_(WAITING_DIRECTIONS),
        _M.id != bindparam("message_id"),
    )
    .limit(1)
    .scalar_subquery()
)
MOVE = (
    update(CONVERSATIONS)
    .where(_C.id == bindparam("conversation_id"), _C.version == bindparam("read_version"))
    .values(
        version=_C.version + 1,
        state_json=bindparam("new_state"),
        language=bindparam("new_language"),
        updated_at=bindparam("now"),
    )
    .returning(_waiting_after)
)
"""The step's new state, only on the version it was computed on; returns a row (with
whether another message waits) when it held, none when the conversation moved on."""

MARK_HANDLED = (
    update(MESSAGES)
    .where(_M.id == bindparam("message_id"), _M.handled_at.is_(None))
    .values(
        case_reference=func.coalesce(
            bindparam("into_case", type_=_M.case_reference.type), _M.case_reference
        ),
        handled_at=bindparam("now"),
        language=bindparam("new_language"),
        intent=bindparam("new_intent"),
        topic=bindparam("new_topic"),
        crisis=bindparam("new_crisis"),
        crisis_category=bindparam("new_category"),
        crisis_lexicon=bindparam("new_lexicon"),
        attempts=bindparam("new_attempts"),
    )
)
"""The message handled, with what it was about (only once: its row count says so), and
into the case ``into_case`` when it joins one (None: its case stays as it is)."""

CASE_UNREAD = (
    update(CASES)
    .where(CASES.c.reference == bindparam("case_ref"))
    .values(citizen_unread=CASES.c.citizen_unread + 1)
)
"""One more message from the citizen the case's los has not read."""

REPLY = insert(MESSAGES)
"""Replies (executemany over the rows)."""
QUEUE = insert(OUTBOX)
"""Outbox rows (executemany over the rows)."""

CASE_STATUS = select(CASES.c.status).where(CASES.c.reference == bindparam("case_ref"))
DUTY_SWITCHES = select(DUTY.c.staff_id, DUTY.c.on_duty).where(DUTY.c.day == bindparam("day"))
