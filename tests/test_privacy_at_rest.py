"""Privacy at rest: citizen text is encrypted in the database files, deletion leaves nothing
behind in them (not even ciphertext), keys rotate while the data stays readable, and no log
holds citizen text, not even when handling fails."""

from __future__ import annotations

import inspect
import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, String, func, select, text, update
from sqlalchemy.exc import OperationalError, StatementError

from bot import cli
from bot.app import App, build_app
from bot.key_cli import RotationError, rotate
from bot.store.crypto import (
    PREFIX,
    CryptoError,
    DecryptionFailed,
    EncryptedText,
    EnvKeys,
    FileKeys,
    KeyFormatError,
    KeyRing,
    MissingKeyRing,
    count_by_key,
    key_id,
    keyring_of,
    new_key,
    parse_key,
    raw,
    reencrypt,
)
from bot.store.db import engine_of, make_engine, make_sessionmaker, migrate, scrub
from bot.store.models import Base, Case, Conversation, Message, Outbox
from bot.store.repo import Store
from bot.store.retention import run_retention
from tests.conftest import app_settings
from tests.fakes.clock import FakeClock
from tests.journey import Citizen

WORDS = "Sønnen min Ingvar-Brumlemann gruer seg til skolen hver morgen og har vondt i magen."
MORE = "Lillesøster Xylofonia merker det også."
CALLBACK = "47 11 83 29, etter kl 15"
LOS_REPLY = "Hei! Jeg ringer dere om Ingvar-Brumlemann i morgen."
MARKERS = ("Brumlemann", "Xylofonia", "47 11 83 29")


async def family_sends_a_case(app: App, user: str) -> tuple[Citizen, str]:
    """A whole intake with distinctive words, a call-back number, a message added to the open
    case, and a los reply waiting in the outbox."""
    family = Citizen(app, user)
    await family.says("hei")
    for button in ("person", "about:child", "age:6-12", "consent:services", "strengths:skip"):
        await family.says("", button=button)
    await family.says(WORDS)
    await family.says("", button="done")
    await family.says("", button="contact:call")
    await family.says(CALLBACK)
    assert "47 11 83 29" in family.last() and WORDS in family.last()
    assert (await family.says("", button="confirm:send")).handover
    reference = family.last().split("er ")[1].split(".")[0]
    assert app.queue.claim(reference, "kari")
    await family.says(MORE)
    app.queue.reply(reference, "kari", LOS_REPLY)
    return family, reference


async def inbox(citizen: Citizen) -> list[str]:
    """What reached the citizen from the los side (whether the driver waits or not)."""
    arrived = citizen.inbox()
    return list(await arrived if inspect.isawaitable(arrived) else arrived)


def database_file(app: App) -> Path:
    return Path(app.settings.database_url.removeprefix("sqlite:///"))


def files_bytes(app: App) -> dict[str, bytes]:
    """The database file and its -wal and -shm files, byte for byte."""
    base = database_file(app)
    found = {}
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{base}{suffix}")
        if path.exists():
            found[path.name] = path.read_bytes()
    return found


def assert_no_plaintext(app: App) -> None:
    for name, data in files_bytes(app).items():
        for marker in MARKERS:
            assert marker.encode() not in data, f"{marker!r} in plaintext in {name}"


def ciphertext_in_files(app: App) -> bool:
    return any(PREFIX.encode() in data for data in files_bytes(app).values())


def ciphertexts_of(app: App, reference: str) -> list[str]:
    """Every stored (encrypted) value of the conversation that has this case."""
    engine = engine_of(app.store.sessions)
    with engine.connect() as connection:
        conversation = connection.scalars(
            select(Case.conversation_id).where(Case.reference == reference)
        ).one()
        found: list[str | None] = []
        for table, column, owner in (
            (Message.__table__, "text", "conversation_id"),
            (Outbox.__table__, "text", "conversation_id"),
            (Case.__table__, "description", "conversation_id"),
            (Case.__table__, "callback", "conversation_id"),
            (Case.__table__, "contact", "conversation_id"),
            (Conversation.__table__, "state_json", "id"),
        ):
            found.extend(
                connection.scalars(
                    select(raw(table.c[column])).where(table.c[owner] == conversation)
                )
            )
    return [value for value in found if value is not None]


