"""Encryption at rest for citizen text: AES-256-GCM under a key ring whose keys have ids.

A value of an ``EncryptedText`` column is stored as ``$ig1$<key id>$<base64url(nonce ‖
ciphertext ‖ tag)>``: a random 96-bit nonce per value, the column's name as associated data
(a ciphertext moved to another column does not decrypt). A stored value without the ``$ig1$``
prefix is plaintext written before encryption at rest existed and is read as it is;
``reencrypt`` (at start-up, and ``inngang keys rotate``) encrypts such rows.

Why AES-GCM and not Fernet: GCM authenticates and encrypts in one AES-NI pass with 28 bytes of
overhead (Fernet: AES-128-CBC plus HMAC-SHA256, a timestamp we do not use and about 100 bytes);
it takes associated data (the column); and our own key id in the header finds the key at
once, where MultiFernet tries each key in turn. Random 96-bit nonces are safe for far more
than 2^30 values per key, which a municipality will not reach between rotations.

The key ring reaches the type through the engine: a TypeDecorator is told only the
``dialect``, and SQLAlchemy makes one dialect object per ``create_engine``, so ``make_engine``
installs the ring on that object (``install_keyring``). Two engines in one process can have
two rings; an engine without one refuses to read or write encrypted columns. No module-level
state holds a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)
PREFIX = "$ig1$"
"""Every encrypted value starts with this (format version 1)."""
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_CHARS = 8
REENCRYPT_BATCH = "reencrypt_batch"
"""A table's ``info`` key: at most this many rows per re-encryption transaction (a table of
large values, such as documents, must not be read 500 rows at a time)."""
KEYRING_ATTRIBUTE = "inngang_keyring"
"""The attribute of an engine's dialect that holds its KeyRing (see ``install_keyring``)."""
KEY_FILE_HEADER = (
    "# Inngang data keys (urlsafe base64, 32 bytes each). The first is current: new values are\n"
    "# encrypted with it. The others can still be read. `inngang keys rotate` manages this.\n"
)


class CryptoError(Exception):
    """Encryption at rest failed. Messages name a key id or a column, never a value."""


class KeyFormatError(CryptoError):
    """A data key is not 32 bytes of (urlsafe) base64."""


class UnknownKey(CryptoError):
    """A stored value names a key id the ring does not hold (retired, or never loaded)."""


class DecryptionFailed(CryptoError):
    """The value was altered, belongs to another column, or the key is wrong."""


class MissingKeyRing(CryptoError):
    """The engine has no key ring; build it with ``make_engine(url, keyring=...)``."""


def key_id(key: bytes) -> str:
    """A short public name for a key (a hash of it): the header of every value it encrypts."""
    return hashlib.sha256(b"inngang-data-key\0" + key).hexdigest()[:KEY_ID_CHARS]


