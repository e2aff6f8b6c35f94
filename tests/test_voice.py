"""The municipality's voice: "Halla!" for a young person, plain and polite for adults, kept
for the conversation, configurable; and the intake asks what goes well before the problems.
Pure flows with the understanding given directly (no NLU)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import Catalogs
from bot.settings import PROJECT_ROOT, Settings, VoiceSettings
from flows import front_door
from flows.effects import OpenCase
from flows.result import StepResult
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import FlowContext, Inbound
from flows.voice import YOUTH_SUFFIX, Register, greeting_only, sounds_young
from nlu.understanding import Understanding

LANGUAGES = ("nb", "nn", "en", "pl", "uk", "ar", "so")
YOUNG = {
    "nb": "Halla! Hva skjer?",
    "nn": "Halla! Kva skjer?",
    "en": "Yo! Wassup?",
    "pl": "Siema! Co tam?",
    "uk": "Йоу! Шо там?",
    "ar": "هاي! شو الأخبار؟",
    "so": "Waryaa! Maxaa jira?",
}
ADULT = {
    "nb": "God dag. Jeg ønsker informasjon om helsestasjonen.",
    "nn": "God dag. Eg ønskjer informasjon om helsestasjonen.",
    "en": "Good afternoon. I would like information about the health clinic.",
    "pl": "Dzień dobry. Proszę o informacje o przychodni dla dzieci.",
    "uk": "Добрий день. Прошу надати інформацію про дитячу поліклініку.",
    "ar": "مساء الخير. أود الحصول على معلومات عن المركز الصحي.",
    "so": "Galab wanaagsan. Waxaan rabaa macluumaad ku saabsan xarunta caafimaadka.",
}
YOUTH_KEYS = (
    "greeting",
    "thanks",
    "faq.offer_person",
    "intake.ask_about",
    "intake.ask_age_self",
    "intake.describe",
    "intake.describe_more",
    "intake.got_it",
    "intake.noted",
    "intake.rewrite",
    "intake.ask_contact",
    "intake.ask_callback",
    "intake.strengths.question",
    "intake.strengths.question_self",
    "intake.strengths.thanks",
    "case.opened",
    "case.opened_anonymous",
)
"""Greetings, service answers' closing, every intake question, closing words."""


def say(
    ctx: FlowContext,
    state: ConversationState,
    text: str = "",
    button: str | None = None,
    intent: str = "out_of_scope",
) -> StepResult:
    understanding = Understanding(state.language, intent, 0.95, source="rasa")
    return front_door.step(state, Inbound("test", "u1", text, button=button), understanding, ctx)


def forced(ctx: FlowContext, register: str) -> FlowContext:
    voice = VoiceSettings.model_validate({"register": register})
    return replace(ctx, settings=ctx.settings.model_copy(update={"voice": voice}))


def youth(ctx: FlowContext, key: str, language: str, **params: object) -> str:
    return ctx.t(key + YOUTH_SUFFIX, language, **params)


