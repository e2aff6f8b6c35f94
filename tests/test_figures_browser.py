"""The leaders' monthly picture in a real Chromium: a leader signs in and opens "Tall for
ledere" on a month of the example configuration's demo data; the charts and their tables are
there, axe finds nothing on the page or on the report laid out for paper, and printed (the
print stylesheet) the menu is gone and every chart is still there. Screenshots at 1280×800 go
where the console's do (/tmp/console-shots/, or INNGANG_SCREENSHOTS)."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.demo_figures import write_for_example
from tests.test_console_browser import DESKTOP, no_axe_findings, served, shot, sign_in

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the fixture, used by name


async def test_a_leader_sees_the_month_as_charts_and_prints_the_report(
    served: str, chromium: object, offline_app: App
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    assert write_for_example(offline_app, only_if_empty=True)
    context = await chromium.new_context(viewport=DESKTOP, locale="nb-NO")  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in(page, served, "/staff", "leder")
    await page.get_by_role("link", name="Tall for ledere").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Månedsbilde: november 2026")
    charts = page.get_by_role("img")
    await expect(charts).to_have_count(8)
    await expect(charts.first).to_have_accessible_name("Henvendelser per uke etter tema")
    await expect(page.get_by_role("table")).to_have_count(8)
    await shot(page, "leder-figures-1280")
    await no_axe_findings(page, "figures")

    await page.get_by_role("link", name="Månedsrapport for utskrift").click()
    await expect(page.get_by_role("link", name="Tilbake til månedsbildet")).to_be_visible()
    await no_axe_findings(page, "figures report")
    await page.emulate_media(media="print")
    await expect(page.get_by_role("navigation", name="Måneder")).to_be_hidden()
    await expect(page.get_by_text("Fjordvik kommune · laget")).to_be_visible()
    await expect(charts).to_have_count(8)
    await shot(page, "leder-figures-print")
    await context.close()