def new_key() -> str:
    """A fresh random data key, as written to the key file or INNGANG_DATA_KEY."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def parse_key(text: str) -> bytes:
    """The 32 bytes of a key written as urlsafe (or standard) base64."""
    cleaned = text.strip()
    try:
        raw = base64.b64decode(
            cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4),
            validate=True,
        )
    except (binascii.Error, ValueError):
        raise KeyFormatError("a data key is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyFormatError(f"a data key must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def parse_keys(text: str) -> list[bytes]:
    """Keys separated by commas, spaces or lines (``#`` starts a comment); the first is
    current."""
    words: list[str] = []
    for line in text.splitlines():
        words.extend(line.split("#", 1)[0].replace(",", " ").split())
    return [parse_key(word) for word in words]


class KeySource(Protocol):
    """Where a key ring's keys come from."""

    def ensure(self) -> None:
        """Make the keys exist (the key file is generated on first use)."""
        ...

    def load(self) -> list[bytes]:
        """The keys, current first."""
        ...

    def stamp(self) -> object:
        """Changes whenever the keys may have changed (cheap: called about once a second)."""
        ...


@dataclass(frozen=True)
class EnvKeys:
    """Keys given in the environment (INNGANG_DATA_KEY): fixed for the process."""

    value: str

    def ensure(self) -> None:
        """Nothing to create: the keys are the environment's."""

    def load(self) -> list[bytes]:
        keys = parse_keys(self.value)
        if not keys:
            raise KeyFormatError("INNGANG_DATA_KEY holds no key")
        return keys

    def stamp(self) -> object:
        return None


@dataclass(frozen=True)
class FileKeys:
    """Keys kept in a 0600 file, current first (generated on first use, like var/secret.key).
    Other processes notice a rotation by the file's change."""

    path: Path

    def ensure(self) -> None:
        if not self.path.exists():
            self._create()

    def load(self) -> list[bytes]:
        try:
            keys = parse_keys(self.path.read_text())
        except OSError:
            raise KeyFormatError(f"{self.path} cannot be read") from None
        if not keys:
            raise KeyFormatError(f"{self.path} holds no key")
        return keys

    def stamp(self) -> object:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size, status.st_ino)

    def save(self, keys: Sequence[bytes]) -> None:
        """Replace the file atomically (0600): the first key is current."""
        body = KEY_FILE_HEADER + "".join(
            base64.urlsafe_b64encode(key).decode() + "\n" for key in keys
        )
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return
        with os.fdopen(descriptor, "w") as handle:
            handle.write(KEY_FILE_HEADER + new_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def key_source(configured: str, key_file: Path) -> EnvKeys | FileKeys:
    """INNGANG_DATA_KEY when set, else the key file (created on first use)."""
    return EnvKeys(configured) if configured.strip() else FileKeys(key_file)


@dataclass(frozen=True)
class _Keys:
    current: str
    ciphers: dict[str, AESGCM]
    raw: dict[str, bytes]
    order: tuple[str, ...]


class KeyRing:
    """The data keys of one database: encrypts with the current key, decrypts with any.

    It re-reads its source at most every ``refresh_s`` seconds when encrypting (so another
    process's rotation is followed), and at once when a value names a key it does not hold.
    """

    def __init__(
        self,
        source: KeySource,
        *,
        refresh_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        source.ensure()
        self._stamp = source.stamp()
        self._keys = self._build(source.load())
        self._checked = monotonic()

    @staticmethod
    def _build(keys: Sequence[bytes]) -> _Keys:
        ids = [key_id(key) for key in keys]
        return _Keys(
            current=ids[0],
            ciphers={i: AESGCM(k) for i, k in zip(ids, keys, strict=True)},
            raw=dict(zip(ids, keys, strict=True)),
            order=tuple(dict.fromkeys(ids)),
        )

    @property
    def current_id(self) -> str:
        """The id of the key new values are encrypted with."""
        return self._keys.current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id the ring can decrypt with, current first."""
        return self._keys.order

    def keys(self) -> list[bytes]:
        """The raw keys, current first (for rotation)."""
        held = self._keys
        return [held.raw[i] for i in held.order]

    def refresh(self, force: bool = False) -> None:
        """Reload the keys if the source changed (or always, with ``force``). A key file
        that went missing or cannot be read leaves the keys held as they are: losing them
        would make everything unreadable."""
        with self._lock:
            stamp = self.source.stamp()
            self._checked = self._monotonic()
            if force or stamp != self._stamp:
                try:
                    self._keys = self._build(self.source.load())
                except KeyFormatError:
                    log.error("data keys not reloaded: their source is missing or invalid")
                    return
                self._stamp = stamp

    def encrypt(self, plaintext: str, context: str) -> str:
        """``$ig1$<key id>$<nonce ‖ ciphertext ‖ tag>`` under the current key."""
        if self._monotonic() - self._checked >= self.refresh_s:
            self.refresh()
        held = self._keys
        nonce = os.urandom(NONCE_BYTES)
        sealed = held.ciphers[held.current].encrypt(nonce, plaintext.encode(), _associated(context))
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{PREFIX}{held.current}${body}"

    def decrypt(self, stored: str, context: str) -> str:
        """The plaintext of a stored value; a value without the prefix is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        kid, _, body = stored[len(PREFIX) :].partition("$")
        cipher = self._keys.ciphers.get(kid)
        if cipher is None:
            self.refresh(force=True)
            cipher = self._keys.ciphers.get(kid)
            if cipher is None:
                raise UnknownKey(f"{context}: no data key with id {kid!r} in the key ring")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(context)
            ).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise DecryptionFailed(
                f"{context}: a value under key {kid!r} does not decrypt"
            ) from None


def _associated(context: str) -> bytes:
    return b"inngang\0" + context.encode()


def stored_key_id(stored: str | None) -> str | None:
    """The key id in a stored value's header; None for NULL or plaintext."""
    if stored is None or not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX) :].partition("$")[0]


