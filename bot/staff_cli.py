"""`inngang queue …`, `inngang duty …`, `inngang audit`, `inngang consents`: the staff side
on the command line, for scripts and evaluations (the web console does the same).

A staff action names who does it (`--as kari`) and proves it, so the audit log is true: the
staff member's personal token in INNGANG_STAFF_TOKEN (an operator on the server issues it
with `inngang staff token kari`; only its hash is stored), or, with no token set and a
terminal on standard input, kari's own password at a prompt. Without either the command is
refused (exit code 2) and nothing is done or audited in kari's name. The operator commands
(`audit`, `consents`, `retention`, `queue escalate`, `staff password|token`) need access to
the server and its database, and name no staff member.

Citizen text printed to the terminal is cleaned of control characters, ANSI escapes and
bidi overrides (a message cannot move the cursor, recolour or reorder the screen); JSON
output escapes them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import App
from bot.archive.exporter import CaseExporter
from bot.cli_args import whole_number
from bot.monthly import SMALL
from bot.notifications import is_urgent
from bot.queue import QueueError
from bot.settings import ALL_AREAS, DEFAULT_AREA, STAFF_ID_PATTERN, STAFF_ROLES
from bot.staff import Permission, UnknownStaff, may
from bot.staff_auth import (
    WeakPassword,
    issue_token,
    own_password_matches,
    set_password,
    token_owner,
)
from bot.stats import gains, period_start
from bot.store.models import DeliveryStatus
from bot.store.notices import DeliveryState
from bot.store.retention import run_retention
from flows.types import N_

TOKEN_ENV = "INNGANG_STAFF_TOKEN"
MAX_DAYS = 36_500
WRONG_PASSWORD_PAUSE_S = 1.0
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erasing
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window titles, hyperlinks
    r"|[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC strings
    r"|[ -/]*[0-~]?)"  # two- and three-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the one-byte CSI
)
_LINE_BREAKS = re.compile("[\n\r\t\v\f\x85\u2028\u2029]+")
_UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_CONTROLS = re.compile(f"[{_UNSAFE}]")


class NotSignedIn(Exception):
    """A staff action without the staff member's token or password."""


