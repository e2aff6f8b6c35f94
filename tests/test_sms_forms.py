"""Every answer, in every language, as the citizen reads it on SMS: at most four SMS, the
service's phone number, what happens next and the way to a person whole; typography in GSM-7
where the language allows; numbered choices that a bare digit picks; the crisis answer first
and complete."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from bot.app import App
from bot.channels.sms import SmsChannel, as_sms, gsm_typography, is_gsm, sign, sms_parts
from bot.i18n import Catalogs
from bot.settings import Settings, SmsSettings
from bot.web import create_web_app
from flows import answers, choices, control, front_door, intake
from flows.state import ConversationState, IntakeDraft, Phase
from flows.types import FlowContext, Outbound
from flows.voice import Register

LANGUAGES = ("nb", "nn", "en", "pl", "uk", "ar", "so")
MOST_SMS = 4
PRESS = re.compile(
    r"trykk|\bpress|\btap\b|naciśnij|натисн|اضغط|riix|knapp|button|przycisk|кнопк", re.I
)
PART_NUMBER = re.compile(r"^\((\d+)/(\d+)\) ")
CHOICE = re.compile(r"^(\d+)\. (.+)$", re.M)
DAY = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
NIGHT = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def sms_context(settings: Settings, catalogs: Catalogs, *, night: bool = False) -> FlowContext:
    """The context a flow sees for an SMS conversation (the router sets ``short_texts``)."""
    day = FlowContext(settings=settings, t=catalogs, now=DAY, short_texts=True)
    return replace(day, now=NIGHT, office_open=False, next_opening=MORNING) if night else day


def sent(replies: tuple[Outbound, ...], max_parts: int) -> list[list[str]]:
    """The SMS each reply becomes, as the gateway gets them."""
    return [sms_parts(message.text, max_parts) for message in as_sms(replies)]


def read(parts: list[str]) -> str:
    """What the citizen reads from a message's parts: their texts, part numbers off."""
    return " ".join(" ".join(PART_NUMBER.sub("", part).split()) for part in parts)


def flat(text: str) -> str:
    return " ".join(text.split())


def well_formed(parts: list[str], max_parts: int) -> None:
    """At most ``max_parts`` SMS that each fit one SMS, numbered when there is more than one,
    and none cut short."""
    assert len(parts) <= max_parts, parts
    gsm = all(is_gsm(part) for part in parts)
    if len(parts) > 1:
        numbers = [PART_NUMBER.match(part) for part in parts]
        assert all(numbers), parts
        assert [(int(m.group(1)), int(m.group(2))) for m in numbers if m] == [
            (n, len(parts)) for n in range(1, len(parts) + 1)
        ]
        assert all(len(part) <= (153 if gsm else 67) for part in parts), parts
    else:
        assert len(parts[0]) <= (160 if gsm else 70), parts
    assert not parts[-1].endswith(("…", "...")), parts


def numbered_choices(parts: list[str]) -> dict[int, str]:
    """The numbered choices an SMS shows, each read from one part (never split)."""
    found: dict[int, str] = {}
    for part in parts:
        for number, label in CHOICE.findall(PART_NUMBER.sub("", part)):
            found[int(number)] = label.strip()
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_service_answer_fits_four_sms_and_keeps_the_phone_and_the_way_to_a_person(
    settings: Settings, catalogs: Catalogs, language: str
) -> None:
    ctx = sms_context(settings, catalogs)
    for service_id in settings.service_ids:
        answer = answers.service_answer(ctx, service_id, language)
        # alone, and after the emergency numbers offered for a message that may tell of danger
        for replies in ((answer,), (answers.danger_offer(ctx, language), answer)):
            *_, parts = sent(replies, settings.sms.max_parts)
            well_formed(parts, MOST_SMS)
            service = settings.service(service_id)
            for phone in filter(None, (service.phone, service.after_hours_phone)):
                assert any(phone in part for part in parts), (service_id, language, parts)
            next_step = catalogs(answers.SERVICE_NEXT_SMS[service_id], language)
            assert flat(gsm_typography(next_step, language)) in read(parts), (service_id, parts)
            person = len(replies)  # numbered on across the messages sent together
            label = gsm_typography(catalogs("button.person", language), language)
            assert numbered_choices(parts).get(person) == label, (service_id, language, parts)
            assert not PRESS.search(read(parts)), (service_id, language)


