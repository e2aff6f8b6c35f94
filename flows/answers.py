"""Answers built from catalog texts and the municipality's facts in config.yml (with the
service content staff changed in front: the context's ``t`` and ``settings`` carry it)."""

from __future__ import annotations

from flows import voice
from flows.types import N_, Button, FlowContext, Outbound
from flows.voice import Register
from flows.when import format_moment

SERVICE_NAME = {
    "helsestasjon": N_("service.helsestasjon.name"),
    "skolehelsetjeneste": N_("service.skolehelsetjeneste.name"),
    "ppt": N_("service.ppt.name"),
    "familieteam": N_("service.familieteam.name"),
    "barnevern": N_("service.barnevern.name"),
    "bup": N_("service.bup.name"),
    "psykisk_helse_rus": N_("service.psykisk_helse_rus.name"),
    "nav": N_("service.nav.name"),
    "fritid": N_("service.fritid.name"),
    "flyktning": N_("service.flyktning.name"),
}
SERVICE_WHAT = {
    "helsestasjon": N_("service.helsestasjon.what"),
    "skolehelsetjeneste": N_("service.skolehelsetjeneste.what"),
    "ppt": N_("service.ppt.what"),
    "familieteam": N_("service.familieteam.what"),
    "barnevern": N_("service.barnevern.what"),
    "bup": N_("service.bup.what"),
    "psykisk_helse_rus": N_("service.psykisk_helse_rus.what"),
    "nav": N_("service.nav.what"),
    "fritid": N_("service.fritid.what"),
    "flyktning": N_("service.flyktning.what"),
}
SERVICE_NEXT = {
    "helsestasjon": N_("service.helsestasjon.next"),
    "skolehelsetjeneste": N_("service.skolehelsetjeneste.next"),
    "ppt": N_("service.ppt.next"),
    "familieteam": N_("service.familieteam.next"),
    "barnevern": N_("service.barnevern.next"),
    "bup": N_("service.bup.next"),
    "psykisk_helse_rus": N_("service.psykisk_helse_rus.next"),
    "nav": N_("service.nav.next"),
    "fritid": N_("service.fritid.next"),
    "flyktning": N_("service.flyktning.next"),
}
SERVICE_SMS = {
    "helsestasjon": N_("service.helsestasjon.sms"),
    "skolehelsetjeneste": N_("service.skolehelsetjeneste.sms"),
    "ppt": N_("service.ppt.sms"),
    "familieteam": N_("service.familieteam.sms"),
    "barnevern": N_("service.barnevern.sms"),
    "bup": N_("service.bup.sms"),
    "psykisk_helse_rus": N_("service.psykisk_helse_rus.sms"),
    "nav": N_("service.nav.sms"),
    "fritid": N_("service.fritid.sms"),
    "flyktning": N_("service.flyktning.sms"),
}
"""What the service is, in a sentence or two: the start of its SMS form."""
SERVICE_NEXT_SMS = {
    "helsestasjon": N_("service.helsestasjon.next.sms"),
    "skolehelsetjeneste": N_("service.skolehelsetjeneste.next.sms"),
    "ppt": N_("service.ppt.next.sms"),
    "familieteam": N_("service.familieteam.next.sms"),
    "barnevern": N_("service.barnevern.next.sms"),
    "bup": N_("service.bup.next.sms"),
    "psykisk_helse_rus": N_("service.psykisk_helse_rus.next.sms"),
    "nav": N_("service.nav.next.sms"),
    "fritid": N_("service.fritid.next.sms"),
    "flyktning": N_("service.flyktning.next.sms"),
}
"""What happens next, in the fewest words: for the SMS form."""
CRISIS_LINE_LABEL = {
    "medical": N_("crisis.line.medical"),
    "police": N_("crisis.line.police"),
    "fire": N_("crisis.line.fire"),
    "alarmtelefonen": N_("crisis.line.alarmtelefonen"),
    "mental_helse": N_("crisis.line.mental_helse"),
    "kirkens_sos": N_("crisis.line.kirkens_sos"),
}
CRISIS_OPENING = {
    "self_harm": N_("crisis.opening.self_harm"),
    "violence_abuse": N_("crisis.opening.violence_abuse"),
    "homeless": N_("crisis.opening.homeless"),
    "acute_danger": N_("crisis.opening.acute_danger"),
}
CRISIS_SMS = {
    "self_harm": N_("crisis.sms.self_harm"),
    "violence_abuse": N_("crisis.sms.violence_abuse"),
    "homeless": N_("crisis.sms.homeless"),
    "acute_danger": N_("crisis.sms.acute_danger"),
}
"""The crisis answer for SMS: numbers first, complete in at most two messages."""
LANGUAGE_NAME = {
    "nb": "Norsk (bokmål)",
    "nn": "Norsk (nynorsk)",
    "en": "English",
    "pl": "Polski",
    "uk": "Українська",
    "ar": "العربية",
    "so": "Soomaali",
}
"""Each language's own name for itself (an endonym, the same in every catalog)."""

