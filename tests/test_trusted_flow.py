"""A trusted person in the conversation (mitt nettverk), as a pure flow: a young person who
asks to bring a friend before a case exists is told kindly how it works; with a case open
they get a one-time code to share; whoever sends a valid code is told only that "a young
person invited you", gives a first name, accepts the rules and takes part; wrong codes are
explained and guessing is slowed; the young person lists and removes; the invited person's
words go to the case, and a crisis in them makes the young person's case urgent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from flows import front_door, trusted
from flows.effects import (
    ClaimInvite,
    CreateInvite,
    JoinCase,
    OpenCase,
    ParticipantSaid,
    RemoveParticipant,
)
from flows.result import StepResult
from flows.state import ConversationState, Phase
from flows.trusted_facts import CodeStatus, Joined, Member, TrustedFacts
from flows.types import FlowContext, Inbound
from nlu.crisis import CrisisSignal
from nlu.trusted import default_check
from nlu.understanding import Understanding

QUIET = Understanding("nb", "out_of_scope", 0.2, source="fallback")
ASKS = replace(QUIET, bring_someone=True)
ON_CASE = ConversationState(language="nb", phase=Phase.CASE_OPEN, case_ref="K-ABC234", turns=6)
IDLE = ConversationState(language="nb", turns=1)
CODE = "7KQ2MXAB"


def says(
    ctx: FlowContext,
    state: ConversationState,
    text: str = "",
    button: str | None = None,
    understanding: Understanding = QUIET,
    facts: TrustedFacts | None = None,
    case_open: bool = False,
) -> StepResult:
    ctx = replace(ctx, trusted=facts or TrustedFacts(), case_open=case_open, case_claimed=case_open)
    return front_door.step(state, Inbound("web", "u", text, button=button), understanding, ctx)


def fresh(ctx: FlowContext) -> TrustedFacts:
    return TrustedFacts(
        new_code=CODE, new_code_hash="h" * 64, expires_at=ctx.now + timedelta(minutes=30)
    )


@pytest.mark.parametrize(
    "text",
    [
        "Kan jeg ta med en venn inn i chatten?",
        "Kan eg ta med ein ven?",
        "Can my aunt join?",
        "Czy mogę dodać koleżankę?",
        "Чи може моя тітка приєднатися?",
        "هل يمكن لصديقي أن ينضم؟",
        "Ma ku darsan karaa saaxiibkay?",
    ],
)
def test_the_request_to_bring_someone_is_heard_in_every_language_without_rasa(text: str) -> None:
    assert default_check().check(text)


@pytest.mark.parametrize(
    "text", ["Hvor er helsestasjonen?", "Jeg har ingen venner", "my friend is sad", "hei"]
)
def test_other_messages_are_no_such_request(text: str) -> None:
    assert not default_check().check(text)


def test_before_a_case_the_young_person_is_told_kindly_and_offered_a_person(
    ctx: FlowContext,
) -> None:
    result = says(ctx, IDLE, "Kan jeg ta med en venn inn i chatten?", understanding=ASKS)
    [told] = result.replies
    assert "først når en person" in told.text
    assert [b.payload for b in told.buttons] == ["person"]
    assert result.state.phase is Phase.IDLE
    assert not any(isinstance(e, OpenCase) for e in result.effects)


def test_with_a_case_open_the_question_reaches_the_los_and_an_invite_is_offered(
    ctx: FlowContext,
) -> None:
    result = says(ctx, ON_CASE, "kan jeg ta med en venn?", understanding=ASKS, case_open=True)
    assert [type(e).__name__ for e in result.effects] == ["AppendToCase"]
    offer = result.replies[-1]
    assert [b.payload for b in offer.buttons] == [trusted.INVITE, trusted.MEMBERS]


def test_the_code_is_short_readable_and_only_its_hash_is_in_the_effect(ctx: FlowContext) -> None:
    result = says(ctx, ON_CASE, button=trusted.INVITE, facts=fresh(ctx), case_open=True)
    [told] = result.replies
    assert "7KQ2-MXAB" in told.text and "/#join=7KQ2MXAB" in told.text
    assert "30 min" in told.text
    [effect] = result.effects
    assert isinstance(effect, CreateInvite)
    assert effect.reference == "K-ABC234" and effect.code_hash == "h" * 64
    assert CODE not in repr(effect)


def test_the_invite_command_works_typed_in_norwegian_and_english(ctx: FlowContext) -> None:
    for typed in ("/inviter", "/invite"):
        result = says(ctx, ON_CASE, typed, facts=fresh(ctx), case_open=True)
        assert isinstance(result.effects[0], CreateInvite), typed


def test_no_code_is_made_without_an_open_case(ctx: FlowContext) -> None:
    result = says(ctx, IDLE, button=trusted.INVITE, facts=fresh(ctx))
    assert result.effects == ()
    assert "først når en person" in result.replies[0].text


@pytest.mark.parametrize("typed", ["7KQ2-MXAB", "7kq2mxab", " 7KQ2 MXAB ", "/join 7KQ2MXAB"])
def test_a_code_is_recognised_however_it_is_typed(typed: str) -> None:
    assert trusted.typed_code(typed) == CODE


@pytest.mark.parametrize("typed", ["HVORDAN?", "barnevern", "12345678", "ABCDEFGH", "7KQ2-MXA0"])
def test_words_and_numbers_are_no_code(typed: str) -> None:
    assert trusted.typed_code(typed) is None


def joining(ctx: FlowContext) -> StepResult:
    facts = TrustedFacts(typed=CodeStatus.VALID, invite=41)
    return says(ctx, IDLE, "7KQ2-MXAB", facts=facts)


def test_a_valid_code_tells_only_that_a_young_person_invited_and_asks_a_first_name(
    ctx: FlowContext,
) -> None:
    result = joining(ctx)
    [told] = result.replies
    assert "En ung person har invitert deg" in told.text
    assert "K-ABC234" not in told.text
    assert result.effects == (ClaimInvite(41),)
    assert result.state.phase is Phase.TRUSTED_NAME


def test_only_a_first_name_is_kept_and_the_rules_are_accepted_with_their_text(
    ctx: FlowContext,
) -> None:
    named = says(ctx, joining(ctx).state, "ola nordmann")
    assert named.state.phase is Phase.TRUSTED_RULES
    assert "Før du blir med, Ola" in named.replies[0].text
    claimed = TrustedFacts(claimed_open=True)
    accepted = says(ctx, named.state, button=trusted.ACCEPT, facts=claimed)
    [join] = accepted.effects
    assert isinstance(join, JoinCase)
    assert join.name == "Ola" and join.invite == 41
    assert join.rules_version == trusted.RULES_VERSION
    assert "Den unge bestemmer" in join.rules_text
    assert accepted.state.phase is Phase.TRUSTED
    assert trusted.INVITE_KEY not in accepted.state.extra


def test_a_number_is_not_taken_as_a_name(ctx: FlowContext) -> None:
    again = says(ctx, joining(ctx).state, "98765432")
    assert again.state.phase is Phase.TRUSTED_NAME
    assert "bare fornavnet" in again.replies[0].text.lower()


def test_saying_no_to_the_rules_keeps_nothing(ctx: FlowContext) -> None:
    named = says(ctx, joining(ctx).state, "Ola")
    declined = says(ctx, named.state, button=trusted.DECLINE)
    assert declined.effects == ()
    assert declined.state.phase is Phase.IDLE
    assert "Ingenting er lagret" in declined.replies[0].text


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (CodeStatus.EXPIRED, "gått ut"),
        (CodeStatus.USED, "allerede brukt"),
        (CodeStatus.UNKNOWN, "kjenner ikke igjen"),
    ],
)
def test_expired_used_and_wrong_codes_get_a_clear_message(
    ctx: FlowContext, status: CodeStatus, words: str
) -> None:
    result = says(ctx, IDLE, "7KQ2-MXAB", facts=TrustedFacts(typed=status))
    assert words in result.replies[0].text
    assert result.effects == ()
    assert result.state.phase is Phase.IDLE


def test_guessing_is_slowed_after_too_many_wrong_codes(ctx: FlowContext) -> None:
    state = IDLE
    wrong = TrustedFacts(typed=CodeStatus.UNKNOWN)
    for _ in range(ctx.settings.trusted.max_tries):
        state = says(ctx, state, "7KQ2-MXAB", facts=wrong).state
    right = TrustedFacts(typed=CodeStatus.VALID, invite=41)
    refused = says(ctx, state, "7KQ2-MXAB", facts=right)
    assert "Vent et kvarter" in refused.replies[0].text
    assert refused.effects == ()
    later = replace(ctx, now=ctx.now + timedelta(minutes=ctx.settings.trusted.tries_window_minutes))
    allowed = says(later, state, "7KQ2-MXAB", facts=right)
    assert allowed.effects == (ClaimInvite(41),)


PARTICIPANT = ConversationState(language="nb", phase=Phase.TRUSTED, turns=4)
JOINED = TrustedFacts(joined=Joined(9, "K-ABC234"))


def test_an_invited_persons_words_go_to_the_young_persons_case(ctx: FlowContext) -> None:
    result = says(ctx, PARTICIPANT, "Jeg er her for deg!", facts=JOINED)
    assert result.effects == (ParticipantSaid(9, "K-ABC234"),)
    assert result.replies == ()


def test_a_crisis_in_an_invited_persons_words_makes_the_young_persons_case_urgent(
    ctx: FlowContext,
) -> None:
    signal = CrisisSignal("self_harm", "psykisk_helse", "nb", "2026")
    crisis = replace(QUIET, crisis=signal)
    words = "hun sier hun vil ta livet sitt"
    result = says(ctx, PARTICIPANT, words, understanding=crisis, facts=JOINED)
    assert result.crisis
    assert result.effects == (ParticipantSaid(9, "K-ABC234", "self_harm"),)
    assert "113" in result.replies[0].text
    assert not any(isinstance(e, OpenCase) for e in result.effects)


def test_a_removed_person_is_told_and_nothing_is_passed_on(ctx: FlowContext) -> None:
    result = says(ctx, PARTICIPANT, "Hallo?", facts=TrustedFacts())
    assert result.effects == ()
    assert result.state.phase is Phase.IDLE
    assert "ikke med i samtalen lenger" in result.replies[0].text


def test_the_invited_person_can_leave_with_stop(ctx: FlowContext) -> None:
    result = says(ctx, PARTICIPANT, "stopp", facts=JOINED)
    assert result.effects == (RemoveParticipant(9),)
    assert result.state.phase is Phase.IDLE


def test_the_young_person_lists_and_removes_anyone(ctx: FlowContext) -> None:
    facts = TrustedFacts(members=(Member(9, "Ola"), Member(10, "Kari")))
    listed = says(ctx, ON_CASE, "/deltakere", facts=facts, case_open=True)
    assert "Ola, Kari" in listed.replies[0].text
    assert [b.label for b in listed.replies[0].buttons] == ["Ta ut Ola", "Ta ut Kari"]
    removed = says(ctx, ON_CASE, button=f"{trusted.REMOVE}9", facts=facts, case_open=True)
    assert removed.effects == (RemoveParticipant(9, "K-ABC234"),)
    assert "Ola er tatt ut" in removed.replies[0].text
    stranger = says(ctx, ON_CASE, button=f"{trusted.REMOVE}77", facts=facts, case_open=True)
    assert stranger.effects == ()
