"""`inngang run` as a service manager sees it: started as a real process with the real NLU
model, it answers; stopped with SIGTERM, it exits cleanly and takes its Rasa server with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from nlu.rasa_runtime import RasaPaths, model_path, port_in_use
from tests.fakes.telegram_api import free_port

pytestmark = pytest.mark.rasa


def wait_for(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if check():  # type: ignore[operator]
                return True
        time.sleep(0.5)
    return False


def test_sigterm_stops_the_service_and_its_rasa_server(tmp_path: Path) -> None:
    paths = RasaPaths.from_env()
    if not model_path(paths).exists():
        if os.environ.get("CI"):
            pytest.fail("no trained NLU model; scripts/setup.sh trains it")
        pytest.skip("no trained NLU model here (run `make run` or `inngang nlu train`)")
    web, nlu = free_port(), free_port()
    env = {
        **os.environ,
        "INNGANG_WEB_PORT": str(web),
        "INNGANG_NLU_URL": f"http://127.0.0.1:{nlu}",
        "INNGANG_NLU_MANAGE_SERVER": "true",
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_SECRET_KEY": "lifecycle-test",
        "INNGANG_STAFF_PASSWORD": "lifecycle-test",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{web}"
        assert wait_for(lambda: httpx.get(f"{base}/readyz").json()["nlu"], 240), "never ready"
        answer = httpx.post(f"{base}/api/chat", json={"text": "hvor er barnevernet?"}).json()
        assert "55 10 20 05" in answer["replies"][0]["text"]
        assert port_in_use("127.0.0.1", nlu)

        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 143
        assert wait_for(lambda: not port_in_use("127.0.0.1", nlu), 20), "Rasa was left running"
    finally:
        if service.poll() is None:
            service.kill()