def terminal_safe(text: object) -> str:
    """Text for the terminal: no control characters, ANSI escapes or bidi overrides; line
    breaks and tabs become one space (a message cannot fake the next line)."""
    cleaned = _ESCAPE_SEQUENCE.sub("", str(text))
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", cleaned))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the staff commands."""
    queue = sub.add_parser("queue", help="the on-duty los queue (list, show, claim, reply, close)")
    queue.add_argument("--json", action="store_true", help="machine-readable output")
    queue.add_argument("--as", dest="staff", default=None, help="staff id from the roster")
    qsub = queue.add_subparsers(dest="queue_command")
    for name in ("show", "claim"):
        action = qsub.add_parser(name)
        action.add_argument("reference")
        action.add_argument("--as", dest="staff_sub", default=None)
    reply = qsub.add_parser("reply")
    reply.add_argument("reference")
    reply.add_argument("text")
    reply.add_argument("--as", dest="staff_sub", default=None)
    note = qsub.add_parser(
        "note", help="add a note to the case log (stafettlogg), never sent to the citizen"
    )
    note.add_argument("reference")
    note.add_argument("text")
    note.add_argument("--as", dest="staff_sub", default=None)
    invite = qsub.add_parser(
        "invite",
        help="bring a service member into a case you hold (familieteam): they read it and "
        "write notes; needs the family's consent to share with the services",
    )
    invite.add_argument("reference")
    invite.add_argument("--service", default=None, help="the service id (ppt, barnevern, ...)")
    invite.add_argument(
        "--member",
        default=None,
        help="the service member's staff id (needed when the service has several)",
    )
    invite.add_argument("--as", dest="staff_sub", default=None)
    uninvite = qsub.add_parser("uninvite", help="take a service member out of a case")
    uninvite.add_argument("reference")
    uninvite.add_argument("--member", required=True, help="the service member's staff id")
    uninvite.add_argument("--as", dest="staff_sub", default=None)
    close = qsub.add_parser("close")
    close.add_argument("reference")
    close.add_argument("--outcome", required=True)
    close.add_argument("--as", dest="staff_sub", default=None)
    transfer = qsub.add_parser("transfer")
    transfer.add_argument("reference")
    transfer.add_argument("--to", required=True)
    transfer.add_argument("--as", dest="staff_sub", default=None)
    export = qsub.add_parser(
        "export",
        help="the case for the archive (journalføring): a ZIP with <REF>.pdf (PDF/A) and "
        "<REF>.xml (Noark 5-style metadata); by the los who holds it, or anyone once closed",
    )
    export.add_argument("reference")
    export.add_argument("--out", default=".", help="the folder to write <REF>.zip to (default .)")
    export.add_argument("--as", dest="staff_sub", default=None)
    qsub.add_parser("escalate", help="notify about cases waiting too long (run by `inngang run`)")
    notes = qsub.add_parser(
        "notifications", help="your new notices (new cases, escalations) and their delivery"
    )
    notes.add_argument("--as", dest="staff_sub", default=None)

    duty = sub.add_parser("duty", help="switch yourself on or off duty for today")
    duty.add_argument("state", choices=["on", "off", "status"])
    duty.add_argument("--as", dest="staff", default=None)
    sub.add_parser("audit", help="the audit log: who read or did what, when")
    consents = sub.add_parser("consents", help="consent records with the text version shown")
    consents.add_argument("--json", action="store_true")
    sub.add_parser("retention", help="delete what is past its retention period, now")
    staff = sub.add_parser("staff", help="staff accounts for the console")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser(
        "add",
        help="add a staff account (or update one: name, role, service; a disabled one is "
        "enabled again)",
    )
    add.add_argument("staff_id", help="lower-case letters, digits, '.', '_' or '-'")
    add.add_argument("--name", required=True, help="the name colleagues know them by")
    add.add_argument("--role", required=True, choices=list(STAFF_ROLES))
    add.add_argument("--service", default=None, help="for --role service: the service id")
    add.add_argument("--email", default=None, help="where their notices go by e-mail")
    add.add_argument("--phone", default=None, help="where urgent notices also go by SMS (+47...)")
    add.add_argument(
        "--area", default=None, help="with areas: the area whose cases they see (or all)"
    )
    add.add_argument(
        "--stdin", action="store_true", help="also set their password, read from standard input"
    )
    disable = staff_sub.add_parser(
        "disable", help="end a staff account: no sign-in, its sessions and token end at once"
    )
    disable.add_argument("staff_id")
    staff_sub.add_parser("list", help="the staff accounts, their roles and whether disabled")
    password = staff_sub.add_parser("password", help="set a staff member's own password")
    password.add_argument("staff_id")
    password.add_argument("--stdin", action="store_true", help="read it from standard input")
    token = staff_sub.add_parser(
        "token",
        help="print a new personal token for a staff member's command-line actions "
        f"(they set {TOKEN_ENV} to it); it replaces the earlier one",
    )
    token.add_argument("staff_id")
    token.add_argument("--revoke", action="store_true", help="remove the token, issue none")
    stats = sub.add_parser("stats", help="the gains, for a leader: reach, time to help, feedback")
    stats.add_argument(
        "--days",
        type=whole_number(1, MAX_DAYS),
        default=30,
        help=f"the period, up to now (default 30, at most {MAX_DAYS})",
    )
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--as", dest="staff", default=None)
    stats.add_argument("--area", default=None, help="with areas: one area's (default: yours)")


def _ask_password() -> str:
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise QueueError("the two passwords differ")
    return first


