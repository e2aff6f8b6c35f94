"""Calibrate the confidence threshold (config.yml `nlu.confidence_threshold`).

Below the threshold the front door does not act on the model's answer: the offline matcher
gives a second opinion and, when that is unsure too, the citizen is asked to choose among
the likely services (issue 11: "when unsure, ask"). A higher threshold asks more often; a
lower one guesses more often and answers more out-of-scope requests as a service.

For each threshold the script runs the whole understanding step (crisis lexicon, language,
the model on a running Rasa server, the matcher) on two calibration sets:

* tests/data/heldout: in-scope questions and small talk: topic right, wrong, or asked;
* the held-out xSID folds (out-of-scope requests never trained on): answered as a service
  or a person (target at most 3%).

The fresh messages (tests/data/fresh) are the test set and are not used here. The Rasa
parse of each text is cached, so every threshold after the first costs only the matcher.

Usage:
  .venv/bin/python scripts/nlu_calibrate.py --rasa-url http://127.0.0.1:5005
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bot.app import build_understander  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from nlu import evaluation, xsid  # noqa: E402
from nlu.rasa_client import RasaClient  # noqa: E402
from nlu.service import Understander  # noqa: E402
from nlu.understanding import topic_for_intent  # noqa: E402

DEFAULT_XSID = PROJECT_ROOT.parent / "shared" / "data" / "xsid"
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


async def in_scope(understander: Understander, cases: list[evaluation.HeldOut]) -> str:
    right = wrong = asked = 0
    for case in cases:
        understood = await understander.understand(case.text, None)
        if understood.alternatives:
            asked += 1
        elif understood.topic == case.topic:
            right += 1
        else:
            wrong += 1
    n = len(cases)
    return (
        f"held-out right {100 * right / n:5.1f}%  wrong {100 * wrong / n:4.1f}%  "
        f"asked {100 * asked / n:4.1f}%"
    )


async def out_of_scope(understander: Understander, requests: list[xsid.Request]) -> str:
    answered = asked = 0
    for request in requests:
        understood = await understander.understand(request.text, None)
        if understood.alternatives:
            asked += 1
        elif topic_for_intent(understood.intent) is not None:
            answered += 1
    n = len(requests)
    return f"xSID held-out answered {100 * answered / n:4.1f}%  asked {100 * asked / n:4.1f}%"


async def main(args: argparse.Namespace) -> None:
    settings = load_settings()
    rasa = RasaClient(args.rasa_url, 10.0)
    if not await rasa.healthy():
        raise SystemExit(f"no Rasa server with a model at {args.rasa_url}")
    understander = build_understander(settings, rasa)
    understander.crisis_corroboration = settings.nlu.confidence_threshold
    cases = evaluation.load_cases(PROJECT_ROOT / "tests" / "data" / "heldout")
    _, heldout, _ = xsid.folds(xsid.read(args.xsid), understander.crisis)
    print(
        f"{len(cases)} held-out questions, {len(heldout)} held-out xSID requests; "
        f"configured threshold {settings.nlu.confidence_threshold}"
    )
    try:
        for threshold in THRESHOLDS:
            understander.threshold = threshold
            print(
                f"threshold {threshold:4.2f}: {await in_scope(understander, cases)}   "
                f"{await out_of_scope(understander, heldout)}"
            )
    finally:
        await rasa.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", required=True)
    parser.add_argument("--xsid", type=Path, default=DEFAULT_XSID)
    asyncio.run(main(parser.parse_args()))
