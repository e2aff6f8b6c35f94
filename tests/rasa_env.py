"""Running a script in the Rasa environment (Python 3.10, scikit-learn, Rasa) from a test."""

from __future__ import annotations

import os
import subprocess

import pytest

from bot.settings import PROJECT_ROOT
from nlu.rasa_runtime import RasaPaths, serving_environment


def run_in_rasa(probe: str) -> subprocess.CompletedProcess[str]:
    """Run a probe script in the Rasa environment (skipped where Rasa is not installed,
    failed in CI); it must succeed."""
    paths = RasaPaths.from_env()
    python = paths.venv / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Rasa is not installed at {paths.venv}; scripts/setup.sh installs it")
        pytest.skip("Rasa is not installed here (scripts/setup.sh installs it)")
    completed = subprocess.run(
        [str(python), "-c", probe],
        cwd=PROJECT_ROOT,
        env=serving_environment(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed
