"""One-time codes for bringing a trusted person in (*mitt nettverk*): made at random from an
alphabet without look-alikes, stored only as a keyed hash (HMAC-SHA256 under a key derived
from the application secret for this purpose alone)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flows.trusted import CODE_ALPHABET, CODE_LENGTH, typed_code

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


MASK = "••••"
"""What staff see of a code's second half (the citizen still sees all of it)."""
_SHOWN = re.compile(r"\b([A-Z2-9]{4})-([A-Z2-9]{4})\b", re.IGNORECASE)
_LINK = re.compile(r"#join=[A-Za-z0-9]+")


def _masked(match: re.Match[str]) -> str:
    code = (match.group(1) + match.group(2)).upper()
    return f"{match.group(1)}-{MASK}" if typed_code(code) == code else match.group(0)


def mask_codes(text: str) -> str:
    """A message as staff read it: every one-time code in it masked ("7KQ2-MXAB" ->
    "7KQ2-••••", a join link's code too), so nobody but the young person can use it."""
    if typed_code(text) is not None:  # a message that is a code and nothing else
        return f"{text.strip()[:4]}-{MASK}" if "-" in text else MASK * 2
    return _LINK.sub(f"#join={MASK}{MASK}", _SHOWN.sub(_masked, text))
