"""Case queries the router and the queue share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bot.store import hot
from bot.store.enums import CaseStatus


def case_status(session: Session, reference: str) -> CaseStatus | None:
    """The status of the case with this reference, or None when there is none (deleted)."""
    status = session.connection().execute(hot.CASE_STATUS, {"case_ref": reference}).scalar()
    return None if status is None else CaseStatus(status)


def stored_description(
    lines: Sequence[str], worries: Sequence[str] = (), strengths: str | None = None
) -> str:
    """The case's ``description`` column: the citizen's words as a JSON list, or, when they
    voiced a worry along the way ("confidentiality") or told what the child likes and is
    good at, ``{"words": [...], "worries": [...], "strengths": "..."}`` (kept in the same
    encrypted column, so with the same consent, retention and deletion, and no migration)."""
    if not worries and not strengths:
        return json.dumps(list(lines), ensure_ascii=False)
    data: dict[str, Any] = {"words": list(lines), "worries": list(worries)}
    if strengths:
        data["strengths"] = strengths
    return json.dumps(data, ensure_ascii=False)


def _read(raw: str | None) -> Any:
    try:
        return json.loads(raw or "[]")
    except ValueError:
        return []


def description_lines(raw: str | None) -> list[str]:
    """The citizen's words from a stored description (either form)."""
    data = _read(raw)
    words = data.get("words", []) if isinstance(data, dict) else data
    return [str(line) for line in words] if isinstance(words, list) else []


def case_strengths(raw: str | None) -> str | None:
    """What the child likes and is good at or proud of, in the citizen's words, if told."""
    data = _read(raw)
    strengths = data.get("strengths") if isinstance(data, dict) else None
    return str(strengths) if strengths else None


def case_worries(raw: str | None) -> tuple[str, ...]:
    """The worries stored with a description (none in the plain list form)."""
    data = _read(raw)
    worries = data.get("worries", []) if isinstance(data, dict) else []
    return tuple(str(w) for w in worries) if isinstance(worries, list) else ()
