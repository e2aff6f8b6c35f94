"""Files the family sends (a photo or a PDF of a letter): the type from the first bytes.

The type is decided here from the file's magic bytes, never from its name or the type the
client claims. Nothing here opens, renders or runs the file: a PDF is kept as bytes and
handed back as a download.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import AttachmentSettings
from bot.store.enums import DocumentType
from flows.types import Attachment, AttachmentVerdict


def sniff(content: bytes) -> DocumentType | None:
    """The document type the first bytes say, or None for anything else."""
    if content.startswith(b"%PDF-"):
        return DocumentType.PDF
    if content.startswith(b"\xff\xd8\xff"):
        return DocumentType.JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentType.PNG
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return DocumentType.WEBP
    return None


@dataclass(frozen=True)
class Upload:
    """A file as a channel received it: its bytes (none if too big) and what the checks say."""

    fact: Attachment
    content: bytes = b""
    media_type: DocumentType | None = None

    @property
    def storable(self) -> bool:
        """Whether it passed the size and type checks."""
        return self.fact.verdict is AttachmentVerdict.OK and self.media_type is not None


def check(content: bytes, limits: AttachmentSettings) -> Upload:
    """Size and type checks over the bytes read (read at most ``max_bytes + 1``)."""
    if len(content) > limits.max_bytes:
        return Upload(Attachment(AttachmentVerdict.TOO_BIG, len(content)))
    kind = sniff(content)
    if kind is None or kind.value not in limits.types:
        return Upload(Attachment(AttachmentVerdict.BAD_TYPE, len(content)))
    return Upload(Attachment(AttachmentVerdict.OK, len(content)), content, kind)


def too_big(size: int) -> Upload:
    """A file refused for its size before its bytes were read (a platform told the size)."""
    return Upload(Attachment(AttachmentVerdict.TOO_BIG, size))