PAYLOAD_PERSON = "person"


def person_button(ctx: FlowContext, language: str) -> Button:
    """The button that offers a person (the familielos)."""
    return Button(ctx.t(N_("button.person"), language), PAYLOAD_PERSON)


def service_name(ctx: FlowContext, service_id: str, language: str) -> str:
    """The service's name in the citizen's language."""
    return ctx.t(SERVICE_NAME[service_id], language)


def contact_lines(ctx: FlowContext, service_id: str, language: str) -> list[str]:
    """The service's contact details from config.yml, labelled in the citizen's language (on
    a channel with short texts, its phone numbers only)."""
    service = ctx.settings.service(service_id)
    lines = [ctx.t(N_("contact.phone"), language, phone=service.phone)]
    if ctx.short_texts:
        if service.after_hours_phone:
            lines.append(
                ctx.t(N_("contact.after_hours"), language, phone=service.after_hours_phone)
            )
        return lines
    if service.email:
        lines.append(ctx.t(N_("contact.email"), language, email=service.email))
    if service.address:
        lines.append(ctx.t(N_("contact.address"), language, address=service.address))
    if service.url:
        lines.append(ctx.t(N_("contact.web"), language, url=service.url))
    if service.after_hours_phone:
        lines.append(ctx.t(N_("contact.after_hours"), language, phone=service.after_hours_phone))
    return lines


def service_answer(
    ctx: FlowContext, service_id: str, language: str, register: Register | None = None
) -> Outbound:
    """What the service does, for whom, how to reach it, and what happens next (on a channel
    with short texts, its SMS form), opened and closed in the conversation's register."""
    if service_id not in SERVICE_WHAT:
        return not_understood(ctx, language)
    if ctx.short_texts:
        return service_sms(ctx, service_id, language, register)
    municipality = ctx.settings.municipality.name
    what = voice.text(ctx, SERVICE_WHAT[service_id], language, register, municipality=municipality)
    if voice.effective(ctx, register) is Register.YOUTH:  # "Bra at du spør!"; adults: to the point
        what = ctx.t(N_("faq.opening.youth"), language) + " " + what
    parts = [
        what,
        "\n".join(contact_lines(ctx, service_id, language)),
        voice.text(ctx, SERVICE_NEXT[service_id], language, register),
        voice.text(ctx, N_("faq.offer_person"), language, register),
    ]
    return Outbound("\n\n".join(parts), language, (person_button(ctx, language),))


def service_sms(
    ctx: FlowContext, service_id: str, language: str, register: Register | None = None
) -> Outbound:
    """The SMS form of a service answer, whole within four SMS in every language: what the
    service is, its phone number (and after-hours number), what happens next, and a person
    as a numbered choice. The full answer's e-mail, address and web page are left out."""
    what = voice.text(ctx, SERVICE_SMS[service_id], language, register)
    lines = [what, *contact_lines(ctx, service_id, language)]
    lines.append(voice.text(ctx, SERVICE_NEXT_SMS[service_id], language, register))
    lines.append(ctx.t(N_("faq.offer_person.sms"), language))
    return Outbound("\n".join(lines), language, (person_button(ctx, language),))


def crisis_lines_text(
    ctx: FlowContext, language: str, audience: str | None, emergency_only: bool = False
) -> str:
    """The emergency numbers (113, 112), the help lines that fit the audience and, while the
    los office is closed, the municipality's after-hours line (e.g. the barnevernvakt).

    ``audience`` is "youth", "adults" or None when unknown (then every help line is shown);
    ``emergency_only`` keeps just the numbers always shown.
    """
    lines = []
    for line in ctx.settings.crisis_lines:
        if not line.in_crisis_answer:
            continue
        fits = line.always_show or (
            not emergency_only and (audience is None or line.audience in ("all", audience))
        )
        if fits and line.id in CRISIS_LINE_LABEL:
            lines.append(ctx.t(CRISIS_LINE_LABEL[line.id], language, number=line.number))
    if not ctx.office_open and not emergency_only:
        number = ctx.settings.after_hours.phone
        lines.append(ctx.t(N_("crisis.line.after_hours"), language, number=number))
    return "\n".join(lines)