# --- the detector ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_youth_greeting_sounds_young_and_a_polite_request_does_not(language: str) -> None:
    assert sounds_young(YOUNG[language], language)
    assert not sounds_young(ADULT[language], language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hva skjer videre med saken min?", "nb"),  # "hva skjer" in a longer question
        ("Hei, jeg lurer på når helsestasjonen åpner.", "nb"),
        ("Hei hvordan går det", "nb"),
        ("Takk for hjelpa 🙂", "nb"),  # one emoji is no register
        ("What's up with my application? I sent it two weeks ago.", "en"),
        ("Co tam słychać w sprawie mojego wniosku o pomoc dla syna?", "pl"),
        ("", "nb"),
    ],
)
def test_ordinary_messages_are_not_taken_for_youth_talk(text: str, language: str) -> None:
    assert not sounds_young(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hei hei", "nb"),
        ("halla, trenger å snakke med noen", "nb"),
        ("ka skjer", "nn"),
        ("sup", "en"),
        ("hejka, mam pytanie", "pl"),
        ("хай, є питання", "uk"),
        ("saaxiib su'aal ayaan qabaa", "so"),
        ("trenger hjelp 😭😭", "nb"),  # emoji heavy, all lower case
    ],
)
def test_slang_and_emoji_heavy_lower_case_sound_young(text: str, language: str) -> None:
    assert sounds_young(text, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bare_youth_greeting_is_a_greeting_whatever_the_matcher_thought(
    ctx: FlowContext, language: str
) -> None:
    assert greeting_only(YOUNG[language], language)
    assert not greeting_only(ADULT[language], language)
    answered = say(ctx, ConversationState(language), YOUNG[language], intent="svc_barnevern")
    name = ctx.settings.municipality.name
    assert answered.replies[0].text == youth(ctx, "greeting", language, municipality=name)
    assert answered.topic is None


@pytest.mark.parametrize(
    ("text", "language"),
    [("halla, hvor er helsestasjonen?", "nb"), ("yo I need help with school", "en"), ("hei", "nb")],
)
def test_a_youth_greeting_with_a_question_is_the_question(text: str, language: str) -> None:
    assert not greeting_only(text, language)


# --- greetings, per language -----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_halla_gets_the_youth_greeting_and_god_dag_the_plain_polite_answer(
    ctx: FlowContext, language: str
) -> None:
    young = say(ctx, ConversationState(language), YOUNG[language], intent="greet")
    name = ctx.settings.municipality.name
    [hello] = young.replies
    assert hello.text == youth(ctx, "greeting", language, municipality=name)
    assert hello.text != ctx.t("greeting", language, municipality=name)
    assert young.state.register is Register.YOUTH

    adult = say(ctx, ConversationState(language), ADULT[language], intent="svc_helsestasjon")
    assert adult.state.register is Register.ADULT
    [answer] = adult.replies
    what = ctx.t("service.helsestasjon.what", language, municipality=name)
    assert answer.text.startswith(what)  # to the point: no youth opening
    assert answer.text.endswith(ctx.t("faq.offer_person", language))
    greeted = say(ctx, adult.state, ADULT[language], intent="greet")
    assert greeted.replies[0].text == ctx.t("greeting", language, municipality=name)


def test_a_young_persons_service_answer_opens_and_closes_in_their_voice(ctx: FlowContext) -> None:
    state = say(ctx, ConversationState("nb"), "halla", intent="greet").state
    answer = say(ctx, state, "hvor er helsesøster", intent="svc_skolehelsetjeneste")
    text = answer.replies[0].text
    assert text.startswith("Bra at du spør!") and "skolehelsetjeneste" in text.lower()
    assert text.endswith(youth(ctx, "faq.offer_person", "nb"))


# --- the register is kept --------------------------------------------------------------------


def test_the_register_chosen_first_is_kept_and_does_not_flip_per_message(ctx: FlowContext) -> None:
    adult = say(ctx, ConversationState("nb"), "God dag.", intent="greet").state
    later = say(ctx, adult, "halla lol 😂😂", intent="greet")
    assert later.state.register is Register.ADULT
    assert later.replies[0].text.startswith("Hei! Jeg er den digitale inngangen")

    young = say(ctx, ConversationState("nb"), "yo", intent="greet").state
    polite = say(ctx, young, "God dag, jeg ønsker informasjon.", intent="thanks")
    assert polite.state.register is Register.YOUTH
    assert polite.replies[0].text == youth(ctx, "thanks", "nb")


def test_the_register_survives_the_store(ctx: FlowContext) -> None:
    state = say(ctx, ConversationState("nb"), "Halla!", intent="greet").state
    assert ConversationState.from_json(state.to_json(), "nb").register is Register.YOUTH
    assert ConversationState.from_json('{"language": "nb"}', "nb").register is None


# --- a 15-year-old about themselves ----------------------------------------------------------


def fifteen_year_old_intake(ctx: FlowContext, first: str) -> list[StepResult]:
    """A young person asks for a person about themselves, 13-17, and goes through it all."""
    ctx = replace(ctx, new_case_reference="K-VOICE1")
    steps = [say(ctx, ConversationState("nb"), first, intent="greet")]
    for text, button in (
        ("", "person"),
        ("", "about:self"),
        ("", f"age:{ctx.settings.consent_age}-17"),
        ("", "consent:los"),
        ("Jeg spiller håndball og er god til å tegne.", None),
        ("Jeg har det vanskelig hjemme og klarer ikke å konsentrere meg på skolen.", None),
        ("", "done"),
        ("", "contact:chat"),
        ("", "confirm:send"),
    ):
        steps.append(say(ctx, steps[-1].state, text, button))
    return steps


