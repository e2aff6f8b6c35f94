"""Staff access nobody can abuse: wrong passwords slow down the guesser, never lock kari out;
on the command line `--as kari` needs kari's personal token (or her own password at a
prompt), so the audit log names who really acted; citizen text cannot drive the terminal."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot import staff_auth, staff_cli
from bot.app import App
from bot.cli import _parser
from bot.settings import PROJECT_ROOT
from bot.staff_auth import BACKOFF_CAP_S, StaffSignIn, hash_token, issue_token, set_password
from bot.store.models import AuditEntry, Case, StaffToken
from bot.web import create_web_app
from tests.journey import Citizen

SHARED = "shared-console-password"
KARI = "karis-eget-passord-2026"
ORIGIN = "http://inngang.local"


class Clock:
    """Monotonic seconds the test moves on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def auth(staff: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{staff}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def web(offline_app: App) -> Starlette:
    set_password(offline_app.staff_records, "kari", KARI, offline_app.router.clock())
    return create_web_app(offline_app, staff_password=SHARED)


@pytest.fixture
def monotonic(web: Starlette) -> Clock:
    fake = Clock()
    sign_in: StaffSignIn = web.state.console.sign_in
    sign_in.clock = fake
    return fake


def client_at(web: Starlette, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web, client=(address, 40000)), base_url=ORIGIN
    )