def install_keyring(engine: Engine, keyring: KeyRing) -> None:
    """Give this engine's encrypted columns their key ring (``make_engine`` does it)."""
    setattr(engine.dialect, KEYRING_ATTRIBUTE, keyring)


def keyring_of(dialect: Dialect) -> KeyRing:
    """The key ring installed on an engine, found through the dialect SQLAlchemy passes."""
    keyring = getattr(dialect, KEYRING_ATTRIBUTE, None)
    if not isinstance(keyring, KeyRing):
        raise MissingKeyRing("this engine has no data key ring (make_engine(url, keyring=...))")
    return keyring


_SEARCHING = frozenset(
    {
        operators.eq,
        operators.ne,
        operators.lt,
        operators.le,
        operators.gt,
        operators.ge,
        operators.like_op,
        operators.not_like_op,
        operators.ilike_op,
        operators.not_ilike_op,
        operators.in_op,
        operators.not_in_op,
        operators.startswith_op,
        operators.not_startswith_op,
        operators.istartswith_op,
        operators.not_istartswith_op,
        operators.endswith_op,
        operators.not_endswith_op,
        operators.iendswith_op,
        operators.not_iendswith_op,
        operators.contains_op,
        operators.not_contains_op,
        operators.icontains_op,
        operators.not_icontains_op,
        operators.between_op,
        operators.not_between_op,
        operators.match_op,
        operators.not_match_op,
        operators.regexp_match_op,
        operators.not_regexp_match_op,
        operators.regexp_replace_op,
        operators.concat_op,
        operators.is_distinct_from,
        operators.is_not_distinct_from,
    }
)


