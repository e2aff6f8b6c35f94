"""Documenting a case (journalføring): the archive copy of a case for the municipality's
Noark 5 archive system.

A los exports a case as one ZIP: ``<reference>.pdf``, the case record (PDF/A-2b: the intake,
the consent record, the whole conversation verbatim, the case log, the outcome) in the staff
member's console language, and ``<reference>.xml``, Noark 5-style metadata for the archive
system to import (a saksmappe with one journalpost and the PDF as its main document, its
SHA-256 and size, classified as confidential under the duty of confidentiality).

Modules: ``fonts`` (the embedded fonts), ``document`` (what the record says, from the
catalogs), ``pdf`` (the record laid out), ``noark`` (the metadata), ``package`` (the ZIP),
``exporter`` (reads, builds and audits one export).
"""