@pytest.fixture
async def attacker(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_at(web, "203.0.113.66") as client:
        yield client


@pytest.fixture
async def kari(web: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_at(web, "198.51.100.10") as client:
        yield client


# --- the console: back-off by address, no lockout -------------------------------------------


async def test_a_flood_of_wrong_passwords_does_not_keep_kari_out(
    attacker: httpx.AsyncClient, kari: httpx.AsyncClient, monotonic: Clock
) -> None:
    statuses = [
        (await attacker.get("/staff", headers=auth("kari", f"gjett-{n}"))).status_code
        for n in range(300)
    ]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    started = time.monotonic()
    assert (await kari.get("/staff", headers=auth("kari", KARI))).status_code == 200
    assert time.monotonic() - started < 2.0  # promptly: one scrypt, no waiting
    # the attacker's address does not get in even with the right password while it waits
    assert (await attacker.get("/staff", headers=auth("kari", KARI))).status_code == 429


async def test_the_back_off_grows_with_each_failure_and_is_capped(
    attacker: httpx.AsyncClient, monotonic: Clock
) -> None:
    for n in range(5):
        assert (await attacker.get("/staff", headers=auth("kari", f"g{n}"))).status_code == 401
    waits = []
    for n in range(14):
        refused = await attacker.get("/staff", headers=auth("kari", f"h{n}"))
        assert refused.status_code == 429
        assert refused.headers["retry-after"].isdigit()
        waits.append(int(refused.headers["retry-after"]))
        monotonic.now += waits[-1]
        assert (await attacker.get("/staff", headers=auth("kari", f"h{n}"))).status_code == 401
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert max(waits) == BACKOFF_CAP_S and waits == sorted(waits)


async def test_the_wait_is_per_address_and_failures_are_forgotten(
    attacker: httpx.AsyncClient, kari: httpx.AsyncClient, monotonic: Clock
) -> None:
    for n in range(6):
        await attacker.get("/staff", headers=auth("ahmed", f"g{n}"))
    assert (await attacker.get("/staff", headers=auth("ahmed", SHARED))).status_code == 429
    assert (await kari.get("/staff", headers=auth("ahmed", SHARED))).status_code == 200
    monotonic.now += staff_auth.FORGET_AFTER_S + 1
    assert (await attacker.get("/staff", headers=auth("ahmed", SHARED))).status_code == 200


async def test_a_guess_spread_over_many_addresses_gets_fewer_free_tries_but_kari_gets_in(
    web: Starlette, kari: httpx.AsyncClient, monotonic: Clock
) -> None:
    """Failures for kari from many addresses put her id under pressure: an address that
    failed for her then waits after one failure, not five; a clean address never waits."""
    for n in range(staff_auth.ACCOUNT_PRESSURE):
        async with client_at(web, f"192.0.2.{n + 1}") as bot:
            assert (await bot.get("/staff", headers=auth("kari", f"g{n}"))).status_code == 401
    async with client_at(web, "192.0.2.200") as bot:
        assert (await bot.get("/staff", headers=auth("kari", "g-a"))).status_code == 401
        assert (await bot.get("/staff", headers=auth("kari", "g-b"))).status_code == 429
    async with client_at(web, "192.0.2.1") as bot:  # had one failure already
        assert (await bot.get("/staff", headers=auth("kari", "g-c"))).status_code == 429
    assert (await kari.get("/staff", headers=auth("kari", KARI))).status_code == 200


async def test_a_whole_ipv6_network_counts_as_one_address(web: Starlette) -> None:
    for n in range(5):
        async with client_at(web, f"2001:db8:1:2::{n + 1:x}") as bot:
            assert (await bot.get("/staff", headers=auth("kari", f"g{n}"))).status_code == 401
    async with client_at(web, "2001:db8:1:2:ffff::9") as bot:
        assert (await bot.get("/staff", headers=auth("kari", "g"))).status_code == 429
    async with client_at(web, "2001:db8:1:3::1") as other_network:
        assert (await other_network.get("/staff", headers=auth("kari", KARI))).status_code == 200


async def test_failures_are_logged_without_the_password(
    attacker: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.staff_auth")
    for n in range(6):
        await attacker.get("/staff", headers=auth("kari", f"hemmelig-gjetning-{n}"))
    await attacker.get("/staff", headers=auth("hemmelig-i-feil-felt", "x"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "console sign-in failed: address=203.0.113.66 staff=kari" in logged
    assert "console sign-in throttled" in logged and "retry_after=1s" in logged
    assert "hemmelig" not in logged  # neither a password nor a name off the roster


# --- the command line: personal tokens -------------------------------------------------------


def cli(app: App, *args: str) -> int:
    return staff_cli.run(app, _parser().parse_args(list(args)))


def audit_rows(app: App) -> list[tuple[str, str, str | None]]:
    with app.store.sessions() as session:
        return [(a.actor, a.action, a.detail) for a in session.scalars(select(AuditEntry))]


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(staff_cli.TOKEN_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def token_for(app: App, staff: str) -> str:
    return issue_token(app.staff_records, staff, app.router.clock())


@pytest.mark.usefixtures("no_terminal")
def test_acting_as_kari_without_her_token_is_refused_and_not_audited(
    offline_app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ("queue", "--json", "--as", "kari"),
        ("queue", "claim", "K-AAAAAA", "--as", "kari"),
        ("duty", "off", "--as", "kari"),
        ("stats", "--as", "kari"),
        ("queue", "notifications", "--as", "kari"),
    ):
        assert cli(offline_app, *args) == 2, args
        error = capsys.readouterr().err
        assert "not signed in" in error and "INNGANG_STAFF_TOKEN" in error
    assert not [row for row in audit_rows(offline_app) if row[0] == "kari"]


def test_with_her_token_kari_acts_and_the_audit_log_names_her(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(offline_app, "kari"))
    assert cli(offline_app, "queue", "--json", "--as", "kari") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli(offline_app, "queue", "--json") == 0  # the token says who, without --as
    assert cli(offline_app, "stats", "--json", "--as", "kari") == 0
    assert [r[:2] for r in audit_rows(offline_app)] == [
        ("operator", "issue_token"),  # issuing the token is audited as the operator's
        ("kari", "list_queue"),
        ("kari", "list_queue"),
        ("kari", "stats"),
    ]
    # kari's token does not make anyone else: ahmed is refused
    assert cli(offline_app, "queue", "--json", "--as", "ahmed") == 2
    assert "not ahmed's token" in capsys.readouterr().err
    assert not [row for row in audit_rows(offline_app) if row[0] == "ahmed"]


def test_a_new_token_replaces_the_old_and_an_invented_one_is_refused(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = token_for(offline_app, "kari")
    token_for(offline_app, "kari")
    for token in (old, "kari", "x" * 43, ""):
        monkeypatch.setenv(staff_cli.TOKEN_ENV, token)
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        assert cli(offline_app, "queue", "--as", "kari") == 2, token
    assert "not signed in" in capsys.readouterr().err


def test_without_a_token_a_terminal_asks_for_her_own_password(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    set_password(offline_app.staff_records, "kari", KARI, offline_app.router.clock())
    monkeypatch.delenv(staff_cli.TOKEN_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(staff_cli, "WRONG_PASSWORD_PAUSE_S", 0.0)
    typed: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt: typed.pop(0))
    typed.append("feil-passord-helt")
    assert cli(offline_app, "duty", "status", "--as", "kari") == 2
    assert "wrong password for kari" in capsys.readouterr().err
    typed.append(KARI)
    assert cli(offline_app, "duty", "off", "--as", "kari") == 0
    typed.append(KARI)  # ahmed has no own password: kari's does not make her ahmed
    assert cli(offline_app, "duty", "off", "--as", "ahmed") == 2
    assert ("kari", "duty", "off") in audit_rows(offline_app)
    assert not [row for row in audit_rows(offline_app) if row[0] == "ahmed"]


def test_duty_changes_are_audited_with_who_and_on_or_off(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(offline_app, "ahmed"))
    assert cli(offline_app, "duty", "on", "--as", "ahmed") == 0
    assert "ahmed" in json.loads(capsys.readouterr().out)["on_duty"]
    assert cli(offline_app, "duty", "off", "--as", "ahmed") == 0
    assert cli(offline_app, "duty", "status", "--as", "ahmed") == 0
    duty = [r for r in audit_rows(offline_app) if r[1] == "duty"]
    assert duty == [("ahmed", "duty", "on"), ("ahmed", "duty", "off")]


async def test_citizen_text_cannot_drive_the_los_terminal(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the chat lets through (a one-byte CSI, bidi overrides, line breaks), and what
    older rows or other paths may hold (ANSI escapes), never reaches the terminal."""
    through_the_chat = "og\u202eslett\u202c\nkari: falsk linje\x9b1A hvem kan hjelpe med lekser?"
    stored = "hei\x1b[2J\x1b[31mRØD\x1b[0m\x1b]0;tittel\x07 der\x07"
    citizen = Citizen(offline_app, "nasty", channel="web")
    await citizen.says("/anonym")
    await citizen.says(through_the_chat)
    [item] = offline_app.queue.open_cases("kari")
    with offline_app.store.sessions.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == item.reference)).one()
        case.description = json.dumps([*json.loads(case.description), stored])
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(offline_app, "kari"))
    capsys.readouterr()

    assert cli(offline_app, "queue", "show", item.reference, "--as", "kari") == 0
    shown = capsys.readouterr().out
    assert "ogslett kari: falsk linje hvem kan hjelpe med lekser?" in shown
    assert "heiRØD der" in shown
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "tittel", "[2J"):
        assert bad not in shown, repr(bad)
    assert all(line.startswith(("K-", "  ")) for line in shown.splitlines())  # no fake lines

    assert cli(offline_app, "queue", "--json", "show", item.reference, "--as", "kari") == 0
    raw = capsys.readouterr().out
    assert "\x1b" not in raw and "\u202e" not in raw and "\x9b" not in raw
    assert json.loads(raw)["description"][-1] == stored  # JSON escapes it and loses nothing


# --- from the shell: the token is issued by an operator, read from the environment -----------


def shell(tmp_path: Path, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "INNGANG_DATABASE_URL": f"sqlite:///{tmp_path / 'inngang.db'}",
        "INNGANG_SECRET_KEY": "test-secret",
        "INNGANG_NLU_MANAGE_SERVER": "false",
    }
    env.pop(staff_cli.TOKEN_ENV, None)
    if token is not None:
        env[staff_cli.TOKEN_ENV] = token
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )


def test_an_operator_issues_a_token_that_is_stored_only_as_a_hash(tmp_path: Path) -> None:
    refused = shell(tmp_path, "queue", "--json", "--as", "kari")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "inngang staff token kari" in refused.stderr

    issued = shell(tmp_path, "staff", "token", "kari")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 32

    listed = shell(tmp_path, "queue", "--json", "--as", "kari", token=token)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []

    db = sqlite3.connect(tmp_path / "inngang.db")
    dump = "\n".join(db.iterdump())
    assert token not in dump and hash_token(token) in dump
    assert db.execute(f"select count(*) from {StaffToken.__tablename__}").fetchone() == (1,)
    actors = db.execute("select actor, action, detail from audit_log order by id").fetchall()
    assert actors == [
        ("operator", "issue_token", "for kari"),
        ("kari", "list_queue", "0 cases"),
    ]
