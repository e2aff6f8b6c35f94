"""A typed answer to a choice is understood when it means one of the options, in every
language: the digit, a number as a word, the label or a clear part of it, yes or no."""

from __future__ import annotations

import pytest

from flows.choices import chosen

ABOUT = ("about:self", "about:child", "about:other")
ABOUT_NB = ("Meg selv", "Mitt barn", "Et annet barn")
DELETE = ("delete:yes", "delete:no")
DELETE_NB = ("Ja, slett alt", "Nei, behold")


@pytest.mark.parametrize(
    "typed,payload",
    [
        ("2", "about:child"),
        (" 2. ", "about:child"),
        ("to", "about:child"),
        ("To", "about:child"),
        ("tre", "about:other"),
        ("three", "about:other"),
        ("dwa", "about:child"),
        ("два", "about:child"),
        ("اثنان", "about:child"),
        ("٢", "about:child"),
        ("²", "about:child"),  # once crashed int(); read as the number it shows
        ("①", "about:self"),
        ("labo", "about:child"),
        ("mitt barn", "about:child"),
        ("Mitt barn!", "about:child"),
        ("meg selv", "about:self"),
        ("det gjelder mitt barn", "about:child"),
        ("annet barn", "about:other"),
    ],
)
def test_a_typed_answer_picks_the_choice_it_means(typed: str, payload: str) -> None:
    assert chosen(typed, ABOUT, ABOUT_NB) == payload


@pytest.mark.parametrize("typed", ["ja", "Ja!", "yes", "tak", "так", "نعم", "haa"])
def test_yes_in_any_language_confirms(typed: str) -> None:
    assert chosen(typed, DELETE, DELETE_NB) == "delete:yes"


@pytest.mark.parametrize("typed", ["nei", "no", "nie", "ні", "لا", "maya"])
def test_no_in_any_language_declines(typed: str) -> None:
    assert chosen(typed, DELETE, DELETE_NB) == "delete:no"


@pytest.mark.parametrize(
    "typed",
    ["4", "0", "barn", "hei", "", "ok", "hvor er helsestasjonen?", "1" * 40],
)
def test_what_picks_no_choice_clearly_picks_none(typed: str) -> None:
    assert chosen(typed, ABOUT, ABOUT_NB) is None
    assert chosen("ok", DELETE, DELETE_NB) is None  # deleting needs a clear yes


def test_a_label_word_inside_a_description_is_the_citizens_words() -> None:
    done = (("intake:done",), ("Ferdig",))
    assert chosen("jeg er ferdig med skolen", *done, in_words=True) is None
    assert chosen("ferdig", *done, in_words=True) == "intake:done"
    assert chosen("1", *done, in_words=True) == "intake:done"


def test_yes_picks_nothing_where_there_is_no_yes_or_no() -> None:
    assert chosen("ja", ABOUT, ABOUT_NB) is None


CONSENT = ("consent:services", "consent:los", "consent:no", "anon")
CONSENT_NB = (
    "Ja, losen kan ta med tjenestene vi trenger",
    "Ja, men bare familielosen",
    "Nei",
    "Spør anonymt i stedet",
)


@pytest.mark.parametrize(
    "typed,payload",
    [
        ("ja, med tjenestene", "consent:services"),
        ("Ja tjenestene", "consent:services"),
        ("ja bare familielosen", "consent:los"),
        ("nei", "consent:no"),
        ("Nei.", "consent:no"),
        ("spør anonymt", "anon"),
        ("ja", None),  # which yes? asked again, never guessed
        ("ja losen", None),  # "losen" may be "familielosen": never guessed for a consent
    ],
)
def test_a_shortened_consent_answer_picks_only_the_one_choice_it_can_mean(
    typed: str, payload: str | None
) -> None:
    assert chosen(typed, CONSENT, CONSENT_NB) == payload
