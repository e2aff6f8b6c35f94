"""A staff member's browser for the console, over httpx: signs in through the sign-in form
(its cookie and CSRF token), and sends the console's own forms with the page's CSRF token
and Origin, as a browser would."""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx
from starlette.applications import Starlette

ORIGIN = "http://inngang.local"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    match = CSRF.search(page)
    assert match, "no form with a CSRF token on the page"
    return match.group(1)


class StaffBrowser:
    """One browser: its own cookies, its own client address."""

    def __init__(self, web: Starlette, address: str = "127.0.0.1") -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web, client=(address, 40000)), base_url=ORIGIN
        )
        self.csrf = ""

    async def __aenter__(self) -> StaffBrowser:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()

    async def sign_in(self, staff: str, password: str, next_page: str = "/staff") -> httpx.Response:
        """Open the sign-in page and send its form; returns the answer to the POST (a 303
        to the page asked for when it worked)."""
        form = await self.client.get("/staff/login", params={"next": next_page})
        assert form.status_code == 200, form.status_code
        response = await self.client.post(
            "/staff/login",
            data={
                "user": staff,
                "password": password,
                "csrf": csrf_of(form.text),
                "next": next_page,
            },
            headers={"Origin": ORIGIN},
        )
        if response.status_code == 303:
            page = await self.client.get(response.headers["location"])
            if page.status_code == 200 and CSRF.search(page.text):
                self.csrf = csrf_of(page.text)
        return response

    async def get(self, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        response = await self.client.get(path, headers=headers)
        if response.status_code == 200 and CSRF.search(response.text):
            self.csrf = csrf_of(response.text)
        return response

    async def post(
        self,
        path: str,
        data: Mapping[str, str] | None = None,
        *,
        csrf: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a console form as its page would: the CSRF token and this site's Origin."""
        fields = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        sent = {"Origin": ORIGIN, **(headers or {})}
        return await self.client.post(path, data=fields, headers=sent)
