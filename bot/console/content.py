"""The content page ("Innhold", /staff/content): a leader or an admin changes what the bot
answers about a service: its texts per language and register, its contact details, and the
los office's opening hours. Each form previews before it saves; a value is checked
(``bot.content_rules``) and refused with the field named; a save puts the change in force
at once (here at once, in other replicas within seconds) and in the history, where each
change shows its difference and can be reverted. The crisis lines are not edited here.

With areas, the content is one area's: the editor's own (a leader or admin of all areas
picks one); another area's is refused (403, audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.areas import ALL_AREAS, DEFAULT_AREA
from bot.console.content_view import (
    DAY_KEYS,
    FIELD_KEYS,
    REGISTER_KEYS,
    Choice,
    contact_rows,
    history_rows,
    hours_rows,
    preview,
    text_default,
    text_rows,
)
from bot.content import Effective, LiveContent
from bot.content_rules import (
    CONTACT_FIELDS,
    REGISTERS,
    TEXT_FIELDS,
    Refusal,
    check_contact,
    check_hours,
    check_text,
    hours_value,
    normalised,
)
from bot.settings import WEEKDAYS, Settings
from bot.staff import Permission, may
from bot.store.areas import record_refusal
from bot.store.content import ContentKey, ContentStore
from flows.types import N_

if TYPE_CHECKING:
    from bot.console.app import Console
    from bot.console.guard import Staff

MAX_FORM_FIELD = 5000
"""Longer than any text may be: the check says it is too long, the page keeps it."""
SAVED_KEYS = {
    "texts": N_("console.content.saved.texts"),
    "contact": N_("console.content.saved.contact"),
    "hours": N_("console.content.saved.hours"),
    "reset": N_("console.content.saved.reset"),
    "reverted": N_("console.content.saved.reverted"),
}


class OtherArea(Exception):
    """The editor asked for another area's content than their own."""


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return normalised(value[:MAX_FORM_FIELD]) if isinstance(value, str) else ""