async def test_withdrawing_consent_leaves_no_trace_of_what_was_written(offline_app: App) -> None:
    app = offline_app
    family, reference = await family_sends_a_case(app, "family-w")
    theirs = ciphertexts_of(app, reference)
    await family.says("trekk samtykke")
    assert "trukket tilbake" in family.last()
    assert scrub(app.store.sessions)
    with app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.description == "[]" and case.callback is None
    assert_no_plaintext(app)
    still = set(ciphertexts_of(app, reference))
    gone = [c for c in theirs if c not in still]
    assert len(gone) > 20
    left = [c for c in gone if any(c.encode() in data for data in files_bytes(app).values())]
    assert left == []


async def test_citizen_text_is_encrypted_in_the_files_and_gone_after_deletion(
    offline_app: App, clock: FakeClock
) -> None:
    app = offline_app
    family, reference = await family_sends_a_case(app, "family-1")
    neighbour, closed = await family_sends_a_case(app, "family-2")
    app.queue.close(closed, "kari", "ferdig")

    assert_no_plaintext(app)  # database and WAL: encrypted, every column that holds text
    assert ciphertext_in_files(app)
    engine = engine_of(app.store.sessions)
    counts = count_by_key(engine, Base.metadata)
    assert set(counts) == {keyring_of(engine.dialect).current_id}  # nothing in plaintext
    with engine.connect() as connection:  # searching the database finds nothing either
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | EncryptedText):
                    hit = connection.execute(
                        select(func.count())
                        .select_from(table)
                        .where(raw(column).contains("Brumlemann", autoescape=True))
                    ).scalar_one()
                    assert hit == 0, f"{table.name}.{column.name}"
    with app.store.sessions() as session:  # and the application reads it all back
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert WORDS in case.description and case.callback == CALLBACK
        assert MORE in session.scalars(select(Message.text)).all()
    assert await inbox(family) == [LOS_REPLY]

    theirs = ciphertexts_of(app, reference)
    assert len(theirs) > 20
    await family.says("/slett")
    await family.says("", button="delete:yes")
    assert "slettet" in family.last()
    assert scrub(app.store.sessions)
    assert Path(f"{database_file(app)}-wal").stat().st_size == 0
    assert_no_plaintext(app)
    left = [c for c in theirs if any(c.encode() in data for data in files_bytes(app).values())]
    assert left == []  # not even their ciphertext is left in the files

    clock.advance(days=app.settings.retention.closed_case_days + 1)
    report = run_retention(app.settings, app.store.sessions, clock)  # scrubs after itself
    assert report.cases == 1 and report.conversations == 1
    del neighbour
    with app.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
    assert count_by_key(engine, Base.metadata) == {}  # no ciphertext rows remain
    assert not ciphertext_in_files(app)  # nor any ciphertext in the files
    assert_no_plaintext(app)


SQLALCHEMY_LOGGERS = ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in SQLALCHEMY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_no_citizen_text(logs: pytest.LogCaptureFixture) -> None:
    everything = logs.text + "".join(str(r.args) for r in logs.records)
    for marker in MARKERS:
        assert marker not in everything


