"""The front door flow, step by step, with understanding given directly (no NLU)."""

from __future__ import annotations

from bot.settings import Settings
from flows import front_door
from flows.effects import MarkUrgent
from flows.state import ConversationState
from flows.types import FlowContext, Inbound
from nlu.crisis import CrisisSignal
from nlu.understanding import Understanding


def say(ctx: FlowContext, text: str, intent: str, language: str = "nb", **kw: object):
    state = kw.pop("state", ConversationState(language="nb"))
    source = kw.pop("source", "rasa")
    understanding = Understanding(language, intent, 0.95, source=source, **kw)  # type: ignore[arg-type]
    return front_door.step(state, Inbound("test", "u1", text), understanding, ctx)


def test_a_parent_asking_for_the_helsestasjon_gets_what_it_does_and_its_phone(
    ctx: FlowContext, settings: Settings
) -> None:
    result = say(ctx, "hvor er helsestasjonen?", "svc_helsestasjon")
    text = result.replies[0].text
    assert result.topic == "helsestasjon"
    assert settings.service("helsestasjon").phone in text
    assert "Helsestasjonen i Fjordvik kommune" in text
    assert "Dette skjer videre" in text
    assert [b.payload for b in result.replies[0].buttons] == ["person"]


def test_the_same_question_in_english_is_answered_in_english(
    ctx: FlowContext, settings: Settings
) -> None:
    result = say(ctx, "where is the health clinic?", "svc_helsestasjon", language="en")
    text = result.replies[0].text
    assert result.state.language == "en"
    assert "health clinic" in text and "What happens next" in text
    assert settings.service("helsestasjon").email in text  # type: ignore[operator]


def test_every_service_has_an_answer_with_its_contact_details(
    ctx: FlowContext, settings: Settings
) -> None:
    for service in settings.services:
        for language in ("nb", "en"):
            result = say(ctx, "?", f"svc_{service.id}", language=language)
            assert result.topic == service.id
            assert service.phone in result.replies[0].text
            leaked = [key for key in ctx.t.texts["en"] if key in result.replies[0].text]  # type: ignore[attr-defined]
            assert not leaked, f"untranslated catalog keys {leaked}"


def test_gibberish_gets_a_polite_answer_and_an_offer_of_a_person(ctx: FlowContext) -> None:
    result = say(ctx, "asdf qwerty", "out_of_scope", source="fallback")
    assert result.topic is None
    assert "forsto ikke" in result.replies[0].text
    assert result.replies[0].buttons[0].payload == "person"


def test_a_weather_question_gets_one_short_line_and_no_intake(ctx: FlowContext) -> None:
    result = say(ctx, "hvordan blir været i morgen?", "out_of_scope")
    [reply] = result.replies
    assert "kan jeg dessverre ikke hjelpe med" in reply.text and len(reply.text) < 200
    assert [b.payload for b in reply.buttons] == ["person"]
    assert result.state.phase is ConversationState("nb").phase and not result.effects


def test_when_unsure_the_citizen_chooses_among_the_likely_services(ctx: FlowContext) -> None:
    unsure = say(
        ctx,
        "gravid, hvor går jeg?",
        "out_of_scope",
        alternatives=("helsestasjon", "skolehelsetjeneste"),
    )
    [reply] = unsure.replies
    assert "ikke helt sikker" in reply.text
    payloads = [b.payload for b in reply.buttons]
    assert payloads == ["topic:helsestasjon", "topic:skolehelsetjeneste", "person", "topic:other"]
    assert not unsure.effects  # no intake the citizen did not ask for
    state = unsure.state.evolve(offered=tuple(payloads))
    picked = front_door.step(
        state,
        Inbound("test", "u1", "", button="topic:helsestasjon"),
        Understanding("nb", "out_of_scope", 0.2, source="rasa"),
        ctx,
    )
    assert picked.topic == "helsestasjon" and "Helsestasjonen" in picked.replies[0].text
    other = front_door.step(
        state,
        Inbound("test", "u1", "", button="topic:other"),
        Understanding("nb", "out_of_scope", 0.2, source="rasa"),
        ctx,
    )
    assert "egne ord" in other.replies[0].text and not other.effects


def test_the_choice_is_offered_in_the_citizens_language(ctx: FlowContext) -> None:
    for language, words in (("pl", "Nie jestem pewien"), ("ar", "لست متأكدًا"), ("so", "Ma hubo")):
        result = say(ctx, "?", "out_of_scope", language=language, alternatives=("helsestasjon",))
        assert words in result.replies[0].text


def test_wanting_a_person_is_topic_los(ctx: FlowContext) -> None:
    result = say(ctx, "kan jeg snakke med noen?", "ask_human")
    assert result.topic == "los"
    assert "familielos" in result.replies[0].text


def test_a_crisis_interrupts_with_the_emergency_numbers_and_marks_urgent(ctx: FlowContext) -> None:
    signal = CrisisSignal("self_harm", "psykisk_helse_rus", "nb", "test")
    result = say(ctx, "jeg vil ikke leve mer", "svc_nav", crisis=signal)
    text = result.replies[0].text
    assert result.crisis and result.topic == "psykisk_helse_rus"
    assert "113" in text and "112" in text and "116 111" in text
    assert result.state.urgent
    assert any(isinstance(e, MarkUrgent) for e in result.effects)


def test_greeting_and_thanks(ctx: FlowContext) -> None:
    assert "Hei!" in say(ctx, "hei", "greet").replies[0].text
    assert say(ctx, "thanks", "thanks", language="en").replies[0].text.startswith("You are welcome")


def test_asking_for_english_switches_language(ctx: FlowContext) -> None:
    understanding = Understanding("en", "language_switch", 1.0, language_switch="en")
    result = front_door.step(
        ConversationState(language="nb"), Inbound("t", "u", "english please"), understanding, ctx
    )
    assert result.state.language == "en" and "English" in result.replies[0].text


def test_the_language_command_offers_every_language_in_its_own_name(ctx: FlowContext) -> None:
    result = say(ctx, "/språk", "out_of_scope")
    labels = [b.label for b in result.replies[0].buttons]
    assert labels == [
        "Norsk (bokmål)",
        "Norsk (nynorsk)",
        "English",
        "Polski",
        "Українська",
        "العربية",
        "Soomaali",
    ]
    chosen = front_door.step(
        result.state,
        Inbound("t", "u", "", button="lang:pl"),
        Understanding("nb", "out_of_scope", 1.0),
        ctx,
    )
    assert chosen.state.language == "pl"


def test_an_unsupported_language_is_told_in_english_and_bokmal_which_languages_work(
    ctx: FlowContext,
) -> None:
    result = say(ctx, "Wo ist das Gesundheitszentrum?", "out_of_scope", unsupported_language="de")
    text = result.replies[0].text
    assert "I can write in" in text and "Jeg kan skrive på" in text and "Soomaali" in text
