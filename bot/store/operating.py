"""What operating the service needs from the database: whether it answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Conversation


def ping(sessions: sessionmaker[Session]) -> None:
    """A trivial query that reads the schema; raises when the database does not answer."""
    with sessions() as session:
        session.execute(select(Conversation.id).limit(1)).first()