def _line_number(ctx: FlowContext, line_id: str, default: str) -> str:
    for line in ctx.settings.crisis_lines:
        if line.id == line_id:
            return line.number
    return default


def _helpline(ctx: FlowContext, audience: str | None) -> str:
    """The help line open day and night for this audience (adults: Mental Helse; else the
    Alarmtelefonen for children and young people)."""
    if audience == "adults":
        return _line_number(ctx, "mental_helse", "116 123")
    return _line_number(ctx, "alarmtelefonen", "116 111")


def closed_numbers_sms(ctx: FlowContext, language: str, audience: str | None) -> str:
    """While the office is closed, in one SMS: the emergency numbers, the after-hours line
    and the help line for the audience (the SMS form of ``crisis_lines_text``)."""
    return ctx.t(
        N_("case.out_of_hours.sms"),
        language,
        medical=_line_number(ctx, "medical", "113"),
        police=_line_number(ctx, "police", "112"),
        number=ctx.settings.after_hours.phone,
        helpline=_helpline(ctx, audience),
    )


def crisis_answer(ctx: FlowContext, language: str, category: str, audience: str | None) -> Outbound:
    """Warm and short: you are not alone, who to call now. The case that goes with it is
    told by ``crisis_case_note``. On SMS the short form, numbers first, fits two messages."""
    opening = ctx.t(CRISIS_OPENING.get(category, N_("crisis.opening.acute_danger")), language)
    text = f"{opening}\n\n{crisis_lines_text(ctx, language, audience)}"
    helpline = _helpline(ctx, audience)
    short = ctx.t(
        CRISIS_SMS.get(category, N_("crisis.sms.acute_danger")),
        language,
        medical=_line_number(ctx, "medical", "113"),
        police=_line_number(ctx, "police", "112"),
        helpline=helpline,
    )
    return Outbound(text, language, short=short, crisis=True)


def crisis_case_note(
    ctx: FlowContext, language: str, reference: str, *, opened: bool, claimed: bool
) -> Outbound:
    """What happens now with the urgent case, honestly: who reads it and when. Out of hours:
    nobody from the municipality reads it before the next opening; the after-hours line
    (and, when configured, the on-call service that was told) helps now."""
    after_hours = ctx.settings.after_hours.phone
    if claimed:
        key, sms_key = N_("crisis.sent.claimed"), N_("crisis.sms.sent_claimed")
    elif ctx.office_open:
        key = N_("crisis.sent.open") if opened else N_("crisis.sent.open_existing")
        sms_key = N_("crisis.sms.sent_open")
    else:
        key, sms_key = N_("crisis.sent.closed"), N_("crisis.sms.sent_closed")
    moment = (
        format_moment(ctx.next_opening, language, ctx.settings.municipality.timezone)
        if ctx.next_opening is not None
        else ""
    )
    text = ctx.t(key, language, reference=reference, moment=moment, number=after_hours)
    on_call = ctx.settings.after_hours.on_call
    if not ctx.office_open and not claimed and (on_call.sms or on_call.email):
        text += " " + ctx.t(N_("crisis.sent.on_call_told"), language, service=on_call.name)
    short = ctx.t(sms_key, language, reference=reference, number=after_hours)
    return Outbound(text, language, short=short)


def crisis_reminder(ctx: FlowContext, language: str) -> Outbound:
    """Danger again while a los has the case and has had the full crisis answer: a person
    reads every word, so one line with the emergency numbers, not the whole answer again."""
    text = ctx.t(N_("crisis.reminder"), language)
    numbers = crisis_lines_text(ctx, language, None, emergency_only=True)
    return Outbound(f"{text}\n{numbers}", language, short=f"{text}\n{numbers}", crisis=True)


DANGER_NOW_BUTTON = "danger:now"


