"""Documents the family sent into a case: stored encrypted, listed and read back for the los.

The bytes live base64-encoded in an encrypted column (``attachments.content``), so the key
ring that protects message text protects them, and key rotation re-encrypts them too.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from bot.store.enums import DocumentType
from bot.store.models import Case, StoredAttachment
from bot.store.repo import aware


@dataclass(frozen=True)
class AttachmentLine:
    """A document as the case page lists it (no bytes)."""

    id: int
    media_type: DocumentType
    size: int
    created_at: datetime


@dataclass(frozen=True)
class AttachmentFile:
    """A document's bytes and its sniffed type, for a download."""

    id: int
    media_type: DocumentType
    content: bytes


def add(
    session: Session,
    case: Case,
    message_id: int | None,
    media_type: DocumentType,
    content: bytes,
    now: datetime,
) -> None:
    """Keep a document in the case (in the caller's transaction)."""
    assert case.conversation_id is not None
    session.add(
        StoredAttachment(
            case_id=case.id,
            conversation_id=case.conversation_id,
            message_id=message_id,
            media_type=media_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=base64.b64encode(content).decode("ascii"),
            created_at=now,
        )
    )


def in_case(session: Session, case_id: int) -> list[AttachmentLine]:
    """The case's documents, oldest first."""
    rows = session.execute(
        select(
            StoredAttachment.id,
            StoredAttachment.media_type,
            StoredAttachment.size,
            StoredAttachment.created_at,
        )
        .where(StoredAttachment.case_id == case_id)
        .order_by(StoredAttachment.id)
    ).all()
    return [AttachmentLine(i, DocumentType(m), s, aware(c)) for i, m, s, c in rows]


def read(session: Session, case_id: int, attachment_id: int) -> AttachmentFile | None:
    """One document of this case with its bytes; None if it is not this case's."""
    row = session.scalars(
        select(StoredAttachment).where(
            StoredAttachment.id == attachment_id, StoredAttachment.case_id == case_id
        )
    ).first()
    if row is None:
        return None
    return AttachmentFile(row.id, DocumentType(row.media_type), base64.b64decode(row.content))


def count_for_conversation(session: Session, conversation_id: int) -> int:
    """How many documents are stored from this conversation ("mine data")."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(StoredAttachment)
            .where(StoredAttachment.conversation_id == conversation_id)
        )
        or 0
    )


def delete_for_conversation(session: Session, conversation_id: int) -> int:
    """Delete every document from this conversation; returns how many."""
    result = session.execute(
        delete(StoredAttachment).where(StoredAttachment.conversation_id == conversation_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_for_cases(session: Session, case_ids: Select[tuple[int]] | list[int]) -> None:
    """Delete the documents of these cases (ids, or a select of them)."""
    session.execute(delete(StoredAttachment).where(StoredAttachment.case_id.in_(case_ids)))
