"""Where the application writes: the state directory (``var/``) with the keys, the SQLite
database, the embeddings cache, the trained NLU models and Rasa's working files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STATE_ENV = "INNGANG_VAR"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """INNGANG_VAR, else ``var`` in the working directory (``make run``: the checkout's
    ``var/``); always absolute, so a later change of directory does not move it."""
    environment = os.environ if env is None else env
    return Path(environment.get(STATE_ENV) or "var").expanduser().absolute()


def embeddings_dir(env: Mapping[str, str] | None = None) -> Path:
    """The offline matcher's cache of sentence vectors (and the danger sense's fit)."""
    return state_dir(env) / "embeddings"
