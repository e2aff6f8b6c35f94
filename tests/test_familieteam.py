"""The familieteam: when the family consented to sharing with the services, the los who holds
the case (or a leader) invites service members into it; an invited service member reads that
case (the conversation, the facts, the case log) and writes notes, nothing else, and no other
case, not even by its reference. With consent for the familielos only, or an anonymous case,
inviting is refused with the reason. Withdrawn consent takes every service member's access at
once; erasure and retention delete the invitations with the case. Every view and action is
audited, never with text. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.queue import InviteRefusal, InviteRefused, QueueError
from bot.store.db import alembic_config, make_engine
from bot.store.models import AuditEntry, Base, CaseInvitation
from bot.store.retention import run_retention
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.test_journeys import PARENT_WORDS, parent_sends_a_case
from tests.test_staff_access import cli, token_for

NOTE = "PPT har sett på saken: vi tar kontakt med skolen."


async def family_consents_to_los_only(app: App, user: str = "los-only") -> tuple[Citizen, str]:
    """A parent sends a case, consenting to the familielos only (not the services)."""
    parent = Citizen(app, user)
    for text, button in (
        ("hei", None),
        ("", "person"),
        ("", "about:child"),
        ("", "age:6-12"),
        ("", "consent:los"),
        ("", "strengths:skip"),
        (PARENT_WORDS, None),
        ("", "done"),
        ("", "contact:chat"),
    ):
        await parent.says(text, button=button)
    handled = await parent.says("", button="confirm:send")
    assert handled.handover
    reference = parent.last().split("er ")[1].split(".")[0]
    return parent, reference


def audit_rows(app: App, *actions: str) -> list[tuple[str, str, str | None, str | None]]:
    with app.store.sessions() as session:
        return [
            (a.actor, a.action, a.case_reference, a.detail)
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
            )
        ]


def invitations_stored(app: App) -> int:
    with app.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CaseInvitation)) or 0)


def add_staff(app: App, staff_id: str, name: str, role: str, service: str | None) -> None:
    accounts = app.router.staffing.accounts
    assert accounts is not None
    accounts.save(staff_id, name, role, service, app.router.clock())


async def test_a_los_invites_ppt_and_per_sees_only_that_case(any_app: App) -> None:
    app = any_app
    _, shared = await parent_sends_a_case(app)
    _, other = await parent_sends_a_case(app, "another-family")
    app.queue.claim(shared, "kari")
    per = app.queue.invitee(service="ppt")  # the one active PPT member
    assert (per.id, per.service) == ("per", "ppt")
    assert app.queue.invite(shared, "kari", per)

    assert [c.reference for c in app.queue.invited_cases("per")] == [shared]
    view = app.queue.view(shared, "per")
    assert view.description[0] == PARENT_WORDS and view.callback  # the facts, the words
    assert [(i.staff_id, i.service, i.invited_by) for i in view.invitations] == [
        ("per", "ppt", "kari")
    ]
    [told] = app.staff_records.notices("per", 10)  # he is told (by e-mail too), once
    assert (told.kind, told.reference) == ("invited", shared)
    assert not app.queue.invite(shared, "kari", per)
    assert len(app.staff_records.notices("per", 10)) == 1
    with pytest.raises(QueueError, match=f"no case {other}"):
        app.queue.view(other, "per")  # the same answer as for no case at all
    with pytest.raises(QueueError, match="no case K-NOSUCH"):
        app.queue.view("K-NOSUCH", "per")

    assert audit_rows(app, "invite", "read_case", "not_invited", "list_invited") == [
        ("kari", "invite", shared, "per (ppt)"),
        ("per", "list_invited", None, "1 cases"),
        ("per", "read_case", shared, "invited"),
        ("per", "not_invited", other, None),
        ("per", "not_invited", "K-NOSUCH", None),
    ]


async def test_a_service_member_writes_notes_in_the_invited_case_and_does_nothing_else(
    any_app: App,
) -> None:
    app = any_app
    _, shared = await parent_sends_a_case(app)
    _, other = await parent_sends_a_case(app, "another-family")
    app.queue.claim(shared, "kari")
    app.queue.invite(shared, "kari", app.queue.invitee(member="per"))

    app.queue.add_note(shared, "per", NOTE)
    [note] = app.queue.view(shared, "kari").notes
    assert (note.author, note.text) == ("per", NOTE)
    with pytest.raises(QueueError, match=f"no case {other}"):
        app.queue.add_note(other, "per", NOTE)
    assert [n.text for n in app.queue.view(other, "kari").notes] == []
    for act in (
        lambda: app.queue.open_cases("per"),
        lambda: app.queue.claim(other, "per"),
        lambda: app.queue.reply(shared, "per", "Hei fra PPT"),
        lambda: app.queue.mark_read(shared, "per"),
        lambda: app.queue.transfer(shared, "per", "ahmed"),
        lambda: app.queue.close(shared, "per", "answered"),
        lambda: app.queue.invite(shared, "per", app.queue.invitee(member="per")),
    ):
        with pytest.raises(QueueError, match="may not"):
            act()
    assert app.queue.view(shared, "kari").item.claimed_by == "kari"
    rows = audit_rows(app, "note")
    assert rows == [("per", "note", shared, "invited")]
    assert NOTE not in str(audit_rows(app, "note", "invite", "read_case", "not_invited"))


async def test_inviting_twice_changes_nothing_and_the_los_can_take_a_member_out(
    any_app: App,
) -> None:
    app = any_app
    _, reference = await parent_sends_a_case(app)
    app.queue.claim(reference, "kari")
    per = app.queue.invitee(member="per")
    assert app.queue.invite(reference, "kari", per)
    assert not app.queue.invite(reference, "kari", per)  # already invited
    assert len(app.queue.view(reference, "kari").invitations) == 1

    app.queue.uninvite(reference, "kari", "per")
    assert app.queue.invited_cases("per") == []
    with pytest.raises(QueueError):
        app.queue.view(reference, "per")
    with pytest.raises(InviteRefused) as not_invited:
        app.queue.uninvite(reference, "kari", "per")
    assert not_invited.value.reason is InviteRefusal.NOT_INVITED

    assert app.queue.invite(reference, "kari", per)  # invited again
    assert app.queue.view(reference, "per").item.reference == reference
    assert [(a, d) for a, _, _, d in audit_rows(app, "invite", "uninvite")] == [
        ("kari", "per (ppt)"),
        ("kari", "per (ppt)"),
        ("kari", "per (ppt)"),
    ]
    assert [r[1] for r in audit_rows(app, "invite", "uninvite")] == [
        "invite",
        "uninvite",
        "invite",
    ]
    assert invitations_stored(app) == 1


async def test_only_the_los_who_holds_the_case_or_a_leader_brings_services_in(
    any_app: App,
) -> None:
    app = any_app
    _, reference = await parent_sends_a_case(app)
    per = app.queue.invitee(member="per")
    with pytest.raises(InviteRefused) as unclaimed:
        app.queue.invite(reference, "kari", per)  # nobody holds it yet
    assert unclaimed.value.reason is InviteRefusal.NOT_HOLDER
    app.queue.claim(reference, "kari")
    with pytest.raises(InviteRefused) as colleague:
        app.queue.invite(reference, "ahmed", per)
    assert colleague.value.reason is InviteRefusal.NOT_HOLDER
    with pytest.raises(InviteRefused):
        app.queue.uninvite(reference, "ahmed", "per")
    assert app.queue.invite(reference, "leder", per)  # a leader may
    assert app.queue.view(reference, "kari").invitations[0].invited_by == "leder"
    assert invitations_stored(app) == 1


async def test_consent_for_the_familielos_only_or_an_anonymous_case_refuses_with_the_reason(
    any_app: App,
) -> None:
    app = any_app
    _, los_only = await family_consents_to_los_only(app)
    anonymous = Citizen(app, "youth", channel="web")
    await anonymous.says("/anonym")
    await anonymous.says("Hvordan får jeg snakke med noen om rus?")
    anonymous_ref = next(i.reference for i in app.queue.open_cases("kari") if i.anonymous)
    _, closed = await parent_sends_a_case(app, "closed-family")
    per = app.queue.invitee(service="ppt")
    for reference, reason, said in (
        (los_only, InviteRefusal.LOS_ONLY, "covers the familielos only"),
        (anonymous_ref, InviteRefusal.ANONYMOUS, "no consent to share"),
        (closed, InviteRefusal.ENDED, "nobody can be invited"),
    ):
        app.queue.claim(reference, "kari")
        if reference == closed:
            app.queue.close(reference, "kari", "answered")
        with pytest.raises(InviteRefused, match=said) as refused:
            app.queue.invite(reference, "kari", per)
        assert refused.value.reason is reason
        assert app.queue.invite_refusal(reference) is not None
    assert invitations_stored(app) == 0
    assert audit_rows(app, "invite") == []


async def test_only_an_active_service_member_is_invited(any_app: App) -> None:
    app = any_app
    queue = app.queue
    for who in ({"member": "ahmed"}, {"member": "nobody"}, {"member": "per", "service": "bup"}):
        with pytest.raises(InviteRefused) as refused:
            queue.invitee(**who)
        assert refused.value.reason is InviteRefusal.NOT_SERVICE, who
    with pytest.raises(InviteRefused) as none:
        queue.invitee(service="barnevern")
    assert none.value.reason is InviteRefusal.NO_MEMBER
    with pytest.raises(QueueError, match="unknown service"):
        queue.invitee(service="astrologi")
    add_staff(app, "pia", "Pia PPT", "service", "ppt")
    with pytest.raises(InviteRefused, match=r"\(per, pia\).*--member") as several:
        queue.invitee(service="ppt")
    assert several.value.reason is InviteRefusal.WHICH_MEMBER
    assert queue.invitee(service="ppt", member="pia").id == "pia"
    accounts = app.router.staffing.accounts
    assert accounts is not None
    accounts.disable("pia", app.router.clock())
    assert queue.invitee(service="ppt").id == "per"  # the one active member
    with pytest.raises(InviteRefused):
        queue.invitee(member="pia")


async def test_a_disabled_member_leaves_every_case_team_at_once(any_app: App) -> None:
    app = any_app
    _, shared = await parent_sends_a_case(app)
    app.queue.claim(shared, "kari")
    app.queue.invite(shared, "kari", app.queue.invitee(member="per"))
    accounts = app.router.staffing.accounts
    assert accounts is not None

    accounts.disable("per", app.router.clock())

    assert app.queue.view(shared, "kari").invitations == ()  # the team shows nobody gone
    accounts.save("per", "Per (PPT)", "service", "ppt", app.router.clock())
    with pytest.raises(QueueError, match=f"no case {shared}"):
        app.queue.view(shared, "per")  # enabled again: invited again only by the los


async def test_withdrawing_consent_takes_every_service_members_access_at_once(
    any_app: App,
) -> None:
    app = any_app
    parent, reference = await parent_sends_a_case(app)
    add_staff(app, "hanne", "Hanne Helsesykepleier", "service", "skolehelsetjeneste")
    app.queue.claim(reference, "kari")
    app.queue.invite(reference, "kari", app.queue.invitee(member="per"))
    app.queue.invite(reference, "kari", app.queue.invitee(member="hanne"))
    app.queue.add_note(reference, "per", NOTE)

    await parent.says("/trekk_samtykke")

    for member in ("per", "hanne"):
        assert app.queue.invited_cases(member) == []
        with pytest.raises(QueueError, match=f"no case {reference}"):
            app.queue.view(reference, member)
        with pytest.raises(QueueError):
            app.queue.add_note(reference, member, "etterpå")
    assert app.queue.view(reference, "kari").invitations == ()
    assert ("citizen", "invitations_revoked", reference, "2 members") in audit_rows(
        app, "invitations_revoked"
    )
    with pytest.raises(InviteRefused) as again:
        app.queue.invite(reference, "kari", app.queue.invitee(member="per"))
    assert again.value.reason is InviteRefusal.ENDED


async def test_erasure_and_retention_delete_the_invitations_with_the_case(
    any_app: App, clock: FakeClock
) -> None:
    app = any_app
    parent, erased = await parent_sends_a_case(app)
    _, kept = await parent_sends_a_case(app, "kept-family")
    per = app.queue.invitee(member="per")
    for reference in (erased, kept):
        app.queue.claim(reference, "kari")
        app.queue.invite(reference, "kari", per)
    await parent.says("/slett")
    await parent.says("", button="delete:yes")
    assert [c.reference for c in app.queue.invited_cases("per")] == [kept]
    app.queue.close(kept, "kari", "familieteam")
    clock.advance(days=app.settings.retention.closed_case_days + 400)
    assert run_retention(app.settings, app.store.sessions, clock).cases == 1
    assert invitations_stored(app) == 0


async def test_invitations_on_the_command_line(
    any_app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import staff_cli

    app = any_app
    _, reference = await parent_sends_a_case(app)
    _, los_only = await family_consents_to_los_only(app)
    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(app, "kari"))
    app.queue.claim(reference, "kari")
    app.queue.claim(los_only, "kari")
    assert cli(app, "queue", "invite", reference, "--service", "ppt", "--as", "kari") == 0
    said = capsys.readouterr().out
    assert f"per (Per (PPT), ppt) is now invited to {reference}" in said
    assert cli(app, "queue", "invite", reference, "--service", "ppt", "--as", "kari") == 0
    assert "was already invited" in capsys.readouterr().out
    assert cli(app, "queue", "show", reference, "--as", "kari") == 0
    shown = capsys.readouterr().out
    assert "invited (familieteam):" in shown and "per (ppt), invited by kari at" in shown
    assert cli(app, "queue", "invite", los_only, "--service", "ppt", "--as", "kari") == 1
    assert "covers the familielos only" in capsys.readouterr().err
    assert cli(app, "queue", "invite", reference, "--member", "ahmed", "--as", "kari") == 1
    assert "ahmed is not an active service member" in capsys.readouterr().err

    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(app, "per"))
    assert cli(app, "queue", "--as", "per") == 0  # a service member's list: invited cases
    listed = capsys.readouterr().out
    assert reference in listed and los_only not in listed
    assert cli(app, "queue", "show", reference, "--as", "per") == 0
    assert PARENT_WORDS in capsys.readouterr().out
    assert cli(app, "queue", "note", reference, NOTE, "--as", "per") == 0
    assert cli(app, "queue", "show", los_only, "--as", "per") == 1
    assert f"no case {los_only}" in capsys.readouterr().err
    assert cli(app, "queue", "claim", los_only, "--as", "per") == 1
    assert cli(app, "duty", "on", "--as", "per") == 1  # never on duty: no new cases for him
    assert "duty is for the los and the leader" in capsys.readouterr().err

    monkeypatch.setenv(staff_cli.TOKEN_ENV, token_for(app, "kari"))
    assert cli(app, "queue", "uninvite", reference, "--member", "per", "--as", "kari") == 0
    assert f"per is no longer invited to {reference}" in capsys.readouterr().out
    assert cli(app, "queue", "uninvite", reference, "--member", "per", "--as", "kari") == 1
    assert "per is not invited" in capsys.readouterr().err


def test_the_migration_makes_the_table_the_model_describes(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'team.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "case_invitations" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0011")
    command.upgrade(alembic_config(engine), "head")
