"""What staff may write as service content, and how the answer reads with it (pure: no
database, no server): Norwegian phone numbers, e-mail, https pages, opening hours, a text's
placeholders and markup; the answer takes staff's text in its own language and register
only, and falls back to the defaults everywhere else."""

from __future__ import annotations

import pytest

from bot.content import effective
from bot.content_rules import check_contact, check_hours, check_phone, check_text
from bot.i18n import Catalogs
from bot.settings import Settings
from bot.store.content import ContentKey
from flows import answers
from flows.types import FlowContext
from flows.voice import Register
from tests.fakes.clock import FakeClock

DEFAULT = "Helsestasjonen i {municipality} følger alle barn."


@pytest.mark.parametrize(
    "number",
    ["55 10 20 01", "55102001", "+47 55 10 20 01", "+4755102001", "116 111", "113", "1881"],
)
def test_norwegian_numbers_and_short_numbers_are_taken(number: str) -> None:
    assert check_phone("phone", number) == []


@pytest.mark.parametrize(
    "number",
    ["5510", "05 10 20 01", "+46 55 10 20 01", "55 10 20 01 ext 2", "ring 113", "", "+113"],
)
def test_what_is_not_a_norwegian_number_is_refused(number: str) -> None:
    [refusal] = check_phone("phone", number)
    assert refusal.field == "phone" and refusal.key == "console.content.error.phone"


def test_contact_details_are_checked_each_by_its_kind() -> None:
    assert check_contact("email", "helse@fjordvik.kommune.no") == []
    assert check_contact("email", "helse at fjordvik")[0].key == "console.content.error.email"
    assert check_contact("url", "https://fjordvik.kommune.no/helse") == []
    assert check_contact("url", "http://fjordvik.kommune.no")[0].key == "console.content.error.url"
    assert check_contact("url", "javascript:alert(1)")[0].key == "console.content.error.url"
    assert (
        check_contact("address", "Torget 2\u202e, Fjordvik")[0].key
        == "console.content.error.hidden"
    )
    assert (
        check_contact(
            "address",
            "",
        )
        == []
    )  # none is allowed for an address
    assert check_contact("phone", "")[0].key == "console.content.error.empty"


def test_opening_hours_open_before_they_close() -> None:
    assert check_hours("monday", "08:00", "15:30", False) == []
    assert check_hours("monday", "08:00", "24:00", False) == []
    assert check_hours("monday", "", "", True) == []
    assert check_hours("monday", "15:30", "08:00", False)[0].key == "console.content.error.order"
    assert check_hours("monday", "8", "15:30", False)[0].key == "console.content.error.clock"
    assert check_hours("monday", "08:00", "25:00", False)[0].key == "console.content.error.clock"
    assert check_hours("someday", "08:00", "15:00", False)[0].key == "console.content.error.day"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Helsestasjonen følger alle barn.", "console.content.error.missing"),
        ("Helsestasjonen i {municipality}, ring {phone}.", "console.content.error.unknown"),
        ("Helsestasjonen i {municipality} {}.", "console.content.error.unknown"),
        ("Helsestasjonen i {municipality} {0.x.", "console.content.error.braces"),
        (
            "Helsestasjonen i {municipality} <script>alert(1)</script>",
            "console.content.error.markup",
        ),
        ("Se [her](javascript:alert) i {municipality}", "console.content.error.markup"),
        ("Helsestasjonen i {municipality}&nbsp;", "console.content.error.markup"),
        ("", "console.content.error.empty"),
        ("{municipality} " + "x" * 1200, "console.content.error.too_long"),
    ],
)
def test_a_text_keeps_its_placeholders_and_carries_no_markup(text: str, key: str) -> None:
    [refusal] = check_text("what", "what", text, DEFAULT)
    assert refusal.key == key


def test_a_good_text_passes() -> None:
    assert check_text("what", "what", "I {municipality}: barn 0–5 år, mat & søvn.", DEFAULT) == []


def helsestasjon(
    settings: Settings,
    catalogs: Catalogs,
    clock: FakeClock,
    values: dict[ContentKey, str],
    language: str,
    register: Register = Register.ADULT,
    short: bool = False,
) -> str:
    shown = effective(settings, catalogs, values)
    ctx = FlowContext(settings=shown.settings, t=shown.t, now=clock(), short_texts=short)
    return answers.service_answer(ctx, "helsestasjon", language, register).text


def test_staffs_text_counts_in_its_own_language_and_register_only(
    settings: Settings, catalogs: Catalogs, clock: FakeClock
) -> None:
    nb = ContentKey("text", "helsestasjon", "what", "nb", "adult")
    values = {nb: "Helsestasjonen i {municipality} er flyttet."}
    assert "Helsestasjonen i Fjordvik kommune er flyttet." in helsestasjon(
        settings, catalogs, clock, values, "nb"
    )
    # A young person without a youth text of their own gets the adult text in force ...
    assert "er flyttet." in helsestasjon(settings, catalogs, clock, values, "nb", Register.YOUTH)
    # ... nynorsk never falls back to the bokmål change, nor English, nor the SMS form.
    assert "er flyttet" not in helsestasjon(settings, catalogs, clock, values, "nn")
    assert "er flyttet" not in helsestasjon(settings, catalogs, clock, values, "en")
    assert "er flyttet" not in helsestasjon(settings, catalogs, clock, values, "nb", short=True)
    youth = ContentKey("text", "helsestasjon", "what", "nb", "youth")
    values[youth] = "Helsestasjonen i {municipality} – for deg også!"
    young = helsestasjon(settings, catalogs, clock, values, "nb", Register.YOUTH)
    assert "for deg også!" in young and "er flyttet" not in young
    assert "for deg også" not in helsestasjon(settings, catalogs, clock, values, "nb")


def test_an_arabic_text_has_its_placeholder_isolated_as_the_catalogs_do(
    settings: Settings, catalogs: Catalogs, clock: FakeClock
) -> None:
    ar = ContentKey("text", "helsestasjon", "what", "ar", "adult")
    answer = helsestasjon(
        settings, catalogs, clock, {ar: "مركز صحة الطفل في {municipality}."}, "ar"
    )
    assert "مركز صحة الطفل في \u2068Fjordvik kommune\u2069." in answer


def test_a_contact_change_is_in_every_language_and_the_sms(
    settings: Settings, catalogs: Catalogs, clock: FakeClock
) -> None:
    values = {
        ContentKey("contact", "helsestasjon", "phone"): "55 10 29 99",
        ContentKey("contact", "helsestasjon", "address"): "",
    }
    for language in ("nb", "en", "pl"):
        answer = helsestasjon(settings, catalogs, clock, values, language)
        assert "55 10 29 99" in answer and "Torget 2" not in answer
    assert "55 10 29 99" in helsestasjon(settings, catalogs, clock, values, "nb", short=True)


def test_the_history_shows_changed_words_or_a_whole_new_text() -> None:
    from bot.console.content_view import diff

    before = "Ring eller skriv for å bestille time hos helsestasjonen."
    after = "Ring eller skriv for å bestille time hos jordmor."
    assert diff(before, after) == [
        ("same", "Ring eller skriv for å bestille time hos "),
        ("gone", "helsestasjonen."),
        ("new", "jordmor."),
    ]
    rewritten = "Kom innom Kulturhuset, vi har drop-in hver tirsdag."
    assert diff(before, rewritten) == [("gone", before), ("new", rewritten)]