def _refuse_search(op: OperatorType, other: Sequence[Any]) -> None:
    if op in (operators.eq, operators.ne) and len(other) == 1 and other[0] is None:
        return  # "== None" is IS NULL: fine
    raise CryptoError(
        "an encrypted column cannot be compared or searched in SQL (each value has its own "
        "nonce); select the rows another way and compare in Python"
    )


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the engine's key ring; ``context`` (the column) is bound to it.

    Comparing such a column in SQL (``==``, ``LIKE``, ``IN`` ...) raises instead of silently
    matching nothing; ``IS NULL`` is allowed.
    """

    impl = Text
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        """Refuses comparisons: a bound value would be encrypted with a fresh nonce."""

        def operate(self, op: OperatorType, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
            if op in _SEARCHING:
                _refuse_search(op, other)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(
            self, op: OperatorType, other: Any, **kwargs: Any
        ) -> ColumnElement[Any]:
            if op in _SEARCHING:
                _refuse_search(op, (other,))
            return super().reverse_operate(op, other, **kwargs)

    comparator_factory = Comparator

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise CryptoError(f"{self.context}: only text can be encrypted")
        return keyring_of(dialect).encrypt(value, self.context)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not str(value).startswith(PREFIX):
            return str(value)  # written before encryption at rest: plaintext
        return keyring_of(dialect).decrypt(str(value), self.context)

    def process_literal_param(self, value: str | None, dialect: Dialect) -> str:
        raise CryptoError(f"{self.context}: citizen text is never rendered into SQL")


def encrypted_columns(metadata: MetaData) -> dict[Table, list[Column[Any]]]:
    """Every table with encrypted columns, and those columns."""
    found: dict[Table, list[Column[Any]]] = {}
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found[table] = columns
    return found


def raw(column: Column[Any]) -> ColumnElement[str]:
    """The stored value of an encrypted column, as the database has it (no decryption)."""
    return type_coerce(column, Text)


def _stale(column: Column[Any], current: str, only_plaintext: bool) -> ColumnElement[bool]:
    stored = raw(column)
    plaintext = and_(stored.is_not(None), ~stored.startswith(PREFIX, autoescape=True))
    if only_plaintext:
        return plaintext
    return or_(plaintext, ~stored.startswith(f"{PREFIX}{current}$", autoescape=True))


@dataclass
class ReencryptReport:
    """How many rows each table had rewritten."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        """Rows rewritten in all tables."""
        return sum(self.rows.values())


def reencrypt(
    engine: Engine,
    metadata: MetaData,
    *,
    only_plaintext: bool = False,
    batch: int = 500,
    tables: Iterable[Table] | None = None,
) -> ReencryptReport:
    """Encrypt under the current key every value that is plaintext (``only_plaintext``) or
    under another key, ``batch`` rows per transaction.

    Each row is rewritten only if it is still what was read (compare-and-set on the stored
    values), so a row the application changed meanwhile is never overwritten with an older
    text; such a row is picked up by the next pass. Passes repeat until one finds nothing.
    """
    keyring = keyring_of(engine.dialect)
    found = encrypted_columns(metadata)
    rewritten: dict[str, int] = {}
    for table in tables if tables is not None else list(found):
        columns = found.get(table, [])
        if not columns:
            continue
        (key,) = table.primary_key.columns
        count = 0
        rows = min(batch, int(table.info.get(REENCRYPT_BATCH, batch)))  # big values: fewer
        while True:
            changed = _reencrypt_pass(engine, table, key, columns, keyring, only_plaintext, rows)
            count += changed
            if changed == 0:
                break
        rewritten[table.name] = count
    return ReencryptReport(rewritten)


def _reencrypt_pass(
    engine: Engine,
    table: Table,
    key: Column[Any],
    columns: list[Column[Any]],
    keyring: KeyRing,
    only_plaintext: bool,
    batch: int,
) -> int:
    changed = 0
    after: Any = None
    # Rewritten only if still as read; the new value goes through the type: encrypted.
    compare_and_set = (
        update(table)
        .where(
            key == bindparam("_key"),
            *(
                raw(c).is_not_distinct_from(bindparam(f"_old_{c.name}", type_=Text))
                for c in columns
            ),
        )
        .values({c.name: bindparam(f"_new_{c.name}", type_=c.type) for c in columns})
    )
    while True:
        current = keyring.current_id
        stale = or_(*(_stale(c, current, only_plaintext) for c in columns))
        query = select(key, *(raw(c) for c in columns)).where(stale).order_by(key).limit(batch)
        if after is not None:
            query = query.where(key > after)
        with engine.begin() as connection:
            rows = connection.execute(query).all()
            if rows:
                changed += connection.execute(
                    compare_and_set,
                    [
                        {
                            "_key": row[0],
                            **{f"_old_{c.name}": s for c, s in zip(columns, row[1:], strict=True)},
                            **{
                                f"_new_{c.name}": None
                                if s is None
                                else keyring.decrypt(s, _context(c))
                                for c, s in zip(columns, row[1:], strict=True)
                            },
                        }
                        for row in rows
                    ],
                ).rowcount
        if len(rows) < batch:
            return changed
        after = rows[-1][0]


def _context(column: Column[Any]) -> str:
    kind = column.type
    assert isinstance(kind, EncryptedText)
    return kind.context


def count_by_key(engine: Engine, metadata: MetaData) -> dict[str, int]:
    """How many stored values are under each key id ("plaintext" for unencrypted ones)."""
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for columns in encrypted_columns(metadata).values():
            for column in columns:
                stored = raw(column)
                kid = case(
                    (
                        stored.startswith(PREFIX, autoescape=True),
                        func.substr(stored, len(PREFIX) + 1, KEY_ID_CHARS),
                    ),
                    else_=literal("plaintext", Text),
                )
                query = select(kid, func.count()).where(stored.is_not(None)).group_by(kid)
                for name, number in connection.execute(query):
                    counts[str(name)] = counts.get(str(name), 0) + int(number)
    return counts
