"""Documenting a case (journalføring): the los exports a case for the municipality's Noark 5
archive as a ZIP of a PDF/A record and Noark 5-style metadata. The record has the intake, the
consent, the whole conversation verbatim (Arabic shaped right to left, Ukrainian, Polish and
Somali with their letters), the case log and the outcome; the metadata names the PDF by its
SHA-256 and names nobody; an anonymous case exports without identity; every export is
audited without text; only the holder (or anyone once it is closed) may export; the console
and `inngang queue export` both do it. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import AsyncIterator
from hashlib import sha256
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.archive.exporter import CaseExporter
from bot.archive.package import ArchivePackage
from bot.queue import QueueError
from bot.store.models import AuditEntry
from tests.console_fixtures import PASSWORD, signed_in
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.test_console import asks_anonymously
from tests.test_journeys import PARENT_WORDS, parent_sends_a_case
from tests.test_staff_access import cli, token_for

N5 = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"
ARABIC = "مرحبا، أحتاج إلى مساعدة مع ابني في المدرسة"
UKRAINIAN = "Привіт, мені потрібна допомога з сином. Їжак і ґанок."
POLISH = "Dzień dobry, zażółć gęślą jaźń – potrzebuję pomocy."
SOMALI = "Waan u baahanahay caawimaad, wiilkayga dugsiga ayuu ka baqaa."
NOTE = "Ringte mor; PPT kontaktes etter avtale med henne."
YOUTH_WORDS = "Jeg er 15 og drikker mye i helgene, hvem kan jeg snakke med uten at foreldrene vet?"


async def a_closed_case_in_many_languages(app: App, clock: FakeClock) -> tuple[Citizen, str]:
    """A parent asks for a los, writes in four languages once Kari has the case; Kari
    answers, writes a note and closes the case as referred, with words."""
    parent, reference = await parent_sends_a_case(app)
    assert app.queue.claim(reference, "kari")
    for words in (ARABIC, UKRAINIAN, POLISH, SOMALI):
        clock.advance(minutes=1)
        await parent.says(words)
    clock.advance(minutes=2)
    app.queue.reply(reference, "kari", "Takk, jeg ringer deg i morgen.")
    app.queue.add_note(reference, "kari", NOTE)
    clock.advance(minutes=5)
    app.queue.close(reference, "kari", "referred: Henvist til PPT")
    return parent, reference


def export(app: App, reference: str, staff: str = "kari") -> ArchivePackage:
    return CaseExporter.for_queue(app.queue).export(reference, staff)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def embedded_fonts(pdf: bytes) -> dict[str, TTFont]:
    """Every font of the PDF by its name, from the font program embedded in it."""
    fonts: dict[str, TTFont] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            program = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
            fonts[str(font["/BaseFont"]).split("+")[-1]] = TTFont(io.BytesIO(program))
    return fonts


def exports_audited(app: App) -> list[tuple[str, str | None, str | None]]:
    with app.store.sessions() as session:
        return [
            (a.actor, a.case_reference, a.detail)
            for a in session.scalars(select(AuditEntry).where(AuditEntry.action == "case_exported"))
        ]


def metadata(package: ArchivePackage) -> ET.Element:
    return ET.fromstring(package.xml)


# --- the record ------------------------------------------------------------------------------


async def test_the_record_holds_the_intake_consent_conversation_log_and_outcome(
    any_app: App, clock: FakeClock
) -> None:
    _, reference = await a_closed_case_in_many_languages(any_app, clock)
    package = export(any_app, reference)
    text = pdf_text(package.pdf)
    flat = " ".join(text.split())
    assert f"Saksdokumentasjon – sak {reference}" in flat
    assert "Unntatt offentlighet, offl. § 13 jf. fvl. § 13 (taushetsplikt)" in flat
    assert "Fjordvik kommune" in flat and "Eksportert av Kari Los (kari)" in flat
    for words in (PARENT_WORDS, UKRAINIAN, POLISH, SOMALI, NOTE, "Takk, jeg ringer deg i morgen."):
        assert " ".join(words.split()) in flat, words
    assert "98 76 54 32" in flat  # the callback number the parent gave: not anonymous
    assert "Losen og tjenestene familien trenger" in flat  # the consent's scope
    assert "Tekstversjon" in flat and "Ikke trukket" in flat
    assert "Henvist til en tjeneste" in flat and "Henvist til PPT" in flat  # the outcome
    assert "Notat av Kari Los" in flat
    assert "kl." in flat and "CET" in flat  # Oslo time
    assert re.search(r"Side 1 av \d", flat)
    order = [flat.index(" ".join(w.split())) for w in (PARENT_WORDS, UKRAINIAN, POLISH, SOMALI)]
    assert order == sorted(order)  # the conversation in its order


async def test_arabic_is_embedded_and_shaped_and_every_font_is_in_the_file(
    offline_app: App, clock: FakeClock
) -> None:
    _, reference = await a_closed_case_in_many_languages(offline_app, clock)
    pdf = export(offline_app, reference).pdf
    fonts = embedded_fonts(pdf)  # a font without its program in the file would raise here
    assert {"NotoSans", "NotoSansBold", "NotoSansArabic"} <= set(fonts)
    arabic_glyphs = fonts["NotoSansArabic"].getGlyphOrder()
    # Shaping chose the joined forms (initial, medial, final: Arabic Presentation Forms-B),
    # not only the letters' isolated forms a renderer without shaping would use.
    joined = [g for g in arabic_glyphs if re.fullmatch(r"uniFE[7-9A-F][0-9A-F]", g)]
    assert len(joined) >= 5, arabic_glyphs
    # The words come back out of the file (in some order of its runs).
    extracted = pdf_text(pdf)
    for word in ("مرحبا", "مساعدة", "المدرسة"):
        assert word in extracted or word[::-1] in extracted


async def test_the_pdf_says_it_is_pdf_a_2b_with_an_srgb_output_intent(
    offline_app: App, clock: FakeClock
) -> None:
    _, reference = await a_closed_case_in_many_languages(offline_app, clock)
    reader = PdfReader(io.BytesIO(export(offline_app, reference).pdf))
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B" in xmp
    [intent] = catalog["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "sRGB" in intent["/OutputConditionIdentifier"]
    assert "/DestOutputProfile" in intent and reader.trailer["/ID"]
    assert catalog["/Lang"] == "nb"


# --- the metadata ----------------------------------------------------------------------------


async def test_the_metadata_parses_and_names_the_pdf_by_its_checksum(
    any_app: App, clock: FakeClock
) -> None:
    _, reference = await a_closed_case_in_many_languages(any_app, clock)
    package = export(any_app, reference)
    with zipfile.ZipFile(io.BytesIO(package.zip())) as archive:
        assert sorted(archive.namelist()) == sorted([f"{reference}.pdf", f"{reference}.xml"])
        pdf, xml = archive.read(f"{reference}.pdf"), archive.read(f"{reference}.xml")
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    mappe = ET.fromstring(xml)
    assert mappe.tag == f"{N5}mappe"
    assert mappe.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "saksmappe"
    assert mappe.findtext(f"{N5}mappeID") == reference
    assert mappe.findtext(f"{N5}tittel", "").startswith("Henvendelse familielos – ")
    assert mappe.findtext(f"{N5}saksansvarlig") == "Kari Los"
    assert mappe.findtext(f"{N5}saksstatus") == "Avsluttet"
    assert mappe.findtext(f"{N5}avsluttetDato", "").endswith("+01:00")
    for skjerming in mappe.iter(f"{N5}skjerming"):
        assert skjerming.findtext(f"{N5}tilgangsrestriksjon") == "13"
        assert skjerming.findtext(f"{N5}skjermingshjemmel") == "Offl. § 13 jf. fvl. § 13"
    journalpost = mappe.find(f"{N5}registrering")
    assert journalpost is not None
    assert journalpost.findtext(f"{N5}journalposttype") == "Organinternt dokument uten oppfølging"
    beskrivelse = journalpost.find(f"{N5}dokumentbeskrivelse")
    assert beskrivelse is not None
    assert beskrivelse.findtext(f"{N5}tilknyttetRegistreringSom") == "Hoveddokument"
    objekt = beskrivelse.find(f"{N5}dokumentobjekt")
    assert objekt is not None
    assert objekt.findtext(f"{N5}referanseDokumentfil") == f"{reference}.pdf"
    assert objekt.findtext(f"{N5}format") == "PDF/A"
    assert objekt.findtext(f"{N5}sjekksumAlgoritme") == "SHA256"
    assert objekt.findtext(f"{N5}sjekksum") == sha256(pdf).hexdigest()
    assert objekt.findtext(f"{N5}filstoerrelse") == str(len(pdf))


async def test_an_open_case_held_by_the_los_is_a_document_for_follow_up(
    offline_app: App,
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    package = export(offline_app, reference)
    mappe = metadata(package)
    assert mappe.findtext(f"{N5}saksstatus") == "Under behandling"
    assert mappe.find(f"{N5}avsluttetDato") is None
    assert (
        mappe.findtext(f"{N5}registrering/{N5}journalposttype")
        == "Organinternt dokument for oppfølging"
    )
    assert "Utfall Saken er ikke avsluttet ennå." in " ".join(pdf_text(package.pdf).split())


async def test_the_municipalitys_unit_and_classification_scheme_come_from_config(
    offline_app: App,
) -> None:
    from bot.settings import ArchiveSettings

    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    [item] = [i for i in offline_app.queue.open_cases("kari") if i.reference == reference]
    rules = ArchiveSettings(
        administrative_unit="Oppvekst og familie",
        classification_system="K-koder",
        classes={str(item.topic): "F47"},
    )
    offline_app.queue.settings = offline_app.settings.model_copy(update={"archive": rules})
    mappe = metadata(export(offline_app, reference))
    assert mappe.findtext(f"{N5}administrativEnhet") == "Oppvekst og familie"
    assert mappe.findtext(f"{N5}klassifikasjon/{N5}klassifikasjonssystemID") == "K-koder"
    assert mappe.findtext(f"{N5}klassifikasjon/{N5}klasseID") == "F47"


async def test_an_anonymous_case_exports_without_identity(any_app: App) -> None:
    youth = await asks_anonymously(any_app, "browser-7f3a", YOUTH_WORDS)
    [item] = any_app.queue.open_cases("kari")
    any_app.queue.claim(item.reference, "kari")
    any_app.queue.reply(item.reference, "kari", "Hei! Du kan snakke med meg.")
    package = export(any_app, item.reference)
    text = " ".join(pdf_text(package.pdf).split())
    assert " ".join(YOUTH_WORDS.split()) in text  # the question itself is the record
    assert "Anonym – ingen kontaktopplysninger" in text
    assert "Anonym henvendelse: det ble ikke innhentet samtykke" in text
    handle = youth.user
    for what in (package.pdf, package.xml):
        assert handle.encode() not in what
    assert handle not in text
    xml = package.xml.decode()
    for tag in ("korrespondansepart", "sakspart", "telefonnummer", "epostadresse"):
        assert tag not in xml
    assert "browser" not in xml and YOUTH_WORDS not in xml


async def test_the_metadata_of_a_named_case_names_nobody_either(offline_app: App) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    xml = export(offline_app, reference).xml.decode()
    assert "98 76 54 32" not in xml and "parent-1" not in xml and "Sønnen" not in xml


# --- who may, and the audit ------------------------------------------------------------------


async def test_every_export_is_audited_with_the_checksum_and_no_text(
    any_app: App, clock: FakeClock
) -> None:
    _, reference = await a_closed_case_in_many_languages(any_app, clock)
    first = export(any_app, reference)
    second = export(any_app, reference, "leder")  # closed: a leader may export it too
    assert exports_audited(any_app) == [
        ("kari", reference, f"pdf sha256 {first.checksum}"),
        ("leder", reference, f"pdf sha256 {second.checksum}"),
    ]
    details = " ".join(str(detail) for _, _, detail in exports_audited(any_app))
    assert "Henvist" not in details and "Sønnen" not in details


async def test_who_may_not_export_gets_nothing_and_nothing_is_audited(
    any_app: App,
) -> None:
    _, reference = await parent_sends_a_case(any_app)
    accounts = any_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("per", "Per PPT", "service", "ppt", any_app.router.clock())
    accounts.save("ada", "Ada Admin", "admin", None, any_app.router.clock())
    with pytest.raises(QueueError):
        export(any_app, reference)  # open: nobody has it yet
    any_app.queue.claim(reference, "kari")
    for someone in ("ahmed", "leder", "per", "ada"):  # not theirs, or not a queue role
        with pytest.raises(QueueError):
            export(any_app, reference, someone)
    with pytest.raises(QueueError):
        export(any_app, "K-NOSUCH")
    assert exports_audited(any_app) == []


async def test_a_withdrawn_case_is_not_exported(offline_app: App) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    await parent.says("/trekk_samtykke")
    with pytest.raises(QueueError, match="withdrawn"):
        export(offline_app, reference)
    assert exports_audited(offline_app) == []


# --- the console -----------------------------------------------------------------------------


@pytest.fixture
async def ahmed(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with signed_in(web, "ahmed", "127.0.0.2") as browser:
        yield browser


async def test_the_los_downloads_the_zip_from_the_case_page(
    kari: StaffBrowser, offline_app: App
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    page = await kari.get(f"/staff/case/{reference}")
    assert f'action="/staff/case/{reference}/export"' in page.text
    assert "Eksporter til arkiv" in page.text
    response = await kari.post(f"/staff/case/{reference}/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == f'attachment; filename="{reference}.zip"'
    assert response.headers["cache-control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        pdf = archive.read(f"{reference}.pdf")
        mappe = ET.fromstring(archive.read(f"{reference}.xml"))
    assert mappe.findtext(f".//{N5}sjekksum") == sha256(pdf).hexdigest()
    assert exports_audited(offline_app) == [
        ("kari", reference, f"pdf sha256 {sha256(pdf).hexdigest()}")
    ]


async def test_the_console_refuses_an_export_without_the_token_or_not_yours(
    kari: StaffBrowser, ahmed: StaffBrowser, offline_app: App
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    await kari.get(f"/staff/case/{reference}")
    forged = await kari.post(f"/staff/case/{reference}/export", csrf="forged")
    assert forged.status_code == 403 and "application/zip" not in forged.headers["content-type"]
    page = await ahmed.get(f"/staff/case/{reference}")
    assert f"/staff/case/{reference}/export" not in page.text  # no button: not his case
    refused = await ahmed.post(f"/staff/case/{reference}/export")
    assert refused.status_code == 409 and "text/html" in refused.headers["content-type"]
    assert "Bare losen som har saken kan eksportere den" in refused.text
    missing = await kari.post("/staff/case/K-NOSUCH/export")
    assert missing.status_code == 404
    assert exports_audited(offline_app) == []


async def test_a_service_member_gets_no_export_from_the_console(
    web: Starlette, offline_app: App
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    offline_app.queue.close(reference, "kari", "answered")
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("per", "Per PPT", "service", "ppt", offline_app.router.clock())
    async with StaffBrowser(web, "127.0.0.3") as per:
        assert (await per.sign_in("per", PASSWORD)).status_code == 303
        await per.get("/staff")
        refused = await per.post(f"/staff/case/{reference}/export")
    assert refused.status_code == 403 and "application/zip" not in refused.headers["content-type"]
    assert exports_audited(offline_app) == []


# --- the command line ------------------------------------------------------------------------


async def test_queue_export_writes_the_zip_and_says_where(
    any_app: App,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot import staff_cli

    _, reference = await a_closed_case_in_many_languages(any_app, clock)
    out = tmp_path / "arkiv"
    out.mkdir()
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(any_app, "ahmed"))
    assert cli(any_app, "queue", "export", reference, "--as", "ahmed", "--out", str(out)) == 0
    written = out / f"{reference}.zip"
    assert capsys.readouterr().out.strip() == str(written.resolve())
    assert written.stat().st_mode & 0o077 == 0  # confidential: the owner's only
    with zipfile.ZipFile(written) as archive:
        pdf = archive.read(f"{reference}.pdf")
        mappe = ET.fromstring(archive.read(f"{reference}.xml"))
    assert mappe.findtext(f".//{N5}sjekksum") == sha256(pdf).hexdigest()
    assert PARENT_WORDS.split()[0] in pdf_text(pdf)
    assert [(a, r) for a, r, _ in exports_audited(any_app)] == [("ahmed", reference)]
    assert cli(any_app, "queue", "export", "K-NOSUCH", "--as", "ahmed", "--out", str(out)) == 1
    assert "no case K-NOSUCH" in capsys.readouterr().err
