"""The leaders' monthly picture in the console: ``/staff/figures?month=2026-11`` (charts drawn
by the server with a table beside each; ``&print=1`` is the monthly report laid out for
paper) and ``/staff/figures.csv?month=2026-11`` (the same tables). Leaders and admins only;
every look is audited. Counts only: no text, no ids, and no count from 1 to 4."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from babel.dates import format_date
from babel.numbers import format_decimal
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.month_figures import Figure, MonthFigures, Translate
from bot.monthly import Month, MonthPicture, month_picture
from bot.settings import ALL_AREAS
from bot.staff import Permission, may
from flows.types import N_

if TYPE_CHECKING:
    from bot.console.app import Console
    from bot.console.guard import Staff


class FigurePages:
    """The monthly picture and its CSV, on top of the console's sign-in and pages."""

    def __init__(self, console: Console) -> None:
        self.console = console
        present = console.present
        labels = {
            "topic": present.topic,
            "language": present.language_name,
            "channel": present.channel,
        }
        self.builder = MonthFigures(
            present.t,
            lambda kind, value: labels[kind](value),
            lambda value: format_decimal(value, locale=console.language),
        )

    def _month(self, request: Request) -> Month:
        """The month asked for, else the current one (in the municipality's time)."""
        asked = Month.parse(request.query_params.get("month", ""))
        now = self.console.queue.clock()
        return asked or Month.of(now, self.console.present.zone)

    async def _area(self, request: Request, staff: Staff) -> str:
        """Whose figures: the staff member's area; for staff of all, one area chosen
        (``?area=``) or all together."""
        own = await run_in_threadpool(self.console.queue.area_of, staff.id)
        chosen = request.query_params.get("area", "")
        if own == ALL_AREAS and chosen in self.console.area_names:
            return chosen
        return own

    async def _picture(
        self, staff: Staff, month: Month, detail: str, area: str = ALL_AREAS
    ) -> MonthPicture:
        console = self.console
        zone = console.present.zone
        since, until = month.bounds(zone)
        now = console.queue.clock()
        if area != ALL_AREAS:
            detail = f"{detail} area={area}"
        facts = await run_in_threadpool(
            console.records.month_figures, since, until, staff.id, now, detail, area
        )
        return month_picture(
            facts,
            month,
            zone,
            console.staffing.schedule.is_open,
            console.queue.settings.queue.first_reply_target_minutes,
        )

    async def _leader(self, request: Request) -> Staff | Response:
        staff = await self.console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        if not may(staff.account.role, Permission.SEE_FIGURES):
            return self.console._forbidden(staff)
        return staff

    def month_name(self, month: Month) -> str:
        """ "november 2026" in the console's language."""
        return format_date(month.first_day(), "LLLL y", locale=self.console.language)

    async def page(self, request: Request) -> Response:
        """GET /staff/figures: the month's charts and tables (``print=1``: the report)."""
        staff = await self._leader(request)
        if isinstance(staff, Response):
            return staff
        month = self._month(request)
        area = await self._area(request, staff)
        picture = await self._picture(staff, month, str(month), area)
        console = self.console
        municipality = console.queue.settings.municipality.name
        if area != ALL_AREAS and console.area_names:
            municipality = f"{municipality}: {console.area_names.get(area, area)}"
        return console.render(
            "figures.html",
            staff,
            month=str(month),
            month_name=self.month_name(month),
            previous=str(month.previous()),
            next=str(month.next()),
            figures=self.builder.figures(picture),
            printing=request.query_params.get("print") == "1",
            made=console.present.when(console.queue.clock()).absolute,
            municipality=municipality,
            area_choices=console.area_names if staff.account.area == ALL_AREAS else {},
            area_chosen="" if area == ALL_AREAS else area,
            retention_days=console.queue.settings.retention.anonymous_conversation_days,
        )

    async def csv(self, request: Request) -> Response:
        """GET /staff/figures.csv: every table of the month's picture, one value a line."""
        staff = await self._leader(request)
        if isinstance(staff, Response):
            return staff
        month = self._month(request)
        area = await self._area(request, staff)
        picture = await self._picture(staff, month, f"{month} csv", area)
        body = figures_csv(self.builder.figures(picture), self.console.present.t)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="inngang-{month}.csv"',
                "Cache-Control": "no-store",
            },
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/staff/figures", self.page, methods=["GET"]),
            Route("/staff/figures.csv", self.csv, methods=["GET"]),
        ]


def figures_csv(figures: list[Figure], translate: Translate) -> str:
    """The tables as CSV: figure, week, column, value (a hidden count is "<5")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            translate(N_("console.figures.csv.figure")),
            translate(N_("console.figures.csv.week")),
            translate(N_("console.figures.csv.column")),
            translate(N_("console.figures.csv.value")),
        ]
    )
    for figure in figures:
        for week, cells in figure.rows:
            for column, cell in zip(figure.columns, cells, strict=True):
                writer.writerow([_safe(figure.chart.title), week, _safe(column), cell])
    return "\ufeff" + out.getvalue()  # the BOM: a spreadsheet then reads UTF-8 (ø, å)


def _safe(cell: str) -> str:
    """No cell a spreadsheet would take for a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell
