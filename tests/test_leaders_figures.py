"""The leaders' monthly picture over HTTP: a leader (or an admin) sees the month as charts with
a table beside each and downloads the same as CSV; a los is refused; a count under five is
"<5" on the page, in the CSV and in `inngang stats`; the time to the first los reply is
counted from the los's own reply; every look is audited; the example configuration's demo
data gives a month of charts and is never written into a real municipality's database."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot import staff_cli
from bot.app import App
from bot.cli import _demo_figures, _parser, main
from bot.demo_figures import write_for_example
from bot.resources import PROJECT_ROOT
from bot.store.demo_data import is_empty
from bot.store.models import AuditEntry
from tests.console_fixtures import signed_in
from tests.fakes.clock import FakeClock
from tests.journey import Citizen
from tests.test_journeys import parent_sends_a_case

NOVEMBER = "/staff/figures?month=2026-11"


def audited(app: App, action: str) -> list[tuple[str, str | None]]:
    with app.store.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(a.actor, a.detail) for a in rows]


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def table_cells(page: str, heading: str) -> list[list[str]]:
    """The rows of the table in the section with this heading (its head row first), as cell
    texts."""
    section = page.split(f">{heading}</h2>")[1].split("</section>")[0]
    table = section.split("<thead>")[1].split("</table>")[0]
    return [
        [html.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)]
        for row in table.split("</tr>")
        if "<t" in row
    ]


async def test_a_leader_sees_a_month_of_demo_data_as_charts_with_tables(
    offline_app: App, web: Starlette
) -> None:
    assert offline_app.settings.example_data and is_empty(offline_app.store.sessions)
    written = write_for_example(offline_app, only_if_empty=True)
    assert written is not None and written > 150
    assert write_for_example(offline_app, only_if_empty=True) is None  # not twice
    async with signed_in(web, "leder") as leder:
        page = await leder.get(NOVEMBER)
        queue = await leder.get("/staff")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Månedsbilde: november 2026</h1>" in text
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 8
    assert text.count('<table class="list figures">') == 8
    for heading in (
        "Henvendelser per uke etter tema",
        "Henvendelser per uke etter språk",
        "Henvendelser per uke etter kanal",
        "Besvart av boten alene eller sendt videre til los",
        "Tid til første svar fra los (mål: 60 min)",
        "Henvendelser utenom åpningstiden",
        "Familier som kommer tilbake",
        "Tilbakemeldinger over tid",
    ):
        rows = table_cells(text, heading)
        weeks = rows[0][1:7] if rows[0][0] == "Gruppe" else [r[0] for r in rows[1:7]]
        assert weeks == [f"uke {w}" for w in range(44, 50)], heading
    handover = table_cells(text, "Besvart av boten alene eller sendt videre til los")
    assert [row[0] for row in handover] == ["Gruppe", "Boten alene", "Sendt til los"]
    assert all(int(row[3]) >= 5 for row in handover[1:])  # week 46, a whole week
    assert 'href="/staff/figures?month=2026-10"' in text and "figures.csv?month=2026-11" in text
    assert 'href="/staff/figures"' in queue.text  # the leader's menu has it
    assert audited(offline_app, "figures") == [("leder", "2026-11")]


async def test_a_los_is_refused_and_an_admin_may_look(
    offline_app: App, web: Starlette, clock: FakeClock
) -> None:
    async with signed_in(web, "kari") as kari:
        assert (await kari.get(NOVEMBER)).status_code == 403
        assert (await kari.get("/staff/figures.csv")).status_code == 403
        assert 'href="/staff/figures"' not in (await kari.get("/staff")).text
    assert audited(offline_app, "figures") == []
    accounts = offline_app.router.staffing.accounts
    assert accounts is not None
    accounts.save("ola", "Ola Admin", "admin", None, clock())
    async with signed_in(web, "ola") as ola:
        assert (await ola.get(NOVEMBER)).status_code == 200


async def test_counts_under_five_are_never_shown_on_the_page_in_the_csv_or_by_inngang_stats(
    offline_app: App,
    web: Starlette,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two people ask the bot where the helsestasjon is; one parent's case goes to a los."""
    for user in ("asker-1", "asker-2"):
        await Citizen(offline_app, user).says("hvor er helsestasjonen?")
    await parent_sends_a_case(offline_app)
    async with signed_in(web, "leder") as leder:
        page = (await leder.get(NOVEMBER)).text
        download = await leder.get("/staff/figures.csv?month=2026-11")
    [head, *groups] = table_cells(page, "Henvendelser per uke etter tema")
    week48 = head.index("uke 48")
    assert groups and {row[week48] for row in groups} == {"<5"}
    assert {row[-1] for row in groups} == {"<5"}  # the month's total too
    assert ", Helsestasjon:" not in page  # not drawn either
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="inngang-2026-11.csv"' in download.headers["content-disposition"]
    rows = csv_rows(download.text)
    assert list(rows[0]) == ["Figur", "Uke", "Kolonne", "Verdi"]
    contacts = [r for r in rows if r["Figur"] == "Henvendelser per uke etter tema"]
    assert {r["Verdi"] for r in contacts} == {"0", "<5"}
    assert {r["Uke"] for r in contacts} >= {"uke 48", "Hele måneden"}
    assert not [r for r in rows if r["Verdi"] in {"1", "2", "3", "4"}]
    assert audited(offline_app, "figures") == [("leder", "2026-11"), ("leder", "2026-11 csv")]

    monkeypatch.setenv(staff_cli.TOKEN_ENV, staff_cli.issue_token(
        offline_app.staff_records, "leder", offline_app.router.clock()
    ))  # fmt: skip
    args = _parser().parse_args(["stats", "--json", "--as", "leder"])
    assert staff_cli.run(offline_app, args) == 0
    printed = capsys.readouterr().out
    assert '"conversations_started": "<5"' in printed and '"cases_opened": "<5"' in printed
    assert '"cases_withdrawn": 0' in printed