def other_answers(ctx: FlowContext, language: str) -> dict[str, tuple[Outbound, ...]]:
    """The front door's other answers and the intake's questions, as a flow gives them."""
    state = ConversationState(language=language)
    child = state.evolve(intake=IntakeDraft(about="child"))
    anonymous = state.evolve(phase=Phase.ANON_QUESTION, anonymous=True)
    return {
        "greeting": (answers.greeting(ctx, language),),
        "thanks": (answers.thanks(ctx, language),),
        "not_understood": (answers.not_understood(ctx, language),),
        "clarify": (answers.clarify(ctx, language, ("ppt", "bup", "familieteam")),),
        "out_of_scope": (answers.out_of_scope(ctx, language),),
        "something_else": (answers.something_else(ctx, language),),
        "handling_failed": (answers.handling_failed(ctx, language),),
        "language": front_door.language_choice(state, ctx).replies,
        "ask_about": intake.ask_about(state, ctx).replies,
        "ask_age": intake.ask_age(child, ctx).replies,
        "describe": intake.ask_description(state, ctx).replies,
        "contact": intake.ask_contact(state, ctx).replies,
        "consent": intake.ask_consent(child, ctx).replies,
        "declined": intake.declined(state.evolve(last_topic="barnevern"), ctx).replies,
        "anonymous": intake.start_anonymous(state, ctx).replies,
        "submitted": intake.submit(anonymous, ctx).replies,
        "submitted_named": intake.submit(state, ctx).replies,
        "worry": (control.worry_answer(ctx, language, in_intake=False),),
        "cancelled": intake.cancel(state, ctx).replies,
        "strengths": intake.ask_strengths(child, ctx).replies,
        **youth_answers(ctx, language),
    }


