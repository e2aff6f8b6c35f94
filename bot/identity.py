"""Pseudonymous identities: platform ids are stored only as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

_HANDLE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def address_hash(secret: bytes, channel: str, user: str) -> str:
    """HMAC-SHA256 of channel and platform user id; the raw id is never stored."""
    return hmac.new(secret, f"{channel}\0{user}".encode(), hashlib.sha256).hexdigest()


def message_key(
    secret: bytes, given: str | None, text: str, button: str | None = None
) -> str | None:
    """The external id a retry is recognised by: the sender's message id with a keyed digest
    of what it carried. The same id with the same message is a retry; the same id with another
    message is a new message (a client or gateway reusing ids must not lose it). Keyed, so the
    stored id says nothing about the (encrypted) text to whoever has only the database."""
    if not given:
        return None
    carried = f"{text}\0{button or ''}".encode("utf-8", "surrogatepass")
    digest = hmac.new(secret, carried, hashlib.sha256).hexdigest()[:16]
    return f"{given[:40]}:{digest}"


def new_handle(prefix: str = "anon") -> str:
    """A random pseudonymous handle such as ``anon-7KQ2MX``."""
    return prefix + "-" + "".join(secrets.choice(_HANDLE_ALPHABET) for _ in range(6))


def load_or_create_secret(configured: str, key_file: Path) -> bytes:
    """The HMAC key: INNGANG_SECRET_KEY if set, else a random key kept in a 0600 file."""
    if configured:
        return configured.encode()
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key
