"""Logs for a collector: one JSON object per line (UTC time, level, logger, message, extra
fields), never a citizen's text, not even inside an exception's message."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.log_format import JsonLines, format_from_env
from bot.settings import PROJECT_ROOT, ConfigError, load_settings
from tests.conftest import DEAD_NLU_URL

CITIZEN = "Mamma slår meg når hun drikker, og jeg heter Sara Nilsen"


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("bot.router", logging.WARNING, __file__, 1, "handled %s", ("x",), None)
    entry.__dict__.update(extra)
    return entry


def test_a_line_is_one_json_object_with_utc_time_level_logger_message_and_extras() -> None:
    line = JsonLines().format(record(channel="sms", attempts=2))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "bot.router"
    assert entry["message"] == "handled x"
    assert entry["channel"] == "sms" and entry["attempts"] == 2
    assert entry["time"].endswith("Z")
    moment = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert moment.tzinfo == UTC and abs((datetime.now(UTC) - moment).total_seconds()) < 60
    assert set(entry) == {"time", "level", "logger", "message", "channel", "attempts"}


def test_an_exception_gives_its_type_and_frames_never_its_message() -> None:
    try:
        raise ValueError(f"could not store {CITIZEN!r}")
    except ValueError:
        entry = record()
        entry.exc_info = sys.exc_info()
    line = JsonLines().format(entry)
    parsed = json.loads(line)
    assert parsed["error"] == "ValueError"
    assert "test_log_format.py" in parsed["stack"]
    assert "Sara" not in line and "Mamma" not in line


def test_the_format_comes_from_the_config_or_the_environment(tmp_path: Path) -> None:
    config = PROJECT_ROOT / "config.yml"
    assert load_settings(config, env={}).logging.format == "text"
    assert load_settings(config, env={"INNGANG_LOG_FORMAT": "json"}).logging.format == "json"
    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_settings(config, env={"INNGANG_LOG_FORMAT": "xml"})
    assert format_from_env({"INNGANG_LOG_FORMAT": "JSON"}) == "json"
    assert format_from_env({}) == "text"


def test_the_command_line_logs_json_lines_and_no_citizen_text(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    text = (PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")
    assert text.count("logging:\n  format: text\n") == 1
    config.write_text(text.replace("logging:\n  format: text\n", "logging:\n  format: json\n"))
    env = {
        **os.environ,
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "INNGANG_NLU_URL": DEAD_NLU_URL,
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_SECRET_KEY": "log-test",
    }
    env.pop("INNGANG_LOG_FORMAT", None)
    lines = [
        json.dumps({"user": "u1", "text": CITIZEN}),
        json.dumps({"user": "u1", "text": "ring meg på 912 34 567"}),
    ]
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(config), "-v", "chat", "--jsonl", "--offline"],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=180,
        check=True,
    )
    logged = [json.loads(line) for line in completed.stderr.splitlines() if line.strip()]
    assert any(
        entry["logger"] == "bot.router" and entry["message"].startswith("handled ")
        for entry in logged
    ), completed.stderr[-2000:]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in logged)
    for secret in ("Mamma", "Sara", "Nilsen", "912 34 567", "u1"):
        assert secret not in completed.stderr
