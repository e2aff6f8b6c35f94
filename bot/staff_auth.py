"""Staff sign-in for the console: each staff member's own password, kept as a salted scrypt
hash. Who signed in is who the audit log names, so a shared password is only the fallback
for staff who have none yet (the no-secrets local default prints one per run)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.models import StaffCredential

MIN_PASSWORD_LENGTH = 12
_N, _R, _P = 2**14, 8, 1


class WeakPassword(ValueError):
    """A password too short to protect a case file."""


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``, salted, base64."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        given = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(given, expected)


def set_password(session: Session, staff_id: str, password: str, now: datetime) -> None:
    """Give a staff member their own password (replacing any earlier one)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
    row = session.get(StaffCredential, staff_id)
    if row is None:
        session.add(
            StaffCredential(
                staff_id=staff_id, password_hash=hash_password(password), updated_at=now
            )
        )
    else:
        row.password_hash, row.updated_at = hash_password(password), now


def signs_in(session: Session, staff_id: str, password: str, shared: str | None) -> bool:
    """Staff with their own password must use it; the others may use the shared one."""
    row = session.get(StaffCredential, staff_id)
    if row is not None:
        return verify_password(password, row.password_hash)
    return shared is not None and hmac.compare_digest(password.encode(), shared.encode())
