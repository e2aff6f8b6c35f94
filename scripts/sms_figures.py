"""How the bot's answers come out on SMS: every service answer (every topic, every language)
and the other answers the front door gives (greeting, clarify, danger offer, the intake's
questions, the crisis answer with its case note, day and night), rendered as the SMS channel
renders them (``bot.channels.sms.as_sms`` then ``sms_parts``).

Per answer: the parts it takes (counted without the channel's cap), its encoding (GSM-7 or
UCS-2), whether the channel's cap (``sms.max_parts``) cuts it, and whether "what happens
next" (a service answer's next step, whole) and the way to a person (the numbered choice, or
the service's phone number, whole) reach the citizen; and any "press the button".

  PYTHONPATH=. .venv/bin/python scripts/sms_figures.py            # the summary
  PYTHONPATH=. .venv/bin/python scripts/sms_figures.py --detail   # one line per answer
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bot.channels import sms  # noqa: E402
from bot.i18n import Catalogs  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from flows import answers, front_door, intake  # noqa: E402
from flows.state import ConversationState, IntakeDraft, Phase  # noqa: E402
from flows.types import FlowContext, Outbound  # noqa: E402

TARGET_PARTS = 4
PRESS = re.compile(
    r"trykk|\bpress|\btap\b|naciśnij|натисн|اضغط|riix|knapp|button|przycisk|кнопк", re.I
)
PREFIX = re.compile(r"^\(\d+/\d+\) ")
DAY = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
NIGHT = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """One answer as the flows give it, with what must reach the citizen."""

    kind: str
    name: str
    language: str
    when: str
    replies: tuple[Outbound, ...]
    next_texts: tuple[str, ...] = ()
    """Any one of these, whole, is "what happens next" (a service's full or SMS next step)."""
    phone: str | None = None
    person: bool = False
    """Whether the answer offers a person (then the numbered choice must arrive)."""


@dataclass(frozen=True)
class Figure:
    case: Case
    parts: int
    """The parts of the longest message (each message is split on its own)."""
    total: int
    unicode: bool
    cut: bool
    has_next: bool
    has_person_choice: bool
    has_phone: bool
    press: bool

    @property
    def complete(self) -> bool:
        return (
            (self.has_next or not self.case.next_texts)
            and (self.has_person_choice or not self.case.person)
            and (self.has_phone or self.case.phone is None)
            and not self.cut
        )


def flat(text: str) -> str:
    return " ".join(text.split())


def as_sent(text: str, language: str) -> str:
    """A catalog text as the SMS channel sends it (typography made GSM-7, where it does)."""
    to_gsm = getattr(sms, "gsm_typography", None)
    return text if to_gsm is None else str(to_gsm(text, language))


def figure(case: Case, max_parts: int) -> Figure:
    rendered = sms.as_sms(case.replies)
    parts_total, longest, unicode, cut, press = 0, 0, False, False, False
    delivered: list[str] = []
    for message in rendered:
        text = message.text
        whole = sms.sms_parts(text, 1000)
        capped = sms.sms_parts(text, max_parts)
        parts_total += len(whole)
        longest = max(longest, len(whole))
        unicode = unicode or not set(text) <= sms._GSM
        cut = cut or len(capped) < len(whole)
        press = press or bool(PRESS.search(text))
        delivered.append(" ".join(PREFIX.sub("", part) for part in capped))
    joined = flat(" ".join(delivered))
    choices = [b for m in case.replies for b in m.buttons]  # numbered in this order
    has_person_choice = any(
        flat(f"{n}. {as_sent(b.label, case.language)}") in joined
        for n, b in enumerate(choices, 1)
        if b.payload == answers.PAYLOAD_PERSON
    )
    return Figure(
        case,
        longest,
        parts_total,
        unicode,
        cut,
        any(flat(as_sent(n, case.language)) in joined for n in case.next_texts),
        has_person_choice,
        case.phone is not None and case.phone in joined,
        press,
    )


def cases(settings_path: Path) -> Iterator[Case]:
    settings = load_settings(settings_path, env={})
    t = Catalogs.load(settings.languages.supported)
    day = FlowContext(settings=settings, t=t, now=DAY, short_texts=True)
    night = replace(day, now=NIGHT, office_open=False, next_opening=MORNING)
    for language in settings.languages.supported:
        state = ConversationState(language=language)
        for service_id in settings.service_ids:
            answer = answers.service_answer(day, service_id, language)
            next_keys = [
                answers.SERVICE_NEXT[service_id],
                f"{answers.SERVICE_NEXT[service_id]}.sms",
            ]
            yield Case(
                "service",
                service_id,
                language,
                "any",
                (answer,),
                tuple(t(k, language) for k in next_keys if t.has(k, language)),
                settings.service(service_id).phone,
                True,
            )
            danger = answers.danger_offer(day, language)
            yield Case(
                "danger+service",
                service_id,
                language,
                "any",
                (danger, answer),
                tuple(t(k, language) for k in next_keys if t.has(k, language)),
                settings.service(service_id).phone,
                True,
            )
        for when, ctx in (("day", day), ("night", night)):
            for category in answers.CRISIS_SMS:
                for audience in ("youth", "adults", None):
                    yield Case(
                        "crisis",
                        f"{category}/{audience}",
                        language,
                        when,
                        (
                            answers.crisis_answer(ctx, language, category, audience),
                            answers.crisis_case_note(
                                ctx, language, "K-7KQ2MX", opened=True, claimed=False
                            ),
                        ),
                    )
            anonymous = state.evolve(phase=Phase.ANON_QUESTION, anonymous=True)
            yield Case("other", "submit", language, when, intake.submit(anonymous, ctx).replies)
        ctx = day
        others = {
            "greeting": (answers.greeting(ctx, language),),
            "not_understood": (answers.not_understood(ctx, language),),
            "clarify": (answers.clarify(ctx, language, ("ppt", "bup", "familieteam")),),
            "out_of_scope": (answers.out_of_scope(ctx, language),),
            "something_else": (answers.something_else(ctx, language),),
            "handling_failed": (answers.handling_failed(ctx, language),),
            "ask_about": intake.ask_about(state, ctx).replies,
            "ask_age_child": intake.ask_age(
                state.evolve(intake=IntakeDraft(about="child")), ctx
            ).replies,
            "ask_age_self": intake.ask_age(
                state.evolve(intake=IntakeDraft(about="self")), ctx
            ).replies,
            "consent": intake.ask_consent(state, ctx).replies,
            "describe": intake.ask_description(state, ctx).replies,
            "contact": intake.ask_contact(state, ctx).replies,
            "declined": intake.declined(state.evolve(last_topic="ppt"), ctx).replies,
            "anonymous": intake.start_anonymous(state, ctx).replies,
            "language": front_door.language_choice(state, ctx).replies,
        }
        for name, replies in others.items():
            person = any(b.payload == answers.PAYLOAD_PERSON for m in replies for b in m.buttons)
            yield Case("other", name, language, "day", replies, person=person)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()
    settings = load_settings(args.config, env={})
    cap = settings.sms.max_parts
    figures = [figure(case, cap) for case in cases(args.config)]
    if args.detail:
        for f in figures:
            c = f.case
            print(
                f"{c.kind:15} {c.name:26} {c.language} {c.when:5} parts={f.parts:2} "
                f"total={f.total:2} "
                f"{'UCS-2' if f.unicode else 'GSM-7'} cut={f.cut!s:5} next={f.has_next!s:5} "
                f"person={f.has_person_choice!s:5} phone={f.has_phone!s:5} press={f.press}"
            )
    print(f"channel cap: {cap} parts; target: at most {TARGET_PARTS} a message")
    for kind in ("service", "danger+service", "crisis", "other"):
        group = [f for f in figures if f.case.kind == kind]
        over = sum(f.parts > TARGET_PARTS for f in group)
        print(
            f"{kind:15} answers={len(group):3}  a message over {TARGET_PARTS} parts={over:3}  "
            f"cut at cap={sum(f.cut for f in group):3}  UCS-2={sum(f.unicode for f in group):3}  "
            f"incomplete={sum(not f.complete for f in group):3}  "
            f"no next={sum(bool(f.case.next_texts) and not f.has_next for f in group):3}  "
            f"no person choice={sum(f.case.person and not f.has_person_choice for f in group):3}  "
            f"no phone={sum(f.case.phone is not None and not f.has_phone for f in group):3}  "
            f"press={sum(f.press for f in group)}  "
            f"parts: {dict(sorted(Counter(f.parts for f in group).items()))}"
        )
    by_language = Counter(
        f.case.language for f in figures if f.case.kind == "service" and not f.complete
    )
    print("incomplete service answers by language:", dict(sorted(by_language.items())))
    gsm_latin = [
        f
        for f in figures
        if f.case.kind == "service" and f.case.language in ("nb", "nn", "en", "so")
    ]
    print(
        "service answers in nb/nn/en/so sent as UCS-2:",
        sum(f.unicode for f in gsm_latin),
        "of",
        len(gsm_latin),
    )


if __name__ == "__main__":
    main()
