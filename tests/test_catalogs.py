"""Every user-facing string goes through the catalogs, in every supported language, with the
same placeholders; every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import Catalogs
from bot.settings import PROJECT_ROOT, Settings

STAFF_ONLY = ("console.", "notice.")  # staff pages and notices: the staff language
PLACEHOLDER = re.compile(r"(?<!\{)\{(\w+)\}(?!\})")
USED_KEY = re.compile(r"""(?:N_|catalogs|self\.t|ctx\.t)\(\s*["']([a-z_]+(?:\.[a-z_]+)*)["']""")
TEMPLATE_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_]+)*)["']""")
STAFF_LANGUAGES = ("nb", "nn", "en")


def code_keys() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "flows", "nlu"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            keys.update(USED_KEY.findall(path.read_text(encoding="utf-8")))
    for template in (PROJECT_ROOT / "bot" / "templates").rglob("*.html"):
        keys.update(TEMPLATE_KEY.findall(template.read_text(encoding="utf-8")))
    return keys


def test_every_key_the_code_uses_is_in_the_english_catalog(catalogs: Catalogs) -> None:
    missing = sorted(k for k in code_keys() if k not in catalogs.texts["en"])
    assert missing == []


def test_every_english_key_is_used_by_the_code(catalogs: Catalogs) -> None:
    dynamic = (
        "service.",
        "crisis.line.",
        "crisis.opening.",
        "command.",
        "export.status.",
        "web.",
        "intake.about.",
    )
    used = code_keys()
    unused = sorted(
        k
        for k in catalogs.texts["en"]
        if k not in used and not k.startswith(dynamic) and k.removesuffix(".youth") not in used
    )
    assert unused == []


@pytest.mark.parametrize("language", ["nb", "nn", "pl", "uk", "ar", "so"])
def test_each_language_translates_every_citizen_text_with_the_same_placeholders(
    catalogs: Catalogs, settings: Settings, language: str
) -> None:
    assert language in settings.languages.supported
    english = catalogs.texts["en"]
    own = catalogs.texts[language]
    untranslated = [k for k in english if k not in own and not k.startswith(STAFF_ONLY)]
    assert untranslated == []
    mismatched = [
        k
        for k in own
        if k in english
        and sorted(PLACEHOLDER.findall(own[k])) != sorted(PLACEHOLDER.findall(english[k]))
    ]
    assert mismatched == []


def test_the_catalogs_compile_with_babel(tmp_path: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (PROJECT_ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        with (tmp_path / f"{po.parts[-3]}.mo").open("wb") as out:
            write_mo(out, catalog)


@pytest.mark.parametrize("language", STAFF_LANGUAGES)
def test_the_staff_console_speaks_each_staff_language_fully(
    catalogs: Catalogs, language: str
) -> None:
    """Every text a staff member reads in the console (console.*, and the notice kinds its
    list shows) is in the staff language's own catalog, with the same placeholders."""
    english = catalogs.texts["en"]
    own = catalogs.texts[language]
    staff_keys = [k for k in english if k.startswith(("console.", "notice.kind."))]
    assert [k for k in staff_keys if k not in own] == []
    mismatched = [
        k
        for k in staff_keys
        if sorted(PLACEHOLDER.findall(own[k])) != sorted(PLACEHOLDER.findall(english[k]))
    ]
    assert mismatched == []


def test_every_template_key_exists() -> None:
    """A template asks for keys the catalogs have (a typo would show the bare key)."""
    english = Catalogs.load(["en"]).texts["en"]
    used = set()
    for template in (PROJECT_ROOT / "bot" / "templates").rglob("*.html"):
        used.update(TEMPLATE_KEY.findall(template.read_text(encoding="utf-8")))
    assert used and sorted(k for k in used if k not in english) == []
