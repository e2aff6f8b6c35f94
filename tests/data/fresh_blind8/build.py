#!/usr/bin/env python3
"""Build out/<lang>.jsonl from the hand-written src/<lang>.txt files.

Each source line: topic<TAB>crisis<TAB>text  (topic "null" = no service).
Output: one JSON object per line, shuffled with random.Random("8088-<lang>").
"""
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SRC = ROOT / "src"
OUT = ROOT / "out"
LANGS = ["nb", "nn", "en", "ar", "pl", "so", "uk"]


def read_src(lang):
    rows = []
    path = SRC / f"{lang}.txt"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise SystemExit(f"{path}:{n}: expected 3 tab-separated fields, got {len(parts)}")
        topic, crisis, text = parts
        if crisis not in ("true", "false"):
            raise SystemExit(f"{path}:{n}: crisis must be true/false, got {crisis!r}")
        rows.append({
            "text": text.strip(),
            "language": lang,
            "topic": None if topic == "null" else topic,
            "crisis": crisis == "true",
        })
    return rows


def main():
    OUT.mkdir(exist_ok=True)
    for lang in LANGS:
        rows = read_src(lang)
        random.Random(f"8088-{lang}").shuffle(rows)
        with open(OUT / f"{lang}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{lang}: {len(rows)} rows -> out/{lang}.jsonl")


if __name__ == "__main__":
    main()
