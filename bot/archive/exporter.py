"""One export of a case for the archive: read (only by who may), build the PDF record and
its Noark 5-style metadata, audit ``case_exported`` with the PDF's checksum (never text),
hand back the package. The console and ``inngang queue export`` both use it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.archive.document import Composer
from bot.archive.noark import DocumentFile, NoarkWriter
from bot.archive.package import ArchivePackage
from bot.archive.pdf import render
from bot.console.present import Presenter
from bot.queue import Queue
from bot.store.archive_repo import CaseRecord


@dataclass(frozen=True)
class CaseExporter:
    """Exports cases in one staff language."""

    queue: Queue
    present: Presenter

    @classmethod
    def for_queue(cls, queue: Queue, language: str | None = None) -> CaseExporter:
        """An exporter in this language (the console's language by default)."""
        settings = queue.settings
        present = Presenter(
            queue.catalogs,
            language or settings.console.language,
            settings.municipality.timezone,
            queue.clock,
            queue.staffing.name,
        )
        return cls(queue, present)

    def export(self, reference: str, staff_id: str) -> ArchivePackage:
        """The case's archive package, audited. QueueError when the case is unknown or not
        this staff member's to export; UnknownStaff when the staff id is nobody's."""
        now = self.queue.clock()
        municipality = self.queue.settings.municipality.name

        def build(record: CaseRecord) -> tuple[ArchivePackage, str]:
            document = Composer(self.present, municipality).compose(record, staff_id, now)
            pdf = render(document)
            rules = self.queue.settings.archive
            xml = NoarkWriter(self.present, municipality, rules).write(
                record, DocumentFile(f"{reference}.pdf", pdf, archival=True), staff_id, now
            )
            package = ArchivePackage(reference, pdf, xml, now.astimezone(self.present.zone))
            return package, f"pdf sha256 {package.checksum}"

        return self.queue.export(reference, staff_id, build)
