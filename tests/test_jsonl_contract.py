"""The --jsonl contract used by evaluations: one JSON object in, exactly one out, per line;
nothing else on stdout. Run through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT
from tests.conftest import DEAD_NLU_URL

KEYS = {"user", "replies", "language", "topic", "crisis", "handover"}


def run_jsonl(tmp_path: Path, lines: list[str], *extra: str) -> list[dict[str, object]]:
    env = {
        **os.environ,
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "INNGANG_NLU_URL": DEAD_NLU_URL,
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "contract-test",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--jsonl", *extra],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]


def test_each_line_in_gives_exactly_one_line_out(tmp_path: Path) -> None:
    lines = [
        json.dumps({"user": "u1", "text": "hvor er helsestasjonen?"}),
        json.dumps({"user": "u2", "text": "where is the health clinic?"}),
        json.dumps({"user": "u3", "text": "jeg vil ikke leve mer"}),
        "this is not json",
        json.dumps({"user": "u1", "text": "takk!"}),
    ]
    out = run_jsonl(tmp_path, lines)
    assert len(out) == len(lines)
    for obj in out:
        assert set(obj) >= KEYS
        assert isinstance(obj["replies"], list) and obj["replies"]
    first, english, crisis, broken, thanks = out
    assert first["user"] == "u1" and first["topic"] == "helsestasjon" and first["language"] == "nb"
    assert "55 10 20 01" in first["replies"][0]  # the configured phone  # type: ignore[index]
    assert english["language"] == "en" and english["topic"] == "helsestasjon"
    assert crisis["crisis"] is True and crisis["topic"] == "psykisk_helse_rus"
    assert "113" in crisis["replies"][0]  # type: ignore[index]
    assert broken["error"] == "invalid_json" and broken["user"] is None
    assert thanks["topic"] is None and thanks["crisis"] is False


def test_a_los_reply_reaches_the_citizen_on_their_next_line(tmp_path: Path) -> None:
    env_db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    start = [
        json.dumps({"user": "teen", "text": "/anonym"}),
        json.dumps(
            {"user": "teen", "text": "kan jeg snakke med helsesykepleier uten at mamma vet?"}
        ),
    ]
    out = run_jsonl(tmp_path, start)
    assert out[-1]["handover"] is True
    env = {
        **os.environ,
        "INNGANG_DATABASE_URL": env_db,
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "contract-test",
    }

    token = (
        subprocess.run(  # an operator on the server issues kari's personal token
            [sys.executable, "-m", "bot.cli", "staff", "token", "kari"],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        .stdout.strip()
        .split()[-1]
    )
    env["INNGANG_STAFF_TOKEN"] = token

    def staff(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    [case] = json.loads(staff("queue", "--json", "--as", "kari"))
    assert case["anonymous"] is True and case["channel"] == "jsonl"
    staff("queue", "claim", case["reference"], "--as", "kari")
    staff(
        "queue",
        "reply",
        case["reference"],
        "Ja, det kan du. Hun har taushetsplikt.",
        "--as",
        "kari",
    )
    later = run_jsonl(tmp_path, [json.dumps({"user": "teen", "text": "takk"})])
    assert later[0] == {
        "user": "teen",
        "replies": ["Ja, det kan du. Hun har taushetsplikt."],
        "from": "los",
    }
    assert set(later[1]) >= KEYS
