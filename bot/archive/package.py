"""The export as one ZIP: ``<reference>.pdf`` and ``<reference>.xml`` (whose checksum is the
PDF's)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ArchivePackage:
    """The two files of one exported case."""

    reference: str
    pdf: bytes
    xml: bytes
    made_at: datetime
    """When it was exported, in the municipality's time (the files' time in the ZIP)."""

    @property
    def pdf_name(self) -> str:
        return f"{self.reference}.pdf"

    @property
    def xml_name(self) -> str:
        return f"{self.reference}.xml"

    @property
    def zip_name(self) -> str:
        return f"{self.reference}.zip"

    @property
    def checksum(self) -> str:
        """The PDF's SHA-256 (as in the metadata)."""
        return hashlib.sha256(self.pdf).hexdigest()

    def files(self) -> dict[str, bytes]:
        """File name to content."""
        return {self.pdf_name: self.pdf, self.xml_name: self.xml}

    def zip(self) -> bytes:
        """Both files in one ZIP."""
        buffer = io.BytesIO()
        stamp = self.made_at.timetuple()[:6]
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files().items():
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
        return buffer.getvalue()
