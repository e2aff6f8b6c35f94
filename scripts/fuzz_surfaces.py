"""Fuzz every surface with the bad-input catalogue and print what crashed.

Usage:
  .venv/bin/python scripts/fuzz_surfaces.py [--postgres URL] [--examples N] [--show]

Runs tests/fuzz_inputs.py's classes (and a hypothesis pass of generated text and JSON)
against the web chat API, the SMS webhook, the Telegram webhook (through python-telegram-bot
against the fake Bot API), the staff console, `inngang chat --jsonl` (one process) and the
command line, each on a fresh temporary SQLite database (or, with --postgres, a PostgreSQL
test database whose public schema is dropped first), and prints per surface the classes
tried and the crashes: a 5xx, an exception, a traceback in a response or on stderr, an
error logged, a message set aside or answered with the "something went wrong" reply, a
process that died, or a next good message left unanswered. --show lists each crash.
Exit code 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's bot and tests, whichever venv runs it

from hypothesis import given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

from bot.app import App, build_app  # noqa: E402
from tests import fuzz_drivers as drivers  # noqa: E402
from tests.conftest import app_settings  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.fuzz_inputs import any_text, json_bytes, json_values, objects_with  # noqa: E402


def fresh_app(directory: Path, postgres: str | None) -> App:
    if postgres:
        from sqlalchemy import make_url, text

        from bot.store.db import make_engine

        if "test" not in (make_url(postgres).database or ""):
            raise SystemExit("--postgres must name a test database (its schema is dropped)")
        engine = make_engine(postgres)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    clock = FakeClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    settings = app_settings(directory, database_url=postgres)
    return build_app(settings, clock=clock, secret_file=directory / "secret.key")


def generated_web(app: App, examples: int) -> drivers.Report:
    """A hypothesis pass: generated bodies to /api/chat, each followed by a good message."""
    report = drivers.Report("web chat API (generated)")

    async def run(body: bytes) -> None:
        async with drivers.web_client(app) as client:
            harness = drivers.WebHarness(client)
            with drivers.watching_logs() as logs:
                name = f"generated #{len(report.tried) + 1}"

                async def attempt() -> str | None:
                    return await harness.answered(await harness.chat(body))

                await drivers.probe(report, logs, name, attempt)

    @hypothesis_settings(max_examples=examples, deadline=None, database=None)
    @given(objects_with({"text": any_text, "button": any_text, "id": any_text}) | json_values)
    def one(value: object) -> None:
        asyncio.run(run(json_bytes(value)))

    one()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL test database URL instead of SQLite")
    parser.add_argument("--examples", type=int, default=50, help="hypothesis examples")
    parser.add_argument("--show", action="store_true", help="list each crash")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the drivers watch the logs themselves
    reports: list[drivers.Report] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)

        def app_in(name: str) -> App:
            (base / name).mkdir()
            return fresh_app(base / name, args.postgres)

        reports.append(asyncio.run(drivers.fuzz_web(app_in("web"))))
        reports.append(generated_web(app_in("generated"), args.examples))
        reports.append(asyncio.run(drivers.fuzz_sms(app_in("sms"))))
        reports.append(asyncio.run(drivers.fuzz_telegram(app_in("telegram"))))
        reports.append(asyncio.run(drivers.fuzz_console(app_in("console"))))
        (base / "jsonl").mkdir()
        url = args.postgres or f"sqlite:///{base / 'jsonl' / 'inngang.db'}"
        if args.postgres:
            fresh_app(base / "jsonl", args.postgres)
        reports.append(drivers.fuzz_jsonl(url))
        (base / "cli").mkdir()
        url = args.postgres or f"sqlite:///{base / 'cli' / 'inngang.db'}"
        reports.append(asyncio.run(drivers.fuzz_cli(url)))
    print(f"{'surface':28} {'classes tried':>13} {'crashes':>8}")
    for report in reports:
        print(f"{report.surface:28} {len(set(report.tried)):13} {len(report.crashes):8}")
    total = sum(len(set(r.tried)) for r in reports)
    crashes = sum(len(r.crashes) for r in reports)
    print(f"{'total':28} {total:13} {crashes:8}   ({time.monotonic() - started:.0f} s)")
    if args.show:
        for report in reports:
            for name, reason in report.crashes.items():
                print(f"  {report.surface}: {name}: {reason}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
