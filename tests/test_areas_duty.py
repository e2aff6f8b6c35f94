"""Who is on duty now, per area, on the queue page: on a Tuesday Lise (a leader of all
areas) reads that Kari is on duty in Askim, Sara at the top level and nobody in Mysen; Kari
reads only Askim's; when Ahmed goes on duty, Mysen has him."""

from __future__ import annotations

import re

from starlette.applications import Starlette

from tests.area_fixtures import areas_app, areas_web
from tests.console_fixtures import signed_in

__all__ = ["areas_app", "areas_web"]  # the fixtures


def on_duty(page: str) -> dict[str, str]:
    """The queue page's "on duty now" per area: area name -> what it says."""
    listed = page.split('<ul class="duty-areas">', 1)[1].split("</ul>", 1)[0]
    return dict(re.findall(r"<li><strong>([^<]+):</strong> ([^<]+)</li>", listed))


async def test_a_leader_of_all_sees_each_areas_los_on_duty_and_a_los_her_own(
    areas_web: Starlette,
) -> None:
    async with signed_in(areas_web, "leder") as lise:
        shown = on_duty((await lise.get("/staff")).text)
        assert shown["Askim"] == "På vakt nå: Kari Los."
        assert shown["Mysen"] == "Ingen er på vakt nå."
        top, sara = next(iter(shown.items()))  # the top level first
        assert top == "Indre Østfold kommune" and sara == "På vakt nå: Sara Los."
        assert on_duty((await lise.get("/staff?area=mysen")).text) == {
            "Mysen": "Ingen er på vakt nå."
        }
    async with signed_in(areas_web, "kari") as kari:
        page = (await kari.get("/staff")).text
        assert on_duty(page) == {"Askim": "På vakt nå: Kari Los."}
        assert "Du er på vakt." in page and "Sara Los" not in page
    async with signed_in(areas_web, "ahmed") as ahmed:
        assert on_duty((await ahmed.get("/staff")).text) == {"Mysen": "Ingen er på vakt nå."}
        assert (await ahmed.post("/staff/duty", {"on": "1"})).status_code == 303
        assert on_duty((await ahmed.get("/staff")).text) == {"Mysen": "På vakt nå: Ahmed Los."}
    async with signed_in(areas_web, "leder") as lise:
        shown = on_duty((await lise.get("/staff")).text)
        assert shown["Mysen"] == "På vakt nå: Ahmed Los." and "Ahmed" not in shown["Askim"]
