"""The familieteam in the console: the los who holds a case invites a service member from a
list and sees who is invited (name, service, since when); Per from PPT signs in, finds that
case and only that case on his page, reads it, writes a note, and can do nothing else; any
other case by its address is "no such case"; when the family withdraws consent the case is
gone for him. Consent for the familielos only: the page says why nobody can be invited."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.store.models import AuditEntry
from tests.console_fixtures import PASSWORD, signed_in
from tests.staff_browser import StaffBrowser
from tests.test_familieteam import NOTE, family_consents_to_los_only
from tests.test_journeys import PARENT_WORDS, parent_sends_a_case

NO_CASE = "Fant ikke saken"
WORDS = "gråter hver morgen før skolen og vil ikke gå"
"""Of the parent's own words, the part without a number (a page may set numbers apart)."""


@pytest.fixture
async def per(web: Starlette) -> AsyncIterator[StaffBrowser]:
    async with signed_in(web, "per", "198.51.100.20") as browser:
        yield browser


def audit_rows(app: App) -> list[tuple[str, str, str | None, str | None]]:
    with app.store.sessions() as session:
        return [
            (a.actor, a.action, a.case_reference, a.detail)
            for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


async def test_a_los_invites_per_from_the_case_page_and_sees_him_in_the_team(
    kari: StaffBrowser, offline_app: App
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    await kari.post(f"/staff/case/{reference}/claim")
    page = await kari.get(f"/staff/case/{reference}")
    assert '<h3 id="team-heading">Familieteam</h3>' in page.text
    assert "Ingen tjenester er invitert ennå." in page.text
    assert '<option value="per">Per (PPT) – PPT (pedagogisk-psykologisk tjeneste)</option>' in (
        page.text
    )
    invited = await kari.post(f"/staff/case/{reference}/invite", {"member": "per"})
    assert invited.status_code == 303 and invited.headers["location"].endswith("#team")
    page = await kari.get(f"/staff/case/{reference}")
    assert "<strong>Per (PPT)</strong> – PPT (pedagogisk-psykologisk tjeneste)" in page.text
    assert "invitert av Kari Los" in page.text and "CET" in page.text  # Oslo time
    assert 'aria-label="Fjern Per (PPT) fra saken"' in page.text
    assert '<option value="per">' not in page.text  # not offered twice
    again = await kari.post(f"/staff/case/{reference}/invite", {"member": "per"})
    assert again.status_code == 303  # inviting twice changes nothing
    nobody = await kari.post(f"/staff/case/{reference}/invite", {"member": ""})
    assert nobody.status_code == 400 and "Velg en tjenesteperson før du inviterer." in nobody.text
    ahmed = await kari.post(f"/staff/case/{reference}/invite", {"member": "ahmed"})
    assert ahmed.status_code == 409
    assert "Fant ingen aktiv tjenesteperson «ahmed». Velg en fra listen." in ahmed.text
    assert [r for r in audit_rows(offline_app) if r[1] == "invite"] == [
        ("kari", "invite", reference, "per (ppt)")
    ]

    removed = await kari.post(f"/staff/case/{reference}/uninvite", {"member": "per"})
    assert removed.status_code == 303
    assert "Ingen tjenester er invitert ennå." in (await kari.get(f"/staff/case/{reference}")).text
    assert offline_app.queue.invited_cases("per") == []


async def test_per_sees_only_the_case_he_is_invited_to_and_writes_notes_in_it(
    kari: StaffBrowser, per: StaffBrowser, offline_app: App
) -> None:
    app = offline_app
    _, shared = await parent_sends_a_case(app)
    _, other = await parent_sends_a_case(app, "another-family")
    await kari.post(f"/staff/case/{shared}/claim")
    await kari.post(f"/staff/case/{shared}/invite", {"member": "per"})

    home = await per.get("/staff")
    assert home.status_code == 200 and "<h1>Dine saker</h1>" in home.text
    assert f'href="/staff/case/{shared}"' in home.text and other not in home.text
    assert "Kari Los" in home.text  # who invited him (and holds it)
    assert "Familielos-køen" not in home.text and "/staff/duty" not in home.text

    page = await per.get(f"/staff/case/{shared}")
    assert page.status_code == 200
    assert WORDS in page.text and "98 76 54 32" in page.text  # the words and the facts
    assert 'action="/staff/case/' + shared + '/note"' in page.text
    for not_for_him in ("/reply", "/claim", "/transfer", "/close", "/read", "/invite"):
        assert f"/staff/case/{shared}{not_for_him}" not in page.text, not_for_him
    assert "data-case-live" not in page.text and "Familieteam" not in page.text

    noted = await per.post(f"/staff/case/{shared}/note", {"note": NOTE})
    assert noted.status_code == 303
    [note] = app.queue.view(shared, "kari").notes
    assert (note.author, note.text) == ("per", NOTE)
    assert "Per (PPT)" in (await kari.get(f"/staff/case/{shared}")).text

    for action, data in (
        ("claim", {}),
        ("reply", {"text": "Hei fra PPT", "claim": "1"}),
        ("read", {}),
        ("transfer", {"to": "ahmed"}),
        ("close", {"outcome": "answered", "confirm": "yes"}),
        ("invite", {"member": "per"}),
    ):
        refused = await per.post(f"/staff/case/{shared}/{action}", data)
        assert refused.status_code == 403, action
    assert app.queue.view(shared, "kari").item.claimed_by == "kari"

    for address in (f"/staff/case/{other}", "/staff/case/K-NOSUCH"):
        hidden = await per.get(address)
        assert hidden.status_code == 404 and NO_CASE in hidden.text, address
        assert WORDS not in hidden.text
    assert (await per.post(f"/staff/case/{other}/note", {"note": NOTE})).status_code == 404
    assert [n.text for n in app.queue.view(other, "kari").notes] == []
    feed = await per.client.get("/staff/queue.json")
    assert feed.status_code == 403 and other not in feed.text and shared not in feed.text

    rows = audit_rows(app)
    assert ("per", "list_invited", None, "1 cases") in rows
    assert ("per", "read_case", shared, "invited") in rows
    assert ("per", "note", shared, "invited") in rows
    assert ("per", "not_invited", other, None) in rows
    assert NOTE not in str(rows) and PARENT_WORDS not in str(rows)


async def test_after_the_family_withdraws_consent_the_case_is_gone_for_per(
    kari: StaffBrowser, per: StaffBrowser, offline_app: App
) -> None:
    parent, reference = await parent_sends_a_case(offline_app)
    await kari.post(f"/staff/case/{reference}/claim")
    await kari.post(f"/staff/case/{reference}/invite", {"member": "per"})
    assert (await per.get(f"/staff/case/{reference}")).status_code == 200

    await parent.says("/trekk_samtykke")

    gone = await per.get(f"/staff/case/{reference}")
    assert gone.status_code == 404 and NO_CASE in gone.text
    home = await per.get("/staff")
    assert reference not in home.text and "Ingen saker er delt med deg ennå." in home.text
    assert (await per.post(f"/staff/case/{reference}/note", {"note": NOTE})).status_code == 404
    page = await kari.get(f"/staff/case/{reference}")
    assert "Ingen tjenester er invitert ennå." in page.text
    assert "innbyggeren har trukket samtykket: ingen kan inviteres inn i den." in page.text


async def test_with_consent_for_the_familielos_only_inviting_is_refused_with_the_reason(
    kari: StaffBrowser, offline_app: App
) -> None:
    _, reference = await family_consents_to_los_only(offline_app)
    await kari.post(f"/staff/case/{reference}/claim")
    reason = (
        "Familien har bare samtykket til at familielosen ser saken, ikke andre tjenester. "
        "Spør familien om samtykke til å dele med tjenestene først."
    )
    page = await kari.get(f"/staff/case/{reference}")
    assert reason in page.text and 'name="member"' not in page.text
    refused = await kari.post(f"/staff/case/{reference}/invite", {"member": "per"})
    assert refused.status_code == 409 and reason in refused.text
    assert 'role="alert"' in refused.text
    assert offline_app.queue.invited_cases("per") == []


async def test_a_colleague_who_does_not_hold_the_case_is_told_to_take_it_first(
    offline_app: App, web: Starlette
) -> None:
    _, reference = await parent_sends_a_case(offline_app)
    offline_app.queue.claim(reference, "kari")
    async with StaffBrowser(web, "198.51.100.30") as ahmed:
        await ahmed.sign_in("ahmed", PASSWORD)
        page = await ahmed.get(f"/staff/case/{reference}")
        take_first = "Bare familielosen som har saken (eller en leder) kan invitere tjenester."
        assert take_first in page.text
        refused = await ahmed.post(f"/staff/case/{reference}/invite", {"member": "per"})
        assert refused.status_code == 409 and take_first in refused.text
    assert offline_app.queue.invited_cases("per") == []
