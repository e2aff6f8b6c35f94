"""A conversation's state is stored as JSON and read back whole, in every phase: the intake
draft with its description and worries, the questions before a meeting, the choices
offered, the voice; the text is what ``dataclasses.asdict`` wrote before (states saved by an
earlier version read back the same)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from flows.state import ConversationState, IntakeDraft, OwnVoiceRun, Phase
from flows.voice import Register

STATES = [
    ConversationState("nb"),
    ConversationState(
        "uk",
        Phase.INTAKE_DESCRIBE,
        consent_version="consent-nb-3",
        intake=IntakeDraft(
            about="child",
            description=("Сину 14, не ходить до школи", "ÆØÅ ✓ \u202eRTL"),
            worries=("confidentiality",),
            callback_when="slot",
        ),
        case_ref="K-7F3A",
        offered=("ppt", "familieteam"),
        offered_labels=("PPT", "Familieteamet"),
        extra={"pressed": "ppt", "note": '"quoted" \\ slash'},
        register=Register.YOUTH,
        turns=4,
    ),
    ConversationState(
        "ar",
        Phase.OWN_VOICE,
        anonymous=True,
        own_voice=OwnVoiceRun(3, "K-1", ("ما الذي يساعدك؟", "Hva er vanskelig?"), "Takk", 1),
        resume_phase=Phase.IDLE,
    ),
]


@pytest.mark.parametrize("state", STATES)
def test_a_state_reads_back_whole_and_is_written_as_before(state: ConversationState) -> None:
    text = state.to_json()
    assert text == json.dumps(asdict(state), ensure_ascii=False, sort_keys=True)
    assert ConversationState.from_json(text, "nb") == state
