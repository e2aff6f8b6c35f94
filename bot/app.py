"""Wiring: build every part of the application from one Settings object."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock, system_clock
from bot.content import LiveContent
from bot.i18n import Catalogs
from bot.identity import load_or_create_secret
from bot.metrics import Metrics
from bot.queue import Queue
from bot.router import Router
from bot.settings import Settings
from bot.store.accounts import SeedMember
from bot.store.archive_repo import ArchiveRepo
from bot.store.content import ContentStore
from bot.store.crypto import KeyRing, key_source, reencrypt
from bot.store.db import make_engine, make_sessionmaker, migrate
from bot.store.invitations import InvitationRepo
from bot.store.models import Base
from bot.store.queue_repo import QueueRepo
from bot.store.repo import Store
from bot.store.staff_records import StaffRecords
from nlu.crisis import CrisisDetector
from nlu.danger_sense import DangerSense, with_probe_crises
from nlu.embeddings import E5Embedder, e5_available
from nlu.fallback import FallbackMatcher
from nlu.language import LanguageGuesser
from nlu.local_model import LocalModel
from nlu.rasa_client import RasaClient
from nlu.rasa_runtime import RasaError, RasaPaths, RasaServer, model_path, train
from nlu.service import Understander
from nlu.training_data import NLU_DIR, data_files, read_examples

log = logging.getLogger(__name__)
CRISIS_LEXICON = NLU_DIR / "crisis_lexicon.yml"
SECRET_FILE_NAME = "secret.key"
DATA_KEY_FILE_NAME = "data.key"
"""The keys' files in the state directory (``Settings.var_dir``), unless the environment
gives the keys (INNGANG_SECRET_KEY, INNGANG_DATA_KEY)."""


@dataclass
class App:
    """The running application's parts."""

    settings: Settings
    store: Store
    router: Router
    understander: Understander
    catalogs: Catalogs
    rasa: RasaClient | None
    queue: Queue
    staff_records: StaffRecords
    metrics: Metrics
    """This application's Prometheus metrics (its own registry)."""


@dataclass(frozen=True)
class NluParts:
    """The understanding step's parts that take seconds to build and never change while the
    application runs: the crisis lexicon, the language guesser (its models load on first
    use), the offline matcher and the danger sense over the same vectors."""

    crisis: CrisisDetector
    guesser: LanguageGuesser
    matcher: FallbackMatcher
    danger: DangerSense | None


def build_nlu_parts(languages: tuple[str, ...], cache_dir: Path | None = None) -> NluParts:
    """Read the lexicon and the training data; embed it (cached on disk in ``cache_dir``,
    default: the state directory's ``embeddings/``) when e5 is here."""
    embedder = E5Embedder() if e5_available() else None
    matcher = FallbackMatcher(read_examples(data_files()), embedder=embedder, cache_dir=cache_dir)
    trained = matcher.training_vectors()
    danger = None
    if embedder is not None and trained is not None:
        examples = with_probe_crises(embedder, *trained, cache_dir)
        danger = DangerSense(embedder, *examples, cache_dir=cache_dir)
    return NluParts(
        CrisisDetector.from_file(CRISIS_LEXICON), LanguageGuesser(languages), matcher, danger
    )


def build_understander(settings: Settings, rasa: RasaClient | None) -> Understander:
    """The NLU stack: crisis lexicon, danger sense, language guesser, offline matcher,
    optional Rasa, and the trained model's classifier read here for when Rasa is down."""
    parts = build_nlu_parts(settings.languages.supported, settings.var_dir / "embeddings")
    embedder = parts.matcher.embedder
    paths = RasaPaths.from_env(state=settings.var_dir)
    local = (
        LocalModel(lambda: model_path(paths), embedder)
        if embedder is not None and settings.nlu.read_model_when_down
        else None
    )
    return Understander(
        crisis=parts.crisis,
        guesser=parts.guesser,
        fallback=parts.matcher,
        rasa=rasa,
        threshold=settings.nlu.confidence_threshold,
        crisis_corroboration=settings.nlu.crisis_corroboration,
        danger=parts.danger,
        local=local,
    )


