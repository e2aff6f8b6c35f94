"""The staff console: a los signs in through the sign-in page and sees the queue with each
case said as people say it (Oslo time, how long ago); she reads a case (escaped, audited,
the first message included), takes it, replies, hands it on, closes it after a
confirmation; others get nothing. Every form carries a CSRF token and another site's page
can make a signed-in los's browser do nothing; every response carries the security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import App
from bot.store.models import AuditEntry, Case
from bot.web import create_web_app
from tests.console_fixtures import PASSWORD
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.staff_browser import ORIGIN, StaffBrowser


async def asks_anonymously(app: App, user: str, question: str) -> Citizen:
    """Someone on the web chat asks a question anonymously; it lands in the queue."""
    citizen = Citizen(app, user, channel="web")
    await citizen.says("/anonym")
    await citizen.says(question)
    return citizen


def audit_actions(app: App) -> list[tuple[str, str]]:
    with app.store.sessions() as session:
        return [(a.actor, a.action) for a in session.scalars(select(AuditEntry))]


# --- signing in and out ----------------------------------------------------------------------


async def test_a_los_signs_in_and_sees_the_queue(stranger: StaffBrowser) -> None:
    first = await stranger.client.get("/staff")
    assert first.status_code == 303 and first.headers["location"].startswith("/staff/login")
    page = await stranger.client.get(first.headers["location"])
    assert '<label for="user">Brukernavn</label>' in page.text
    assert '<label for="password">Passord</label>' in page.text
    signed_in = await stranger.sign_in("kari", PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/staff"
    queue = await stranger.get("/staff")
    assert queue.status_code == 200
    assert "<h1>Familielos-køen</h1>" in queue.text and "Kari Los, familielos" in queue.text


async def test_a_wrong_password_or_a_name_that_is_no_staff_id_signs_nobody_in(
    stranger: StaffBrowser,
) -> None:
    for user, password in (("kari", "wrong"), ("mallory", PASSWORD), ("", PASSWORD)):
        refused = await stranger.sign_in(user, password)
        assert refused.status_code in (400, 401), user
        assert "Feil brukernavn eller passord." in refused.text or refused.status_code == 400
        assert "inngang_staff=" not in refused.headers.get("set-cookie", "")
    assert (await stranger.client.get("/staff")).status_code == 303


async def test_the_session_cookie_is_httponly_strict_and_secure_over_https(
    offline_app: App,
) -> None:
    web = create_web_app(offline_app, staff_password=PASSWORD)
    async with StaffBrowser(web) as browser:
        response = await browser.sign_in("kari", PASSWORD)
        cookie = response.headers["set-cookie"]
        assert "inngang_staff=" in cookie and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Path=/staff" in cookie and "Secure" not in cookie  # plain http here
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="https://inngang.local"
    ) as https:
        form = await https.get("/staff/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token
        response = await https.post(
            "/staff/login",
            data={"user": "kari", "password": PASSWORD, "csrf": token.group(1)},
            headers={"Origin": "https://inngang.local"},
        )
        assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


async def test_only_a_hash_of_the_session_id_is_stored(
    kari: StaffBrowser, offline_app: App
) -> None:
    session_id = kari.client.cookies["inngang_staff"]
    from bot.store.models import StaffSession

    with offline_app.store.sessions() as session:
        [stored] = session.scalars(select(StaffSession)).all()
    assert stored.id_hash != session_id and session_id not in stored.id_hash
    assert len(stored.id_hash) == 64


async def test_a_session_ends_after_half_an_hour_without_use(
    kari: StaffBrowser, clock: FakeClock
) -> None:
    clock.advance(minutes=29)
    assert (await kari.get("/staff")).status_code == 200  # in use: it goes on
    clock.advance(minutes=29)
    assert (await kari.get("/staff")).status_code == 200
    clock.advance(minutes=31)
    gone = await kari.client.get("/staff")
    assert gone.status_code == 303 and "expired=1" in gone.headers["location"]
    page = await kari.client.get(gone.headers["location"])
    assert "ikke var i bruk på 30 minutter" in page.text


async def test_a_session_ends_after_twelve_hours_however_busy(
    kari: StaffBrowser, clock: FakeClock
) -> None:
    for _ in range(35):  # a page every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert (await kari.get("/staff")).status_code == 200
    clock.advance(minutes=20)
    assert (await kari.client.get("/staff")).status_code == 303


async def test_signing_out_ends_the_session_on_the_server(
    kari: StaffBrowser, offline_app: App, web: Starlette
) -> None:
    cookie = kari.client.cookies["inngang_staff"]
    refused = await kari.post("/staff/logout", csrf="forged")  # no token: nothing happens
    assert refused.status_code == 403
    assert (await kari.get("/staff")).status_code == 200
    out = await kari.post("/staff/logout")
    assert out.status_code == 303 and out.headers["location"].startswith("/staff/login")
    assert (await kari.client.get("/staff")).status_code == 303
    async with StaffBrowser(web) as copy:  # the old cookie, replayed, signs nobody in
        copy.client.cookies.set("inngang_staff", cookie)
        assert (await copy.client.get("/staff")).status_code == 303
    assert ("kari", "sign_in") in audit_actions(offline_app)
    assert ("kari", "sign_out") in audit_actions(offline_app)


async def test_the_sign_in_form_needs_its_own_token(stranger: StaffBrowser) -> None:
    posted = await stranger.client.post(
        "/staff/login",
        data={"user": "kari", "password": PASSWORD, "csrf": "x"},
        headers={"Origin": ORIGIN},
    )
    assert posted.status_code == 403 and "inngang_staff=" not in posted.headers.get(
        "set-cookie", ""
    )
    elsewhere = await stranger.client.post(
        "/staff/login",
        data={"user": "kari", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403


async def test_after_sign_in_the_los_lands_on_the_page_she_asked_for_and_nowhere_else(
    stranger: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "p0", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    asked = await stranger.client.get(f"/staff/case/{item.reference}")
    assert f"next=/staff/case/{item.reference}" in asked.headers["location"]
    landed = await stranger.sign_in("kari", PASSWORD, next_page=f"/staff/case/{item.reference}")
    assert landed.headers["location"] == f"/staff/case/{item.reference}"
    away = await stranger.sign_in("kari", PASSWORD, next_page="https://evil.example/")
    assert away.headers["location"] == "/staff"


# --- CSRF and other sites --------------------------------------------------------------------


async def test_a_post_without_the_csrf_token_changes_nothing(
    kari: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "p1", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    for token in ("", "forged", kari.csrf[:-1]):
        refused = await kari.post(f"{base}/claim", csrf=token)
        assert refused.status_code == 403 and "Ingenting ble gjort" in refused.text
        assert (await kari.post("/staff/duty", {"on": "0"}, csrf=token)).status_code == 403
    assert offline_app.queue.open_cases("kari")[0].claimed_by is None
    assert not {a for _, a in audit_actions(offline_app)} & {"claim", "duty"}


async def test_another_los_s_token_does_not_work_in_kari_s_session(
    kari: StaffBrowser, web: Starlette, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "p1b", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    async with StaffBrowser(web, "10.1.1.1") as ahmed:
        await ahmed.sign_in("ahmed", PASSWORD)
        stolen = ahmed.csrf
    assert stolen and stolen != kari.csrf
    refused = await kari.post(f"/staff/case/{item.reference}/claim", csrf=stolen)
    assert refused.status_code == 403


async def test_a_cross_site_post_is_refused(kari: StaffBrowser, offline_app: App) -> None:
    await asks_anonymously(offline_app, "p", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}/claim"
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, a no-referrer page
        {"Origin": "", "Referer": "https://evil.example/staff"},
        {"Origin": ORIGIN, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"},
    ):
        assert (await kari.post(base, headers=headers)).status_code == 403, headers
    assert offline_app.queue.open_cases("kari")[0].claimed_by is None
    own_page = {"Origin": "", "Referer": f"{ORIGIN}/staff/case/{item.reference}"}
    assert (await kari.post(base, headers=own_page)).status_code == 303
    assert offline_app.queue.open_cases("kari")[0].claimed_by == "kari"


async def test_another_sites_page_cannot_make_the_los_browser_read_a_case(
    kari: StaffBrowser, offline_app: App
) -> None:
    """An <img> or a frame on another site is refused (no audit, no receipt); a link in a
    notification e-mail still opens the case."""
    await asks_anonymously(offline_app, "p3", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    page = f"/staff/case/{item.reference}"
    before = len(audit_actions(offline_app))
    for site, dest, mode in (
        ("cross-site", "image", "no-cors"),
        ("cross-site", "iframe", "navigate"),
        ("same-site", "empty", "cors"),
    ):
        response = await kari.get(
            page, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest}
        )
        assert response.status_code == 403
    assert len(audit_actions(offline_app)) == before
    clicked = {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-User": "?1",
    }
    assert (await kari.get(page, headers=clicked)).status_code == 200


async def test_a_link_from_an_email_without_the_strict_cookie_goes_on_to_the_case(
    stranger: StaffBrowser, offline_app: App
) -> None:
    """The browser leaves a SameSite=Strict cookie out of a navigation from another site;
    the page it gets sends it on to the same address, and that one carries the cookie."""
    await asks_anonymously(offline_app, "p3b", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    page = await stranger.client.get(
        f"/staff/case/{item.reference}",
        headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
    )
    assert page.status_code == 200
    assert f'content="0;url=/staff/case/{item.reference}"' in page.text
    assert ("kari", "read_case") not in audit_actions(offline_app)


async def test_every_console_response_has_the_security_headers(
    kari: StaffBrowser, stranger: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "p4", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    for response in (
        await stranger.client.get("/staff"),  # 303 to sign in
        await stranger.client.get("/staff/login"),
        await kari.get("/staff"),
        await kari.get(f"/staff/case/{item.reference}"),
        await kari.post(f"/staff/case/{item.reference}/claim", csrf="x"),  # 403
        await kari.client.get("/static/console.css"),
        await kari.client.get("/static/console.js"),
    ):
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] in ("no-referrer", "same-origin")
        assert response.headers["x-frame-options"] == "DENY"
    page = await kari.get("/staff")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert all(ref.startswith(("/", "#")) for ref in references), references  # all our own
    assert "<script>" not in page.text and 'style="' not in page.text


async def test_the_console_changes_nothing_on_a_get(kari: StaffBrowser, offline_app: App) -> None:
    """The actions are POSTs: a GET of them is not allowed and changes nothing."""
    await asks_anonymously(offline_app, "p5", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    for path in (f"{base}/claim", f"{base}/close?outcome=x", "/staff/duty?on=0", "/staff/logout"):
        assert (await kari.get(path)).status_code == 405
    [still] = offline_app.queue.open_cases("kari")
    assert still.claimed_by is None and still.status == "open"
    assert not {a for _, a in audit_actions(offline_app)} & {"claim", "close", "duty", "sign_out"}


# --- the queue -------------------------------------------------------------------------------


async def test_the_queue_says_things_as_people_say_them_in_oslo_time(
    kari: StaffBrowser, offline_app: App, clock: FakeClock
) -> None:
    await asks_anonymously(offline_app, "teen-web-2", "jeg har ingen steder å sove i natt")
    clock.advance(minutes=12)
    queue = (await kari.get("/staff")).text
    assert "Haster</strong> ikke noe sted å bo eller sove" in queue
    assert re.search(r'<tr class="urgent over" data-reference="[^"]+" data-urgent="1"', queue)
    assert "venter 12 min – over målet (5 min)" in queue  # the urgent target: colour and words
    assert "for 12 min siden" in queue and "24.11.2026 kl. 10:30 CET" in queue  # 09:30 UTC
    assert "nettchat, bokmål" in queue and "Anonym – ingen samtykke" in queue
    assert "Venter på en los" in queue
    for internal in ("urgent<", "open/claimed", ">web<", "anonymous", ">claimed<", "11:30"):
        assert internal not in queue, internal


async def test_oslo_summer_time_shows_as_cest(offline_app: App, web: Starlette) -> None:
    offline_app.router.clock.now = offline_app.router.clock.now.replace(month=6, day=16)  # type: ignore[attr-defined]
    await asks_anonymously(offline_app, "summer", "hvordan får vi støttekontakt?")
    async with StaffBrowser(web) as kari:
        await kari.sign_in("kari", PASSWORD)
        assert "16.06.2026 kl. 11:30 CEST" in (await kari.get("/staff")).text


async def test_switching_duty_in_the_console_is_audited(
    kari: StaffBrowser, offline_app: App
) -> None:
    page = (await kari.get("/staff")).text  # Tuesday: ahmed is rostered, kari is not
    assert "Du er ikke på vakt." in page and "På vakt nå: Ahmed Los." in page
    assert (await kari.post("/staff/duty", {"on": "1"})).status_code == 303
    page = (await kari.get("/staff")).text
    assert "Du er på vakt." in page and "Ahmed Los, Kari Los" in page
    await kari.post("/staff/duty", {"on": "0"})
    with offline_app.store.sessions() as session:
        duty = [
            (a.actor, a.detail)
            for a in session.scalars(select(AuditEntry).where(AuditEntry.action == "duty"))
        ]
    assert duty == [("kari", "on"), ("kari", "off")]


# --- a case ----------------------------------------------------------------------------------


async def test_a_los_takes_a_case_replies_and_closes_it_in_the_browser(
    kari: StaffBrowser, offline_app: App
) -> None:
    teen = await asks_anonymously(
        offline_app, "teen-web", "<script>alert('x')</script> er det normalt å være så sliten?"
    )
    [item] = offline_app.queue.open_cases("kari")
    assert item.reference in (await kari.get("/staff")).text

    base = f"/staff/case/{item.reference}"
    page = await kari.get(base)
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert ">Ta saken</button>" in page.text

    claimed = await kari.post(f"{base}/claim")
    assert claimed.status_code == 303
    page = await kari.get(base)  # the case is hers now: no stale "Ta saken"
    assert "Din sak" in page.text and ">Ta saken</button>" not in page.text
    assert ">Send svaret</button>" in page.text

    await kari.post(f"{base}/reply", {"text": "Hei! Det er vanlig. Vil du prate mer?"})
    assert (await teen.inbox())[-1] == "Hei! Det er vanlig. Vil du prate mer?"
    page = await kari.get(base)
    assert "Familielosen" in page.text and "Hei! Det er vanlig." in page.text

    asked = await kari.post(f"{base}/close")
    assert asked.status_code == 200 and f"Avslutte sak {item.reference}?" in asked.text
    assert offline_app.queue.open_cases("kari") != []  # asking closes nothing
    done = await kari.post(
        f"{base}/close", {"confirm": "yes", "outcome": "answered", "words": "ville bare spørre"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/staff?closed={item.reference}"
    assert offline_app.queue.open_cases("kari") == []
    assert f"Sak {item.reference} er avsluttet." in (await kari.get(done.headers["location"])).text
    with offline_app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == item.reference)).one()
        assert case.outcome == "answered: ville bare spørre"
    assert {"read_case", "claim", "reply", "close"} <= {a for _, a in audit_actions(offline_app)}


async def test_closing_needs_an_outcome_from_the_list_and_words_for_other(
    kari: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "c1", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    await kari.post(f"{base}/claim")
    page = (await kari.post(f"{base}/close")).text
    for label in ("Besvart i samtalen", "Henvist til en tjeneste", "Familieteam satt sammen"):
        assert label in page
    assert 'type="radio"' in page and '<label for="words">' in page
    for fields, says in (
        ({"confirm": "yes"}, "Velg hvordan saken endte."),
        ({"confirm": "yes", "outcome": "urgent"}, "Velg hvordan saken endte."),
        ({"confirm": "yes", "outcome": "other"}, "skriv kort hvordan saken endte"),
    ):
        refused = await kari.post(f"{base}/close", fields)
        assert refused.status_code == 400 and says in refused.text
    assert offline_app.queue.open_cases("kari")[0].status == "claimed"
    closed = await kari.post(
        f"{base}/close", {"confirm": "yes", "outcome": "other", "words": "flyttet"}
    )
    assert closed.status_code == 303 and offline_app.queue.open_cases("kari") == []


async def test_a_reply_typed_before_taking_the_case_is_kept_and_can_be_sent_with_the_claim(
    kari: StaffBrowser, offline_app: App
) -> None:
    teen = await asks_anonymously(offline_app, "early", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    typed = "Hei, jeg heter Kari og er familielos. Jeg kan hjelpe deg."
    kept = await kari.client.post(
        f"{base}/reply", data={"text": typed, "csrf": kari.csrf}, headers={"Origin": ORIGIN}
    )  # sent without claiming (an old page, say)
    assert kept.status_code == 409
    assert "Du har ikke tatt saken ennå" in kept.text
    assert f">{typed}</textarea>" in kept.text
    assert ">Ta saken og send</button>" in kept.text
    assert await teen.inbox() == []

    sent = await kari.post(f"{base}/reply", {"text": typed, "claim": "1"})
    assert sent.status_code == 303
    assert (await teen.inbox())[-1] == typed
    assert offline_app.queue.open_cases("kari")[0].claimed_by == "kari"


async def test_a_reply_to_a_case_a_colleague_took_is_kept_and_says_who_has_it(
    kari: StaffBrowser, offline_app: App
) -> None:
    teen = await asks_anonymously(offline_app, "taken", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    assert offline_app.queue.claim(item.reference, "ahmed")
    typed = "Jeg svarer deg nå."
    kept = await kari.post(f"/staff/case/{item.reference}/reply", {"text": typed, "claim": "1"})
    assert kept.status_code == 409
    assert "Ahmed Los har tatt saken" in kept.text and typed in kept.text
    assert await teen.inbox() == []


async def test_transfer_picks_a_colleague_from_the_roster_and_errors_are_sentences(
    kari: StaffBrowser, offline_app: App, web: Starlette
) -> None:
    await asks_anonymously(offline_app, "t1", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    await kari.post(f"{base}/claim")
    page = (await kari.get(base)).text
    assert '<select id="to" name="to" required>' in page
    assert '<option value="ahmed">Ahmed Los (familielos)</option>' in page
    assert '<option value="leder">Lise Leder (leder)</option>' in page
    assert 'value="kari"' not in page  # not herself
    for to, says in (
        ("per", "Fant ingen kollega «per» som kan ta saker."),
        ("", "Velg en kollega i listen."),
    ):
        refused = await kari.post(f"{base}/transfer", {"to": to})
        assert refused.status_code == 400 and says in refused.text
        assert "←" not in refused.text.split("<main", 1)[1]
    moved = await kari.post(f"{base}/transfer", {"to": "ahmed"})
    assert moved.status_code == 303
    assert offline_app.queue.open_cases("kari")[0].claimed_by == "ahmed"
    page = (await kari.get(base)).text
    assert "Ahmed Los har saken" in page and ">Send svaret</button>" not in page


async def test_a_young_person_s_first_message_is_on_the_case_page(
    kari: StaffBrowser, offline_app: App
) -> None:
    """She writes, asks for a person, is under the consent age and so asks anonymously:
    what she wrote first is in the conversation the los reads."""
    teen = Citizen(offline_app, "young", channel="web")
    await teen.says("jeg blir mobbet og vil snakke med noen")
    await teen.says("", button="about:self")
    await teen.says("", button="age:<13")
    await teen.says("det skjer hver dag i friminuttet")
    [item] = offline_app.queue.open_cases("kari")
    page = (await kari.get(f"/staff/case/{item.reference}")).text
    assert "jeg blir mobbet og vil snakke med noen" in page
    assert "det skjer hver dag i friminuttet" in page
    talk = page.split('<ol class="messages">', 1)[1]
    assert talk.index("jeg blir mobbet") < talk.index("det skjer hver dag")
    assert "Innbyggeren" in page and "Inngang (automatisk svar)" in page


async def test_the_choices_a_parent_pressed_are_in_the_conversation_by_their_labels(
    kari: StaffBrowser, offline_app: App
) -> None:
    from tests.test_journeys import parent_sends_a_case

    _, reference = await parent_sends_a_case(offline_app)
    view = offline_app.queue.view(reference, "kari")
    pressed = [m.text for m in view.conversation if m.button]
    assert pressed == [
        "Snakk med en person",
        "Mitt barn",
        "6-12 år",
        "Ja, losen kan ta med tjenestene vi trenger",
        "Hopp over",
        "Ferdig",
        "Ring meg",
        "Send",
    ]
    talk = (await kari.get(f"/staff/case/{reference}")).text.split('<ol class="messages">', 1)[1]
    assert talk.index("hvem gjelder det?") < talk.index("Mitt barn") < talk.index("Hvor gammelt")
    assert talk.count("trykket") >= len(pressed)


async def test_opening_a_case_tells_the_citizen_nothing_until_the_los_marks_it_read(
    kari: StaffBrowser, offline_app: App
) -> None:
    teen = await asks_anonymously(offline_app, "p6", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    base = f"/staff/case/{item.reference}"
    await kari.post(f"{base}/claim")
    page = await kari.get(base)
    assert f'action="{base}/read"' in page.text
    assert await teen.inbox() == []
    assert offline_app.queue.open_cases("kari")[0].unread == 1
    assert ("kari", "read_case") in audit_actions(offline_app)

    assert (await kari.post(f"{base}/read")).status_code == 303
    [receipt] = await teen.inbox()
    assert receipt == offline_app.catalogs("case.read_receipt", "nb")
    assert offline_app.queue.open_cases("kari")[0].unread == 0
    assert f'action="{base}/read"' not in (await kari.get(base)).text


async def test_an_unknown_case_is_a_page_not_an_error(kari: StaffBrowser) -> None:
    for reference in ("K-NOPE00", "x" * 40):
        page = await kari.get(f"/staff/case/{reference}")
        assert page.status_code == 404 and "Fant ikke saken" in page.text


# --- roles and languages ---------------------------------------------------------------------


async def test_a_service_member_invited_nowhere_has_no_cases_and_cannot_open_one_by_url(
    offline_app: App, web: Starlette
) -> None:
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save(
        "hanne", "Hanne Helsesykepleier", "service", "skolehelsetjeneste", clock_now(offline_app)
    )
    await asks_anonymously(offline_app, "s1", "hvordan får vi støttekontakt?")
    [item] = offline_app.queue.open_cases("kari")
    async with StaffBrowser(web) as hanne:
        await hanne.sign_in("hanne", PASSWORD)
        home = await hanne.get("/staff")
        assert home.status_code == 200 and "Ingen saker er delt med deg ennå." in home.text
        assert item.reference not in home.text
        by_url = await hanne.get(f"/staff/case/{item.reference}")
        assert by_url.status_code == 404 and "Fant ikke saken" in by_url.text  # not revealed
        assert (await hanne.post(f"/staff/case/{item.reference}/claim")).status_code == 403
    assert offline_app.queue.open_cases("kari")[0].claimed_by is None


def clock_now(app: App) -> object:
    return app.router.clock()


@pytest.mark.parametrize(
    ("language", "words"),
    [("nn", ("Logg inn", "Brukarnamn")), ("en", ("Sign in", "User name"))],
)
async def test_the_console_speaks_the_configured_staff_language(
    offline_app: App, language: str, words: tuple[str, ...]
) -> None:
    settings = offline_app.settings.model_copy(
        update={"console": offline_app.settings.console.model_copy(update={"language": language})}
    )
    offline_app.queue.settings = settings
    web = create_web_app(offline_app, staff_password=PASSWORD)
    async with StaffBrowser(web) as browser:
        page = await browser.client.get("/staff/login")
        assert f'<html lang="{language}">' in page.text
        assert all(word in page.text for word in words)


def test_idle_expiry_is_validated_in_the_settings(offline_app: App) -> None:
    import yaml

    from bot.settings import ConfigError, settings_from_mapping

    raw = yaml.safe_load(offline_app.settings.config_path.read_text(encoding="utf-8"))
    for console, field in (
        ({"idle_minutes": 0}, "console.idle_minutes"),
        ({"idle_minutes": 600, "absolute_hours": 2}, "idle_minutes (600) is longer"),
        ({"secure_cookie": "sometimes"}, "console.secure_cookie"),
    ):
        with pytest.raises(ConfigError, match=re.escape(field)):
            settings_from_mapping({**raw, "console": console}, {}, offline_app.settings.config_path)


def test_the_idle_time_is_thirty_minutes_unless_configured(offline_app: App) -> None:
    assert offline_app.settings.console.idle_minutes == 30
    assert timedelta(minutes=offline_app.settings.console.idle_minutes) < timedelta(
        hours=offline_app.settings.console.absolute_hours
    )


async def test_numbers_typed_in_arabic_read_left_to_right_on_the_case_page(
    kari: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "web-ar-2", "ابني يحتاج مساعدة، رقمي 41 22 33 44 <b>")
    [item] = offline_app.queue.open_cases("kari")
    page = await kari.get(f"/staff/case/{item.reference}")
    assert '<bdi dir="ltr">41 22 33 44</bdi>' in page.text
    assert "&lt;b&gt;" in page.text and "<b>" not in page.text.split("<main", 1)[1]


async def test_in_an_arabic_case_a_norwegian_reply_reads_left_to_right_and_an_arabic_one_not(
    kari: StaffBrowser, offline_app: App
) -> None:
    await asks_anonymously(offline_app, "web-ar-3", "ابني يحتاج مساعدة في المدرسة")
    [item] = offline_app.queue.open_cases("kari")
    offline_app.queue.claim(item.reference, "kari")
    offline_app.queue.reply(item.reference, "kari", "Hei! Jeg ringer deg i morgen kl. 10.")
    offline_app.queue.reply(item.reference, "kari", "مرحبا، سأتصل بك غدا")
    page = (await kari.get(f"/staff/case/{item.reference}")).text
    assert '<p class="text" lang="nb" dir="auto">Hei! Jeg ringer deg' in page
    assert '<p class="text" lang="ar" dir="rtl">مرحبا، سأتصل بك غدا' in page


async def test_the_case_page_says_which_consent_text_was_agreed_to_and_when(
    kari: StaffBrowser, offline_app: App
) -> None:
    from tests.test_journeys import parent_sends_a_case

    _, reference = await parent_sends_a_case(offline_app)
    page = await kari.get(f"/staff/case/{reference}")
    from flows.intake import CONSENT_VERSION

    assert f"Tekstversjon {CONSENT_VERSION} (bokmål), gitt " in page.text
    assert " CET" in page.text or " CEST" in page.text
