"""Conversation control: a young person's worry about confidentiality is answered and shown to
the los; a question asked mid-intake is answered and the intake resumes; "Avbryt" in every
step; a late rating is still taken; "mine data" speaks Oslo time."""

from __future__ import annotations

import pytest

from bot.app import App
from flows import case, front_door, intake
from flows.effects import OpenCase, StoreFeedback, WithdrawConsent
from flows.result import StepResult
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import FlowContext, Inbound
from nlu.confidentiality import CONFIDENTIALITY, default_check
from nlu.crisis import CrisisSignal
from nlu.understanding import Understanding
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser

LANGUAGES = ("nb", "nn", "en", "pl", "uk", "ar", "so")
WITHOUT_MY_PARENTS = {
    "nb": "Kan jeg snakke med noen uten at foreldrene mine får vite det?",
    "nn": "Kan eg snakke med nokon utan at foreldra mine får vite det?",
    "en": "Can I talk to someone without my parents knowing?",
    "pl": "Czy mogę z kimś porozmawiać bez wiedzy moich rodziców?",
    "uk": "Чи можу я з кимось поговорити без відома моїх батьків?",
    "ar": "هل يمكنني التحدث مع شخص بدون علم أهلي؟",
    "so": "Ma la hadli karaa qof iyadoon waalidkay ogaan?",
}
PLAIN = Understanding("nb", "out_of_scope", 0.9)


def understood(text: str, language: str, intent: str = "out_of_scope") -> Understanding:
    """What the NLU gives: the worry from the lexicon (never from Rasa), an intent."""
    return Understanding(language, intent, 0.97, source="rasa", worry=default_check().check(text))


def step(
    state: ConversationState,
    ctx: FlowContext,
    text: str = "",
    button: str | None = None,
    understanding: Understanding = PLAIN,
) -> StepResult:
    inbound = Inbound("test", "u", text, button=button)
    return front_door.step(state, inbound, understanding, ctx)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_15_year_old_asks_to_talk_without_her_parents_knowing_and_hears_of_taushetsplikt(
    ctx: FlowContext, language: str
) -> None:
    text = WITHOUT_MY_PARENTS[language]
    result = step(ConversationState(language), ctx, text, understanding=understood(text, language))
    [answer] = result.replies
    assert answer.text == ctx.t(
        "control.confidentiality",
        language,
        command="/" + ctx.t("command.slash.anonymous", language).split("|")[0],
    )
    assert "/" in answer.text  # the anonymous way in, by command
    assert [b.payload for b in answer.buttons] == ["anon", "person"]
    assert result.state.phase is Phase.IDLE and result.effects == ()  # no intake pushed on her
    assert result.state.extra[intake.WORRIES] == CONFIDENTIALITY


def test_the_worry_is_recognised_in_every_language_without_the_language_model() -> None:
    for language, text in WITHOUT_MY_PARENTS.items():
        assert default_check().check(text) == CONFIDENTIALITY, language
    for text in (
        "Hvor er helsestasjonen?",
        "Helsesykepleieren sa at jeg burde ta kontakt",
        "Jeg forteller alltid alt til mamma",
        "my son is sad every morning",
    ):
        assert default_check().check(text) is None, text


def test_a_worry_with_a_question_about_a_service_gets_both_answers_the_worry_first(
    ctx: FlowContext,
) -> None:
    text = "Hvordan får jeg time hos helsesykepleier uten at mamma får vite det?"
    result = step(
        ConversationState("nb"),
        ctx,
        text,
        understanding=understood(text, "nb", "svc_skolehelsetjeneste"),
    )
    worry, service = result.replies
    assert "taushetsplikt" in worry.text
    assert service.text.startswith(
        ctx.t("service.skolehelsetjeneste.what", "nb", municipality=ctx.settings.municipality.name)
    )
    assert result.topic == "skolehelsetjeneste"


def test_the_worry_inside_an_intake_is_answered_kept_as_her_words_and_marked(
    ctx: FlowContext,
) -> None:
    state = ConversationState(
        "nb", Phase.INTAKE_DESCRIBE, consent_version="v", intake=IntakeDraft()
    )
    text = "Jeg vil ikke at pappa skal vite at jeg har skrevet hit, han blir sint"
    result = step(state, ctx, text, understanding=understood(text, "nb"))
    assert "taushetsplikt" in result.replies[0].text
    assert result.state.intake is not None
    assert result.state.intake.description == (text,)
    assert result.state.intake.worries == (CONFIDENTIALITY,)


