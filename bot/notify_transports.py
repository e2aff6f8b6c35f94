"""How staff notices leave Inngang: e-mail over SMTP (stdlib smtplib, run in a worker thread)
and SMS through the HTTP SMS gateway (httpx).

A failed send raises ``DeliveryError`` with the *kind* of the failure (an exception class
name, "HTTP 502", "SMTP 550"), never a message text, and whether trying again can help.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import httpx

from bot.settings import EmailTransport as EmailSettings
from bot.settings import SmsSettings

SMS_TIMEOUT_S = 10.0
AUTH_CODES = frozenset({530, 534, 535})
"""SMTP sign-in refusals: a configuration mistake an operator can fix, so retried."""


@dataclass(frozen=True)
class NoticeText:
    """A notice as it is sent: an e-mail subject and body, and a short SMS text."""

    subject: str
    body: str
    short: str


class DeliveryError(Exception):
    """A send that failed. ``kind`` names the failure without any text from it; a
    ``permanent`` failure is not retried."""

    def __init__(self, kind: str, *, permanent: bool = False) -> None:
        super().__init__(kind)
        self.kind = kind[:64]
        self.permanent = permanent


class Transport(Protocol):
    """Something that delivers a notice to one address."""

    async def send(self, target: str, notice: NoticeText) -> None:
        """Deliver, or raise DeliveryError."""

    async def aclose(self) -> None:
        """Release connections."""


class EmailTransport:
    """SMTP with STARTTLS and sign-in when configured; every network step has a timeout.
    smtplib blocks, so each send runs in a worker thread."""

    def __init__(self, settings: EmailSettings, password: str | None) -> None:
        self.settings = settings
        self._password = password

    def _message(self, target: str, notice: NoticeText) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = target
        message["Subject"] = notice.subject
        message["Date"] = formatdate(usegmt=True)
        domain = self.settings.sender.rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(notice.body)
        return message

    def _send_blocking(self, target: str, notice: NoticeText) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, self._password or "")
            smtp.send_message(self._message(target, notice))

    async def send(self, target: str, notice: NoticeText) -> None:
        """Send one e-mail; DeliveryError (5xx for the recipient or the data: permanent)."""
        try:
            await asyncio.to_thread(self._send_blocking, target, notice)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            raise DeliveryError(f"SMTP {max(codes, default=0)}", permanent=permanent) from None
        except smtplib.SMTPResponseException as error:
            code = int(error.smtp_code)
            permanent = (
                isinstance(error, smtplib.SMTPDataError) and code >= 500 and code not in AUTH_CODES
            )
            raise DeliveryError(f"SMTP {code}", permanent=permanent) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, timed out, disconnected
            raise DeliveryError(type(error).__name__) from None

    async def aclose(self) -> None:
        """Nothing kept open: one connection per message."""


class SmsTransport:
    """POST to the SMS gateway in the shape of ``SmsSettings``: 2xx accepted; 429, 5xx and
    network errors are retried; other answers are permanent."""

    def __init__(
        self,
        settings: SmsSettings,
        api_token: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = SMS_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self._headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout_s)

    async def send(self, target: str, notice: NoticeText) -> None:
        """Send the short text as one (possibly concatenated) SMS."""
        payload = {
            self.settings.to_field: target,
            self.settings.text_field: notice.short,
            self.settings.from_field: self.settings.sender,
        }
        try:
            response = await self._client.post(
                self.settings.outbound_url, json=payload, headers=self._headers
            )
        except httpx.HTTPError as error:  # timeouts, refused connections, broken answers
            raise DeliveryError(type(error).__name__) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        raise DeliveryError(f"HTTP {status}", permanent=not (status == 429 or status >= 500))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