def _signed_in(app: App, args: argparse.Namespace) -> str:
    """Who does this: the owner of INNGANG_STAFF_TOKEN (who must be the `--as` id when one
    is given), or the `--as` id when its own password is typed at a prompt. Otherwise
    NotSignedIn, and nothing is done in anybody's name."""
    claimed = getattr(args, "staff_sub", None) or getattr(args, "staff", None)
    token = os.environ.get(TOKEN_ENV, "").strip()
    staffing = app.router.staffing
    if token:
        owner = token_owner(app.staff_records, token, app.router.clock())
        if owner is None:
            raise NotSignedIn(
                f"{TOKEN_ENV} is not a valid staff token (it may have been replaced); "
                "an operator issues a new one with `inngang staff token <id>`"
            )
        if claimed and claimed != owner:
            raise NotSignedIn(f"{TOKEN_ENV} is not {terminal_safe(claimed)}'s token")
        try:
            return staffing.require(owner)
        except UnknownStaff:
            raise NotSignedIn(f"{owner} is no longer on the roster") from None
    if not claimed:
        raise NotSignedIn(
            f"say who you are: --as <staff id>, with your personal token in {TOKEN_ENV}"
        )
    try:
        member = staffing.require(str(claimed))
    except UnknownStaff:
        raise NotSignedIn(f"unknown staff id {terminal_safe(claimed)}") from None
    if not sys.stdin.isatty():
        raise NotSignedIn(
            f"--as {member} needs {member}'s personal token in {TOKEN_ENV} (an operator "
            f"issues it: `inngang staff token {member}`), or run in a terminal to type "
            f"{member}'s own password"
        )
    given = getpass.getpass(f"Password for {member}: ")
    if own_password_matches(app.staff_records, member, given):
        return member
    time.sleep(WRONG_PASSWORD_PAUSE_S)
    raise NotSignedIn(f"wrong password for {member} (or {member} has no own password yet)")


def _accounts(app: App, args: argparse.Namespace) -> int:
    """`inngang staff add|disable|list`: an operator's commands (audited as the operator's)."""
    accounts = app.router.staffing.accounts
    assert accounts is not None
    now = app.router.clock()
    if args.staff_command == "list":
        for a in accounts.all():
            print(
                terminal_safe(
                    f"{a.id:16} {a.role:8} {a.service or '-':20} "
                    f"{'disabled' if a.disabled else 'active':9} "
                    f"{'own password' if a.has_password else 'no password yet':16} {a.name}"
                )
            )
        return 0
    if args.staff_command == "disable":
        if not re.fullmatch(STAFF_ID_PATTERN, args.staff_id) or accounts.get(args.staff_id) is None:
            raise UnknownStaff(args.staff_id)
        was_active = accounts.disable(args.staff_id, now)
        rostered = any(args.staff_id in ids for ids in app.settings.roster.on_duty.values())
        print(
            f"{args.staff_id}: "
            + ("disabled; signed out everywhere" if was_active else "was already disabled")
            + (
                " (still on the roster's on_duty days in config.yml: remove it there too)"
                if rostered
                else ""
            ),
            file=sys.stderr,
        )
        return 0
    staff_id, role, service = args.staff_id, args.role, args.service
    if not re.fullmatch(STAFF_ID_PATTERN, staff_id):
        raise QueueError(
            f"{terminal_safe(staff_id)} is not a staff id: use lower-case letters, digits, "
            "'.', '_' or '-' (at most 64)"
        )
    name = terminal_safe(args.name).strip()
    if not name or len(name) > 200:
        raise QueueError("--name: give the name colleagues know them by (at most 200 characters)")
    if role == "service" and service not in app.settings.service_ids:
        raise QueueError(f"--role service needs --service, one of {list(app.settings.service_ids)}")
    if role != "service" and service is not None:
        raise QueueError("--service is only for --role service")
    email, phone = _contact_args(args)
    areas = (*(a.id for a in app.settings.areas), DEFAULT_AREA, ALL_AREAS)
    if args.area is not None and (not app.settings.areas or args.area not in areas):
        raise QueueError(
            f"--area: one of {list(areas)}" if app.settings.areas else "--area: no areas:"
        )
    outcome = accounts.save(staff_id, name, role, service, now, args.area)
    accounts.set_contact(staff_id, email, phone, now)
    if args.stdin:
        set_password(app.staff_records, staff_id, sys.stdin.readline().rstrip("\n"), now)
    has_password = accounts.get(staff_id)
    print(
        f"{staff_id}: {outcome} ({role}{', ' + service if service else ''})"
        + (
            ""
            if has_password is not None and has_password.has_password
            else f"; set a password with `inngang staff password {staff_id}`"
        ),
        file=sys.stderr,
    )
    return 0