def youth_answers(ctx: FlowContext, language: str) -> dict[str, tuple[Outbound, ...]]:
    """The same in the youth register (a young person about themselves)."""
    young = ConversationState(language=language, register=Register.YOUTH)
    teen = young.evolve(intake=IntakeDraft(about="self"))
    return {
        "greeting youth": (answers.greeting(ctx, language, Register.YOUTH),),
        "thanks youth": (answers.thanks(ctx, language, Register.YOUTH),),
        "ask_about youth": intake.ask_about(young, ctx).replies,
        "ask_age youth": intake.ask_age(teen, ctx).replies,
        "strengths youth": intake.ask_strengths(teen, ctx).replies,
        "describe youth": intake.ask_description(teen, ctx).replies,
        "contact youth": intake.ask_contact(teen, ctx).replies,
        "submitted youth": intake.submit(teen, ctx).replies,
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("night", [False, True], ids=["open", "closed"])
def test_every_other_answer_fits_four_sms_with_its_choices_whole(
    settings: Settings, catalogs: Catalogs, language: str, night: bool
) -> None:
    """The consent too: its SMS text (a versioned legal text) with its five short choices
    takes at most four SMS in UCS-2 as well (pl, uk, ar); tests/test_crisis_sms.py holds it
    to being recorded as it was shown."""
    ctx = sms_context(settings, catalogs, night=night)
    for name, replies in other_answers(ctx, language).items():
        rendered = sent(replies, settings.sms.max_parts)
        offered = [b for reply in replies for b in reply.buttons]
        shown: dict[int, str] = {}
        for parts in rendered:
            well_formed(parts, MOST_SMS)
            assert not PRESS.search(read(parts)), (name, language)
            shown.update(numbered_choices(parts))
        labels = [gsm_typography(b.label, language) for b in offered]
        assert shown == dict(enumerate(labels, 1)), (name, language, rendered)


@pytest.mark.parametrize("language", LANGUAGES)
def test_out_of_hours_a_case_sent_by_sms_says_when_it_is_read_and_gives_the_night_numbers(
    settings: Settings, catalogs: Catalogs, language: str
) -> None:
    ctx = sms_context(settings, catalogs, night=True)
    state = ConversationState(language=language, anonymous=True, phase=Phase.ANON_QUESTION)
    note, numbers = intake.submit(state, ctx).replies
    [told, parts] = sent((note, numbers), settings.sms.max_parts)
    well_formed(told, MOST_SMS)
    assert "08:00" in read(told)  # read at the next opening, in Oslo time
    well_formed(parts, 2)
    for number in ("113", "112", "116 111", settings.after_hours.phone):
        assert any(number in part for part in parts), (language, parts)


def test_a_norwegian_answer_with_guillemets_and_dashes_is_sent_as_gsm7() -> None:
    text = "Dette skjer videre: velg «Snakk med en person» – eller skriv “person”…"
    [message] = as_sms((Outbound(text, "nb"),))
    assert is_gsm(message.text)
    assert message.text == (
        'Dette skjer videre: velg "Snakk med en person" - eller skriv "person"...'
    )
    long = as_sms((Outbound((text + " ") * 4, "nb"),))[0].text
    parts = sms_parts(long, 8)
    assert len(parts) == 2 and all(len(part) <= 153 for part in parts)  # not 67 a part


@pytest.mark.parametrize("language", ["nb", "nn", "en", "so"])
def test_every_answer_in_a_latin_script_language_other_than_polish_goes_as_gsm7(
    settings: Settings, catalogs: Catalogs, language: str
) -> None:
    ctx = sms_context(settings, catalogs)
    groups = [(answers.service_answer(ctx, s, language),) for s in settings.service_ids]
    groups += [g for name, g in other_answers(ctx, language).items() if name != "language"]
    not_gsm = [m.text for replies in groups for m in as_sms(replies) if not is_gsm(m.text)]
    assert not_gsm == []  # (the list of languages names each in its own script)


def test_polish_keeps_its_letters_and_ukrainian_and_arabic_are_never_transliterated() -> None:
    polish = "Zadzwoń – „żona” i «mąż»"
    [pl] = as_sms((Outbound(polish, "pl"),))
    assert pl.text == 'Zadzwoń - "żona" i "mąż"' and not is_gsm(pl.text)
    for language, text in (("uk", "Що далі: «людина» – 116 111"), ("ar", "اتصل بـ «112»")):
        [message] = as_sms((Outbound(text, language),))
        assert message.text == text


def test_a_bare_digit_picks_the_choice_the_sms_showed_under_that_number(
    settings: Settings, catalogs: Catalogs
) -> None:
    """Messages sent together are numbered on from one to the next, in the order the router
    records what was offered: each number shown picks that choice, and no other."""
    for language in LANGUAGES:
        ctx = sms_context(settings, catalogs)
        groups = [
            (answers.danger_offer(ctx, language), answers.service_answer(ctx, "ppt", language)),
            (answers.clarify(ctx, language, ("ppt", "bup")),),
            intake.ask_about(ConversationState(language=language), ctx).replies,
        ]
        for replies in groups:
            offered = [b for reply in replies for b in reply.buttons]  # as the router records
            payloads = [b.payload for b in offered]
            labels = [b.label for b in offered]
            shown: dict[int, str] = {}
            for parts in sent(replies, settings.sms.max_parts):
                shown.update(numbered_choices(parts))
            assert len(shown) == len(offered)
            for number, label in shown.items():
                picked = choices.chosen(str(number), payloads, labels)
                [meant] = [b for b in offered if gsm_typography(b.label, language) == label]
                assert picked == meant.payload, (language, number, label)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("night", [False, True], ids=["open", "closed"])
def test_the_crisis_answer_on_sms_is_complete_and_first_in_every_language(
    settings: Settings, catalogs: Catalogs, language: str, night: bool
) -> None:
    ctx = sms_context(settings, catalogs, night=night)
    for category in answers.CRISIS_SMS:
        for audience in ("youth", "adults", None):
            answer = answers.crisis_answer(ctx, language, category, audience)
            note = answers.crisis_case_note(ctx, language, "K-7KQ2MX", opened=True, claimed=False)
            first, second = sent((answer, note), settings.sms.max_parts)
            for parts in (first, second):
                well_formed(parts, 2)
            assert answer.short is not None
            assert read(first) == flat(gsm_typography(answer.short, language))  # all of it
            assert re.search(r"\b11[23]\b", first[0]), (language, first)  # numbers first
            helpline = "116 123" if audience == "adults" else "116 111"
            assert any(helpline in part for part in first), (language, first)
            assert "K-7KQ2MX" in read(second)
            if night:
                assert any(settings.after_hours.phone in part for part in second)


def test_a_long_text_is_numbered_and_never_cut_inside_a_number() -> None:
    line = "Ring " + " eller ".join(["116 111", "55 10 20 99", "22 40 00 40"] * 6) + "."
    parts = sms_parts(line, 8)
    well_formed(parts, 8)
    joined = read(parts)
    assert joined == flat(line)
    for number in ("116 111", "55 10 20 99", "22 40 00 40"):
        assert joined.count(number) == sum(part.count(number) for part in parts)


def test_a_choice_stays_whole_and_prose_fills_the_part() -> None:
    text = ("Пояснення " * 12).strip() + "\n\n1. Поговорити з людиною\n2. Щось інше"
    parts = sms_parts(text, 8)
    well_formed(parts, 8)
    assert numbered_choices(parts) == {1: "Поговорити з людиною", 2: "Щось інше"}
    assert all(len(part) >= 50 for part in parts[:-1])  # no half-empty part before a choice


Say = Callable[[str], Awaitable[list[str]]]
SECRET = "gateway-shared-secret"
NUMBER = "+4791234567"


class Gateway:
    """The SMS gateway's outbound side: what the application POSTs."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content)["text"])
        return httpx.Response(202, json={"id": f"out-{len(self.sent)}"})


@pytest.fixture
async def texting(offline_app: App) -> AsyncIterator[Say]:
    gateway = Gateway()
    channel = SmsChannel(
        offline_app.router,
        SmsSettings(enabled=True),
        SECRET,
        None,
        transport=httpx.MockTransport(gateway.handler),
    )
    web = create_web_app(offline_app, sms=channel)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://inngang"
    ) as client:
        count = iter(range(1, 1000))

        async def say(text: str) -> list[str]:
            before = len(gateway.sent)
            body = json.dumps({"from": NUMBER, "text": text, "id": f"m{next(count)}"}).encode()
            stamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "X-Timestamp": stamp,
                "X-Signature": sign(SECRET, stamp, body),
            }
            response = await client.post("/sms/inbound", content=body, headers=headers)
            assert response.status_code == 200
            return gateway.sent[before:]

        yield say
    await channel.aclose()


async def test_by_sms_a_bare_digit_picks_the_choice_shown_under_it(
    texting: Say, catalogs: Catalogs
) -> None:
    say = texting
    answer = await say("hvor er helsestasjonen?")
    assert len(answer) <= MOST_SMS and "55 10 20 01" in " ".join(answer)
    person = {v: k for k, v in numbered_choices(answer).items()}["Snakk med en person"]
    question = await say(str(person))
    shown = numbered_choices(question)
    child = catalogs("intake.about.child", "nb")
    number = {v: k for k, v in shown.items()}[gsm_typography(child, "nb")]
    asked = await say(f" {number} ")
    assert flat(gsm_typography(catalogs("intake.ask_age_child", "nb"), "nb")) in read(asked)
    ages = numbered_choices(asked)
    assert ages and all(is_gsm(label) for label in ages.values())  # "6-12 år", not "6–12"


def test_the_sms_forms_are_what_the_catalogs_say_in_every_language(catalogs: Catalogs) -> None:
    """Each language has its own SMS texts (not the English fallback), with no placeholders
    the code does not fill."""
    keys = [
        *answers.SERVICE_SMS.values(),
        *answers.SERVICE_NEXT_SMS.values(),
        "faq.offer_person.sms",
        "fallback.not_understood.sms",
        "fallback.clarify.sms",
        "error.safe_reply.sms",
        "consent.declined.sms",
        "case.out_of_hours.sms",
    ]
    for language in LANGUAGES:
        missing = [key for key in keys if not catalogs.has(key, language)]
        assert missing == [], language