async def test_no_citizen_text_in_any_log_even_when_handling_fails(
    offline_app: App,
    debug_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = offline_app
    family, _ = await family_sends_a_case(app, "family-logs")
    assert "SQL parameters hidden" in debug_logs.text  # SQLAlchemy did log, without values
    assert "Row [values hidden]" in debug_logs.text  # rows it fetched: decrypted, not logged

    original = Store.save_step

    def failing(self: Store, *args: object, **kwargs: object) -> object:
        raise RuntimeError(f"could not save {kwargs.get('state_json')} after {WORDS}")

    monkeypatch.setattr(Store, "save_step", failing)
    handled = await family.says(f"{MORE} Og {WORDS}")
    assert handled.replies  # the safe answer, not an exception
    monkeypatch.setattr(Store, "save_step", original)

    # A real database error while the citizen's words are being written.
    engine = engine_of(app.store.sessions)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_messages BEFORE INSERT ON messages "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    other = Citizen(app, "family-logs-2")
    handled = await other.says(f"{WORDS} {MORE}")
    assert handled.replies
    assert any(r.exc_info or "IntegrityError" in r.getMessage() for r in debug_logs.records)
    assert_no_citizen_text(debug_logs)


def test_database_errors_carry_no_parameters(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    with pytest.raises(OperationalError) as caught, engine.connect() as connection:
        connection.execute(text("SELECT :words FROM nowhere"), {"words": WORDS})
    assert "Brumlemann" not in str(caught.value)
    assert "parameters hidden" in str(caught.value)


def test_sqlite_connections_delete_securely(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1


def test_the_sqlite_database_and_its_journal_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    migrate(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
        connection.exec_driver_sql("INSERT INTO t VALUES ('x')")
        files = [f for f in tmp_path.iterdir() if f.name.startswith("p.db")]
        assert {f.name for f in files} >= {"p.db", "p.db-wal"}
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    engine.dispose()


# --- the key ring and the column type -----------------------------------------------------


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Engine]:
    """A migrated database with its own key file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}", KeyRing(FileKeys(tmp_path / "data.key")))
    migrate(engine)
    yield engine
    engine.dispose()


def add_conversation(engine: Engine, words: str, handle: str = "anon-TEST01") -> int:
    """A conversation with one inbound message, written through the ORM (so encrypted)."""
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with make_sessionmaker(engine).begin() as session:
        conversation = Conversation(
            channel="jsonl",
            address_hash=handle,
            handle=handle,
            language="nb",
            state_json="{}",
            created_at=now,
            updated_at=now,
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                sender="citizen",
                text=words,
                created_at=now,
            )
        )
        return conversation.id


def texts(engine: Engine) -> list[str]:
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(select(Message.text).order_by(Message.id)))


def stored(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(raw(Message.__table__.c.text))))


def test_the_key_file_is_made_once_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data.key"
    first = KeyRing(FileKeys(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing(FileKeys(path)).current_id == first.current_id


def test_a_key_file_gone_missing_while_running_keeps_the_keys_held(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    ring = KeyRing(FileKeys(path), refresh_s=0.0)
    value = ring.encrypt(WORDS, "messages.text")
    path.unlink()
    assert ring.decrypt(ring.encrypt(MORE, "messages.text"), "messages.text") == MORE
    assert ring.decrypt(value, "messages.text") == WORDS
    assert not path.exists()  # not silently replaced by a new key


def test_values_carry_their_key_id_and_column_and_cannot_be_moved(keyed: Engine) -> None:
    add_conversation(keyed, WORDS)
    [value] = stored(keyed)
    ring = keyring_of(keyed.dialect)
    assert value.startswith(f"{PREFIX}{ring.current_id}$") and "Brumlemann" not in value
    assert texts(keyed) == [WORDS]
    assert ring.encrypt(WORDS, "messages.text") != ring.encrypt(WORDS, "messages.text")  # nonce
    with pytest.raises(DecryptionFailed) as caught:  # another column's value does not decrypt
        ring.decrypt(value, "cases.description")
    assert "Brumlemann" not in str(caught.value)


def test_an_encrypted_column_cannot_be_searched_by_mistake(keyed: Engine) -> None:
    with pytest.raises(CryptoError):
        select(Message).where(Message.text == WORDS)
    with pytest.raises(CryptoError):
        select(Message).where(Message.text.contains("Brumle"))
    with pytest.raises(CryptoError):
        select(Case).where(Case.callback.in_(["x"]))
    select(Case).where(Case.callback.is_(None), Case.callback == None)  # noqa: E711


def test_an_engine_without_a_key_ring_refuses_and_two_engines_keep_their_own(
    tmp_path: Path, keyed: Engine
) -> None:
    add_conversation(keyed, WORDS)
    bare = make_engine(str(keyed.url))
    with pytest.raises(MissingKeyRing):
        texts(bare)
    with pytest.raises(StatementError) as caught:  # SQLAlchemy wraps errors of bound values
        add_conversation(bare, MORE, "anon-TEST02")
    assert isinstance(caught.value.orig, MissingKeyRing)
    assert "Xylofonia" not in str(caught.value)
    other = make_engine(str(keyed.url), KeyRing(FileKeys(tmp_path / "other.key")))
    assert keyring_of(other.dialect) is not keyring_of(keyed.dialect)
    with pytest.raises(CryptoError):  # another key ring does not hold this key
        texts(other)
    assert texts(keyed) == [WORDS]


def test_plaintext_rows_from_before_are_read_and_encrypted_at_start_up(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = app_settings(tmp_path)
    app = build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")
    engine = engine_of(app.store.sessions)
    add_conversation(engine, "placeholder")
    with engine.begin() as connection:  # as an older version wrote it
        connection.execute(update(Message.__table__).values({raw(Message.__table__.c.text): WORDS}))
        connection.execute(
            update(Conversation.__table__).values(
                {raw(Conversation.__table__.c.state_json): '{"language": "nb"}'}
            )
        )
    assert stored(engine) == [WORDS]
    assert texts(engine) == [WORDS]  # plaintext is read as it is
    assert count_by_key(engine, Base.metadata)["plaintext"] == 2

    again = build_app(settings, clock=clock, secret_file=tmp_path / "secret.key")
    engine = engine_of(again.store.sessions)
    assert "plaintext" not in count_by_key(engine, Base.metadata)
    assert stored(engine)[0].startswith(PREFIX) and texts(engine) == [WORDS]


def test_the_key_can_come_from_the_environment(tmp_path: Path, clock: FakeClock) -> None:
    key = new_key()
    app = build_app(
        app_settings(tmp_path), clock=clock, secret_file=tmp_path / "s.key", data_key=key
    )
    engine = engine_of(app.store.sessions)
    assert keyring_of(engine.dialect).current_id == key_id(parse_key(key))
    assert not (tmp_path / "data.key").exists()
    with pytest.raises(KeyFormatError) as caught:
        parse_key("not-a-key")
    assert "not-a-key" not in str(caught.value)


# --- rotation ----------------------------------------------------------------------------


def test_rotation_keeps_everything_readable_during_and_after_and_retires_the_old_key(
    tmp_path: Path, keyed: Engine
) -> None:
    for n in range(7):
        add_conversation(keyed, f"{WORDS} {n}", f"anon-ROT{n:03}")
    ring = keyring_of(keyed.dialect)
    old_id = ring.current_id
    old_key = ring.keys()[0]
    # Another process on the same database and key file (the running service).
    service = make_engine(str(keyed.url), KeyRing(FileKeys(tmp_path / "data.key"), refresh_s=0.0))
    during: list[list[str]] = []

    def meanwhile(_seconds: float) -> None:  # between "new key written" and re-encryption
        during.append(texts(service))  # old values, still readable
        add_conversation(service, MORE, "anon-LATE01")  # the service writes with the new key
        during.append(texts(keyed))

    done = rotate(keyed, batch=3, grace_s=0.0, sleep=meanwhile)
    expected = [f"{WORDS} {n}" for n in range(7)]
    assert during[0] == expected and during[1] == [*expected, MORE]
    assert done.retired == (old_id,) and done.current != old_id and done.rewritten == 14
    assert count_by_key(keyed, Base.metadata) == {done.current: 16}  # 8 texts, 8 states
    assert texts(keyed) == [*expected, MORE] and texts(service) == [*expected, MORE]
    assert key_id(old_key) not in KeyRing(FileKeys(tmp_path / "data.key")).key_ids
    assert all(value.startswith(f"{PREFIX}{done.current}$") for value in stored(keyed))
    # Without the old key everything still reads: it is not needed any more.
    fresh = make_engine(str(keyed.url), KeyRing(FileKeys(tmp_path / "data.key")))
    assert texts(fresh) == [*expected, MORE]
    service.dispose()
    fresh.dispose()


def test_rotation_with_keys_in_the_environment(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    url = f"sqlite:///{tmp_path / 'env.db'}"
    engine = make_engine(url, KeyRing(EnvKeys(old)))
    migrate(engine)
    add_conversation(engine, WORDS)
    with pytest.raises(RotationError):  # one key: it says how to add the new one
        rotate(engine, grace_s=0.0)
    engine.dispose()
    engine = make_engine(url, KeyRing(EnvKeys(f"{new},{old}")))
    done = rotate(engine, grace_s=0.0)
    assert done.in_environment and done.retired == (key_id(parse_key(old)),)
    assert count_by_key(engine, Base.metadata) == {key_id(parse_key(new)): 2}
    only_new = make_engine(url, KeyRing(EnvKeys(new)))
    assert texts(only_new) == [WORDS]


def test_the_keys_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = new_key(), new_key()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url, KeyRing(EnvKeys(old)))
    migrate(engine)
    add_conversation(engine, WORDS)
    engine.dispose()
    monkeypatch.setenv("INNGANG_DATABASE_URL", url)
    monkeypatch.setenv("INNGANG_NLU_MANAGE_SERVER", "false")
    monkeypatch.setenv("INNGANG_DATA_KEY", f"{new},{old}")
    assert cli.main(["keys", "new"]) == 0
    assert len(parse_key(capsys.readouterr().out.strip())) == 32
    assert cli.main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out
    assert key_id(parse_key(old)) in out and "INNGANG_DATA_KEY" in out
    assert cli.main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert f"{key_id(parse_key(new))}" in out and "Brumlemann" not in out


def test_reencrypt_only_touches_rows_still_as_they_were(keyed: Engine) -> None:
    add_conversation(keyed, WORDS)
    table = Message.__table__
    with keyed.begin() as connection:
        connection.execute(update(table).values({raw(table.c.text): "plain words"}))
    assert reencrypt(keyed, Base.metadata, only_plaintext=True).rows["messages"] == 1
    assert reencrypt(keyed, Base.metadata, only_plaintext=True).total == 0
    assert texts(keyed) == ["plain words"]


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
async def test_encryption_round_trip_on_postgres(tmp_path: Path, clock: FakeClock) -> None:
    url = os.environ.get("INNGANG_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide INNGANG_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("no PostgreSQL here; set INNGANG_TEST_POSTGRES_URL")
    reset = make_engine(url)
    with reset.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    reset.dispose()
    app = build_app(
        app_settings(tmp_path, database_url=url), clock=clock, secret_file=tmp_path / "secret.key"
    )
    family, reference = await family_sends_a_case(app, "family-pg")
    engine = engine_of(app.store.sessions)
    with engine.connect() as connection:
        dump = connection.execute(
            text(
                "SELECT string_agg(m.text, ' ') || string_agg(c.description, ' ') "
                "|| string_agg(c.callback, ' ') || string_agg(o.text, ' ') "
                "FROM messages m, cases c, outbox o"
            )
        ).scalar_one()
    assert PREFIX in dump and not any(marker in dump for marker in MARKERS)
    with app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert WORDS in case.description and case.callback == CALLBACK
    assert await inbox(family) == [LOS_REPLY]
    before = count_by_key(engine, Base.metadata)
    done = rotate(engine, grace_s=0.0)
    assert count_by_key(engine, Base.metadata) == {done.current: sum(before.values())}
    with app.store.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert WORDS in case.description
    engine.dispose()
