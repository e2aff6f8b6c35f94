"""Staff access nobody can abuse: wrong passwords slow down the guesser, never lock kari out;
on the command line `--as kari` needs kari's personal token (or her own password at a
prompt), so the audit log names who really acted; citizen text cannot drive the terminal."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot import staff_auth, staff_cli
from bot.app import App
from bot.cli import _parser
from bot.settings import PROJECT_ROOT
from bot.staff_auth import (
    BACKOFF_CAP_S,
    StaffSignIn,
    hash_token,
    issue_token,
    scrypt_hash,
    set_password,
)
from bot.store.models import AuditEntry, Case, StaffToken
from bot.web import create_web_app
from tests.journey import Citizen
from tests.staff_browser import StaffBrowser
from tests.ticks import Ticks

SHARED = "shared-console-password"
KARI = "karis-eget-passord-2026"




@pytest.fixture
def web(offline_app: App) -> Starlette:
    set_password(offline_app.staff_records, "kari", KARI, offline_app.router.clock())
    return create_web_app(offline_app, staff_password=SHARED)


@pytest.fixture
def monotonic(web: Starlette) -> Ticks:
    fake = Ticks()
    sign_in: StaffSignIn = web.state.console.sign_in
    sign_in.clock = fake
    return fake


@pytest.fixture
async def attacker(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with StaffBrowser(web, "203.0.113.66") as browser:
        yield browser


@pytest.fixture
async def kari(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with StaffBrowser(web, "198.51.100.10") as browser:
        yield browser


async def status(browser: StaffBrowser, staff: str, password: str) -> int:
    return (await browser.sign_in(staff, password)).status_code


# --- the console: back-off by address, no lockout -------------------------------------------


async def test_a_flood_of_wrong_passwords_does_not_keep_kari_out(
    attacker: StaffBrowser, kari: StaffBrowser, monotonic: Ticks
) -> None:
    statuses = [await status(attacker, "kari", f"gjett-{n}") for n in range(300)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    started = time.monotonic()
    assert await status(kari, "kari", KARI) == 303
    assert time.monotonic() - started < 2.0  # promptly: one argon2 check, no waiting
    # the attacker's address does not get in even with the right password while it waits
    assert await status(attacker, "kari", KARI) == 429


async def test_a_throttled_sign_in_says_how_long_to_wait(
    attacker: StaffBrowser, monotonic: Ticks
) -> None:
    for n in range(5):
        await status(attacker, "kari", f"g{n}")
    refused = await attacker.sign_in("kari", "g5")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "Vent 1 sekunder" in refused.text and 'value="kari"' in refused.text


async def test_the_back_off_grows_with_each_failure_and_is_capped(
    attacker: StaffBrowser, monotonic: Ticks
) -> None:
    for n in range(5):
        assert await status(attacker, "kari", f"g{n}") == 401
    waits = []
    for n in range(14):
        refused = await attacker.sign_in("kari", f"h{n}")
        assert refused.status_code == 429
        assert refused.headers["retry-after"].isdigit()
        waits.append(int(refused.headers["retry-after"]))
        monotonic.now += waits[-1]
        assert await status(attacker, "kari", f"h{n}") == 401
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert max(waits) == BACKOFF_CAP_S and waits == sorted(waits)


async def test_the_wait_is_per_address_and_failures_are_forgotten(
    attacker: StaffBrowser, kari: StaffBrowser, monotonic: Ticks
) -> None:
    for n in range(6):
        await status(attacker, "ahmed", f"g{n}")
    assert await status(attacker, "ahmed", SHARED) == 429
    assert await status(kari, "ahmed", SHARED) == 303
    monotonic.now += staff_auth.FORGET_AFTER_S + 1
    assert await status(attacker, "ahmed", SHARED) == 303


async def test_a_guess_spread_over_many_addresses_gets_fewer_free_tries_but_kari_gets_in(
    web: Starlette, kari: StaffBrowser, monotonic: Ticks
) -> None:
    """Failures for kari from many addresses put her id under pressure: an address that
    failed for her then waits after one failure, not five; a clean address never waits."""
    for n in range(staff_auth.ACCOUNT_PRESSURE):
        async with StaffBrowser(web, f"192.0.2.{n + 1}") as bot:
            assert await status(bot, "kari", f"g{n}") == 401
    async with StaffBrowser(web, "192.0.2.200") as bot:
        assert await status(bot, "kari", "g-a") == 401
        assert await status(bot, "kari", "g-b") == 429
    async with StaffBrowser(web, "192.0.2.1") as bot:  # had one failure already
        assert await status(bot, "kari", "g-c") == 429
    assert await status(kari, "kari", KARI) == 303


async def test_a_whole_ipv6_network_counts_as_one_address(web: Starlette) -> None:
    for n in range(5):
        async with StaffBrowser(web, f"2001:db8:1:2::{n + 1:x}") as bot:
            assert await status(bot, "kari", f"g{n}") == 401
    async with StaffBrowser(web, "2001:db8:1:2:ffff::9") as bot:
        assert await status(bot, "kari", "g") == 429
    async with StaffBrowser(web, "2001:db8:1:3::1") as other_network:
        assert await status(other_network, "kari", KARI) == 303


async def test_failures_are_logged_without_the_password(
    attacker: StaffBrowser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.staff_auth")
    for n in range(6):
        await attacker.sign_in("kari", f"hemmelig-gjetning-{n}")
    await attacker.sign_in("hemmelig-i-feil-felt", "x")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "console sign-in failed: address=203.0.113.66 staff=kari" in logged
    assert "console sign-in throttled" in logged and "retry_after=1s" in logged
    assert "hemmelig" not in logged  # neither a password nor a name that is no staff id


# --- the console: own passwords, argon2, accounts --------------------------------------------


async def test_a_los_with_her_own_password_must_use_it_and_no_one_else_can(
    kari: StaffBrowser, offline_app: App, tmp_path: Path
) -> None:
    assert await status(kari, "kari", KARI) == 303
    assert await status(kari, "kari", SHARED) == 401  # the start password: no longer hers
    assert await status(kari, "ahmed", SHARED) == 303  # ahmed has none of his own yet
    assert await status(kari, "ahmed", KARI) == 401
    assert await status(kari, "ukjent", SHARED) == 401
    dump = "\n".join(sqlite3.connect(tmp_path / "inngang.db").iterdump())
    assert KARI not in dump and "$argon2id$" in dump and "scrypt$" not in dump


async def test_the_password_is_checked_once_at_sign_in_not_on_every_page(
    kari: StaffBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = staff_auth.verify_password

    def counting(password: str, stored: str) -> bool:
        checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(staff_auth, "verify_password", counting)
    assert await status(kari, "kari", KARI) == 303
    for _ in range(3):
        assert (await kari.get("/staff")).status_code == 200
    assert checked == [KARI]


async def test_an_old_scrypt_password_still_works_and_is_upgraded_to_argon2(
    web: Starlette, kari: StaffBrowser, offline_app: App
) -> None:
    records = offline_app.staff_records
    records.save_password_hash(
        "ahmed", scrypt_hash("ahmeds-gamle-passord"), offline_app.router.clock()
    )
    assert await status(kari, "ahmed", "feil-passord-her") == 401
    assert (records.password_hash("ahmed") or "").startswith("scrypt$")  # a failure changes nothing
    assert await status(kari, "ahmed", "ahmeds-gamle-passord") == 303
    upgraded = records.password_hash("ahmed") or ""
    assert upgraded.startswith("$argon2id$")
    assert staff_auth.verify_password("ahmeds-gamle-passord", upgraded)
    assert ("ahmed", "upgrade_password", None) in audit_rows(offline_app)
    async with StaffBrowser(web, "10.9.9.9") as again:
        assert await status(again, "ahmed", "ahmeds-gamle-passord") == 303


async def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    kari: StaffBrowser, offline_app: App
) -> None:
    assert await status(kari, "kari", KARI) == 303
    assert (await kari.get("/staff")).status_code == 200
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    assert accounts.disable("kari", offline_app.router.clock())
    assert (await kari.client.get("/staff")).status_code == 303  # signed out at once
    assert await status(kari, "kari", KARI) == 401
    assert ("operator", "staff_disable", "kari") in audit_rows(offline_app)


async def test_setting_a_new_password_ends_the_other_sessions(
    web: Starlette, kari: StaffBrowser, offline_app: App
) -> None:
    assert await status(kari, "kari", KARI) == 303
    async with StaffBrowser(web, "10.2.2.2") as phone:
        assert await status(phone, "kari", KARI) == 303
        page = await kari.get("/staff/password")
        assert '<label for="new">' in page.text
        changed = await kari.post(
            "/staff/password",
            {"current": KARI, "new": "karis-nye-passord-2027", "again": "karis-nye-passord-2027"},
        )
        assert changed.status_code == 303
        assert (await kari.get("/staff")).status_code == 200  # this one goes on
        assert (await phone.client.get("/staff")).status_code == 303  # the other ended
        assert await status(phone, "kari", KARI) == 401
        assert await status(phone, "kari", "karis-nye-passord-2027") == 303


async def test_demo_accounts_get_start_passwords_printed_when_running_on_the_example_data(
    offline_app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.web import start_passwords

    set_password(offline_app.staff_records, "kari", KARI, offline_app.router.clock())
    start = start_passwords(offline_app)
    printed = capsys.readouterr().out
    assert "kari" not in start.per_account  # she has her own
    assert set(start.per_account) == {"ahmed", "leder", "per"}
    assert "Per (PPT) (service, ppt)" in printed  # the demo service member (familieteam)
    for staff_id, password in start.per_account.items():
        assert password in printed and staff_id in printed
        assert len(password) >= 16
    web = create_web_app(offline_app, staff_password=start)
    async with StaffBrowser(web) as browser:
        assert await status(browser, "ahmed", start.per_account["ahmed"]) == 303
        page = await browser.get("/staff")
        assert "startpassord" in page.text  # she is asked to set her own
        assert await status(browser, "ahmed", start.per_account["leder"]) == 401


def test_staff_are_added_and_disabled_from_the_shell(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("pia-sitt-passord-123\n"))
    assert (
        cli(
            offline_app,
            "staff",
            "add",
            "pia",
            "--name",
            "Pia PPT",
            "--role",
            "service",
            "--service",
            "ppt",
            "--stdin",
        )
        == 0
    )
    assert "pia: added (service, ppt)" in capsys.readouterr().err
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    pia = accounts.active("pia")
    assert pia is not None and pia.role == "service" and pia.service == "ppt" and pia.has_password
    for bad in (
        ("staff", "add", "Per!", "--name", "x", "--role", "los"),
        ("staff", "add", "ola", "--name", "Ola", "--role", "service"),
        ("staff", "add", "ola", "--name", "Ola", "--role", "los", "--service", "ppt"),
    ):
        assert cli(offline_app, *bad) == 1, bad
    assert "--role service needs --service" in capsys.readouterr().err
    assert cli(offline_app, "staff", "disable", "pia") == 0
    assert accounts.active("pia") is None
    assert cli(offline_app, "staff", "disable", "nobody") == 1
    assert cli(offline_app, "staff", "list") == 0
    listed = capsys.readouterr().out
    assert "pia" in listed and "disabled" in listed and "kari" in listed
    actions = [(a, d) for _, a, d in audit_rows(offline_app) if a.startswith("staff_")]
    assert actions == [("staff_add", "pia (service, ppt)"), ("staff_disable", "pia")]


def test_a_disabled_account_cannot_act_on_the_command_line(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_for(offline_app, "ahmed")
    cli(offline_app, "staff", "disable", "ahmed")
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli(offline_app, "queue", "--json", "--as", "ahmed") == 2  # the token ended too
    assert "not a valid staff token" in capsys.readouterr().err


def test_a_service_member_or_an_admin_cannot_work_the_queue_from_the_shell(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("ida", "Ida Admin", "admin", None, offline_app.router.clock())
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(offline_app, "ida"))
    assert cli(offline_app, "queue", "--json", "--as", "ida") == 1
    assert "may not work_queue" in capsys.readouterr().err


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


def test_an_operator_adds_and_disables_staff_from_the_shell(tmp_path: Path) -> None:
    added = shell(tmp_path, "staff", "add", "ola", "--name", "Ola Los", "--role", "los")
    assert added.returncode == 0, added.stderr
    assert "ola: added (los); set a password with `inngang staff password ola`" in added.stderr
    listed = shell(tmp_path, "staff", "list")
    assert re.search(r"^ola\s+los\s+-\s+active\s+no password yet\s+Ola Los$", listed.stdout, re.M)
    assert re.search(r"^kari\s+los", listed.stdout, re.M)  # the roster seeded the others
    disabled = shell(tmp_path, "staff", "disable", "ola")
    assert disabled.returncode == 0 and "ola: disabled" in disabled.stderr
    refused = shell(tmp_path, "staff", "password", "ola", "--stdin")
    assert refused.returncode == 1 and "unknown staff id ola" in refused.stderr
