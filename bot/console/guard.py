"""Who is signed in to the console, and whether a request may act.

A session is a random id (32 bytes) in a cookie that is HttpOnly, SameSite=Strict, scoped to
/staff and Secure over https (``console.secure_cookie``); the database keeps only its
SHA-256. It ends after ``console.idle_minutes`` without use, ``console.absolute_hours``
after sign-in, at sign-out, or when the account is disabled or its password changed.

Every form carries a CSRF token: HMAC(session id, "csrf"), so it needs no storage and a
copy of the database cannot forge it; the sign-in form's token comes the same way from a
short-lived pre-session cookie. Every POST is checked for it, and besides must say it
comes from a page of this host (Origin, else Referer); a request another site's page makes
(an image, a frame, a fetch; told by the browser's Sec-Fetch-* headers) gets nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.clock import Clock
from bot.settings import ConsoleSettings
from bot.store.accounts import Account, StaffAccounts

SESSION_COOKIE = "inngang_staff"
SIGN_IN_COOKIE = "inngang_sign_in"
COOKIE_PATH = "/staff"
SIGN_IN_COOKIE_S = 3600
MAX_COOKIE = 128


def id_hash(session_id: str) -> str:
    """What the database keeps of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _token(secret: str, purpose: str) -> str:
    digest = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member of a request."""

    account: Account
    session_hash: str
    csrf: str
    with_start_password: bool

    @property
    def id(self) -> str:
        return self.account.id


class Guard:
    """Sessions, CSRF tokens and the cross-site checks."""

    def __init__(self, accounts: StaffAccounts, settings: ConsoleSettings, clock: Clock) -> None:
        self.accounts = accounts
        self.settings = settings
        self.clock = clock
        self.idle = timedelta(minutes=settings.idle_minutes)
        self.absolute = timedelta(hours=settings.absolute_hours)

    # --- who ----------------------------------------------------------------------------

    def has_session_cookie(self, request: Request) -> bool:
        return bool(request.cookies.get(SESSION_COOKIE))

    async def staff(self, request: Request, *, touch: bool = True) -> Staff | None:
        """The staff member whose live session the request's cookie names, or None. With
        ``touch=False`` (the live queue's polling) the session's idle time is not reset: a
        page left open does not keep a session alive."""
        session_id = request.cookies.get(SESSION_COOKIE, "")
        if not session_id or len(session_id) > MAX_COOKIE or not session_id.isascii():
            return None
        hashed = id_hash(session_id)
        owner = await run_in_threadpool(
            self.accounts.session_owner,
            hashed,
            self.clock(),
            self.idle,
            self.absolute,
            touch=touch,
        )
        if owner is None:
            return None
        return Staff(owner.account, hashed, _token(session_id, "csrf"), owner.with_start_password)

    async def start(
        self, response: Response, request: Request, staff_id: str, *, with_start_password: bool
    ) -> None:
        """Sign a staff member in: a new session (never one the browser brought along)."""
        session_id = secrets.token_urlsafe(32)
        await run_in_threadpool(
            self.accounts.start_session,
            staff_id,
            id_hash(session_id),
            self.clock(),
            with_start_password=with_start_password,
        )
        self._cookie(response, request, SESSION_COOKIE, session_id, None)
        response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)

    async def end(self, response: Response, request: Request, staff: Staff) -> None:
        """Sign out: the session ends on the server, the cookie in the browser."""
        await run_in_threadpool(self.accounts.end_session, staff.session_hash, self.clock())
        response.delete_cookie(
            SESSION_COOKIE,
            path=COOKIE_PATH,
            secure=self.secure(request),
            httponly=True,
            samesite="strict",
        )

    # --- the sign-in form's token ---------------------------------------------------------

    def sign_in_secret(self, request: Request) -> tuple[str, bool]:
        """The pre-session secret of the sign-in form: the browser's, or a new one (True)."""
        pre = request.cookies.get(SIGN_IN_COOKIE, "")
        if pre and len(pre) <= MAX_COOKIE and pre.isascii():
            return pre, False
        return secrets.token_urlsafe(32), True

    @staticmethod
    def sign_in_token(pre: str) -> str:
        """The sign-in form's CSRF token for this pre-session secret."""
        return _token(pre, "sign-in")

    def set_sign_in_cookie(self, response: Response, request: Request, pre: str) -> None:
        self._cookie(response, request, SIGN_IN_COOKIE, pre, SIGN_IN_COOKIE_S)

    def sign_in_token_ok(self, request: Request, given: str) -> bool:
        pre = request.cookies.get(SIGN_IN_COOKIE, "")
        if not pre or len(pre) > MAX_COOKIE or not pre.isascii():
            return False
        expected = _token(pre, "sign-in").encode()
        return hmac.compare_digest(expected, given.encode("utf-8", "replace"))

    @staticmethod
    def csrf_ok(staff: Staff, given: str) -> bool:
        return hmac.compare_digest(staff.csrf.encode(), given.encode("utf-8", "replace"))

    # --- where from -----------------------------------------------------------------------

    @staticmethod
    def from_another_site(request: Request) -> bool:
        """A request another site's page made (not the los following a link): an image, a
        frame, a script, a fetch. Browsers say so in Sec-Fetch-*; old ones send none."""
        site = request.headers.get("sec-fetch-site")
        if site is None or site in ("same-origin", "none"):
            return False
        return not (
            request.headers.get("sec-fetch-mode") == "navigate"
            and request.headers.get("sec-fetch-dest", "document") == "document"
            and request.method == "GET"
        )

    @staticmethod
    def arrived_from_another_site(request: Request) -> bool:
        """A navigation from another site (a link in a notification e-mail): the browser
        leaves the SameSite=Strict cookie out of it, but not out of the next one."""
        return request.headers.get("sec-fetch-site") in ("cross-site", "same-site")

    @staticmethod
    def same_origin(request: Request) -> bool:
        """A POST must say it comes from a page of this host (Origin, else Referer); one
        that says nothing is refused ("null" from a sandbox or a no-referrer page too)."""
        origin = request.headers.get("origin") or request.headers.get("referer") or ""
        host = request.headers.get("host", "")
        return bool(origin and host) and urlsplit(origin).netloc == host

    def secure(self, request: Request) -> bool:
        mode = self.settings.secure_cookie
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    def _cookie(
        self, response: Response, request: Request, name: str, value: str, max_age: int | None
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=COOKIE_PATH,
            secure=self.secure(request),
            httponly=True,
            samesite="strict",
        )
