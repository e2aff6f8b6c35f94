"""One-time codes for bringing a trusted person in (*mitt nettverk*): made at random from an
alphabet without look-alikes, stored only as a keyed hash (HMAC-SHA256 under a key derived
from the application secret for this purpose alone)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flows.trusted import CODE_ALPHABET, CODE_LENGTH

_PURPOSE = b"inngang trusted invite code v1"


def new_code() -> str:
    """A fresh code with at least one digit and one letter (so no word is one): 7KQ2MXAB."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


def code_hash(secret: bytes, code: str) -> str:
    """The only form of a code the store keeps."""
    key = hmac.new(secret, _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, code.upper().encode(), hashlib.sha256).hexdigest()
