"""Staff sign-in: the console's passwords and the command line's personal tokens.

Each staff member has their own password, kept as an argon2id hash (argon2-cffi); a scrypt
hash from before still verifies and is replaced by an argon2id one at the next successful
sign-in. Who signed in is who the audit log names. Staff without their own password yet sign
in with a start password: INNGANG_STAFF_PASSWORD when the operator set one, else (with the
shipped example configuration) one per account, made up and printed at each start. Failed
console sign-ins slow down the address they come from, never lock an account: whoever floods
kari's id with wrong passwords waits longer and longer, while kari with her right password
from her own address is let in at once. On the command line a staff member proves who they
are with a personal token (random, 32 bytes, stored only as its SHA-256) or their own
password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store.staff_records import StaffRecords

MIN_PASSWORD_LENGTH = 12
FREE_FAILURES = 5
"""Failed sign-ins an address may make before it has to wait (1 s, then 2 s, 4 s, ...)."""
ACCOUNT_PRESSURE = 10
"""Failures for one staff id, from all addresses together, that put it under pressure: an
address that has failed for it gets only one free failure, not five (a new address with
no failures is still never held back)."""
PRESSURED_FREE_FAILURES = 1
BACKOFF_FIRST_S = 1.0
BACKOFF_CAP_S = 300.0
FORGET_AFTER_S = 3600.0
"""Failures older than this are forgotten."""
MAX_ADDRESSES = 50_000
"""Addresses remembered at most (the oldest are forgotten first): memory stays bounded."""
KEEP_PER_ADDRESS = 64
FORGET_EVERY_S = 60.0
TOKEN_BYTES = 32
_N, _R, _P = 2**14, 8, 1
log = logging.getLogger(__name__)


class WeakPassword(ValueError):
    """A password too short to protect a case file."""


_ARGON2 = PasswordHasher()
"""argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3 passes)."""


def hash_password(password: str) -> str:
    """An argon2id hash (``$argon2id$v=19$m=...``), salted."""
    return _ARGON2.hash(password)


def scrypt_hash(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: how passwords were kept before argon2 (for tests of the
    upgrade; never written any more)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored argon2id or (older) scrypt hash."""
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return _verify_scrypt(password, stored)