def _contact_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The --email and --phone given, checked (None where not given)."""
    email = (args.email or "").strip() or None
    phone = (args.phone or "").strip() or None
    if email is not None and not re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}", email):
        raise QueueError(f"--email: {terminal_safe(email)} is not an e-mail address")
    if phone is not None and not re.fullmatch(r"\+?[0-9 ]{5,20}", phone):
        raise QueueError(f"--phone: {terminal_safe(phone)} is not a phone number (+4790000000)")
    return email, phone


def _delivery(state: DeliveryState) -> str:
    """sent / pending (n attempts) / failed (undelivered)."""
    if state.status is DeliveryStatus.PENDING and state.attempts:
        return f"pending ({state.attempts} attempt{'s' if state.attempts > 1 else ''})"
    return "failed (undelivered)" if state.status is DeliveryStatus.FAILED else state.status


def _invited_cases(app: App, staff: str, as_json: bool) -> int:
    """`inngang queue --as <service member>`: the cases they are invited to."""
    cases = app.queue.invited_cases(staff)
    if as_json:
        _print([dict(c.__dict__) for c in cases])
        return 0
    if not cases:
        print("no case is shared with you yet")
    zone = ZoneInfo(app.settings.municipality.timezone)
    for c in cases:
        print(
            terminal_safe(
                f"{c.reference}  {c.status:8} {c.topic or '-':18} invited by {c.invited_by} "
                f"({c.service}) at {c.invited_at.astimezone(zone).isoformat(timespec='minutes')}"
            )
        )
    return 0


def _print(data: object) -> None:
    """One JSON document; JSON escapes C0 controls, and this the other characters a
    terminal would act on (C1 controls, bidi overrides), so nothing is lost or obeyed."""
    text = json.dumps(data, ensure_ascii=False, indent=None, default=str)
    print(_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def run(app: App, args: argparse.Namespace) -> int:
    """Carry out a staff command; errors are one clear line on stderr and exit code 1, or 2
    when the staff member did not prove who they are."""
    try:
        return _run(app, args)
    except NotSignedIn as error:
        print(f"error: not signed in: {error}", file=sys.stderr)
        return 2
    except (QueueError, UnknownStaff, WeakPassword) as error:
        print(
            f"error: unknown staff id {terminal_safe(error)}"
            if isinstance(error, UnknownStaff)
            else f"error: {terminal_safe(error)}",
            file=sys.stderr,
        )
        return 1


def write_export(app: App, reference: str, staff: str, folder: Path) -> Path:
    """Export the case (audited) and write its ZIP into the folder, readable by its owner
    only (it is confidential); an earlier export of the case there is replaced."""
    if not folder.is_dir():
        raise QueueError(f"--out: {terminal_safe(folder)} is not a folder")
    package = CaseExporter.for_queue(app.queue).export(reference, staff)
    target = folder / package.zip_name
    partial = folder / f".{package.zip_name}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(package.zip())
    os.replace(partial, target)
    return target.resolve()


def _run(app: App, args: argparse.Namespace) -> int:
    queue = app.queue
    if args.command == "queue":
        command = args.queue_command
        if command == "escalate":  # an operator's (or cron's) command, audited as "system"
            _print({"escalated": queue.escalate_due()})
            return 0
        staff = _signed_in(app, args)
        role = app.router.staffing.account(staff).role
        works_queue = may(role, Permission.WORK_QUEUE)
        if command is None and not works_queue and may(role, Permission.SEE_INVITED):
            return _invited_cases(app, staff, args.json)
        if command is None:
            items = queue.open_cases(staff)
            if args.json:
                _print([item.as_json() for item in items])
            else:
                for i in items:
                    print(
                        terminal_safe(
                            f"{i.reference}  {i.priority:7} {i.crisis or '':14} {i.status:8} "
                            f"{i.waiting_minutes:5} min  "
                            f"{i.language}  {i.topic or '-':18} {i.channel:8} "
                            f"{'anonymous' if i.anonymous else i.consent_scope or '-'}"
                            f"{'  claimed by ' + i.claimed_by if i.claimed_by else ''}"
                            f"{'  UNREACHABLE' if i.unreachable else ''}"
                        )
                    )
            return 0
        if command == "show":
            view = queue.view(args.reference, staff)
            if works_queue:
                queue.mark_read(args.reference, staff)  # read at the terminal: the citizen is told
            if args.json:
                _print(
                    {
                        "case": view.item.as_json(),
                        "about": view.about,
                        "age_band": view.age_band,
                        "contact": view.contact,
                        "callback": view.callback,
                        "description": view.description,
                        "worries": list(view.worries),
                        "strengths": view.strengths,
                        "messages": view.messages,
                        "notes": [
                            {
                                "at": n.at.isoformat(timespec="seconds"),
                                "by": n.author,
                                "text": n.text,
                            }
                            for n in view.notes
                        ],
                        "invited": [
                            {
                                "member": inv.staff_id,
                                "service": inv.service,
                                "by": inv.invited_by,
                                "at": inv.invited_at.isoformat(timespec="seconds"),
                            }
                            for inv in view.invitations
                        ],
                        "own_voice": [
                            {
                                "title": voiced.title,
                                "status": voiced.status.value,
                                "sent_by": voiced.sent_by,
                                "meeting_at": (
                                    voiced.meeting_at.isoformat() if voiced.meeting_at else None
                                ),
                                "answers": [
                                    {"question": a.question, "text": a.text, "skipped": a.skipped}
                                    for a in voiced.answers
                                ],
                            }
                            for voiced in view.own_voice
                        ],
                    }
                )
            else:
                print(
                    terminal_safe(
                        f"{view.item.reference} ({view.item.status}, {view.item.priority}"
                        f"{', ' + view.item.crisis if view.item.crisis else ''}) "
                        f"about={view.about} age={view.age_band} contact={view.contact} "
                        f"{view.callback or ''}"
                        + (f" worries={','.join(view.worries)}" if view.worries else "")
                    )
                )
                if view.strengths:  # what goes well comes first
                    print(f"strengths: « {terminal_safe(view.strengths)} »")
                for line in view.description:
                    print(f"  « {terminal_safe(line)} »")
                for when, sender, text in view.messages:
                    print(f"  {terminal_safe(when)} {terminal_safe(sender)}: {terminal_safe(text)}")
                if view.notes:
                    print("notes (never sent to the citizen):")
                for n in view.notes:
                    at = n.at.astimezone(ZoneInfo(app.settings.municipality.timezone)).isoformat(
                        timespec="minutes"
                    )
                    print(f"  {at} note by {terminal_safe(n.author)}: {terminal_safe(n.text)}")
                for voiced in view.own_voice:
                    title, status = terminal_safe(voiced.title), voiced.status.value
                    print(f"the child's own words ({title}, {status}):")
                    for a in voiced.answers:
                        said = "(skipped)" if a.skipped else terminal_safe(a.text or "-")
                        print(f"  {terminal_safe(a.question)} {said}")
                if view.invitations:
                    print("invited (familieteam):")
                for invited in view.invitations:
                    at = invited.invited_at.astimezone(
                        ZoneInfo(app.settings.municipality.timezone)
                    ).isoformat(timespec="minutes")
                    print(
                        terminal_safe(
                            f"  {invited.staff_id} ({invited.service}), "
                            f"invited by {invited.invited_by} at {at}"
                        )
                    )
            return 0
        if command == "invite":
            invitee = queue.invitee(member=args.member, service=args.service)
            new = queue.invite(args.reference, staff, invitee)
            print(
                terminal_safe(
                    f"{invitee.id} ({invitee.name}, {invitee.service}) "
                    + ("is now invited to" if new else "was already invited to")
                    + f" {args.reference}: they read the case and write notes, nothing else"
                )
            )
            return 0
        if command == "uninvite":
            queue.uninvite(args.reference, staff, args.member)
            print(terminal_safe(f"{args.member} is no longer invited to {args.reference}"))
            return 0
        if command == "claim":
            won = queue.claim(args.reference, staff)
            _print({"reference": args.reference, "claimed": won}) if args.json else print(
                "claimed" if won else "not claimed: someone else has it, or it is closed"
            )
            return 0 if won else 1
        if command == "reply":
            queue.reply(args.reference, staff, args.text)
            return 0
        if command == "note":
            queue.add_note(args.reference, staff, args.text)
            return 0
        if command == "close":
            queue.close(args.reference, staff, args.outcome)
            return 0
        if command == "transfer":
            queue.transfer(args.reference, staff, args.to)
            return 0
        if command == "export":
            where = write_export(app, args.reference, staff, Path(args.out))
            _print({"reference": args.reference, "zip": str(where)}) if args.json else print(where)
            return 0
        if command == "notifications":
            notices = app.staff_records.take_unseen_notices(staff, app.router.clock())
            _print(
                [
                    {
                        "kind": n.kind,
                        "reference": n.reference,
                        "at": n.created_at,
                        "urgent": is_urgent(n.kind),
                        "delivery": {d.transport: _delivery(d) for d in n.deliveries},
                        "undelivered": n.undelivered,
                    }
                    for n in reversed(notices)
                ]
            )
            return 0
    if args.command == "duty":
        staff = _signed_in(app, args)
        now = app.router.clock()
        staffing, records = app.router.staffing, app.staff_records
        if args.state != "status" and not may(staffing.account(staff).role, Permission.WORK_QUEUE):
            raise QueueError(f"{staff} does not work the queue: duty is for the los and the leader")
        if args.state != "status":
            records.switch_duty(staff, args.state == "on", staffing.day(now), now)
        _print({"on_duty": list(staffing.on_duty_now(now))})
        return 0
    if args.command == "audit":
        for entry in app.staff_records.audit_log():
            print(
                terminal_safe(
                    f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:10} {entry.action:18} "
                    f"{entry.reference or '-':10} {entry.detail or ''}"
                )
            )
        return 0
    if args.command == "consents":
        consents = [dict(c.__dict__) for c in app.staff_records.consents()]
        if args.json:
            _print(consents)
        else:
            for r in consents:
                print(terminal_safe(" ".join(f"{k}={v}" for k, v in r.items())))
        return 0
    if args.command == "staff" and args.staff_command == "token":
        member = app.router.staffing.require(args.staff_id)
        now = app.router.clock()
        if args.revoke:
            revoked = app.staff_records.revoke_token(member, now)
            print(f"{member}: token {'revoked' if revoked else 'was not set'}", file=sys.stderr)
            return 0
        token = issue_token(app.staff_records, member, now)
        print(token)
        print(
            f"{member}: a new personal token (the earlier one no longer works); give it to "
            f"{member} only, who sets {TOKEN_ENV} to it",
            file=sys.stderr,
        )
        return 0
    if args.command == "staff" and args.staff_command in ("add", "disable", "list"):
        return _accounts(app, args)
    if args.command == "staff":
        member = app.router.staffing.require(args.staff_id)
        given = sys.stdin.readline().rstrip("\n") if args.stdin else _ask_password()
        now = app.router.clock()
        set_password(app.staff_records, member, given, now)
        print(f"{member}: password set", file=sys.stderr)
        return 0
    if args.command == "stats":
        staff = _signed_in(app, args)
        now = app.router.clock()
        since = period_start(now, max(1, args.days))
        area = app.queue.area_of(staff)
        if args.area is not None:
            if area != ALL_AREAS and args.area != area:
                raise QueueError(f"--area: {staff} sees the figures of {area} only")
            if args.area not in (*(a.id for a in app.settings.areas), DEFAULT_AREA, ALL_AREAS):
                raise QueueError(f"--area: unknown area {args.area}")
            area = args.area
        detail = f"{args.days} days" + ("" if area == ALL_AREAS else f" area={area}")
        facts = app.staff_records.figures(since, staff, now, detail=detail, area=area)
        small = app.catalogs(N_("console.figures.small"), app.settings.console.language, n=SMALL)
        shown = gains(facts, now).shown(small)
        if args.json:
            _print(shown)
        else:
            for name, value in shown.items():
                print(f"{name.replace('_', ' '):34} {value}")
        return 0
    if args.command == "retention":
        report = run_retention(app.settings, app.store.sessions, app.router.clock)
        _print(report.__dict__)
        return 0
    return 2
