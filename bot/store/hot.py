"""The statements every message runs, built once.

A parameter of a statement that writes is never named as a column of a table it writes
(not even in a common table expression): Core would take it as a value to set.

Building an ORM statement, and its cache key, costs 50-150 µs each time; SQLite runs most
of these in 10-30 µs. So the reads and writes of a message's path (record it, read the next
one waiting, save the step) are Core statements on the tables, built here at import with
named parameters, and run on the session's connection: the same transaction, the same
encrypted columns (the column types encrypt and decrypt), no objects in the identity map.
Statements that run now and then stay in the ORM where they are.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast

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
        _M.conversation_id == bindparam("conversation"),
        _M.handled_at.is_(None),
        _M.direction.in_(WAITING_DIRECTIONS),
        _M.id != bindparam("message_id"),
    )
    .limit(1)
    .scalar_subquery()
)
_MOVE = (
    update(CONVERSATIONS)
    .where(_C.id == bindparam("conversation"), _C.version == bindparam("read_version"))
    .values(
        version=_C.version + 1,
        state_json=bindparam("new_state"),
        language=bindparam("new_language"),
        updated_at=bindparam("now"),
    )
)
MOVE = _MOVE.returning(_waiting_after)
"""The step's new state, only on the version it was computed on; returns a row (with
whether another message waits) when it held, none when the conversation moved on."""

_MARK = (
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
MARK_HANDLED = _MARK
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

REPLY_COLUMNS = (
    "conversation_id",
    "direction",
    "sender",
    "text",
    "language",
    "created_at",
    "handled_at",
    "reply_to",
    "buttons",
    "attempts",
    "crisis",
)
"""The columns a reply row is stored with (``REPLY``, and ``step_saved``'s)."""
QUEUE_COLUMNS = (
    "conversation_id",
    "sender",
    "text",
    "buttons",
    "language",
    "created_at",
    "reply_to",
    "attempts",
    "short",
)
"""The columns an outbox row is stored with (``QUEUE``, and ``step_saved``'s)."""


@functools.cache
def step_saved(replies: int, queued: bool) -> Select[Any]:
    """PostgreSQL: a step's writes in one statement, one round trip instead of one each: the
    new state on the version it was computed on (``MOVE``), the message handled and into its
    case (``MARK_HANDLED``), one more unread for that case (``CASE_UNREAD``, by
    ``into_case``), and ``replies`` reply rows (and as many outbox rows when ``queued``),
    each written only if what comes before it was. Returns one row: how many rows moved
    (0 or 1), how many were marked (0 or 1), and a message that waits after this one.

    Parameters: those of ``MOVE`` and ``MARK_HANDLED``, ``into_case``, per reply ``i`` its
    ``replies_<column>_i`` (and ``queued_<column>_i`` when queued) for the columns not in
    ``SHARED``, and ``reply_direction``, ``zero`` and ``no`` for the constant columns.
    Data-modifying common table expressions are PostgreSQL's; SQLite runs the statements one
    by one (each costs it microseconds, not a round trip)."""
    moved = _MOVE.returning(_C.id).cte("moved")
    marked = _MARK.where(exists(moved.select())).returning(_M.id).cte("marked")
    unread = (
        update(CASES)
        .where(CASES.c.reference == bindparam("into_case"), exists(marked.select()))
        .values(citizen_unread=CASES.c.citizen_unread + 1)
        .cte("unread")
    )
    written: list[Any] = [unread]
    if replies:
        written.append(_rows_after(MESSAGES, REPLY_COLUMNS, replies, marked, "replies"))
        if queued:
            written.append(_rows_after(OUTBOX, QUEUE_COLUMNS, replies, marked, "queued"))
    counted = [select(func.count()).select_from(cte).scalar_subquery() for cte in (moved, marked)]
    return select(*counted, _waiting_after).add_cte(*written)


SHARED = {
    "conversation_id": "conversation",
    "direction": "reply_direction",
    "created_at": "now",
    "handled_at": "now",
    "reply_to": "message_id",
    "attempts": "zero",
    "crisis": "no",
}
"""Columns every row of one step shares, with their parameter's name."""


def _rows_after(table: Table, columns: tuple[str, ...], count: int, after: Any, name: str) -> Any:
    """``count`` rows into ``table`` (per-row parameters ``<name>_<column>_<i>``), inserted
    only if ``after`` has a row. Each value is cast to its column's type: PostgreSQL cannot
    tell the type of a parameter that is NULL in every row."""
    rows = [
        select(
            *(
                sql_cast(
                    bindparam(
                        SHARED.get(column, f"{name}_{column}_{i}"), type_=table.c[column].type
                    ),
                    table.c[column].type,
                )
                for column in columns
            )
        ).where(exists(after.select()))
        for i in range(count)
    ]
    source = rows[0] if count == 1 else union_all(*rows)
    return insert(table).from_select(list(columns), source, include_defaults=False).cte(name)


CASE_STATUS = select(CASES.c.status).where(CASES.c.reference == bindparam("case_ref"))
DUTY_SWITCHES = select(DUTY.c.staff_id, DUTY.c.on_duty).where(DUTY.c.day == bindparam("day"))