class ContentPages:
    """/staff/content and its forms."""

    def __init__(self, console: Console, store: ContentStore, live: LiveContent) -> None:
        self.console = console
        self.store = store
        self.live = live
        settings = live.settings
        self.settings = settings
        self.languages = settings.languages.supported

    # --- who may ----------------------------------------------------------------------------

    async def _editor_page(self, request: Request) -> Staff | Response:
        staff = await self.console._signed_in(request)
        if isinstance(staff, Response):
            return staff
        if not may(staff.account.role, Permission.EDIT_CONTENT):
            return self.console._forbidden(staff)
        return staff

    async def _editor(self, request: Request) -> tuple[Staff, FormData] | Response:
        acting = await self.console._acting(request)
        if isinstance(acting, Response):
            return acting
        if not may(acting[0].account.role, Permission.EDIT_CONTENT):
            return self.console._forbidden(acting[0])
        return acting

    def _choice(self, get: Any, staff: Staff) -> Choice:
        """The service, language, register and area asked for (the first of each otherwise;
        the editor's own area). ``OtherArea`` when an editor of one area asks for another."""
        service = str(get("service") or "")
        language = str(get("language") or "")
        register = str(get("register") or "")
        return Choice(
            service if service in self.settings.service_ids else self.settings.service_ids[0],
            language if language in self.languages else self.settings.languages.default,
            register if register in REGISTERS else REGISTERS[0],
            self._area(str(get("area") or ""), staff),
        )

    def _area(self, asked: str, staff: Staff) -> str:
        """The area an editor edits: the one asked for, when theirs to edit; their own."""
        if not self.live.areas.several:
            return DEFAULT_AREA
        own = staff.account.area
        if own == ALL_AREAS:
            return self.live.areas.known(asked)
        if asked and asked != own:
            raise OtherArea(asked)
        return self.live.areas.known(own)

    async def _editing(self, request: Request) -> tuple[Staff, FormData, Choice] | Response:
        """A signed-in editor's form and the content it is about (a Response: refused)."""
        acting = await self._editor(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        choice = await self._chosen(form.get, staff)
        return choice if isinstance(choice, Response) else (staff, form, choice)

    async def _chosen(self, get: Any, staff: Staff) -> Choice | Response:
        """The choice, or 403 (audited) for another area's content."""
        try:
            return self._choice(get, staff)
        except OtherArea as refused:
            now = self.console.queue.clock()
            detail = f"content area={str(refused)[:32]}"
            await run_in_threadpool(record_refusal, self.store.sessions, now, staff.id, detail)
            return self.console._forbidden(staff)

    def _settings(self, choice: Choice) -> Settings:
        """config.yml with the chosen area's overlay: the defaults beside staff's values."""
        return self.live.areas.get(choice.area)

    async def _base(self, choice: Choice) -> Effective:
        """The content in force in the chosen area, read again now."""
        await run_in_threadpool(self.live.reload)
        return self.live.latest(choice.area)

    # --- the page ---------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        """GET: the editor for one service, language and register."""
        staff = await self._editor_page(request)
        if isinstance(staff, Response):
            return staff
        choice = await self._chosen(request.query_params.get, staff)
        if isinstance(choice, Response):
            return choice
        saved = request.query_params.get("saved", "")
        return await self._render(staff, choice, saved=saved)

    async def _render(
        self,
        staff: Staff,
        choice: Choice,
        *,
        saved: str = "",
        texts: dict[str, str] | None = None,
        contacts: dict[str, str] | None = None,
        hours: dict[str, tuple[str, str] | None] | None = None,
        refusals: list[Refusal] | None = None,
        previewing: bool = False,
    ) -> Response:
        base = await self._base(choice)
        settings = self._settings(choice)
        p = self.console.present
        refused = {r.field: r for r in refusals or []}
        values = dict(base.values)  # the preview: the draft over what is in force
        for field, value in (texts or {}).items():
            values[choice.key(field)] = value
        for field, value in (contacts or {}).items():
            values[ContentKey("contact", choice.service, field, area=choice.area)] = value
        changes = await run_in_threadpool(self.store.history, choice.service, area=choice.area)
        defaults = self._defaults(base, choice, changes)
        history = await run_in_threadpool(history_rows, changes, defaults, p)
        problems = [
            {
                "id": self._element(r.field),
                "label": self._label(r.field),
                "text": p.t(r.key, **r.params),
            }
            for r in refusals or []
        ]
        return self.console.render(
            "content.html",
            staff,
            400 if refusals else 200,
            choice=choice,
            services=[(sid, p.topic(sid)) for sid in self.settings.service_ids],
            languages=[(code, p.language_name(code)) for code in self.languages],
            registers=[(r, p.t(REGISTER_KEYS[r])) for r in REGISTERS],
            service_name=p.topic(choice.service),
            language_name=p.language_name(choice.language),
            register_name=p.t(REGISTER_KEYS[choice.register]),
            text_rows=text_rows(base, choice, texts or {}, refused, p),
            contact_rows=contact_rows(
                settings, base, choice.service, contacts or {}, refused, p, choice.area
            ),
            hours_rows=hours_rows(settings, base, hours or {}, refused, p, choice.area),
            preview=preview(settings, self.live.catalogs, values, choice, p),
            previewing=previewing,
            history=history,
            problems=problems,
            saved=p.t(SAVED_KEYS[saved]) if saved in SAVED_KEYS else "",
            crisis_lines=", ".join(line.number for line in self.settings.crisis_lines),
            areas=self._area_choices(staff),
            area_name=self.live.areas.names.get(choice.area, "") if self.live.areas.several else "",
        )

    def _area_choices(self, staff: Staff) -> list[tuple[str, str]]:
        """The areas an editor of all areas picks from (none for others, or without areas)."""
        if not self.live.areas.several or staff.account.area != ALL_AREAS:
            return []
        return list(self.live.areas.names.items())

    def _defaults(self, base: Any, choice: Choice, changes: list[Any]) -> dict[ContentKey, str]:
        """Each changed key's default, for the history's differences."""
        defaults: dict[ContentKey, str] = {}
        settings = self._settings(choice)
        for change in changes:
            key = change.key
            if key.kind == "text":
                other = Choice(key.service, key.language, key.register, key.area)
                defaults[key] = text_default(base, other, key.field)
            elif key.kind == "contact":
                defaults[key] = getattr(settings.service(key.service), key.field, None) or ""
            else:
                hours = settings.opening_hours.weekly.get(key.field)
                defaults[key] = f"{hours[0]}-{hours[1]}" if hours else ""
        return defaults

    def _label(self, field: str) -> str:
        p = self.console.present
        return p.t(FIELD_KEYS.get(field) or DAY_KEYS.get(field) or N_("console.content.title"))

    @staticmethod
    def _element(field: str) -> str:
        if field in WEEKDAYS:
            return f"opens-{field}"
        return "field-" + field.replace(".", "_")

    # --- the forms --------------------------------------------------------------------------

    async def texts(self, request: Request) -> Response:
        """POST /staff/content/texts: preview or save the four texts of one service, language
        and register. A text like the default is kept as the default."""
        chosen = await self._editing(request)
        if isinstance(chosen, Response):
            return chosen
        staff, form, choice = chosen
        base = await self._base(choice)
        draft = {field: _field(form, field.replace(".", "_")) for field in TEXT_FIELDS}
        refusals: list[Refusal] = []
        changes: dict[ContentKey, str | None] = {}
        for field, value in draft.items():
            default = text_default(base, choice, field)
            plain = base.t.default(f"service.{choice.service}.{field}", choice.language)
            refusals += check_text(field, field, value, plain or default)
            changes[choice.key(field)] = None if value == default else value
        if refusals or form.get("action") != "save":
            return await self._render(
                staff, choice, texts=draft, refusals=refusals, previewing=not refusals
            )
        await run_in_threadpool(self.store.save, changes, staff.id)
        return await self._saved(choice, "texts", "texts")

    async def contact(self, request: Request) -> Response:
        """POST /staff/content/contact: preview or save a service's contact details."""
        chosen = await self._editing(request)
        if isinstance(chosen, Response):
            return chosen
        staff, form, choice = chosen
        draft = {field: _field(form, field) for field in CONTACT_FIELDS}
        refusals = [r for field, value in draft.items() for r in check_contact(field, value)]
        if refusals or form.get("action") != "save":
            return await self._render(
                staff, choice, contacts=draft, refusals=refusals, previewing=not refusals
            )
        configured = self._settings(choice).service(choice.service)
        changes: dict[ContentKey, str | None] = {
            ContentKey("contact", choice.service, field, area=choice.area): (
                None if value == (getattr(configured, field) or "") else value
            )
            for field, value in draft.items()
        }
        await run_in_threadpool(self.store.save, changes, staff.id)
        return await self._saved(choice, "contact", "contact")

    async def hours(self, request: Request) -> Response:
        """POST /staff/content/hours: the los office's opening hours per weekday."""
        chosen = await self._editing(request)
        if isinstance(chosen, Response):
            return chosen
        staff, form, choice = chosen
        draft: dict[str, tuple[str, str] | None] = {}
        refusals: list[Refusal] = []
        changes: dict[ContentKey, str | None] = {}
        for day in WEEKDAYS:
            opens, closes = _field(form, f"opens-{day}"), _field(form, f"closes-{day}")
            closed = form.get(f"closed-{day}") == "1"
            draft[day] = None if closed else (opens, closes)
            refusals += check_hours(day, opens, closes, closed)
            default = self._settings(choice).opening_hours.weekly.get(day)
            value = hours_value(opens, closes, closed)
            is_default = (default is None and closed) or (default == (opens, closes) and not closed)
            key = ContentKey("hours", "", day, area=choice.area)
            changes[key] = None if is_default else value
        if refusals:
            return await self._render(staff, choice, hours=draft, refusals=refusals)
        await run_in_threadpool(self.store.save, changes, staff.id)
        return await self._saved(choice, "hours", "hours")

    async def reset(self, request: Request) -> Response:
        """POST /staff/content/reset: one text or contact detail back to its default."""
        chosen = await self._editing(request)
        if isinstance(chosen, Response):
            return chosen
        staff, form, choice = chosen
        field = _field(form, "field")
        if field in TEXT_FIELDS:
            key, anchor = choice.key(field), "texts"
        elif field in CONTACT_FIELDS:
            key = ContentKey("contact", choice.service, field, area=choice.area)
            anchor = "contact"
        else:
            return Response(status_code=400)
        await run_in_threadpool(self.store.save, {key: None}, staff.id, "content_reset")
        return await self._saved(choice, "reset", anchor)

    async def revert(self, request: Request) -> Response:
        """POST /staff/content/revert/{change}: put back what was in force before it."""
        acting = await self._editor(request)
        if isinstance(acting, Response):
            return acting
        staff, form = acting
        raw = str(request.path_params.get("change", ""))
        found = await run_in_threadpool(self.store.change, int(raw)) if raw.isdigit() else None
        if found is None:
            return Response(status_code=404)
        asked = {**dict(form), "area": found.key.area}
        chosen = await self._chosen(asked.get, staff)
        if isinstance(chosen, Response):  # another area's change
            return chosen
        change = await run_in_threadpool(self.store.revert, found.id, staff.id)
        if change is None:
            return Response(status_code=404)
        key, choice = change.key, chosen
        if key.kind == "text":
            choice = Choice(key.service, key.language, key.register, key.area)
        elif key.kind == "contact":
            choice = Choice(key.service, choice.language, choice.register, key.area)
        return await self._saved(choice, "reverted", "history")

    async def _saved(self, choice: Choice, saved: str, anchor: str) -> Response:
        await run_in_threadpool(self.live.reload)  # here at once; other replicas: the revision
        query = f"service={choice.service}&language={choice.language}&register={choice.register}"
        if choice.area != DEFAULT_AREA:
            query += f"&area={choice.area}"
        return RedirectResponse(f"/staff/content?{query}&saved={saved}#{anchor}", 303)

    def routes(self) -> list[BaseRoute]:
        """/staff/content and its forms."""
        return [
            Route("/staff/content", self.page, methods=["GET"]),
            Route("/staff/content/texts", self.texts, methods=["POST"]),
            Route("/staff/content/contact", self.contact, methods=["POST"]),
            Route("/staff/content/hours", self.hours, methods=["POST"]),
            Route("/staff/content/reset", self.reset, methods=["POST"]),
            Route("/staff/content/revert/{change}", self.revert, methods=["POST"]),
        ]
