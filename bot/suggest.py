"""`inngang nlu suggest`: the groups of unplaced messages as candidate training examples,
in Rasa's NLU YAML, for a person to review. Never trained automatically: the file goes to
``nlu/suggestions/`` (or where asked), never into ``nlu/data/``, which is all training and
the offline matcher read (``nlu.training_data.data_files``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.unplaced_groups import NoteGroup
from nlu.training_data import DATA_DIR
from nlu.understanding import LOS_TOPIC, SERVICE_INTENT_PREFIX

SUGGESTIONS_DIR = DATA_DIR.parent / "suggestions"
HEADER = """\
# FOR REVIEW, NOT TRAINED.
# Candidate training examples from messages the bot could not place ({day}), grouped by
# similarity, masked (‹navn›, ‹telefon›, ...). Nothing reads this file: a person checks each
# example, replaces the markers with made-up words, and copies the good ones by hand into
# nlu/data/<language>.yml. Delete this file when done; it holds citizens' (masked) words.
version: "3.1"
nlu:
"""


class UnsafeTarget(ValueError):
    """The suggestions were to be written where training would read them."""


def intent_for(topic: str) -> str | None:
    """The NLU intent for a topic citizens chose; None when they chose "something else"."""
    if topic == LOS_TOPIC:
        return "ask_human"
    if topic == "other":
        return None
    return f"{SERVICE_INTENT_PREFIX}{topic}"


def _example(text: str) -> str:
    return " ".join(text.split())


def suggestions_yaml(groups: list[NoteGroup], min_group: int, day: date) -> str:
    """The groups of at least ``min_group`` messages as Rasa NLU YAML, each under the topic
    citizens chose most often, else a ``# TODO topic`` comment and a placeholder intent."""
    lines = [HEADER.format(day=day.isoformat())]
    for number, group in enumerate((g for g in groups if g.size >= min_group), start=1):
        intent = intent_for(group.chosen[0]) if group.chosen else None
        guessed = ", ".join(group.guessed) or "-"
        lines.append(
            f"# group {number}: {group.size} messages ({group.language}); "
            f"the bot guessed: {guessed}\n"
        )
        if intent is None:
            lines.append("# TODO topic: nobody chose one; pick the intent before use\n")
        lines.append(f"- intent: {intent or 'TODO_topic'}\n  examples: |\n")
        examples = dict.fromkeys(_example(n.text) for n in group.notes)
        lines.extend(f"    - {text}\n" for text in examples if text)
    return "".join(lines)


def default_target(day: date) -> Path:
    """Where the suggestions go when no file is given."""
    return SUGGESTIONS_DIR / f"unplaced-{day.isoformat()}.yml"


def write_suggestions(text: str, target: Path, data_dir: Path = DATA_DIR) -> Path:
    """Write the suggestions to ``target``; refuses a place training reads."""
    resolved = target.resolve()
    if resolved.is_relative_to(data_dir.resolve()):
        raise UnsafeTarget(f"{target} is in the training data ({data_dir})")
    resolved.parent.mkdir(parents=True, exist_ok=True)
    resolved.write_text(text, encoding="utf-8")
    return resolved
