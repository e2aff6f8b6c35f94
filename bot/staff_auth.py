"""Staff sign-in for the console: each staff member's own password, kept as a salted scrypt
hash. Who signed in is who the audit log names, so a shared password is only the fallback
for staff who have none yet (the no-secrets local default prints one per run)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.models import StaffCredential

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5
LOCKOUT_WINDOW_S = 300.0
_N, _R, _P = 2**14, 8, 1
log = logging.getLogger(__name__)


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


class StaffSignIn:
    """Who may sign in: staff with their own password must use it, the others may use the
    shared one; five failures for a staff id within five minutes lock it for the rest of
    them. HTTP Basic sends the password with every request, so a verified one is remembered
    (as a keyed digest, never the password) until the stored hash changes: scrypt runs once
    per staff member and password, not once per page."""

    def __init__(self, shared: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.shared = shared
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._failures: dict[str, list[float]] = {}
        self._verified: dict[str, tuple[str, bytes]] = {}

    def check(self, session: Session, staff_id: str, password: str) -> bool:
        """Whether this roster id and password sign in now (failures are logged, never the
        password)."""
        now = self._clock()
        recent = [t for t in self._failures.get(staff_id, []) if now - t < LOCKOUT_WINDOW_S]
        self._failures[staff_id] = recent
        if len(recent) >= MAX_FAILURES:
            log.warning("console sign-in refused: too many failures for staff=%s", staff_id)
            return False
        if self._matches(session, staff_id, password):
            return True
        recent.append(now)
        log.warning("console sign-in failed for staff=%s", staff_id)
        return False

    def _matches(self, session: Session, staff_id: str, password: str) -> bool:
        row = session.get(StaffCredential, staff_id)
        if row is None:
            shared = self.shared
            return shared is not None and hmac.compare_digest(password.encode(), shared.encode())
        digest = hmac.new(self._key, password.encode(), hashlib.sha256).digest()
        known = self._verified.get(staff_id)
        if known is not None and known[0] == row.password_hash:
            return hmac.compare_digest(known[1], digest)
        if not verify_password(password, row.password_hash):
            return False
        self._verified[staff_id] = (row.password_hash, digest)
        return True
