"""Settings: one validated object built at start-up from config.yml and the environment."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.resources import EXAMPLE_CONFIG
from bot.resources import PROJECT_ROOT as PROJECT_ROOT  # scripts and tests find files by it
from nlu.state import STATE_ENV, state_dir

REQUIRED_SERVICES = (
    "helsestasjon",
    "skolehelsetjeneste",
    "ppt",
    "familieteam",
    "barnevern",
    "bup",
    "psykisk_helse_rus",
    "nav",
    "fritid",
    "flyktning",
)
KNOWN_LANGUAGES = ("nb", "nn", "en", "pl", "uk", "ar", "so")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_AREA = "default"
"""The area of an installation without ``areas:``, and of the top-level values beside them."""
ALL_AREAS = "all"
"""A staff member's area when they work for the whole installation (a leader of it all)."""
AREA_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"


class ConfigError(Exception):
    """Raised when config.yml or the environment is invalid; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Municipality(_Strict):
    name: str = Field(min_length=1)
    web: str
    timezone: str = "Europe/Oslo"
    calling_code: str = Field(default="+47", pattern=r"^\+[1-9][0-9]{0,2}$")
    """The country's calling code: channels that link phone numbers (Telegram) write the
    municipality's numbers in full international form ("+47 55 10 20 01")."""