async def test_the_time_to_the_first_reply_is_counted_from_the_los_reply(
    offline_app: App, web: Starlette, clock: FakeClock
) -> None:
    """Five parents' cases; a los takes each after 5 minutes and answers 12 minutes after it
    came (the fifth after 100): median 12, 90th percentile 100."""
    for n, minutes in enumerate((12, 12, 12, 12, 100)):
        _, reference = await parent_sends_a_case(offline_app, f"parent-{n}")
        clock.advance(minutes=5)
        offline_app.queue.claim(reference, "kari")
        clock.advance(minutes=minutes - 5)
        offline_app.queue.reply(reference, "kari", "Hei, jeg ringer deg i dag.")
    async with signed_in(web, "leder") as leder:
        page = (await leder.get(NOVEMBER)).text
    rows = table_cells(page, "Tid til første svar fra los (mål: 60 min)")
    assert ["uke 48", "5", "12", "100"] in rows
    assert ["Hele måneden", "5", "12", "100"] in rows
    assert "Hei, jeg ringer" not in page  # counts, never words


def test_demo_figures_are_refused_for_a_real_municipality(
    offline_app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    offline_app.settings = offline_app.settings.model_copy(update={"example_data": False})
    assert _demo_figures(offline_app, only_if_empty=False) == 2
    assert "only into the shipped example" in capsys.readouterr().err
    assert _demo_figures(offline_app, only_if_empty=True) == 0  # `inngang run`: silently not
    assert is_empty(offline_app.store.sessions)


async def test_an_odd_month_shows_the_current_one_and_never_fails(web: Starlette) -> None:
    async with signed_in(web, "leder") as leder:
        for asked in ("9999-99", "2026-1", "../../etc", "%00", "2026-11-30", "٢٠٢٦-١١", "x" * 5000):
            page = await leder.get(f"/staff/figures?month={asked}&print=1")
            assert page.status_code == 200, asked
            assert "<h1>Månedsbilde: november 2026</h1>" in page.text, asked
        october = await leder.get("/staff/figures.csv?month=2026-10")
    assert 'filename="inngang-2026-10.csv"' in october.headers["content-disposition"]


def test_inngang_demo_figures_refuses_a_real_configuration_before_opening_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "config.yml"
    shipped = (PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")
    real.write_text(shipped.replace("example_data: true", "example_data: false"), "utf-8")
    monkeypatch.setenv("INNGANG_VAR", str(tmp_path / "var"))
    assert main(["--config", str(real), "demo-figures"]) == 2
    assert "only into the shipped example" in capsys.readouterr().err
    assert not (tmp_path / "var").exists()  # no database, no keys
