"""`inngang keys`: the data keys that encrypt citizen text at rest.

    inngang keys status    the key ids, the current one, how many stored values each encrypts
    inngang keys rotate    a new current key, everything re-encrypted, the old keys retired
    inngang keys new       print a new random key (for INNGANG_DATA_KEY)

With the key file (var/data.key, the default) ``rotate`` does it all while the service runs:
it writes the new key first in the file (the old ones stay readable), waits until every
running process has noticed (they re-read the file at most a second after a change, and at
once when they meet a value under a key they do not know), re-encrypts every encrypted column
in batches, and, once no value under an old key is left, removes the old keys from the file.
With INNGANG_DATA_KEY the environment cannot be rewritten from here: put a new key (``keys
new``) first in the variable, keeping the old ones after it, restart, run ``rotate`` to
re-encrypt, then drop the old keys it names from the variable.

A retired key is gone: database backups taken before the rotation can no longer be read
unless that key is kept with them, and neither can anything deleted but still lying in a
file. That is the point (crypto-shredding); keep the old key with the backups if they must
stay readable.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.app import DATA_KEY_FILE_NAME
from bot.cli_args import whole_number
from bot.clock import system_clock
from bot.settings import Settings
from bot.store.crypto import (
    FileKeys,
    KeyRing,
    count_by_key,
    key_id,
    key_source,
    keyring_of,
    new_key,
    parse_key,
    reencrypt,
)
from bot.store.db import StoreEngine, make_engine, make_sessionmaker, migrate, scrub
from bot.store.models import Base
from bot.store.staff_records import StaffRecords

GRACE_S = 2.5
"""How long ``rotate`` waits after writing the new key before re-encrypting: longer than a
running process's key-file check interval (``KeyRing.refresh_s``, 1 s)."""
MAX_PASSES = 5


class RotationError(Exception):
    """The rotation cannot be done as asked (the message says what to do instead)."""


@dataclass(frozen=True)
class Rotation:
    """What a rotation did."""

    current: str
    retired: tuple[str, ...]
    rewritten: int
    in_environment: bool


def add_parsers(sub: Any) -> None:
    """The ``keys`` subcommand and its actions."""
    keys = sub.add_parser("keys", help="the data keys that encrypt citizen text at rest")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    actions.add_parser("status", help="key ids, the current key, values under each")
    rotate_ = actions.add_parser(
        "rotate", help="a new current key, re-encrypt everything, retire the old keys"
    )
    rotate_.add_argument(
        "--batch", type=whole_number(1, 100_000), default=500, help="rows per transaction"
    )
    actions.add_parser("new", help="print a new random key (for INNGANG_DATA_KEY)")


def rotate(
    engine: StoreEngine,
    *,
    batch: int = 500,
    grace_s: float = GRACE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Rotation:
    """Make a new key current, re-encrypt every encrypted value under it, retire the others.

    Old values stay readable throughout: the old keys leave the ring only when a count finds
    no value under them, and come back if one turns up after (a process that wrote with the
    old key just then); the pass is then repeated.
    """
    keyring = keyring_of(engine.dialect)
    source = keyring.source
    keyring.refresh(force=True)
    old = keyring.keys()
    file_keys = isinstance(source, FileKeys)
    if file_keys:
        assert isinstance(source, FileKeys)
        fresh = parse_key(new_key())
        source.save([fresh, *old])
        keyring.refresh(force=True)
        sleep(grace_s)
    elif len(old) < 2:
        raise RotationError(
            "INNGANG_DATA_KEY holds one key: put a new one (`inngang keys new`) first in it, "
            "keep the old one after it, restart the service, then run `inngang keys rotate`"
        )
    current = keyring.current_id
    retired = tuple(key_id(key) for key in old if key_id(key) != current)
    rewritten = 0
    for _ in range(MAX_PASSES):
        rewritten += reencrypt(engine, Base.metadata, batch=batch).total
        if _left_behind(engine, current):
            continue
        if not file_keys:
            return Rotation(current, retired, rewritten, in_environment=True)
        assert isinstance(source, FileKeys)
        source.save(keyring.keys()[:1])
        keyring.refresh(force=True)
        if not _left_behind(engine, current):
            scrub(engine)  # the old ciphertexts, out of the WAL too
            return Rotation(current, retired, rewritten, in_environment=False)
        source.save([keyring.keys()[0], *old])  # a late writer used an old key: keep it
        keyring.refresh(force=True)
    raise RotationError(
        "values under an old key keep appearing: is a process running that cannot read the "
        "key file? The old keys are kept; run `inngang keys rotate` again"
    )


def _left_behind(engine: StoreEngine, current: str) -> int:
    return sum(n for kid, n in count_by_key(engine, Base.metadata).items() if kid != current)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Carry out ``inngang keys ...``."""
    if args.keys_command == "new":
        print(new_key())
        return 0
    keyring = KeyRing(key_source(settings.data_key, settings.var_dir / DATA_KEY_FILE_NAME))
    engine = make_engine(settings.database_url, keyring)
    migrate(engine)
    try:
        if args.keys_command == "status":
            where = (
                "INNGANG_DATA_KEY"
                if not isinstance(keyring.source, FileKeys)
                else str(keyring.source.path)
            )
            print(f"keys from {where}; current {keyring.current_id}")
            counts = count_by_key(engine, Base.metadata)
            for kid in (*keyring.key_ids, *sorted(set(counts) - set(keyring.key_ids))):
                held = "" if kid in keyring.key_ids or kid == "plaintext" else " (key missing!)"
                print(f"  {kid:10} {counts.get(kid, 0):8} values{held}")
            return 0
        try:
            done = rotate(engine, batch=args.batch)
        except RotationError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        StaffRecords(make_sessionmaker(engine)).audit(
            system_clock(),
            "operator",
            "keys_rotated",
            detail=f"current={done.current} retired={','.join(done.retired) or '-'} "
            f"rewritten={done.rewritten}",
        )
        print(f"current key {done.current}; {done.rewritten} rows re-encrypted")
        if done.retired and done.in_environment:
            print(
                f"no value is under {', '.join(done.retired)} any more: remove "
                "them from INNGANG_DATA_KEY and restart"
            )
        elif done.retired:
            print(f"retired {', '.join(done.retired)} (removed from {DATA_KEY_FILE_NAME})")
        return 0
    finally:
        engine.dispose()
