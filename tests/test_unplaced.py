"""What the bot did not understand: a parent writes something the bot is unsure about, with
her name and phone number in it, and is asked to choose; a leader then finds the message
masked in a group on the editors' page, with what the bot guessed and what she chose, and
nothing leads back to her. `inngang nlu suggest` writes the group as a candidate example for
review, never into the training data. Crisis and anonymous messages are never noted; notes
go when their retention period ends; small counts show as "<5"."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import inspect, select
from starlette.applications import Starlette

import bot.app
from bot import cli
from bot.app import App
from bot.store.db import alembic_config, make_engine
from bot.store.models import Base, UnplacedNote
from bot.store.retention import run_retention
from bot.store.unplaced import Unplaced
from bot.suggest import UnsafeTarget, suggestions_yaml, write_suggestions
from bot.unplaced_groups import grouped, shown_count
from flows import front_door
from flows.effects import NoteUnplaced, UnplacedChosen, UnplacedReason
from flows.state import ConversationState
from flows.types import FlowContext, Inbound
from flows.unplaced import PENDING, choice_of
from nlu.crisis import CrisisSignal
from nlu.grouping import group
from nlu.masking import mask
from nlu.rasa_client import RasaClient
from nlu.training_data import DATA_DIR, data_files
from nlu.understanding import Understanding
from tests.console_fixtures import PASSWORD
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.test_console import audit_actions

UNSURE_TEXT = "Hei, jeg heter Ola Nordmann. Kan noen ringe meg på 912 34 567 om vaksine-greia?"
MASKED = "Hei, jeg heter ‹navn›. Kan noen ringe meg på ‹telefon› om vaksine-greia?"


# --- masking: a pure function ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden", "marker"),
    [
        ("ring meg på 912 34 567", "912", "‹telefon›"),
        ("ring +47 91234567 etter skolen", "9123", "‹telefon›"),
        ("fødselsnummeret er 12031512345", "120315", "‹personnummer›"),
        ("han er født 12.03.2015", "2015", "‹dato›"),
        ("skriv til ola.nordmann@example.no", "ola.nordmann", "‹e-post›"),
        ("vi bor i Storgata 12B", "Storgata", "‹adresse›"),
        ("kundenummer 4711 hos dere", "4711", "‹tall›"),
        ("min sønn Per sliter", "Per", "‹navn›"),
        ("my name is john and I need help", "john", "‹navn›"),
        ("اسمي محمد وأحتاج مساعدة", "محمد", "‹navn›"),
        ("Мене звати Олена, допоможіть", "Олена", "‹navn›"),
        ("живу на вул. Шевченка 5", "Шевченка", "‹adresse›"),
        ("se https://example.no/side?id=7", "example", "‹lenke›"),
    ],
)
def test_names_numbers_and_addresses_are_masked(text: str, hidden: str, marker: str) -> None:
    masked = mask(text)
    assert hidden not in masked and marker in masked


def test_ordinary_words_short_numbers_and_service_names_stay() -> None:
    text = "Kan dere hjelpe? Vi har 3 barn og har det vanskelig hjemme, BUP sa vi skulle spørre."
    assert mask(text) == text


def test_a_name_that_starts_a_sentence_is_masked_too() -> None:
    assert mask("Sofie gråter hver kveld") == "‹navn› gråter hver kveld"


# --- grouping --------------------------------------------------------------------------------


def test_alike_messages_group_together_biggest_first_by_trigrams() -> None:
    texts = [
        "hva koster svømmehallen",
        "hjelp med leksene til sønnen",
        "hjelp med lekser til sønnen min",
        "hjelp med leksene",
    ]
    assert group(texts) == [[1, 2, 3], [0]]


def test_alike_messages_group_together_by_vectors() -> None:
    vectors = np.array([[1, 0], [0, 1], [0.995, 0.0999], [0.0999, 0.995]], dtype=np.float32)
    assert group(["a", "b", "c", "d"], vectors) == [[0, 2], [1, 3]]


def test_counts_from_one_to_four_are_shown_as_under_five() -> None:
    assert [shown_count(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


# --- the flow --------------------------------------------------------------------------------


def unsure(language: str = "nb", **kw: object) -> Understanding:
    alternatives = ("skolehelsetjeneste", "helsestasjon")
    return Understanding(
        language, "out_of_scope", 0.36, source="rasa", alternatives=alternatives, **kw
    )  # type: ignore[arg-type]


def test_an_unsure_message_is_noted_masked_with_the_guess_and_a_token(ctx: FlowContext) -> None:
    ctx = replace(ctx, note_token="tok-1")
    result = front_door.step(
        ConversationState("nb"), Inbound("web", "u", UNSURE_TEXT), unsure(), ctx
    )
    [note] = [e for e in result.effects if isinstance(e, NoteUnplaced)]
    assert note.text == MASKED and note.reason is UnplacedReason.UNSURE
    assert note.guessed == "skolehelsetjeneste" and note.confidence == 0.36
    assert note.day.isoformat() == "2026-11-24" and note.token == "tok-1"
    assert result.state.extra[PENDING] == "tok-1"

    chose = front_door.step(
        result.state,
        Inbound("web", "u", "", button="topic:helsestasjon"),
        Understanding("nb", "out_of_scope", 1.0),
        replace(ctx, note_token="tok-2"),
    )
    assert UnplacedChosen("tok-1", "helsestasjon") in chose.effects
    assert PENDING not in chose.state.extra


@pytest.mark.parametrize(
    ("understanding", "reason"),
    [
        (Understanding("nb", "out_of_scope", 0.97, source="rasa"), UnplacedReason.OUT_OF_SCOPE),
        (
            Understanding("nb", "out_of_scope", 0.2, source="fallback"),
            UnplacedReason.NOT_UNDERSTOOD,
        ),
    ],
    ids=["clearly something else", "nothing recognised it"],
)
def test_out_of_scope_and_not_understood_messages_are_noted_too(
    ctx: FlowContext, understanding: Understanding, reason: UnplacedReason
) -> None:
    ctx = replace(ctx, note_token="tok-1")
    result = front_door.step(
        ConversationState("nb"),
        Inbound("web", "u", "kan dere fikse gatelyset?"),
        understanding,
        ctx,
    )
    [note] = [e for e in result.effects if isinstance(e, NoteUnplaced)]
    assert note.reason is reason and note.guessed is None
    pressed = front_door.step(
        result.state,
        Inbound("web", "u", "", button="person"),
        Understanding("nb", "out_of_scope", 1.0),
        ctx,
    )
    assert UnplacedChosen("tok-1", "los") in pressed.effects  # handed to a person


def test_the_choice_is_not_kept_when_the_citizen_writes_something_else(ctx: FlowContext) -> None:
    state = ConversationState("nb", extra={PENDING: "tok-1"})
    hello = Understanding("nb", "greet", 0.99, source="rasa")
    result = front_door.step(state, Inbound("web", "u", "hei"), hello, ctx)
    assert not [e for e in result.effects if isinstance(e, UnplacedChosen)]
    assert PENDING not in result.state.extra


@pytest.mark.parametrize(
    ("state", "understanding"),
    [
        (ConversationState("nb", anonymous=True), unsure()),
        (ConversationState("nb"), unsure(possible_danger=True)),
        (
            ConversationState("nb"),
            unsure(crisis=CrisisSignal("self_harm", "psykisk_helse", "nb", "v1")),
        ),
        (ConversationState("nb"), Understanding("nb", "greet", 0.99, source="rasa")),
    ],
    ids=["anonymous", "may tell of danger", "crisis", "a greeting"],
)
def test_no_note_is_taken(
    ctx: FlowContext, state: ConversationState, understanding: Understanding
) -> None:
    ctx = replace(ctx, note_token="tok-1")
    result = front_door.step(state, Inbound("web", "u", UNSURE_TEXT), understanding, ctx)
    assert not [e for e in result.effects if isinstance(e, NoteUnplaced)]
    assert PENDING not in result.state.extra


# --- journeys through the web chat and the console -------------------------------------------


def rasa_unsure(app: App) -> None:
    """The Rasa server (at the transport) is unsure of everything: skolehelsetjeneste 0.36,
    helsestasjon 0.33."""

    def respond(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        ranking = [
            {"name": "svc_skolehelsetjeneste", "confidence": 0.36},
            {"name": "svc_helsestasjon", "confidence": 0.33},
        ]
        return httpx.Response(
            200, json={"text": text, "intent": ranking[0], "intent_ranking": ranking}
        )

    app.understander.rasa = RasaClient(
        "http://rasa.test", 1.0, transport=httpx.MockTransport(respond)
    )


def notes(app: App) -> list[UnplacedNote]:
    with app.store.sessions() as session:
        return list(session.scalars(select(UnplacedNote)))


async def test_a_leader_sees_the_masked_message_and_what_the_parent_chose(
    web: Starlette, offline_app: App
) -> None:
    rasa_unsure(offline_app)
    parent = Citizen(offline_app, "web-unsure-1", channel="web")
    asked = await parent.says(UNSURE_TEXT)
    assert "topic:helsestasjon" in [b.payload for r in asked.replies for b in r.buttons]
    await parent.says("", button="topic:helsestasjon")
    other = Citizen(offline_app, "web-unsure-2", channel="web")
    await other.says("Hei, jeg heter Kari Hansen. Kan noen ringe meg på 41234567 om vaksine-greia?")

    [first, second] = notes(offline_app)
    assert first.chosen == "helsestasjon" and first.choice_token is None
    assert second.chosen is None and second.choice_token is not None  # waits one turn
    columns = {
        c["name"] for c in inspect(offline_app.store.sessions().bind).get_columns("unplaced_notes")
    }  # type: ignore[arg-type]
    assert not {"conversation_id", "created_at", "address_hash"} & columns

    async with StaffBrowser(web) as leder:
        await leder.sign_in("leder", PASSWORD)
        page = await leder.get("/staff/unplaced")
    assert page.status_code == 200
    text = page.text
    assert "Gruppe 1: &lt;5 meldinger" in text  # two alike messages, one group
    assert "Hei, jeg heter ‹navn›. Kan noen ringe meg på ‹telefon› om vaksine-greia?" in text
    assert (
        "<dt>Boten gjettet</dt>\n    <dd>Skolehelsetjenesten og helsestasjon for ungdom</dd>"
        in text
    )
    assert "<dt>Innbyggerne valgte</dt>\n    <dd>Helsestasjon</dd>" in text
    assert "Ikke plassert denne måneden: &lt;5" in text
    for secret in ("912 34 567", "41234567", "Ola", "Nordmann", "Kari Hansen"):
        assert secret not in text
    assert ("leder", "view_unplaced") in audit_actions(offline_app)


async def test_a_choice_typed_as_its_number_is_kept_too(offline_app: App) -> None:
    rasa_unsure(offline_app)
    sms = Citizen(offline_app, "+4791234567", channel="sms")
    asked = await sms.says(UNSURE_TEXT)
    second = [b.payload for r in asked.replies for b in r.buttons][1]
    await sms.says("2")
    [note] = notes(offline_app)
    assert note.chosen == choice_of(Inbound("sms", "u", "", button=second)) is not None


async def test_a_los_cannot_read_the_unplaced_messages(kari: StaffBrowser) -> None:
    page = await kari.get("/staff/unplaced")
    assert page.status_code == 403
    assert "/staff/unplaced" not in (await kari.get("/staff")).text


async def test_a_crisis_message_is_never_noted(web: Starlette, offline_app: App) -> None:
    rasa_unsure(offline_app)
    young = Citizen(offline_app, "web-crisis-1", channel="web")
    handled = await young.says("jeg vil ikke leve lenger, Ola vet ikke, ring 912 34 567")
    assert handled.crisis
    assert notes(offline_app) == []
    async with StaffBrowser(web) as leder:
        await leder.sign_in("leder", PASSWORD)
        page = await leder.get("/staff/unplaced")
    assert "Ingen meldinger å vise." in page.text and "leve lenger" not in page.text


async def test_an_anonymous_question_is_never_noted(offline_app: App) -> None:
    rasa_unsure(offline_app)
    young = Citizen(offline_app, "web-anon-1", channel="web")
    await young.says("/anonym")
    await young.says("Kan noen ringe meg på 912 34 567 om vaksine-greia?")
    assert notes(offline_app) == []


async def test_notes_go_when_their_period_ends(offline_app: App, clock: FakeClock) -> None:
    rasa_unsure(offline_app)
    await Citizen(offline_app, "web-old-1", channel="web").says(UNSURE_TEXT)
    assert len(notes(offline_app)) == 1
    clock.advance(days=offline_app.settings.retention.unplaced_days - 1)
    run_retention(offline_app.settings, offline_app.store.sessions, clock)
    [kept] = notes(offline_app)
    assert kept.choice_token is None  # no choice came within a day: the token is gone
    clock.advance(days=2)
    report = run_retention(offline_app.settings, offline_app.store.sessions, clock)
    assert report.unplaced == 1 and notes(offline_app) == []


def test_the_migration_makes_the_table_the_model_describes(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "unplaced_notes" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0016")
    command.upgrade(alembic_config(engine), "head")


# --- inngang nlu suggest ---------------------------------------------------------------------


async def test_suggest_writes_the_group_as_a_candidate_for_review(
    offline_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa_unsure(offline_app)
    parent = Citizen(offline_app, "web-suggest-1", channel="web")
    await parent.says(UNSURE_TEXT)
    await parent.says("", button="topic:helsestasjon")
    await Citizen(offline_app, "web-suggest-2", channel="web").says(
        "Hei, jeg heter Kari. Kan noen ringe meg på 41234567 om vaksine-greia?"
    )
    monkeypatch.setattr(bot.app, "build_app", lambda settings, **kw: offline_app)
    monkeypatch.setenv("INNGANG_SECRET_KEY", "test-secret")
    target = tmp_path / "suggestions.yml"
    assert cli.main(["nlu", "suggest", "--out", str(target), "--min-group", "2"]) == 0
    written = target.read_text(encoding="utf-8")
    assert written.startswith("# FOR REVIEW, NOT TRAINED.")
    assert "- intent: svc_helsestasjon" in written
    assert f"    - {MASKED}" in written
    assert "912" not in written and "41234567" not in written and "Ola" not in written


def test_an_unchosen_group_gets_a_todo_and_small_groups_are_left_out() -> None:
    from datetime import date

    day = date(2026, 11, 24)
    note = Unplaced(day, "nb", UnplacedReason.NOT_UNDERSTOOD, None, 0.2, None, "hva er xyzzy")
    written = suggestions_yaml(grouped([note, note]), 2, day)
    assert "# TODO topic" in written and "- intent: TODO_topic" in written
    assert "hva er xyzzy" not in suggestions_yaml(grouped([note]), 2, day)


def test_suggestions_are_never_written_where_training_reads(tmp_path: Path) -> None:
    with pytest.raises(UnsafeTarget):
        write_suggestions("nlu: []\n", DATA_DIR / "suggested.yml")
    assert not (DATA_DIR / "suggested.yml").exists()
    suggestions = tmp_path / "nlu" / "suggestions"
    data = tmp_path / "nlu" / "data"
    data.mkdir(parents=True)
    (data / "nb.yml").write_text("nlu: []\n", encoding="utf-8")
    write_suggestions("nlu: []\n", suggestions / "unplaced.yml", data_dir=data)
    assert data_files(data) == [data / "nb.yml"]  # what training and the matcher read
    assert all("suggestions" not in str(path) for path in data_files())
