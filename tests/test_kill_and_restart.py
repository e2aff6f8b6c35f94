"""`inngang run` as a real process, killed with SIGKILL: a message that once crashed its
handling ("²") never stops a start, and nothing sent under load is lost, handled twice or
delivered twice (scripts/kill_under_load.py, smaller), on SQLite and on PostgreSQL (the
``database_url`` fixture of conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from tests.fakes.telegram_api import free_port


class Service:
    """`inngang run` without Rasa (the offline matcher answers), killed at will."""

    def __init__(self, database_url: str, directory: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "INNGANG_WEB_PORT": str(self.port),
            "INNGANG_NLU_URL": "http://127.0.0.1:9",
            "INNGANG_NLU_MANAGE_SERVER": "false",
            "INNGANG_DATABASE_URL": database_url,
            "INNGANG_SECRET_KEY": "kill-test",
            "INNGANG_DATA_KEY": "",
            "INNGANG_STAFF_PASSWORD": "kill-test",
        }
        self.log = directory / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz").status_code == 200:
                    return
            time.sleep(0.3)
        raise AssertionError("the service did not come up")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    running = Service(database_url, tmp_path)
    try:
        yield running
    finally:
        running.kill()


def says(service: Service, words: str, token: str | None, message_id: str) -> httpx.Response:
    headers = {"X-Chat-Token": token} if token else {}
    return httpx.post(
        f"{service.base}/api/chat", json={"text": words, "id": message_id}, headers=headers
    )


def test_a_superscript_two_then_a_kill_and_a_restart_leaves_the_service_answering(
    service: Service,
) -> None:
    service.start()
    first = says(service, "²", None, "m1")  # once crashed its handling and every start
    assert first.status_code == 200 and first.json()["replies"]
    token = first.json()["token"]
    assert says(service, "5" * 5000, token, "m2").status_code == 200  # so did 5,000 digits
    service.kill()
    service.start()  # recovery at start-up does not trip over them
    answer = says(service, "hvor er PPT?", token, "m3")
    assert answer.status_code == 200
    assert any("55 10 20 03" in r["text"] for r in answer.json()["replies"])
    assert "Traceback" not in service.log.read_text()


def test_sigkill_under_load_loses_nothing_and_sends_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "scripts/kill_under_load.py",
        *("--web", "3", "--sms", "3", "--telegram", "0", "--messages", "12"),
        *("--kills", "3", "--burst", "8"),
    ]
    command += ["--database-url", database_url]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    report = done.stdout
    assert "SIGKILLs: 3" in report, report + done.stderr[-3000:]
    for line in ("lost", "handled twice", "unanswered", "delivered twice", "never delivered"):
        assert f"  {line:<20} 0" in report, report
    assert done.returncode == 0, report


@pytest.mark.postgres
def test_two_replicas_behind_nginx_one_killed_again_and_again_lose_nothing_and_double_nothing(
    tmp_path: Path,
) -> None:
    """Two `inngang run` replicas on one PostgreSQL behind nginx; each is SIGKILLed in turn
    while web chat visitors and phones keep writing through the proxy."""
    import shutil

    from tests.conftest import fresh_postgres_url

    url = fresh_postgres_url()
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        if os.environ.get("CI"):
            pytest.fail("nginx is missing; .ci/run installs Debian's nginx")
        pytest.skip("nginx is not installed here (apt-get install nginx)")
    command = [
        sys.executable,
        "scripts/kill_under_load.py",
        *("--web", "3", "--sms", "3", "--telegram", "0", "--messages", "10"),
        *("--kills", "2", "--burst", "8", "--replicas", "2", "--database-url", url),
    ]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200, check=False
    )
    report = done.stdout
    assert "SIGKILLs: 2" in report and "2 replicas behind nginx" in report, (
        report + done.stderr[-3000:]
    )
    for line in ("lost", "handled twice", "unanswered", "delivered twice", "never delivered"):
        assert f"  {line:<20} 0" in report, report
    assert done.returncode == 0, report