def needs_upgrade(stored: str) -> bool:
    """Whether a stored hash should be replaced at the next successful sign-in: a scrypt
    hash, or an argon2 one with weaker parameters than today's."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _ARGON2.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
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


def set_password(
    records: StaffRecords,
    staff_id: str,
    password: str,
    now: datetime,
    keep_session: str | None = None,
) -> None:
    """Give a staff member their own password (replacing any earlier one); audited. Their
    console sessions end (all but ``keep_session``, the one that changed it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
    records.save_password_hash(staff_id, hash_password(password), now, keep_session=keep_session)


def upgrade_password(records: StaffRecords, staff_id: str, password: str, now: datetime) -> None:
    """Keep a password that just verified against an older hash as an argon2id hash
    (audited as an upgrade; no session ends)."""
    records.save_password_hash(staff_id, hash_password(password), now, action="upgrade_password")


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in attempt: who signed in, or how long to wait (429)."""

    staff: str | None
    retry_after: int | None = None
    with_start_password: bool = False
    """They have no own password yet and used a start password."""


class StartPasswords:
    """The passwords of staff who have none of their own yet: the operator's shared one
    (INNGANG_STAFF_PASSWORD), or one per account made up at start and printed."""

    def __init__(self, shared: str | None = None, per_account: Mapping[str, str] | None = None):
        self.shared = shared
        self.per_account = dict(per_account or {})

    @classmethod
    def made_up(cls, staff_ids: Iterable[str]) -> StartPasswords:
        """A new random password for each of these staff members (for this run only)."""
        return cls(None, {staff_id: readable_password() for staff_id in staff_ids})

    def matches(self, staff_id: str, password: str) -> bool:
        """Whether this is the staff member's start password (constant-time)."""
        expected = self.shared if self.shared is not None else self.per_account.get(staff_id)
        return expected is not None and hmac.compare_digest(password.encode(), expected.encode())


def readable_password() -> str:
    """A random password easy to type from a terminal: four groups of four letters and
    digits without look-alikes (about 82 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def client_key(host: str | None) -> str:
    """The address failures are counted by: an IPv6 client by its /64 (one household or
    machine has a whole /64), others as they are."""
    if not host:
        return "-"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class StaffSignIn:
    """Who may sign in: staff with their own password must use it, the others their start
    password. Nobody can lock an account: failures are counted by client address, and an
    address with more than five recent failures must wait before its next attempt (1 s,
    2 s, 4 s ... up to five minutes; 429 with Retry-After until then, the password is not
    even checked). Failures for one staff id from all addresses together (a spread-out
    guess) take away the free failures of every address that failed for it, but an
    address without failures is never held back, so the right password from a clean
    address always works at once. Failures are logged with the address and the staff id,
    never the password (nor a name that is not a staff id: it may be a password typed in
    the wrong field).

    The console asks ``throttled`` first, checks the password with ``verify`` on a thread
    (argon2 takes a moment), then tells ``record`` how it went; ``attempt`` does all three."""

    def __init__(
        self,
        start: StartPasswords | str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start = start if isinstance(start, StartPasswords) else StartPasswords(start)
        self.clock = clock
        self._by_address: dict[str, list[tuple[float, str | None]]] = {}
        self._by_account: dict[str, list[float]] = {}
        self._next_forget = 0.0

    def attempt(
        self, own_hash: str | None, staff_id: str | None, password: str, address: str | None
    ) -> SignIn:
        """One sign-in: ``staff_id`` is an active staff id, or None for a name that is not
        (always a failure); ``own_hash`` is that staff member's own password hash (None
        when they have none: their start password is theirs)."""
        wait = self.throttled(staff_id, address)
        if wait is not None:
            return SignIn(None, wait)
        verdict = self.verify(own_hash, staff_id, password)
        self.record(staff_id, address, verdict is not None)
        return verdict or SignIn(None)

    def throttled(self, staff_id: str | None, address: str | None) -> int | None:
        """Seconds this address must wait before it may try (logged), or None."""
        now = self.clock()
        key = client_key(address)
        self._forget(now)
        wait = self.wait(key, staff_id, now)
        if wait <= 0:
            return None
        seconds = max(1, math.ceil(wait))
        log.warning(
            "console sign-in throttled: address=%s staff=%s retry_after=%ss",
            key,
            staff_id or "(not a staff id)",
            seconds,
        )
        return seconds

    def verify(self, own_hash: str | None, staff_id: str | None, password: str) -> SignIn | None:
        """Who this is, if the password is right (slow: run it on a thread)."""
        if staff_id is None:
            return None
        if own_hash is None:
            return (
                SignIn(staff_id, with_start_password=True)
                if self.start.matches(staff_id, password)
                else None
            )
        return SignIn(staff_id) if verify_password(password, own_hash) else None

    def record(self, staff_id: str | None, address: str | None, succeeded: bool) -> None:
        """Count a failure against the address (and the staff id), or clear this address's
        failures for this staff id after a success."""
        now = self.clock()
        key = client_key(address)
        if succeeded:
            failures = self._by_address.get(key)
            if failures:
                self._by_address[key] = [f for f in failures if f[1] != staff_id]
            return
        self._by_address.setdefault(key, []).append((now, staff_id))
        del self._by_address[key][:-KEEP_PER_ADDRESS]
        if staff_id is not None:
            self._by_account.setdefault(staff_id, []).append(now)
        log.warning(
            "console sign-in failed: address=%s staff=%s",
            key,
            staff_id or "(not a staff id)",
        )

    def wait(self, key: str, staff_id: str | None, now: float) -> float:
        """Seconds this address must still wait before an attempt for this staff id."""
        failures = self._by_address.get(key)
        if not failures:
            return 0.0  # a clean address is never held back
        pressured = (
            staff_id is not None and len(self._by_account.get(staff_id, ())) >= ACCOUNT_PRESSURE
        )
        free = PRESSURED_FREE_FAILURES if pressured else FREE_FAILURES
        excess = len(failures) - free
        if excess < 0:
            return 0.0
        delay = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * float(2 ** min(excess, 32)))
        return failures[-1][0] + delay - now

    def _forget(self, now: float) -> None:
        """Drop failures older than FORGET_AFTER_S; keep at most MAX_ADDRESSES addresses
        (at most once a minute, and at once when there are too many)."""
        if now < self._next_forget and len(self._by_address) <= MAX_ADDRESSES:
            return
        self._next_forget = now + FORGET_EVERY_S
        horizon = now - FORGET_AFTER_S
        for key in [k for k, f in self._by_address.items() if f[-1][0] < horizon]:
            del self._by_address[key]
        for staff in list(self._by_account):
            recent = [t for t in self._by_account[staff] if t >= horizon]
            if recent:
                self._by_account[staff] = recent
            else:
                del self._by_account[staff]
        if len(self._by_address) > MAX_ADDRESSES:
            oldest = sorted(self._by_address, key=lambda k: self._by_address[k][-1][0])
            for key in oldest[: len(oldest) - MAX_ADDRESSES * 9 // 10]:
                del self._by_address[key]


def own_password_matches(records: StaffRecords, staff_id: str, password: str) -> bool:
    """Whether this is the staff member's own password (the shared one never counts)."""
    own_hash = records.password_hash(staff_id)
    return own_hash is not None and verify_password(password, own_hash)


def hash_token(token: str) -> str:
    """A personal token's SHA-256 (hex): a random 32-byte token needs no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(records: StaffRecords, staff_id: str, now: datetime) -> str:
    """A new personal command-line token for a staff member; it replaces any earlier one
    (audited). Only its hash is stored: the token is shown once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    records.replace_token(staff_id, hash_token(token), now)
    return token


def token_owner(records: StaffRecords, token: str, now: datetime) -> str | None:
    """Whose token this is (its last use recorded), or None."""
    if not token or len(token) > 256:
        return None
    return records.token_owner(hash_token(token), now)