def test_a_15_year_old_about_themselves_gets_youth_intake_questions_throughout(
    ctx: FlowContext,
) -> None:
    steps = fifteen_year_old_intake(ctx, "Hei, jeg trenger hjelp.")  # a plain first message
    assert steps[0].state.register is Register.ADULT
    _, person, about, age, consent, strengths, words, done, contact, sent = steps
    assert person.replies[0].text.startswith("Jeg hjelper deg")  # still adult: not known yet
    assert about.replies[0].text == ctx.t("intake.ask_age_self", "nb")
    assert age.state.register is Register.YOUTH  # a young person, about themselves
    assert consent.replies[-1].text == youth(ctx, "intake.strengths.question_self", "nb")
    assert "Hva er du god på?" in consent.replies[-1].text
    assert strengths.replies[0].text == youth(ctx, "intake.strengths.thanks", "nb")
    assert strengths.replies[-1].text == youth(ctx, "intake.describe", "nb")
    assert words.replies[-1].text == youth(ctx, "intake.got_it", "nb")
    assert done.replies[-1].text == youth(ctx, "intake.ask_contact", "nb")
    assert "Det som går bra: « Jeg spiller håndball" in contact.replies[-1].text
    assert sent.replies[0].text.startswith("Sånn, da er det sendt! Referansen din er K-VOICE1.")
    [opened] = [e for e in sent.effects if isinstance(e, OpenCase)]
    assert opened.draft.strengths == "Jeg spiller håndball og er god til å tegne."
    assert sent.state.register is Register.YOUTH


def test_a_young_first_message_is_spoken_to_as_young_from_the_first_question(
    ctx: FlowContext,
) -> None:
    steps = fifteen_year_old_intake(ctx, "halla")
    assert steps[1].replies[0].text == youth(
        ctx, "intake.ask_about", "nb", municipality=ctx.settings.municipality.name
    )
    assert steps[2].replies[0].text == youth(ctx, "intake.ask_age_self", "nb")


def test_an_adult_about_themselves_stays_plain_and_polite(ctx: FlowContext) -> None:
    state = say(ctx, ConversationState("nb"), "God dag.", intent="greet").state
    for button in ("person", "about:self", "age:18+"):
        state = say(ctx, state, "", button).state
    asked = say(ctx, state, "", "consent:services")
    assert asked.state.register is Register.ADULT
    assert asked.replies[-1].text == ctx.t("intake.strengths.question_self", "nb")


def test_a_parent_of_a_teenager_is_not_spoken_to_as_young(ctx: FlowContext) -> None:
    state = say(ctx, ConversationState("nb"), "God dag.", intent="greet").state
    for button in ("person", "about:child", "age:13-17"):
        state = say(ctx, state, "", button).state
    assert state.register is Register.ADULT
    asked = say(ctx, state, "", "consent:los")
    assert "Hva liker barnet å gjøre? Hva er hen god til eller stolt av?" in asked.replies[-1].text


def test_a_child_under_the_consent_age_is_spoken_to_as_young_in_the_anonymous_question(
    ctx: FlowContext,
) -> None:
    state = say(ctx, ConversationState("nb"), "God dag.", intent="greet").state
    for button in ("person", "about:self"):
        state = say(ctx, state, "", button).state
    anonymous = say(ctx, state, "", f"age:<{ctx.settings.consent_age}")
    assert anonymous.state.phase is Phase.ANON_QUESTION
    assert anonymous.state.register is Register.YOUTH
    sent = say(replace(ctx, new_case_reference="K-ANON01"), anonymous.state, "Er det lov å..?")
    assert sent.replies[0].text.startswith("Spørsmålet ditt er sendt, og ingen vet hvem du er")


# --- the municipality decides ----------------------------------------------------------------


def test_register_adult_in_the_configuration_speaks_plainly_to_everyone(ctx: FlowContext) -> None:
    adult = forced(ctx, "adult")
    hello = say(adult, ConversationState("nb"), "Halla! Hva skjer?", intent="greet")
    assert hello.state.register is Register.ADULT
    name = ctx.settings.municipality.name
    assert hello.replies[0].text == ctx.t("greeting", "nb", municipality=name)
    steps = fifteen_year_old_intake(adult, "Halla! Hva skjer?")
    assert all(s.state.register is Register.ADULT for s in steps)
    assert steps[4].replies[-1].text == ctx.t("intake.strengths.question_self", "nb")
    assert steps[-1].replies[0].text.startswith("Sendt. Referansen din er K-VOICE1.")


