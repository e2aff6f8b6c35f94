"""Reading the Rasa training data in nlu/data/*.yml (shared by training and the fallback)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

NLU_DIR = Path(__file__).resolve().parent
DATA_DIR = NLU_DIR / "data"
PIPELINE_FILE = NLU_DIR / "rasa" / "config.yml"
RASA_REQUIREMENTS = NLU_DIR / "rasa" / "requirements.txt"
"""Packages the pipeline's custom components need in the Rasa environment (pinned by hash)."""
COMPONENTS_DIR = NLU_DIR / "rasa_components"


@dataclass(frozen=True)
class Example:
    """One training sentence with its intent and the language of its file."""

    text: str
    intent: str
    language: str


def data_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """The training files, one per language, in a stable order."""
    return sorted(data_dir.glob("*.yml"))


def read_examples(files: list[Path]) -> Iterator[Example]:
    """Every example in the given Rasa NLU YAML files."""
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu", []):
            intent = block.get("intent")
            if not intent:
                continue
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip()
                if text.startswith("- "):
                    yield Example(text[2:].strip(), str(intent), path.stem)


def model_inputs() -> list[Path]:
    """Besides data and pipeline, what a trained model depends on: the custom components'
    source and the pinned packages they use."""
    return [*sorted(COMPONENTS_DIR.glob("*.py")), RASA_REQUIREMENTS]


def fingerprint(files: list[Path], pipeline: Path = PIPELINE_FILE) -> str:
    """A hash of the training data, the pipeline and its custom components: unchanged hash,
    no retraining."""
    digest = hashlib.sha256()
    for path in [pipeline, *model_inputs(), *files]:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
