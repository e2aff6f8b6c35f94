"""`inngang run` serves on uvloop's event loop and parses HTTP with httptools where they are
installed (both are dependencies on Linux): less of the time a citizen waits is spent in
the loop and in parsing her request (measured: 0.3 ms of the application's 3 ms a message
at one client, `scripts/bench_e2e.py`)."""

from __future__ import annotations

import asyncio

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.cli import serve_on_fastest_loop


def test_the_server_runs_on_uvloop() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    async def answer() -> int:
        return 7 if (await loop_module()).startswith("uvloop") else 0

    assert serve_on_fastest_loop(answer()) == 7


def test_requests_are_parsed_by_httptools() -> None:
    config = uvicorn.Config(Starlette(), log_config=None)  # as bot.web.serve builds it
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