async def test_the_los_sees_the_worry_on_the_case(offline_app: App, kari: StaffBrowser) -> None:
    girl = Citizen(offline_app, "jente15")
    await girl.says(WITHOUT_MY_PARENTS["nb"])
    assert "taushetsplikt" in girl.last()
    await girl.says("", button="person")
    await girl.says("", button="about:self")
    age = offline_app.settings.consent_age
    await girl.says("", button=f"age:{age}-17")
    await girl.says("", button="consent:los")
    await girl.says("", button="strengths:skip")
    await girl.says("Jeg har det vanskelig hjemme og vil snakke med noen om det.")
    await girl.says("", button="done")
    await girl.says("", button="contact:chat")
    await girl.says("", button="confirm:send")
    [item] = offline_app.queue.open_cases("kari")
    view = offline_app.queue.view(item.reference, "kari")
    assert view.worries == (CONFIDENTIALITY,)
    assert view.description == ["Jeg har det vanskelig hjemme og vil snakke med noen om det."]
    page = await kari.get(f"/staff/case/{item.reference}")
    assert "Spør om taushetsplikt" in page.text
    from bot.archive.exporter import CaseExporter
    from tests.test_archive_export import pdf_text

    offline_app.queue.claim(item.reference, "kari")
    record = CaseExporter.for_queue(offline_app.queue).export(item.reference, "kari")
    text = " ".join(pdf_text(record.pdf).split())
    assert "Spør om taushetsplikt" in text  # in the archive record too


def describing(words: tuple[str, ...] = ("Han gråter hver morgen.",)) -> ConversationState:
    return ConversationState(
        "nb", Phase.INTAKE_DESCRIBE, consent_version="v", intake=IntakeDraft(description=words)
    )


def test_a_question_mid_intake_is_answered_and_the_intake_resumes(ctx: FlowContext) -> None:
    state = describing()
    asked = Understanding("nb", "svc_helsestasjon", 0.97, source="rasa")
    result = step(state, ctx, "Hvor er helsestasjonen?", understanding=asked)
    service, resumed = result.replies
    assert service.text == front_door.answers.service_answer(ctx, "helsestasjon", "nb").text
    assert resumed.text.startswith(ctx.t("control.resume", "nb"))
    assert ctx.t("intake.describe_more", "nb") in resumed.text
    assert [b.payload for b in resumed.buttons] == [intake.DONE, intake.CANCEL]
    assert result.state.phase is Phase.INTAKE_DESCRIBE
    assert result.state.intake == state.intake  # the question is not the description


def test_a_description_that_mentions_the_school_nurse_is_stored(ctx: FlowContext) -> None:
    words = "Helsesykepleieren sa at jeg skulle ta kontakt med dere"
    nurse = Understanding("nb", "svc_skolehelsetjeneste", 0.98, source="rasa")
    result = step(describing(), ctx, words, understanding=nurse)
    assert result.state.intake is not None
    assert result.state.intake.description == ("Han gråter hver morgen.", words)


def test_an_unsure_question_mid_intake_is_her_words(ctx: FlowContext) -> None:
    unsure = Understanding("nb", "svc_bup", 0.3, source="rasa")
    result = step(describing(), ctx, "Er det normalt?", understanding=unsure)
    assert result.state.intake is not None
    assert result.state.intake.description[-1] == "Er det normalt?"


def steps(ctx: FlowContext) -> dict[str, StepResult]:
    """Every intake step as the citizen meets it."""
    idle = ConversationState("nb")
    child = idle.evolve(intake=IntakeDraft(about="child"))
    consenting = idle.evolve(phase=Phase.INTAKE_CONSENT, intake=IntakeDraft(about="child"))
    consented = describing().evolve(phase=Phase.INTAKE_CONTACT)
    return {
        "about": intake.start(idle, ctx),
        "age": intake.ask_age(child.evolve(phase=Phase.INTAKE_AGE), ctx),
        "consent": intake.ask_consent(consenting, ctx),
        "describe": intake.ask_description(describing(()), ctx),
        "got_it": step(describing(), ctx, "Og han sover dårlig."),
        "contact": intake.ask_contact(consented, ctx),
        "callback": step(consented, ctx, button="contact:call"),
        "summary": intake.summary(consented, ctx),
        "anonymous": intake.start_anonymous(idle, ctx),
    }


