"""The catalogue of bad input, by name, shared by the fuzz tests and scripts/fuzz_surfaces.py.

Each surface gets the classes that make sense there: message text in every odd shape,
invalid UTF-8 bytes, broken and hostile JSON, every field with every wrong type, forged
tokens and signatures, path tricks, odd form fields, odd command-line arguments. A class
is a name and the input (a value, or bytes for what must reach the wire undecoded).
Hypothesis strategies for the same shapes are at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

HUGE = 100_000


@dataclass(frozen=True)
class BadInput:
    """One named class of bad input."""

    name: str
    value: Any


TEXTS: list[BadInput] = [
    BadInput("empty", ""),
    BadInput("whitespace only", " \n\t\r  "),
    BadInput("100,000 characters", "hei " * (HUGE // 4)),
    BadInput("100,000 characters, one word", "a" * HUGE),
    BadInput("100,000 characters of Arabic", "مرحبا " * (HUGE // 6)),
    BadInput("NUL", "hei\x00hei"),
    BadInput("only NUL", "\x00" * 50),
    BadInput("C0 control characters", "".join(chr(c) for c in range(32)) + "hei"),
    BadInput("DEL and C1 controls", "hei\x7f\x80\x85\x9b\x9f"),
    BadInput("ANSI escape", "\x1b[2J\x1b[31mrød\x1b[0m \x1b]0;title\x07"),
    BadInput("lone high surrogate", "hei \ud800"),
    BadInput("lone low surrogate", "\udfff hei"),
    BadInput("reversed surrogate pair", "\udc00\ud800"),
    BadInput("surrogate escapes of bytes", "x\udcff\udcfe"),
    BadInput("replacement characters", "\ufffd" * 40),
    BadInput("noncharacters", "\ufffe\uffff\U0010ffff"),
    BadInput("private use", "\ue000\U000f0000" * 20),
    BadInput("byte order mark", "\ufeffhei"),
    BadInput("Arabic-Indic digit", "٣"),
    BadInput("Devanagari digit", "३"),
    BadInput("fullwidth digit", "１"),
    BadInput("superscript digit", "²"),
    BadInput("circled digit", "①"),
    BadInput("Roman numeral", "Ⅻ"),
    BadInput("mathematical bold digits", "𝟏𝟐"),
    BadInput("huge number", "9" * 5000),
    BadInput("negative huge number", "-" + "9" * 400),
    BadInput("float overflow", "1e999999"),
    BadInput("NaN and infinity", "NaN inf -Infinity"),
    BadInput("zero and minus zero", "-0"),
    BadInput("choice number out of range", "99999999999999999999"),
    BadInput("zero-width characters", "h\u200be\u200ci\u200d\u2060"),
    BadInput("only zero-width characters", "\u200b\u200c\u200d\ufeff" * 30),
    BadInput("bidi override", "\u202ehei\u202c \u202dabc"),
    BadInput("bidi isolates", "\u2066\u2067\u2068abc\u2069"),
    BadInput("Arabic letter mark", "\u061c١\u200f"),
    BadInput("line and paragraph separators", "a\u2028b\u2029c\x85d"),
    BadInput("many newlines", "\n" * 20_000 + "hei"),
    BadInput("emoji flood", "😭" * 20_000),
    BadInput("emoji with skin tones and ZWJ", "👩🏽‍👩🏽‍👧🏽‍👦🏽" * 500),
    BadInput("flags", "🇳🇴🇺🇦🇸🇴🇵🇱"),
    BadInput("combining flood", "h" + "\u0301\u0308\u0336" * 10_000),
    BadInput("Zalgo", "h̵̡̢̧̛̛e̴̢̛͉̪i̷" * 300),
    BadInput("right-to-left text", "مرحبا، أين المركز الصحي للأطفال؟"),
    BadInput("Hebrew", "שלום עולם"),
    BadInput("CJK", "你好，我需要帮助"),
    BadInput("Somali", "Waxaan u baahanahay caawimaad"),
    BadInput("mixed scripts", "hei مرحبا привіт 你好"),
    BadInput("homoglyphs", "hеlр"),
    BadInput("script tag", "<script>alert(1)</script>"),
    BadInput("HTML attributes", '"><img src=x onerror=alert(1)>'),
    BadInput("HTML entities", "&lt;&#0;&#x110000;&amp"),
    BadInput("markdown and links", "**bold** [link](javascript:alert(1)) `code`"),
    BadInput("Telegram markup", "<b>x</b> *y* _z_ [a](tg://user?id=1)"),
    BadInput("SQL injection", "'; DROP TABLE messages; --"),
    BadInput("SQL boolean", "' OR '1'='1"),
    BadInput("SQL comment and NUL", "admin'/*\x00*/--"),
    BadInput("format string", "%s %n %x {0} {text} {{}} ${HOME} $(id)"),
    BadInput("catalog placeholder", "{municipality} %(name)s"),
    BadInput("JSON in text", '{"text": "hei", "user": 1}'),
    BadInput("path traversal in text", "../../../etc/passwd"),
    BadInput("URL with NUL", "http://x/%00%2e%2e/"),
    BadInput("CRLF injection", "hei\r\nSet-Cookie: x=1\r\n\r\n"),
    BadInput("backslashes", "\\" * 1000),
    BadInput("slash alone", "/"),
    BadInput("unknown slash command", "/" + "x" * 500),
    BadInput("slash command with junk", "/start \x00\ud800 ../.."),
    BadInput("tabs and spaces flood", "\t " * 40_000),
]
"""Message text: what a citizen (or a script pretending to be one) can type."""

RAW_BYTES: list[BadInput] = [
    BadInput("invalid UTF-8: 0xFF", b"hei \xff\xfe"),
    BadInput("invalid UTF-8: lone continuation byte", b"\x80hei"),
    BadInput("invalid UTF-8: truncated sequence", b"hei \xe2\x82"),
    BadInput("invalid UTF-8: overlong encoding", b"\xc0\xaf\xe0\x80\xaf"),
    BadInput("invalid UTF-8: encoded surrogate", b"\xed\xa0\x80hei"),
    BadInput("invalid UTF-8: beyond U+10FFFF", b"\xf4\x90\x80\x80"),
    BadInput("Latin-1 text", "blåbærsyltetøy".encode("latin-1")),
    BadInput("UTF-16 with BOM", "hei".encode("utf-16")),
    BadInput("binary junk", bytes(range(256))),
]
"""Bytes that are not UTF-8, sent where text is expected."""

WRONG_TYPES: list[BadInput] = [
    BadInput("null", None),
    BadInput("true", True),
    BadInput("false", False),
    BadInput("zero", 0),
    BadInput("negative", -1),
    BadInput("huge integer", 2**200),
    BadInput("float", 1.5),
    BadInput("empty string", ""),
    BadInput("empty list", []),
    BadInput("list of strings", ["hei", "hei"]),
    BadInput("empty object", {}),
    BadInput("object", {"text": "hei"}),
    BadInput("100,000-character string", "x" * HUGE),
    BadInput("NUL string", "\x00"),
    BadInput("lone surrogate string", "\ud800"),
]
"""Values for a field that expects something else."""


def _nested(depth: int) -> bytes:
    return b'{"text": ' + b"[" * depth + b"]" * depth + b"}"


MALFORMED_JSON: list[BadInput] = [
    BadInput("empty body", b""),
    BadInput("not JSON", b"hei"),
    BadInput("truncated JSON", b'{"text": "hei'),
    BadInput("trailing comma", b'{"text": "hei",}'),
    BadInput("single quotes", b"{'text': 'hei'}"),
    BadInput("NaN literal", b'{"text": NaN}'),
    BadInput("Infinity literal", b'{"text": Infinity}'),
    BadInput("number with 5,000 digits", b'{"text": ' + b"9" * 5000 + b"}"),
    BadInput("float overflow", b'{"text": 1e999999}'),
    BadInput("JSON with BOM", b'\xef\xbb\xbf{"text": "hei"}'),
    BadInput("JSON with invalid UTF-8", b'{"text": "hei \xff"}'),
    BadInput("escaped lone surrogate", b'{"text": "hei \\ud800"}'),
    BadInput("escaped NUL", b'{"text": "hei \\u0000"}'),
    BadInput("duplicate keys", b'{"text": "hei", "text": 5}'),
    BadInput("top-level array", b'["hei"]'),
    BadInput("top-level string", b'"hei"'),
    BadInput("top-level number", b"42"),
    BadInput("top-level null", b"null"),
    BadInput("top-level true", b"true"),
    BadInput("deeply nested arrays", b"[" * 100_000 + b"]" * 100_000),
    BadInput("deeply nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    BadInput("deeply nested field", _nested(50_000)),
    BadInput("unclosed deep nesting", b"[" * 200_000),
    BadInput("1 MB of whitespace", b" " * 1_000_000),
    BadInput("two documents", b'{"text": "hei"}{"text": "hei"}'),
    BadInput("NUL bytes", b'{"text": "hei"}\x00\x00'),
]
"""Bodies that are not the JSON object asked for."""

PATH_TRICKS: list[BadInput] = [
    BadInput("dot-dot", "../../config.yml"),
    BadInput("encoded dot-dot", "%2e%2e/%2e%2e/config.yml"),
    BadInput("encoded slash", "..%2f..%2fconfig.yml"),
    BadInput("double-encoded", "%252e%252e%252fconfig.yml"),
    BadInput("backslash", "..\\..\\config.yml"),
    BadInput("NUL in path", "chat.html%00.txt"),
    BadInput("absolute path", "/etc/passwd"),
    BadInput("overlong UTF-8 dot", "%c0%ae%c0%ae/config.yml"),
    BadInput("encoded surrogate", "%ed%a0%80"),
    BadInput("very long path", "a" * 10_000),
    BadInput("Windows device name", "CON"),
    BadInput("dot", "."),
]
"""Path segments meant to escape a directory or confuse a lookup."""

CLIENT_TOKENS: list[BadInput] = [
    BadInput("invented token", "my-own-token-1234567890123456789012345"),
    BadInput("forged MAC", "A" * 32 + "." + "B" * 24),
    BadInput("nonce without MAC", "A" * 40),
    BadInput("empty MAC", "A" * 40 + "."),
    BadInput("huge token", "A" * 10_000 + "." + "B" * 24),
    BadInput("non-ASCII token", "æ" * 40 + ".abc"),
    BadInput("token with spaces", " " * 5 + "A" * 40 + ". "),
    BadInput("token with control characters", "A" * 32 + "\x01\x02.x"),
    BadInput("SQL in token", "' OR 1=1 --" + "A" * 30 + ".x"),
    BadInput("many dots", "." * 100),
]
"""Tokens the client made up (only server-issued tokens are valid)."""


def surface_counts(catalogues: dict[str, list[BadInput]]) -> dict[str, int]:
    """How many distinct classes each surface gets."""
    return {surface: len({c.name for c in cases}) for surface, cases in catalogues.items()}


def json_bytes(value: object) -> bytes:
    """JSON as a client would send it; lone surrogates escaped rather than refused."""
    return json.dumps(value, ensure_ascii=True).encode()


# Hypothesis strategies: the same shapes, generated.

any_text = st.text(st.characters(codec=None), max_size=300) | st.sampled_from(
    [c.value for c in TEXTS if len(c.value) < 2000]
)
"""Any text, surrogates and controls included, and the short catalogue classes."""

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
"""Any JSON value (lone surrogates included: json.dumps escapes them)."""


def objects_with(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects with the given fields, each any value of any type (or left out), and
    sometimes extra fields."""
    optional = {name: json_values | strategy for name, strategy in fields.items()}
    return st.fixed_dictionaries({}, optional=optional).flatmap(
        lambda base: st.dictionaries(any_text, json_values, max_size=2).map(
            lambda extra: {**extra, **base}
        )
    )


any_bytes = st.binary(max_size=300)
