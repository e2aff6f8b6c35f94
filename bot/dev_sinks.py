"""`inngang sinks`: stand-ins for the mail server and the SMS gateway, for trying Inngang on
one machine. A local SMTP server on ``notifications.email`` host:port and a tiny SMS gateway
on the host:port of ``sms.outbound_url`` print one line per message they receive (recipient,
subject or first line), so staff notices can be seen arriving. Nothing is stored or sent on.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from email import message_from_bytes, policy
from functools import partial
from urllib.parse import urlsplit

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.settings import Settings

Printer = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


class MailSink:
    """An aiosmtpd handler that prints who a message is for and its subject."""

    def __init__(self, out: Printer = _print) -> None:
        self.out = out

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        subject = message_from_bytes(raw, policy=policy.default).get("Subject", "")
        self.out(f"e-mail to {', '.join(envelope.rcpt_tos)}: {subject}")
        return "250 Message accepted for delivery"


def sms_gateway(settings: Settings, out: Printer = _print) -> Starlette:
    """A gateway that accepts the outbound POST of ``SmsSettings`` and prints it."""
    sms = settings.sms

    async def receive(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
            to, text = str(data[sms.to_field]), str(data.get(sms.text_field, ""))
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        out(f"SMS    to {to}: {text.splitlines()[0] if text else ''}")
        return JSONResponse({"status": "accepted"}, status_code=202)

    path = urlsplit(sms.outbound_url).path or "/"
    return Starlette(routes=[Route(path, receive, methods=["POST"])])


async def serve(settings: Settings, out: Printer = _print) -> int:
    """Run both sinks until interrupted."""
    email = settings.notifications.email
    gateway = urlsplit(settings.sms.outbound_url)
    host, port = gateway.hostname or "127.0.0.1", gateway.port or 80
    loop = asyncio.get_running_loop()
    try:
        smtp = await loop.create_server(
            partial(SMTP, MailSink(out), auth_require_tls=False, authenticator=_anyone),
            email.host,
            email.port,
        )
    except OSError as error:
        print(f"cannot listen on {email.host}:{email.port}: {error.strerror}", file=sys.stderr)
        return 1
    if email.starttls:
        print("note: the sink does not offer STARTTLS; set starttls: false", file=sys.stderr)
    out(
        f"Sinks: SMTP on {email.host}:{email.port}, SMS gateway on "
        f"{settings.sms.outbound_url} (Ctrl-C stops)"
    )
    server = uvicorn.Server(
        uvicorn.Config(
            sms_gateway(settings, out),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    try:
        await server.serve()
    finally:
        smtp.close()
        await smtp.wait_closed()
    return 0


def _anyone(
    _server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, _data: object
) -> AuthResult:
    """Any sign-in is fine for a local sink (its password is not looked at)."""
    return AuthResult(success=True)
