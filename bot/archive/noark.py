"""Noark 5-style metadata for the archive system: one saksmappe (the case) holding one
journalpost whose main document is the PDF record, with its SHA-256 and size.

"Noark 5-style": the element names, their order and the code values follow Noark 5's
arkivstruktur (namespace ``http://www.arkivverket.no/standarder/noark5/arkivstruktur``), but
this is not a certified arkivuttrekk and is not validated against the schema. It is one
folder for the municipality's archive system to import; the archive itself gives what only
it can (arkiv, arkivdel, the journal and registry numbers, arkivertDato). ``klassifikasjon``
is written as in Noark 5's arkivmelding (the topic as the class).

Nothing in it names the citizen, whether or not the case is anonymous: the titles are
"Henvendelse familielos – <topic>" and the record's title; no korrespondansepart or sakspart.
The case, the journalpost and the document are classified as exempt from public access
under the duty of confidentiality (offl. § 13 jf. fvl. § 13). Code values of the standard
are Norwegian as the standard has them; titles come from the catalogs.
"""

from __future__ import annotations

import hashlib
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from bot.console.present import Presenter
from bot.settings import ArchiveSettings
from bot.store.archive_repo import CaseRecord
from bot.store.enums import CaseStatus
from flows.types import N_

NAMESPACE = "http://www.arkivverket.no/standarder/noark5/arkivstruktur"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:inngang:case")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class DocumentFile:
    """The PDF as the metadata describes it."""

    name: str
    content: bytes
    archival: bool
    """PDF/A (the archive format) rather than plain PDF."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _text(value: str) -> str:
    """Text XML 1.0 can carry (ElementTree escapes <, & and quotes; this drops the rest)."""
    return _NOT_XML.sub("", value)


def _add(parent: ET.Element, tag: str, value: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if value is not None:
        element.text = _text(value)
    return element


@dataclass(frozen=True)
class NoarkWriter:
    """Writes the metadata of one exported case."""

    present: Presenter
    municipality: str
    rules: ArchiveSettings
    """The municipality's unit, classification scheme and access code (``archive:``)."""
    system: str = "Inngang"
    """opprettetAv of the case: the bot opened it."""

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(self.present.zone).isoformat(timespec="seconds")

    def _date(self, moment: datetime) -> str:
        return moment.astimezone(self.present.zone).date().isoformat()

    def _skjerming(self, parent: ET.Element) -> None:
        skjerming = _add(parent, "skjerming")
        _add(skjerming, "tilgangsrestriksjon", self.rules.access_code)
        _add(skjerming, "skjermingshjemmel", self.rules.legal_basis)
        _add(skjerming, "skjermingMetadata", "Tittel")
        _add(skjerming, "skjermingDokument", "Hele dokumentet")

    def write(
        self, record: CaseRecord, document: DocumentFile, exported_by: str, now: datetime
    ) -> bytes:
        """The metadata as UTF-8 XML."""
        item, p = record.view.item, self.present
        exporter = p.staff_name(exported_by)
        holder = p.staff_name(item.claimed_by) if item.claimed_by else exporter
        topic = p.topic(item.topic)
        closed = item.status == CaseStatus.CLOSED and record.closed_at is not None
        mappe = ET.Element("mappe", {"xmlns": NAMESPACE, "xmlns:xsi": XSI, "xsi:type": "saksmappe"})
        _add(mappe, "systemID", str(uuid.uuid5(ID_NAMESPACE, item.reference)))
        _add(mappe, "mappeID", item.reference)
        title = p.t(N_("console.archive.case_title"), topic=topic)
        _add(mappe, "tittel", title)
        _add(mappe, "offentligTittel", title)
        _add(mappe, "opprettetDato", self._time(item.created_at))
        _add(mappe, "opprettetAv", self.system)
        if closed and record.closed_at is not None:
            _add(mappe, "avsluttetDato", self._time(record.closed_at))
            _add(mappe, "avsluttetAv", holder)
        self._skjerming(mappe)
        klassifikasjon = _add(mappe, "klassifikasjon")
        _add(klassifikasjon, "klassifikasjonssystemID", self.rules.classification_system)
        topic_id = item.topic or "annet"
        _add(klassifikasjon, "klasseID", self.rules.classes.get(topic_id, topic_id))
        _add(klassifikasjon, "tittel", topic)
        self._journalpost(mappe, record, document, exporter, now, closed)
        _add(mappe, "saksaar", str(item.created_at.astimezone(p.zone).year))
        _add(mappe, "saksdato", self._date(item.created_at))
        _add(mappe, "administrativEnhet", self.rules.administrative_unit or self.municipality)
        _add(mappe, "saksansvarlig", holder)
        _add(mappe, "saksstatus", "Avsluttet" if closed else "Under behandling")
        ET.indent(mappe)
        written: bytes = ET.tostring(mappe, encoding="utf-8", xml_declaration=True)
        return written + b"\n"

    def _journalpost(
        self,
        mappe: ET.Element,
        record: CaseRecord,
        document: DocumentFile,
        exporter: str,
        now: datetime,
        closed: bool,
    ) -> None:
        reference, p = record.view.item.reference, self.present
        registrering = ET.SubElement(mappe, "registrering", {"xsi:type": "journalpost"})
        _add(registrering, "systemID", str(uuid.uuid5(ID_NAMESPACE, f"{reference}/{now}")))
        _add(registrering, "opprettetDato", self._time(now))
        _add(registrering, "opprettetAv", exporter)
        self._skjerming(registrering)
        beskrivelse = _add(registrering, "dokumentbeskrivelse")
        _add(beskrivelse, "systemID", str(uuid.uuid5(ID_NAMESPACE, f"{reference}/{now}/1")))
        _add(beskrivelse, "dokumenttype", "Saksdokumentasjon")
        _add(beskrivelse, "dokumentstatus", "Dokumentet er ferdigstilt")
        title = p.t(N_("console.archive.title"), reference=reference)
        _add(beskrivelse, "tittel", title)
        _add(beskrivelse, "opprettetDato", self._time(now))
        _add(beskrivelse, "opprettetAv", exporter)
        _add(beskrivelse, "tilknyttetRegistreringSom", "Hoveddokument")
        _add(beskrivelse, "dokumentnummer", "1")
        _add(beskrivelse, "tilknyttetDato", self._time(now))
        _add(beskrivelse, "tilknyttetAv", exporter)
        self._skjerming(beskrivelse)
        objekt = _add(beskrivelse, "dokumentobjekt")
        _add(objekt, "versjonsnummer", "1")
        _add(objekt, "variantformat", "Arkivformat" if document.archival else "Produksjonsformat")
        _add(objekt, "format", "PDF/A" if document.archival else "PDF")
        if document.archival:
            _add(objekt, "formatDetaljer", "PDF/A-2b (ISO 19005-2)")
        _add(objekt, "opprettetDato", self._time(now))
        _add(objekt, "opprettetAv", exporter)
        _add(objekt, "referanseDokumentfil", document.name)
        _add(objekt, "sjekksum", document.sha256)
        _add(objekt, "sjekksumAlgoritme", "SHA256")
        _add(objekt, "filstoerrelse", str(len(document.content)))
        _add(registrering, "tittel", title)
        _add(registrering, "offentligTittel", title)
        _add(
            registrering,
            "journalposttype",
            "Organinternt dokument uten oppfølging"
            if closed
            else "Organinternt dokument for oppfølging",
        )
        _add(registrering, "journalstatus", "Ferdigstilt fra saksbehandler")
        _add(registrering, "journaldato", self._date(now))
        _add(registrering, "dokumentetsDato", self._date(now))
