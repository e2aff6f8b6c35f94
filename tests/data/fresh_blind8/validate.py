#!/usr/bin/env python3
"""Validate out/<lang>.jsonl against the composition table of the brief."""
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
LANGS = ["nb", "nn", "en", "ar", "pl", "so", "uk"]
PLAIN = ["helsestasjon", "skolehelsetjeneste", "ppt", "familieteam", "bup",
         "nav", "fritid", "flyktning", "los"]
EXPECTED = {(t, False): 4 for t in PLAIN}
EXPECTED.update({("barnevern", False): 4, ("barnevern", True): 1,
                 ("psykisk_helse_rus", False): 4, ("psykisk_helse_rus", True): 1,
                 (None, False): 10})
VALID_TOPICS = set(PLAIN) | {"barnevern", "psykisk_helse_rus", None}
KEYS = {"text", "language", "topic", "crisis"}


def main():
    errors = []
    seen = {}
    total = 0
    for lang in LANGS:
        path = OUT / f"{lang}.jsonl"
        if not path.exists():
            errors.append(f"{lang}: missing {path}")
            continue
        counts = Counter()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{lang}.jsonl:{n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: bad JSON ({e})")
                continue
            if set(obj) != KEYS:
                errors.append(f"{where}: keys {sorted(obj)} != {sorted(KEYS)}")
                continue
            text, topic, crisis = obj["text"], obj["topic"], obj["crisis"]
            if obj["language"] != lang:
                errors.append(f"{where}: language {obj['language']!r} != {lang!r}")
            if topic not in VALID_TOPICS:
                errors.append(f"{where}: invalid topic {topic!r}")
            if not isinstance(crisis, bool):
                errors.append(f"{where}: crisis is not a bool")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{where}: empty text")
                continue
            if any(c in text for c in "\t\n\r"):
                errors.append(f"{where}: tab or newline in text")
            if text != text.strip():
                errors.append(f"{where}: leading/trailing whitespace")
            key = " ".join(text.casefold().split())
            if key in seen:
                errors.append(f"{where}: duplicate text (also {seen[key]})")
            else:
                seen[key] = where
            counts[(topic, crisis)] += 1
            total += 1
        for k in set(counts) | set(EXPECTED):
            if counts.get(k, 0) != EXPECTED.get(k, 0):
                errors.append(f"{lang}: {k} count {counts.get(k, 0)} != {EXPECTED.get(k, 0)}")
        n_lang = sum(counts.values())
        if n_lang != 56:
            errors.append(f"{lang}: {n_lang} rows != 56")
    if total != 392:
        errors.append(f"total {total} != 392")
    if errors:
        print("\n".join(errors))
        print(f"FAIL: {len(errors)} problem(s)")
        return 1
    print(f"OK: {total} rows, {len(LANGS)} languages, counts match the table, no duplicates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