def danger_offer(ctx: FlowContext, language: str) -> Outbound:
    """For a message that may tell of danger: the emergency numbers, and a button that gives
    the whole crisis answer and an urgent case for a person."""
    numbers = crisis_lines_text(ctx, language, None, emergency_only=True)
    text = f"{ctx.t(N_('crisis.check_in'), language)}\n{numbers}"
    button = Button(ctx.t(N_("crisis.check_in.button"), language), DANGER_NOW_BUTTON)
    return Outbound(text, language, (button,), crisis=True)  # on SMS too: the numbered choice


def greeting(ctx: FlowContext, language: str, register: Register | None = None) -> Outbound:
    """Hello, what the bot can do, and the way to a person ("Halla!" to a young person)."""
    name = ctx.settings.municipality.name
    text = voice.text(ctx, N_("greeting"), language, register, municipality=name)
    return Outbound(text, language, (person_button(ctx, language),))


def thanks(ctx: FlowContext, language: str, register: Register | None = None) -> Outbound:
    """A friendly reply to thanks or goodbye, in the conversation's register."""
    return Outbound(voice.text(ctx, N_("thanks"), language, register), language)


def not_understood(ctx: FlowContext, language: str) -> Outbound:
    """A polite 'I did not understand', the services we know, and an offer of a person."""
    if ctx.short_texts:  # ten services' names do not fit an SMS: a few examples instead
        text = ctx.t(N_("fallback.not_understood.sms"), language)
        text += "\n" + ctx.t(N_("faq.offer_person.sms"), language)
        return Outbound(text, language, (person_button(ctx, language),))
    names = ", ".join(service_name(ctx, sid, language) for sid in ctx.settings.service_ids)
    text = ctx.t(N_("fallback.not_understood"), language, services=names)
    return Outbound(text, language, (person_button(ctx, language),))


TOPIC_PREFIX = "topic:"
SMS_ALTERNATIVES = 2
PAYLOAD_SOMETHING_ELSE = "topic:other"


def clarify(ctx: FlowContext, language: str, topics: tuple[str, ...]) -> Outbound:
    """Unsure what was meant: the likely services to choose from, a person, something else.
    Never an intake the citizen did not ask for. On SMS the two likeliest services only, so
    that the choices arrive within four SMS in every language."""
    if ctx.short_texts:
        topics = topics[:SMS_ALTERNATIVES]
    buttons = [
        Button(service_name(ctx, topic, language), f"{TOPIC_PREFIX}{topic}")
        for topic in topics
        if topic in SERVICE_NAME and topic in ctx.settings.service_ids
    ]
    buttons.append(person_button(ctx, language))
    buttons.append(Button(ctx.t(N_("button.something_else"), language), PAYLOAD_SOMETHING_ELSE))
    key = N_("fallback.clarify.sms") if ctx.short_texts else N_("fallback.clarify")
    return Outbound(ctx.t(key, language), language, tuple(buttons))


PAYLOAD_SERVICES = "services"


def services_menu(ctx: FlowContext, language: str) -> Outbound:
    """Every service the municipality lists, to choose from, and the way to a person."""
    buttons = [
        Button(service_name(ctx, sid, language), f"{TOPIC_PREFIX}{sid}")
        for sid in ctx.settings.service_ids
        if sid in SERVICE_NAME
    ]
    buttons.append(person_button(ctx, language))
    return Outbound(ctx.t(N_("services.choose"), language), language, tuple(buttons))


def out_of_scope(ctx: FlowContext, language: str) -> Outbound:
    """A clear request for something else (the weather, music): one short, polite line on
    what the front door helps with, and the way to a person."""
    text = ctx.t(N_("fallback.out_of_scope"), language)
    return Outbound(text, language, (person_button(ctx, language),))


def something_else(ctx: FlowContext, language: str) -> Outbound:
    """None of the offered services: ask for their own words, and offer a person."""
    text = ctx.t(N_("fallback.something_else"), language)
    return Outbound(text, language, (person_button(ctx, language),))


def nlu_unavailable_note(ctx: FlowContext, language: str) -> str:
    """Said when the language model is down and the offline matcher is unsure."""
    return ctx.t(N_("fallback.degraded"), language)


def handling_failed(ctx: FlowContext, language: str) -> Outbound:
    """Said when the message could not be handled: try again or write to a person, and the
    emergency numbers, since we could not tell whether there is danger."""
    text = ctx.t(N_("error.safe_reply"), language)
    short = ctx.t(N_("error.safe_reply.sms"), language)
    numbers = crisis_lines_text(ctx, language, None, emergency_only=True)
    return Outbound(f"{text}\n{numbers}", language, short=f"{short}\n{numbers}")