def build_app(
    settings: Settings,
    *,
    use_rasa: bool = True,
    clock: Clock = system_clock,
    secret_file: Path | None = None,
    data_key_file: Path | None = None,
    data_key: str | None = None,
) -> App:
    """Create the engine, migrate the schema, and assemble the router.

    The keyed hashes' secret is the settings' INNGANG_SECRET_KEY, else kept in
    ``secret_file`` (default: var/secret.key, in the state directory). Citizen text is
    encrypted with the data keys: ``data_key`` (default: the settings' INNGANG_DATA_KEY),
    else ``data_key_file`` (default: ``data.key`` beside ``secret_file``, i.e.
    var/data.key), generated on first use. Rows still in plaintext (from before
    encryption) are encrypted.
    """
    secret_file = secret_file or settings.var_dir / SECRET_FILE_NAME
    data_key_file = data_key_file or secret_file.with_name(DATA_KEY_FILE_NAME)
    configured = settings.data_key if data_key is None else data_key
    keyring = KeyRing(key_source(configured, data_key_file))
    engine = make_engine(settings.database_url, keyring)
    migrate(engine)
    reencrypt(engine, Base.metadata, only_plaintext=True)
    store = Store(make_sessionmaker(engine), clock)
    rasa = RasaClient(settings.nlu.servers(), settings.nlu.timeout_ms / 1000) if use_rasa else None
    understander = build_understander(settings, rasa)
    catalogs = Catalogs.load(settings.languages.supported)
    secret = load_or_create_secret(settings.secret_key, secret_file)
    metrics = Metrics()
    content = LiveContent(settings, catalogs, ContentStore(store.sessions, clock))
    router = Router(settings, store, understander, catalogs, secret, clock, metrics, content)
    accounts = router.staffing.accounts
    assert accounts is not None
    accounts.seed(
        (
            SeedMember(m.id, m.name, m.role, m.service, m.email, m.phone, m.area)
            for m in settings.roster.staff
        ),
        clock(),
    )
    cases = QueueRepo(store.sessions, router.notices)
    invitations = InvitationRepo(store.sessions, router.notices)
    archive = ArchiveRepo(store.sessions)
    queue = Queue(settings, cases, catalogs, router.staffing, clock, invitations, archive)
    staff_records = StaffRecords(store.sessions)
    return App(
        settings, store, router, understander, catalogs, rasa, queue, staff_records, metrics
    )


def _host_port(url: str) -> tuple[str, int]:
    rest = url.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.partition(":")
    return host, int(port or 80)


@contextlib.asynccontextmanager
async def managed_nlu(settings: Settings, *, train_if_needed: bool = True) -> AsyncIterator[bool]:
    """Ensure a Rasa server for settings.nlu.url: reuse a healthy one or start our own.

    Yields whether Rasa is available. When Rasa cannot be had, the offline matcher serves
    and the reason goes to stderr; the citizen still gets answers.
    """
    if not settings.nlu.manage_server:
        yield True
        return
    paths = RasaPaths.from_env(state=settings.var_dir)
    host, port = _host_port(settings.nlu.url)
    server: RasaServer | None = None
    try:
        model = model_path(paths)
        if not model.exists():
            if not train_if_needed:
                raise RasaError("no trained NLU model; run `inngang nlu train`")
            model, _ = train(paths)
        server = RasaServer(paths, model, host, port)
        print(f"Rasa NLU server on {server.url}: starting (or reusing) ...", file=sys.stderr)
        await server.start()
        print(
            "Rasa NLU server is ready."
            if not server.reused
            else "Using the Rasa NLU server already running.",
            file=sys.stderr,
        )
    except RasaError as error:
        print(f"NLU server unavailable, using the offline matcher: {error}", file=sys.stderr)
        server = None
    try:
        yield server is not None
    finally:
        if server is not None:
            await server.stop()
