"""Developer tool: merge translations given as a JSON/Python mapping into a locale's .po file.

Usage: python scripts/catalog_tool.py LANG FILE.json   (FILE maps catalog key -> text, or
key -> {"text": ..., "comment": ...} to keep a translator's note with it as a "#." line)
Keys not in the file keep their existing translation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parents[1] / "locales"


def merge(language: str, texts: dict[str, str | dict[str, str]]) -> Path:
    """Write ``texts`` into locales/<language>/LC_MESSAGES/messages.po, keeping other entries."""
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    else:
        catalog = Catalog(locale=language, project="inngang", version="0.1", charset="utf-8")
    for key, entry in texts.items():
        text, note = (entry, "") if isinstance(entry, str) else (entry["text"], entry["comment"])
        if key in catalog:
            del catalog[key]  # Catalog.add would keep the old translation
        catalog.add(key, text, auto_comments=[note] if note else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=False, omit_header=False)
    return path


if __name__ == "__main__":
    lang, source = sys.argv[1], Path(sys.argv[2])
    print(merge(lang, json.loads(source.read_text(encoding="utf-8"))))