def test_register_youth_in_the_configuration_says_halla_to_everyone(ctx: FlowContext) -> None:
    young = forced(ctx, "youth")
    hello = say(young, ConversationState("nb"), ADULT["nb"], intent="greet")
    name = ctx.settings.municipality.name
    assert hello.replies[0].text == youth(ctx, "greeting", "nb", municipality=name)


def test_the_shipped_configuration_chooses_per_conversation(settings: Settings) -> None:
    assert settings.voice.chosen == "auto"
    with pytest.raises(ValueError, match="register"):
        VoiceSettings.model_validate({"register": "formal"})


# --- strengths first -------------------------------------------------------------------------


def consented(ctx: FlowContext, about: str = "child") -> ConversationState:
    state = ConversationState("nb", Phase.INTAKE_CONSENT, intake=IntakeDraft(about=about))
    return say(ctx, state, "", "consent:services").state


def test_strengths_are_asked_after_consent_before_the_problems_and_skipped_in_one_tap(
    ctx: FlowContext,
) -> None:
    state = consented(ctx)
    assert state.phase is Phase.INTAKE_STRENGTHS
    skipped = say(ctx, state, "", "strengths:skip")
    assert skipped.state.phase is Phase.INTAKE_DESCRIBE
    assert skipped.state.intake is not None and skipped.state.intake.strengths is None
    assert [r.text for r in skipped.replies] == [ctx.t("intake.describe", "nb")]


def test_the_skip_is_a_choice_on_every_channel(ctx: FlowContext) -> None:
    asking = ConversationState("nb", Phase.INTAKE_CONSENT, intake=IntakeDraft())
    asked = say(ctx, asking, "", "consent:los")
    payloads = [b.payload for b in asked.replies[-1].buttons]
    assert payloads == ["strengths:skip", "intake:cancel"]
    assert asked.replies[-1].buttons[0].label == "Hopp over"


def test_strengths_are_kept_verbatim_and_shown_first_in_the_summary(ctx: FlowContext) -> None:
    words = "Hun elsker å danse  og er stolt av at hun lærte å sykle! 🚲"
    state = say(ctx, consented(ctx), words).state
    assert state.intake is not None and state.intake.strengths == words
    state = say(ctx, state, "Hun gruer seg til skolen hver dag og sover dårlig.").state
    state = say(ctx, state, "", "done").state
    summary = say(ctx, state, "", "contact:chat").replies[-1].text
    assert summary.index(words) < summary.index("Hun gruer seg")


def test_an_empty_answer_asks_again(ctx: FlowContext) -> None:
    again = say(ctx, consented(ctx), "   ")
    assert again.state.phase is Phase.INTAKE_STRENGTHS


def test_the_anonymous_question_never_asks_about_strengths(ctx: FlowContext) -> None:
    state = say(ctx, ConversationState("nb"), "", "anon").state
    assert state.phase is Phase.ANON_QUESTION
    sent = say(replace(ctx, new_case_reference="K-ANON02"), state, "Hvordan får jeg prevensjon?")
    [opened] = [e for e in sent.effects if isinstance(e, OpenCase)]
    assert opened.anonymous and opened.draft.strengths is None


# --- the catalogs ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_youth_text_is_in_each_language_beside_its_plain_text(
    catalogs: Catalogs, language: str
) -> None:
    own = catalogs.texts[language]
    for key in YOUTH_KEYS:
        assert key in own and key + YOUTH_SUFFIX in own, (language, key)
        assert own[key + YOUTH_SUFFIX] != own[key], (language, key)
    assert "faq.opening.youth" in own and "intake.button.skip" in own
    assert {"console.strengths", "export.strengths", "intake.summary.strengths"} <= set(own)
    strays = [k for k in own if k.endswith(YOUTH_SUFFIX) and k.removesuffix(YOUTH_SUFFIX) not in own]
    assert strays == ["faq.opening.youth"]  # the one youth text without a plain one


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_the_nb_and_nn_youth_texts_record_their_native_speaker_review(language: str) -> None:
    path = Path(PROJECT_ROOT / "locales" / language / "LC_MESSAGES" / "messages.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    youth_entries = [m for m in catalog if isinstance(m.id, str) and m.id.endswith(YOUTH_SUFFIX)]
    assert len(youth_entries) >= len(YOUTH_KEYS)
    for message in youth_entries:
        note = " ".join(message.auto_comments)
        assert "Native-speaker-style review" in note and "Changed in the review" in note
