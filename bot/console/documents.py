"""Documents the family sent into a case (photos, PDFs): listed on the case page, fetched
one at a time as a download.

Who may fetch one is who may read the case (the queue's rule: anyone who works the queue,
or a service member invited to it). Every fetch is audited as ``read_document``. A document
is never shown in the page: it is served with its sniffed type, as an attachment, with
``nosniff`` and a CSP that allows nothing, so no browser renders or runs it in our origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.console.present import Presenter
from bot.queue import QueueError
from bot.staff import Permission, may
from bot.store.attachments import AttachmentLine
from bot.store.enums import DocumentType
from flows.types import N_

if TYPE_CHECKING:
    from bot.console.app import Console

EXTENSIONS = {
    DocumentType.PDF: "pdf",
    DocumentType.JPEG: "jpg",
    DocumentType.PNG: "png",
    DocumentType.WEBP: "webp",
}
KIND_KEYS = {
    DocumentType.PDF: N_("console.documents.pdf"),
    DocumentType.JPEG: N_("console.documents.image"),
    DocumentType.PNG: N_("console.documents.image"),
    DocumentType.WEBP: N_("console.documents.image"),
}


def listed(
    reference: str, lines: tuple[AttachmentLine, ...], present: Presenter, t: Any
) -> list[dict[str, Any]]:
    """The case's documents as the case page lists them (kind, size, when, link; ``at`` to
    place them in the conversation)."""
    return [
        {
            "href": f"/staff/case/{reference}/document/{line.id}",
            "kind_name": t(KIND_KEYS[line.media_type]),
            "size": t(N_("console.documents.size"), kilobytes=max(1, round(line.size / 1000))),
            "when": present.when(line.created_at),
            "at": line.created_at,
        }
        for line in lines
    ]


class DocumentDownload:
    """GET /staff/case/{reference}/document/{id}."""

    def __init__(self, console: Console) -> None:
        self.console = console

    async def fetch(self, request: Request) -> Response:
        """The document as a download, or the "no such case" page."""
        console = self.console
        staff = await console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        role = staff.account.role
        if not may(role, Permission.WORK_QUEUE) and not may(role, Permission.SEE_INVITED):
            return console._forbidden(staff)
        reference = request.path_params["reference"]
        number = request.path_params["document"]
        if not number.isdigit() or len(number) > 12:
            return console._no_case(staff)
        try:
            found = await run_in_threadpool(
                console.queue.read_document, reference, int(number), staff.id
            )
        except QueueError:
            return console._no_case(staff)
        name = f"{reference}-{found.id}.{EXTENSIONS[found.media_type]}"
        return Response(
            found.content,
            media_type=str(found.media_type),
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "X-Content-Type-Options": "nosniff",
            },
        )