class Languages(_Strict):
    default: str
    supported: tuple[str, ...]

    @model_validator(mode="after")
    def _default_is_supported(self) -> Languages:
        unknown = [code for code in self.supported if code not in KNOWN_LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language codes {unknown}; known: {list(KNOWN_LANGUAGES)}")
        if self.default not in self.supported:
            raise ValueError(f"default language {self.default!r} is not in supported")
        return self


def _parse_clock(value: str) -> tuple[int, int]:
    hours, _, minutes = value.partition(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60):
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return h, m


class OpeningHours(_Strict):
    holidays_country: str = "NO"
    weekly: dict[str, tuple[str, str]]

    @field_validator("weekly")
    @classmethod
    def _valid_days(cls, weekly: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        for day, (start, end) in weekly.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday name ({', '.join(WEEKDAYS)})")
            if _parse_clock(start) >= _parse_clock(end):
                raise ValueError(f"{day}: opening {start} is not before closing {end}")
        return weekly


class CrisisLine(_Strict):
    id: str
    number: str = Field(pattern=r"^[0-9 ]{3,15}$")
    audience: Literal["all", "youth", "adults"]
    always_show: bool = False
    in_crisis_answer: bool = True


class Service(_Strict):
    id: str
    phone: str = Field(min_length=3)
    email: str | None = None
    address: str | None = None
    url: str | None = None
    after_hours_phone: str | None = None


STAFF_ROLES = ("los", "leader", "service", "admin")
StaffRole = Literal["los", "leader", "service", "admin"]
STAFF_ID_PATTERN = r"^[a-z0-9_.-]{1,64}$"


class StaffMember(_Strict):
    id: str = Field(pattern=STAFF_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    role: StaffRole
    """los (familielos), leader, service (a member of one of the services: say which in
    ``service``), admin (manages accounts; reads no cases)."""
    service: str | None = None
    """For the service role: the service id (``ppt``, ``barnevern``, ...)."""
    email: str | None = None
    """Where this staff member's notifications go by e-mail (none: console only)."""
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{5,20}$")
    """Where urgent notifications go by SMS (none: no SMS)."""
    area: str | None = None
    """With ``areas:``: the area this member works in (an area id, ``default`` for the
    top-level one, or ``all`` for the whole installation). Required then; none otherwise."""


class Roster(_Strict):
    staff: tuple[StaffMember, ...]
    on_duty: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_staff(self) -> Roster:
        ids = {member.id for member in self.staff}
        for day, members in self.on_duty.items():
            if day not in WEEKDAYS:
                raise ValueError(f"on_duty: {day!r} is not a weekday name")
            for member in members:
                if member not in ids:
                    raise ValueError(f"on_duty.{day}: {member!r} is not in staff")
        return self


class ArchiveSettings(_Strict):
    """How an exported case is described to the municipality's Noark 5 archive system
    (``inngang queue export``, the console's "Eksporter til arkiv"). The archive's own
    numbers (arkiv, arkivdel, journal numbers) are given by the archive at import."""

    administrative_unit: str | None = Field(default=None, max_length=200)
    """administrativEnhet of the case (default: the municipality's name)."""
    classification_system: str = Field(default="Inngang tema", min_length=1, max_length=100)
    """klassifikasjonssystemID: the municipality's scheme (e.g. its K-codes), or the topics."""
    classes: dict[str, str] = Field(default_factory=dict)
    """klasseID per topic (service id, or ``los``/``annet``) in that scheme; a topic not
    listed is classified by its id."""
    access_code: str = Field(default="13", pattern=r"^[0-9A-Za-z]{1,4}$")
    """tilgangsrestriksjon: 13 = taushetsbelagte opplysninger."""
    legal_basis: str = Field(default="Offl. § 13 jf. fvl. § 13", min_length=1, max_length=100)
    """skjermingshjemmel."""


class VoiceSettings(_Strict):
    """The municipality's voice: ``auto`` speaks informally to young people (a youth-register
    first message, or a young person under 18 writing about themselves) and plainly and
    politely to adults; ``youth`` or ``adult`` is one register for all."""

    register_: Literal["auto", "youth", "adult"] = Field(default="auto", alias="register")
    """``voice.register`` in config.yml (``register`` itself is a name pydantic keeps)."""

    @property
    def chosen(self) -> str:
        """The configured register: auto, youth or adult."""
        return self.register_


class ConsoleSettings(_Strict):
    """The staff console: its language and how long a sign-in lasts."""

    language: Literal["nb", "nn", "en"] = "nb"
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """A session nobody used for this long ends (the staff member signs in again)."""
    absolute_hours: int = Field(default=12, ge=1, le=7 * 24)
    """A session ends this long after sign-in, however busy."""
    secure_cookie: Literal["auto", "always", "never"] = "auto"
    """Mark the session cookie Secure: ``auto`` when the request came over https (behind a
    reverse proxy, uvicorn takes the scheme from X-Forwarded-Proto when the proxy's address
    is in FORWARDED_ALLOW_IPS), ``always``, or ``never`` (plain-http development only)."""

    @model_validator(mode="after")
    def _idle_within_absolute(self) -> ConsoleSettings:
        if self.idle_minutes > self.absolute_hours * 60:
            raise ValueError(
                f"idle_minutes ({self.idle_minutes}) is longer than absolute_hours "
                f"({self.absolute_hours} h)"
            )
        return self


class QueueSettings(_Strict):
    escalate_after_minutes: int = Field(default=60, ge=1)
    urgent_escalate_after_minutes: int = Field(default=5, ge=1)
    target_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """How long a case should wait at most before a los takes it: the console shows each open
    case's waiting time against it ("venter 42 min – over målet")."""
    urgent_target_minutes: int = Field(default=5, ge=1, le=24 * 60)
    """The same for urgent cases."""
    first_reply_target_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    """How soon after a case is opened the family should have the first reply from a los: the
    leaders' figures (/staff/figures) draw the median and 90th percentile against it."""

    @model_validator(mode="after")
    def _urgent_sooner(self) -> QueueSettings:
        if self.urgent_target_minutes > self.target_minutes:
            raise ValueError(
                f"urgent_target_minutes ({self.urgent_target_minutes}) is longer than "
                f"target_minutes ({self.target_minutes}): an urgent case must not wait longer"
            )
        return self


class CallbackSettings(_Strict):
    """Calls at a time that suits: a family choosing "call me" picks one of the next free
    callback slots (published by a los or leader in the console, or generated from the
    opening hours on days someone is rostered), "any time", or writes their own time."""

    offer: int = Field(default=4, ge=3, le=5)
    """How many of the next free slots are offered."""
    slot_minutes: int = Field(default=30, ge=5, le=240)
    """A slot's length (the console's default, and the generated slots')."""
    min_notice_minutes: int = Field(default=30, ge=0, le=24 * 60)
    """A slot starting sooner than this is not offered."""
    days_ahead: int = Field(default=7, ge=1, le=60)
    """How far ahead slots are offered (and generated)."""
    reminder_minutes: int = Field(default=30, ge=0, le=24 * 60)
    """The reminder goes this long before the call (0: no reminder)."""
    generate: bool = False
    """Generate slots from the opening hours on days someone is rostered (off: only the slots
    staff publish are offered; with none, "call me" asks for a number and a time as text)."""
    keep_days: int = Field(default=30, ge=1, le=365)
    """Slots (and the calls booked in them) are deleted this long after their time."""


class OnCall(_Strict):
    """Who is notified of urgent cases when the los office is closed (or nobody is on duty)."""

    name: str = "Barnevernvakt"
    sms: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{5,20}$")
    email: str | None = None


class AfterHours(_Strict):
    """The municipality's help when the los office is closed: told to citizens in danger
    (``phone``, e.g. the barnevernvakt, open all night) and notified of urgent cases
    (``on_call``)."""

    phone: str = Field(pattern=r"^[0-9 ]{3,15}$")
    on_call: OnCall = OnCall()


class EmailTransport(_Strict):
    """SMTP for staff notifications; the password comes from SMTP_PASSWORD."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    sender: str = "inngang@localhost"
    starttls: bool = False
    username: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)


class NotificationSettings(_Strict):
    """How staff are told: one notice per case and kind within ``repeat_after_minutes``,
    delivered by e-mail and SMS (SMS through the gateway in ``sms:``), retried with back-off
    from ``retry_first_s`` doubling up to ``retry_max_s``, at most ``retry_attempts`` times."""

    repeat_after_minutes: int = Field(default=30, ge=1)
    retry_attempts: int = Field(default=8, ge=1, le=50)
    retry_first_s: float = Field(default=10.0, gt=0)
    retry_max_s: float = Field(default=900.0, gt=0)
    email: EmailTransport = EmailTransport()
    sms: bool = True
    """Send urgent notices by SMS through the SMS gateway (``sms.outbound_url``)."""
    console_url: str = "http://127.0.0.1:8080/staff"
    """The console address put in notices (the case's page is appended)."""


class Retention(_Strict):
    closed_case_days: int = Field(default=180, ge=1)
    anonymous_conversation_days: int = Field(default=30, ge=1)
    consent_record_years: int = Field(default=5, ge=1)
    unplaced_days: int = Field(default=90, ge=1)
    """How long the masked notes of messages the bot could not place are kept."""


class AttachmentSettings(_Strict):
    """Documents from the family (a photo or a PDF of a letter) sent into an open case."""

    max_bytes: int = Field(default=10_000_000, ge=1_000, le=50_000_000)
    """The largest file taken; a larger one is refused (and read no further)."""
    types: tuple[Literal["image/jpeg", "image/png", "image/webp", "application/pdf"], ...] = (
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
    )
    """The types taken, as decided from the file's first bytes (never its name)."""


class TrustedSettings(_Strict):
    """A young person brings a friend or a trusted adult into their conversation with the
    los (*mitt nettverk*) with a one-time code they share themselves."""

    enabled: bool = True
    code_minutes: int = Field(default=30, ge=5, le=1440)
    """How long a code (and its link) can be used, once."""
    max_tries: int = Field(default=5, ge=1, le=50)
    """Wrong, expired or used codes one conversation may send ..."""
    tries_window_minutes: int = Field(default=15, ge=1, le=1440)
    """... within this many minutes before it must wait (guessing is slowed down)."""


class ServiceOverride(_Strict):
    """An area's own contact details of a service: only what differs from the top level."""

    id: str
    phone: str | None = Field(default=None, min_length=3)
    email: str | None = None
    address: str | None = None
    url: str | None = None
    after_hours_phone: str | None = None


class AreaRoster(_Strict):
    """An area's familielos roster: who of its staff is on duty by weekday."""

    on_duty: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("on_duty")
    @classmethod
    def _weekdays(cls, on_duty: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day in on_duty:
            if day not in WEEKDAYS:
                raise ValueError(f"on_duty: {day!r} is not a weekday name")
        return on_duty


class Area(_Strict):
    """One municipality (or part of a merged one) on a shared installation: its own name,
    contacts, opening hours and roster over the top-level values, and the entries that lead
    to it (the web chat at ``/a/<id>/``, an SMS number, Telegram's
    ``start=<id>``)."""

    id: str = Field(pattern=AREA_ID_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    municipality_name: str | None = Field(default=None, min_length=1, max_length=200)
    """What the bot calls the municipality here (default: the top-level name)."""
    municipality_web: str | None = None
    services: tuple[ServiceOverride, ...] = ()
    opening_hours: OpeningHours | None = None
    roster: AreaRoster | None = None
    after_hours_phone: str | None = Field(default=None, pattern=r"^[0-9 ]{3,15}$")
    sms_number: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{3,20}$")
    """The SMS gateway number (the inbound message's "to") that leads here."""


class Database(_Strict):
    url: str | None = None
    """None: SQLite, ``inngang.db`` in the state directory. A relative path in a
    ``sqlite:///`` URL is taken from the working directory."""

    @field_validator("url")
    @classmethod
    def _supported_backend(cls, url: str | None) -> str | None:
        if url is None:
            return url
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        if url.startswith("postgresql") and importlib.util.find_spec("psycopg") is None:
            raise ValueError(
                "PostgreSQL needs the psycopg driver, which is not installed: install "
                "Inngang with its postgres extra (pip install 'inngang[postgres]')"
            )
        return url


class NluSettings(_Strict):
    url: str = "http://127.0.0.1:5005"
    urls: list[str] = Field(default_factory=list)
    """Several Rasa servers serving the same model (behind no proxy): when set, messages go
    to them in turn instead of ``url``, and one that fails is taken out for a while
    (``nlu.rasa_client.RasaClient``). Needs ``manage_server: false``."""
    timeout_ms: int = Field(default=1500, ge=50, le=30000)
    confidence_threshold: float = Field(default=0.4, gt=0, lt=1)
    """Below it the model's answer is doubtful: the offline matcher's reading is taken when it
    names a service, else the citizen chooses among the likely ones. Calibrated on the
    development blind sets (README, "When unsure, ask")."""
    crisis_corroboration: float = Field(default=0.55, gt=0, lt=1)
    """The offline matcher's confidence in "crisis" that must back the model's crisis intent
    before it raises the flag (the lexicon needs no backing)."""
    manage_server: bool = True
    read_model_when_down: bool = True
    """While the Rasa server is unavailable, the application reads the trained model's
    classifier itself (the same answers, from the model file in the state directory's
    ``models/``); off, or with no model there: the offline matcher alone."""

    @model_validator(mode="after")
    def _one_managed_server(self) -> NluSettings:
        if self.urls and self.manage_server:
            raise ValueError("nlu.urls needs manage_server: false (Inngang manages one server)")
        return self

    def servers(self) -> list[str]:
        """The Rasa servers to ask: ``urls`` when set, else ``url``."""
        return list(self.urls) or [self.url]


class WebSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    """The public https URL in front of this server; set it to use Telegram webhooks."""
    metrics: bool = False
    """Serve Prometheus metrics at /metrics, to requests with ``Authorization: Bearer
    $INNGANG_METRICS_TOKEN`` (required when this is on). Off: /metrics does not exist."""


class LoggingSettings(_Strict):
    """How the log (stderr) is written: ``text`` lines, or ``json``, one object per line
    (time in UTC, level, logger, message and any extra fields). INNGANG_LOG_FORMAT
    overrides it."""

    format: Literal["text", "json"] = "text"


class SmsSettings(_Strict):
    """An HTTP SMS gateway of the common shape: a signed inbound webhook, an outbound POST.

    Inbound: POST {inbound_path} with JSON or form fields named by `fields`; the header
    `signature_header` carries hex HMAC-SHA256(shared secret, "<timestamp>.<raw body>") and
    `timestamp_header` the Unix time; older than `max_age_s` or a repeated message id is
    refused. Outbound: POST JSON {to_field: number, text_field: text, from_field: sender,
    reference_field: the part's idempotency reference} to `outbound_url` with
    "Authorization: Bearer $SMS_API_TOKEN".
    """

    enabled: bool = False
    inbound_path: str = "/sms/inbound"
    fields: dict[str, str] = Field(
        default_factory=lambda: {"from": "from", "text": "text", "id": "id", "to": "to"}
    )
    """The inbound fields' names: the sender (``from``), ``text``, the message ``id`` and
    the number it was sent to (``to``: with areas, an area's ``sms_number`` leads there)."""
    signature_header: str = "X-Signature"
    timestamp_header: str = "X-Timestamp"
    max_age_s: int = Field(default=300, ge=10)
    outbound_url: str = "http://127.0.0.1:9099/messages"
    to_field: str = "to"
    text_field: str = "text"
    from_field: str = "from"
    sender: str = "Inngang"
    max_parts: int = Field(default=8, ge=1, le=20)
    reference_field: str = "reference"
    """Each part of a message from the outbox carries a reference ("outbox-<id>-<part>") in
    this field, so a gateway that drops repeated references never delivers a part twice
    (sent again after a crash between the gateway's acceptance and its acknowledgement
    here). Empty: no reference is sent."""


class WhatsAppTemplate(_Strict):
    """An approved WhatsApp message template: its name and language code at Meta."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    """Meta's code for the template's language (``nb``, ``en_US``, ``uk``, ...)."""


class WhatsAppSettings(_Strict):
    """The WhatsApp Cloud API (Meta's Graph API). The token (WHATSAPP_TOKEN), the app secret
    that signs webhooks (WHATSAPP_APP_SECRET) and the webhook verify token
    (WHATSAPP_VERIFY_TOKEN) come from the environment.

    Webhooks arrive at ``webhook_path`` (GET: the subscription check, POST: messages and
    delivery statuses, signed ``X-Hub-Signature-256``); replies go to
    ``{api_url}/{api_version}/{phone_number_id}/messages``. Outside the 24-hour customer
    service window a los reply waits, and the citizen gets ``reply_waiting_templates`` in their
    language (else the default language's) saying a reply is waiting.
    """

    enabled: bool = False
    phone_number_id: str = Field(default="", pattern=r"^[0-9]{0,32}$")
    api_version: str = Field(default="v21.0", pattern=r"^v[0-9]{1,3}\.[0-9]{1,3}$")
    api_url: str = "https://graph.facebook.com"
    """The Graph API's address (a local fake in tests)."""
    webhook_path: str = Field(default="/whatsapp/webhook", pattern=r"^/[A-Za-z0-9/_-]{1,100}$")
    reply_waiting_templates: dict[str, WhatsAppTemplate] = Field(default_factory=dict)
    """Per supported language: the template sent when a los reply waits outside the window."""

    @field_validator("reply_waiting_templates")
    @classmethod
    def _known_languages(
        cls, templates: dict[str, WhatsAppTemplate]
    ) -> dict[str, WhatsAppTemplate]:
        unknown = sorted(code for code in templates if code not in KNOWN_LANGUAGES)
        if unknown:
            raise ValueError(f"unknown language codes {unknown}; known: {list(KNOWN_LANGUAGES)}")
        return templates

    @model_validator(mode="after")
    def _number_when_enabled(self) -> WhatsAppSettings:
        if self.enabled and not self.phone_number_id:
            raise ValueError("phone_number_id is required when WhatsApp is enabled")
        return self


class Settings(_Strict):
    """Everything the application needs, validated. Secrets are read from the environment."""

    example_data: bool = False
    municipality: Municipality
    languages: Languages
    consent_age: int = Field(default=13, ge=10, le=18)
    opening_hours: OpeningHours
    crisis_lines: tuple[CrisisLine, ...]
    services: tuple[Service, ...]
    roster: Roster
    areas: tuple[Area, ...] = ()
    """Several municipalities or areas on one installation (none: one, the top level)."""
    queue: QueueSettings = QueueSettings()
    callbacks: CallbackSettings = CallbackSettings()
    console: ConsoleSettings = ConsoleSettings()
    voice: VoiceSettings = VoiceSettings()
    archive: ArchiveSettings = ArchiveSettings()
    after_hours: AfterHours
    notifications: NotificationSettings = NotificationSettings()
    retention: Retention = Retention()
    attachments: AttachmentSettings = AttachmentSettings()
    trusted: TrustedSettings = TrustedSettings()
    database: Database = Database()
    nlu: NluSettings = NluSettings()
    web: WebSettings = WebSettings()
    logging: LoggingSettings = LoggingSettings()
    metrics_token: str | None = Field(default=None, repr=False)
    """INNGANG_METRICS_TOKEN: the bearer token /metrics asks for."""
    sms: SmsSettings = SmsSettings()
    sms_shared_secret: str | None = Field(default=None, repr=False)
    sms_api_token: str | None = Field(default=None, repr=False)
    whatsapp: WhatsAppSettings = WhatsAppSettings()
    whatsapp_token: str | None = Field(default=None, repr=False)
    whatsapp_app_secret: str | None = Field(default=None, repr=False)
    whatsapp_verify_token: str | None = Field(default=None, repr=False)
    staff_password: str | None = Field(default=None, repr=False)
    smtp_password: str | None = Field(default=None, repr=False)
    data_key: str = Field(default="", repr=False)
    """INNGANG_DATA_KEY: the keys that encrypt citizen text at rest (empty: var/data.key)."""
    secret_key: str = Field(default="", repr=False)
    telegram_token: str | None = Field(default=None, repr=False)
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    telegram_api_url: str | None = None
    config_path: Path = EXAMPLE_CONFIG
    var_dir: Path = Field(default_factory=lambda: state_dir())
    """INNGANG_VAR: where the application writes (keys, the SQLite database, caches, NLU
    models); default ``var`` in the working directory."""

    @field_validator("services")
    @classmethod
    def _all_services(cls, services: tuple[Service, ...]) -> tuple[Service, ...]:
        ids = [service.id for service in services]
        missing = [sid for sid in REQUIRED_SERVICES if sid not in ids]
        if missing:
            raise ValueError(
                f"missing services {missing}; every id in {list(REQUIRED_SERVICES)} is required"
            )
        duplicates = sorted({sid for sid in ids if ids.count(sid) > 1})
        if duplicates:
            raise ValueError(f"duplicate service ids {duplicates}")
        return services

    @model_validator(mode="after")
    def _staff_services(self) -> Settings:
        ids = [member.id for member in self.roster.staff]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"roster.staff: duplicate ids {duplicates}")
        for member in self.roster.staff:
            if member.role == "service" and member.service not in self.service_ids:
                raise ValueError(
                    f"roster.staff: {member.id} has the service role: set service to one of "
                    f"{list(self.service_ids)}"
                )
            if member.role != "service" and member.service is not None:
                raise ValueError(f"roster.staff: {member.id}: only the service role has a service")
        return self

    @model_validator(mode="after")
    def _valid_areas(self) -> Settings:
        check_areas(self)
        return self

    @model_validator(mode="after")
    def _metrics_token(self) -> Settings:
        if self.web.metrics and not self.metrics_token:
            raise ValueError(
                "web.metrics needs INNGANG_METRICS_TOKEN in the environment: /metrics is "
                "served only to requests that carry it as a bearer token"
            )
        return self

    @field_validator("crisis_lines")
    @classmethod
    def _emergency_numbers(cls, lines: tuple[CrisisLine, ...]) -> tuple[CrisisLine, ...]:
        numbers = {line.number.replace(" ", "") for line in lines}
        missing = [n for n in ("113", "112") if n not in numbers]
        if missing:
            raise ValueError(f"the emergency numbers {missing} must be listed")
        return lines

    def service(self, service_id: str) -> Service:
        """The service with this id (KeyError if it is not configured)."""
        for service in self.services:
            if service.id == service_id:
                return service
        raise KeyError(service_id)

    @property
    def service_ids(self) -> tuple[str, ...]:
        return tuple(service.id for service in self.services)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file (None on PostgreSQL): ``inngang.db`` in the state
        directory unless ``database.url`` names one (relative: from the working directory)."""
        url = self.database.url
        if url is None:
            return self.var_dir / "inngang.db"
        prefix = "sqlite:///"
        if not url.startswith(prefix):
            return None
        return Path(url[len(prefix) :]).absolute()

    @property
    def database_url(self) -> str:
        path = self.sqlite_path
        if path is not None:
            return f"sqlite:///{path}"
        assert self.database.url is not None  # no path: a PostgreSQL URL
        return self.database.url


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _digits(number: str) -> str:
    return number.replace(" ", "").lstrip("+")


def check_areas(settings: Settings) -> None:
    """The areas are consistent: unique ids, numbers and ids that lead to one area each,
    known services, every staff member in an area (only with areas), rosters of its own."""
    areas = settings.areas
    ids = [a.id for a in areas]
    if DEFAULT_AREA in ids or ALL_AREAS in ids:
        raise ValueError(f"areas: {DEFAULT_AREA!r} and {ALL_AREAS!r} are reserved area ids")
    for label, values in (
        ("ids", ids),
        ("sms_numbers", [_digits(a.sms_number) for a in areas if a.sms_number]),
    ):
        if _duplicates(values):
            raise ValueError(f"areas: duplicate {label} {_duplicates(values)}")
    known = (*ids, DEFAULT_AREA, ALL_AREAS)
    for member in settings.roster.staff:
        if areas and member.area is None:
            raise ValueError(
                f"roster.staff: {member.id} is in no area: set area to one of {list(known)}"
            )
        if not areas and member.area not in (None, DEFAULT_AREA):
            raise ValueError(f"roster.staff: {member.id}: area {member.area!r} but no areas:")
        if areas and member.area not in known:
            raise ValueError(f"roster.staff: {member.id}: unknown area {member.area!r}")
    area_of = {m.id: m.area for m in settings.roster.staff}
    for area in areas:
        for override in area.services:
            if override.id not in settings.service_ids:
                raise ValueError(f"areas.{area.id}.services: unknown service id {override.id!r}")
        overrides = [o.id for o in area.services]
        if _duplicates(overrides):
            raise ValueError(f"areas.{area.id}.services: duplicate ids {_duplicates(overrides)}")
        for day, members in (area.roster.on_duty if area.roster else {}).items():
            for staff_id in members:
                if area_of.get(staff_id, "") not in (area.id, ALL_AREAS):
                    raise ValueError(
                        f"areas.{area.id}.roster.on_duty.{day}: {staff_id!r} is not staff of "
                        f"{area.id}"
                    )


def _format_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def settings_from_mapping(
    data: Mapping[str, object], env: Mapping[str, str], path: Path
) -> Settings:
    """Validate a parsed config mapping plus environment overrides into Settings."""
    merged: dict[str, object] = dict(data)
    merged["config_path"] = path
    if env.get("INNGANG_DATABASE_URL"):
        merged["database"] = {
            **_as_dict(merged.get("database")),
            "url": env["INNGANG_DATABASE_URL"],
        }
    if env.get("INNGANG_NLU_URL"):  # one URL, or several separated by commas
        given = [u.strip() for u in env["INNGANG_NLU_URL"].split(",") if u.strip()]
        nlu = {**_as_dict(merged.get("nlu")), "url": given[0] if given else ""}
        merged["nlu"] = {**nlu, "urls": given} if len(given) > 1 else nlu
    if env.get("INNGANG_NLU_MANAGE_SERVER"):
        managed = env["INNGANG_NLU_MANAGE_SERVER"].lower() in ("1", "true", "yes")
        merged["nlu"] = {**_as_dict(merged.get("nlu")), "manage_server": managed}
    if env.get("INNGANG_WEB_PORT"):
        merged["web"] = {**_as_dict(merged.get("web")), "port": env["INNGANG_WEB_PORT"]}
    for key in ("secret_key", "telegram_token", "data_key", "metrics_token"):
        if key in merged:
            raise ConfigError(
                f"{path}: {key}: secrets belong in the environment, not in config.yml"
            )
    if "var_dir" in merged:
        raise ConfigError(
            f"{path}: var_dir: the state directory comes from the environment ({STATE_ENV}), "
            "not from config.yml"
        )
    merged["var_dir"] = state_dir(env)
    for key in ("token", "app_secret", "verify_token"):
        if key in _as_dict(merged.get("whatsapp")):
            raise ConfigError(
                f"{path}: whatsapp.{key}: secrets belong in the environment "
                f"(WHATSAPP_{key.upper()}), not in config.yml"
            )
    merged["secret_key"] = env.get("INNGANG_SECRET_KEY", "")
    merged["telegram_token"] = env.get("TELEGRAM_BOT_TOKEN") or None
    merged["telegram_webhook_secret"] = env.get("TELEGRAM_WEBHOOK_SECRET") or None
    merged["telegram_api_url"] = env.get("TELEGRAM_API_URL") or None
    merged["sms_shared_secret"] = env.get("SMS_SHARED_SECRET") or None
    merged["sms_api_token"] = env.get("SMS_API_TOKEN") or None
    merged["whatsapp_token"] = env.get("WHATSAPP_TOKEN") or None
    merged["whatsapp_app_secret"] = env.get("WHATSAPP_APP_SECRET") or None
    merged["whatsapp_verify_token"] = env.get("WHATSAPP_VERIFY_TOKEN") or None
    merged["staff_password"] = env.get("INNGANG_STAFF_PASSWORD") or None
    merged["smtp_password"] = env.get("SMTP_PASSWORD") or None
    merged["data_key"] = env.get("INNGANG_DATA_KEY", "")
    merged["metrics_token"] = env.get("INNGANG_METRICS_TOKEN") or None
    if env.get("INNGANG_LOG_FORMAT"):
        merged["logging"] = {**_as_dict(merged.get("logging")), "format": env["INNGANG_LOG_FORMAT"]}
    if env.get("INNGANG_PUBLIC_URL"):
        merged["web"] = {**_as_dict(merged.get("web")), "public_url": env["INNGANG_PUBLIC_URL"]}
    try:
        return Settings.model_validate(merged)
    except ValidationError as error:
        raise ConfigError(f"{path} is not valid:\n{_format_error(error)}") from None


def _as_dict(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, Mapping) else {}


def default_config_path(env: Mapping[str, str]) -> Path:
    """INNGANG_CONFIG, else ./config.yml, else the example configuration shipped with the
    application (in a checkout: its config.yml)."""
    configured = env.get("INNGANG_CONFIG")
    if configured:
        return Path(configured)
    local = Path("config.yml")
    return local.absolute() if local.is_file() else EXAMPLE_CONFIG


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the configuration (``default_config_path``) and the environment; raise
    ConfigError if invalid."""
    environment = os.environ if env is None else env
    config_path = path or default_config_path(environment)
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read configuration {config_path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{config_path} is not valid YAML: {error}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{config_path}: expected a mapping at the top level")
    return settings_from_mapping(data, environment, config_path)
