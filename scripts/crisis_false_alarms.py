"""Measure the crisis check: false alarms on real out-of-scope messages, recall on the probes.

Runs every xSID validation text (Norwegian with dialects, Arabic, English voice-assistant
requests: none is a crisis) and every crisis probe through the understanding step as the bot
uses it (lexicon + model), and prints per language the messages flagged by the lexicon and by
the model's crisis intent, and the probes caught by the lexicon alone, by the whole step, and
by the model's crisis intent as used with a lexicon of idioms only (the model's safety net).
The xSID files are read where they lie (CC BY-SA 4.0); only the validation splits are used.

Usage:
  .venv/bin/python scripts/crisis_false_alarms.py --xsid ../shared/data/xsid \\
      --rasa-url http://127.0.0.1:5012 --probes nlu/crisis_probes/crisis_probes.yml [--show]

Without --rasa-url the offline matcher stands in for the model (as when Rasa is down).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import yaml

from bot.app import CRISIS_LEXICON, build_understander
from bot.settings import load_settings
from nlu import evaluation
from nlu.rasa_client import NluUnavailable, RasaClient, RasaReading


class CountedRasa(RasaClient):
    """A Rasa client that counts failed parses (the offline matcher would silently answer)."""

    failures = 0

    async def read(self, text: str) -> RasaReading:
        try:
            return await super().read(text)
        except NluUnavailable:
            self.failures += 1
            raise


async def main(args: argparse.Namespace) -> int:
    settings = load_settings()
    rasa = CountedRasa(args.rasa_url, args.timeout) if args.rasa_url else None
    understander = build_understander(settings, rasa)
    model_alone = build_understander(settings, rasa)
    model_alone.crisis = evaluation.idioms_only(yaml.safe_load(CRISIS_LEXICON.read_text("utf-8")))
    if rasa is not None and not await rasa.healthy():
        raise SystemExit(f"no Rasa server with a model at {args.rasa_url}")
    try:
        texts = evaluation.load_xsid(args.xsid)
        alarms = [
            await evaluation.false_alarms(understander, group, language)
            for language, group in texts.items()
        ]
        probes = evaluation.load_probes(args.probes)
        recalls = [
            await evaluation.probe_recall(understander, language, groups, model_alone)
            for language, groups in probes.items()
        ]
        if rasa is not None and rasa.failures:
            raise SystemExit(f"{rasa.failures} parses failed; figures not printed")
    finally:
        if rasa is not None:
            await rasa.aclose()
    print(f"lexicon {understander.crisis.version}; model: {args.rasa_url or 'offline matcher'}")
    print(evaluation.crisis_report(alarms, recalls, show=args.show))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xsid", type=Path, required=True, help="folder of <lang>.valid.tsv")
    parser.add_argument("--rasa-url", help="a running Rasa server (else the offline matcher)")
    parser.add_argument("--probes", type=Path, nargs="+", required=True, help="probe YAML files")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per parse")
    parser.add_argument("--show", action="store_true", help="list the flagged and missed texts")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
