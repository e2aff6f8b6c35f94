"""The case page's "Eksporter til arkiv": the case's archive package (``bot.archive``) as a
ZIP download, by a POST with the page's CSRF token (through ``Console.act``, which has
checked the session, the token and that the role works the queue).

Who may export which case is the queue's rule: the los who holds the case, or anyone who
works the queue once it is closed (an open case has nobody responsible for it yet; a case
whose consent was withdrawn had its words deleted). Every export is audited as
``case_exported`` with the PDF's checksum; a refused one exports and audits nothing. The
download is never cached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from bot.console.guard import Staff
from bot.queue import QueueError
from flows.types import N_

if TYPE_CHECKING:
    from bot.archive.exporter import CaseExporter
    from bot.console.app import Console


class ArchiveDownload:
    """POST /staff/case/{reference}/export."""

    def __init__(self, console: Console) -> None:
        # bot.archive reads the console's labels (bot.console.present): imported here, once
        # the console package is loaded, not at the top (which would import it in a circle).
        from bot.archive.exporter import CaseExporter

        self.console = console
        self.exporter: CaseExporter = CaseExporter(console.queue, console.present)

    async def export(self, staff: Staff, reference: str, form: FormData) -> Response:
        """The ZIP (``<reference>.pdf`` and ``<reference>.xml``) as an attachment, or the
        case page saying why not."""
        from bot.console.app import Problem

        console = self.console
        try:
            package = await run_in_threadpool(self.exporter.export, reference, staff.id)
        except QueueError:  # an unknown case gets the "no such case" page from _case
            problem = Problem(console._t(N_("console.archive.refused")))
            return await console._case(staff, reference, problem, 409)
        return Response(
            package.zip(),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{package.zip_name}"',
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'",
                "X-Content-Type-Options": "nosniff",
            },
        )