def test_avbryt_in_every_step_ends_the_intake_and_stores_nothing(ctx: FlowContext) -> None:
    for name, shown in steps(ctx).items():
        offered = {b.label: b.payload for r in shown.replies for b in r.buttons}
        cancel = offered.get("Avbryt")
        assert cancel in (intake.CANCEL, "confirm:cancel"), name
        result = step(shown.state, ctx, button=cancel)
        assert result.state.phase is Phase.IDLE and result.state.intake is None, name
        assert not [e for e in result.effects if isinstance(e, OpenCase)], name
        if shown.state.consent_version:
            assert WithdrawConsent() in result.effects, name
        assert result.replies and result.state.consent_version is None, name


@pytest.mark.parametrize(
    "typed", ["avbryt", "Avbryt", "cancel", "anuluj", "скасувати", "إلغاء", "jooji"]
)
def test_typed_avbryt_in_any_language_ends_the_intake(ctx: FlowContext, typed: str) -> None:
    result = step(describing(), ctx, typed)
    assert result.state.phase is Phase.IDLE and result.state.intake is None
    assert result.effects == (WithdrawConsent(),)
    assert result.replies[0].text == ctx.t("control.cancelled", "nb")


def test_feedback_4_after_another_message_is_taken(ctx: FlowContext) -> None:
    asked = ConversationState("nb", Phase.FEEDBACK, case_ref="K-1")
    thanks = Understanding("nb", "thanks", 0.99, source="rasa")
    later = step(asked, ctx, "Tusen takk for hjelpen!", understanding=thanks).state
    assert later.phase is Phase.IDLE
    rated = step(later, ctx, "4")
    assert rated.effects == (StoreFeedback("K-1", 4),)
    again = step(rated.state, ctx, "4")
    assert not [e for e in again.effects if isinstance(e, StoreFeedback)]  # once


def test_a_face_after_another_message_is_a_rating_but_not_in_a_new_case(ctx: FlowContext) -> None:
    later = case.postpone_feedback(ConversationState("nb", Phase.FEEDBACK, case_ref="K-1"))
    assert step(later, ctx, "😄").effects == (StoreFeedback("K-1", 5),)
    in_new_case = later.evolve(phase=Phase.CASE_OPEN, case_ref="K-2")
    relayed = step(in_new_case, ctx, "🙂")
    assert not [e for e in relayed.effects if isinstance(e, StoreFeedback)]


async def test_mine_data_shows_oslo_time(offline_app: App) -> None:
    citizen = Citizen(offline_app, "tid")
    await citizen.says("hei")  # 09:30 UTC on 24 November: 10:30 in Oslo
    await citizen.says("/mine_data")
    assert "2026-11-24 10:30: hei" in citizen.last()
    assert "09:30" not in citizen.last()


async def test_on_every_channel_a_question_mid_intake_is_answered_not_stored(
    offline_app: App,
) -> None:
    parent = Citizen(offline_app, "forelder")
    for button in ("person", "about:child", "age:6-12", "consent:los", "strengths:skip"):
        await parent.says("", button=button)
    words = "Sønnen min gråter hver morgen før skolen og vil ikke gå."
    await parent.says(words)
    handled = await parent.says("Hvor er helsestasjonen?")  # the offline matcher, Rasa down
    assert handled.replies[-1].text.startswith("Vi fortsetter der vi var:")
    await parent.says("", button="done")
    await parent.says("", button="contact:chat")
    assert words in parent.last() and "Hvor er helsestasjonen?" not in parent.last()


def test_the_anonymous_question_after_the_worry_carries_it_to_the_los(ctx: FlowContext) -> None:
    text = WITHOUT_MY_PARENTS["nb"]
    told = step(ConversationState("nb"), ctx, text, understanding=understood(text, "nb"))
    asking = step(told.state, ctx, button="anon")
    assert asking.state.phase is Phase.ANON_QUESTION
    sent = step(asking.state, ctx, "Jeg har det vondt hjemme, hva kan jeg gjøre?")
    [opened] = [e for e in sent.effects if isinstance(e, OpenCase)]
    assert opened.anonymous and opened.draft.worries == (CONFIDENTIALITY,)


def test_danger_told_with_the_worry_opens_an_urgent_case_that_shows_the_worry(
    ctx: FlowContext,
) -> None:
    text = "Pappa slår meg, men ikke si det til mamma, hun vet ikke. Er det hemmelig?"
    signal = CrisisSignal("violence_abuse", "barnevern", "nb", "test")
    danger = Understanding("nb", "crisis", 0.99, signal, "rasa", worry=CONFIDENTIALITY)
    result = step(ConversationState("nb"), ctx, text, understanding=danger)
    [opened] = [e for e in result.effects if isinstance(e, OpenCase)]
    assert opened.urgent and opened.draft.worries == (CONFIDENTIALITY,)
    assert result.crisis
