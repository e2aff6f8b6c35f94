"""Measure the front door on the held-out xSID folds: out-of-scope requests it never trained on.

The xSID 0.7 validation splits (../shared/data/xsid, CC BY-SA 4.0) are split in folds
(nlu/xsid.py): the training folds are out_of_scope examples in nlu/data/oos_xsid.yml, the
held-out folds (Norwegian variants N and T, the odd rows of Arabic and English) are not.
Every held-out request goes through the understanding step as the bot uses it (crisis
lexicon, language guesser, the model or the offline matcher) and the script prints, per
group (language, and variant for Norwegian), how many were answered as a service
(a svc_ intent), as a request for a person (ask_human: an intake with the familielos) and
how many raised a crisis. Targets (issue 11): at most 3% answered as a service or a person,
no crisis; the exit code is 1 when a target is missed.

Usage:
  .venv/bin/python scripts/xsid_folds.py [--xsid ../shared/data/xsid]
      [--rasa-url http://127.0.0.1:5005]   # a running Rasa server with the model to measure
      [--show 20]                          # list that many false answers per group
      [--training-fold]                    # also report the training fold (a sanity check)

Without --rasa-url the offline matcher stands in for the model (as when Rasa is down).
Train the model first (`inngang nlu train`) and serve it, e.g. `inngang run`, or
`rasa run --enable-api -m var/models/nlu-<hash>.tar.gz --port 5197` in the Rasa venv.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bot.app import build_understander  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from nlu import xsid  # noqa: E402
from nlu.rasa_client import RasaClient  # noqa: E402
from nlu.service import Understander  # noqa: E402
from nlu.understanding import LOS_TOPIC  # noqa: E402

DEFAULT_XSID = PROJECT_ROOT.parent / "shared" / "data" / "xsid"
MAX_SERVICE_SHARE = 0.03


@dataclass
class Tally:
    """What the understanding made of one group of out-of-scope requests."""

    n: int = 0
    service: list[str] = field(default_factory=list)
    person: list[str] = field(default_factory=list)
    crisis: list[str] = field(default_factory=list)
    offline: int = 0
    """Answered by the offline matcher although a Rasa server was given (it failed)."""

    def row(self, name: str) -> str:
        def share(items: Sequence[str]) -> str:
            return f"{len(items):5} {100 * len(items) / self.n:5.1f}%" if self.n else "    -"

        shares = "  ".join(share(items) for items in (self.service, self.person, self.crisis))
        return f"{name:10} {self.n:5}  {shares}"

    def add(self, other: Tally) -> None:
        self.n += other.n
        self.service += other.service
        self.person += other.person
        self.crisis += other.crisis
        self.offline += other.offline


HEADER = "group          n     service          person          crisis"


async def measure(understander: Understander, requests: Sequence[xsid.Request]) -> dict[str, Tally]:
    """Run each request through the understanding step; tally by group."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for request in requests:
        understood = await understander.understand(request.text, None)
        tally = tallies[request.group]
        tally.n += 1
        if understander.rasa is not None and understood.source == "fallback":
            tally.offline += 1
        label = f"{request.text} -> {understood.intent}"
        if understood.crisis is not None:
            tally.crisis.append(f"{request.text} -> crisis {understood.crisis.category}")
        elif understood.topic == LOS_TOPIC:
            tally.person.append(label)
        elif understood.topic is not None:
            tally.service.append(label)
    return dict(tallies)


def report(title: str, tallies: dict[str, Tally], show: int) -> tuple[str, Tally]:
    """The printed table, and the overall tally."""
    lines = [title, HEADER]
    overall = Tally()
    for group, tally in sorted(tallies.items()):
        lines.append(tally.row(group))
        overall.add(tally)
    lines.append(overall.row("overall"))
    if show:
        for group, tally in sorted(tallies.items()):
            for kind, items in (("crisis", tally.crisis), ("service", tally.service)):
                lines += [f"  [{group}] {kind}: {text[:100]}" for text in items[:show]]
            lines += [f"  [{group}] person: {text[:100]}" for text in tally.person[:show]]
    return "\n".join(lines), overall


async def main(args: argparse.Namespace) -> int:
    settings = load_settings()
    rasa = RasaClient(args.rasa_url, args.timeout) if args.rasa_url else None
    if rasa is not None and not await rasa.healthy():
        raise SystemExit(f"no Rasa server with a model at {args.rasa_url}")
    understander = build_understander(settings, rasa)
    train, heldout, dropped = xsid.folds(xsid.read(args.xsid), understander.crisis)
    reasons = Counter(reason for _, reason in dropped)
    source = f"Rasa at {args.rasa_url}" if rasa else "offline matcher"
    try:
        text, overall = report(
            f"held-out xSID folds ({len(heldout)} requests; left out: {dict(reasons)}; "
            f"model: {source})",
            await measure(understander, heldout),
            args.show,
        )
        print(text)
        if args.training_fold:
            print()
            print(
                report(
                    "training fold (trained on: a sanity check)",
                    await measure(understander, train),
                    args.show,
                )[0]
            )
    finally:
        if rasa is not None:
            await rasa.aclose()
    if overall.offline:
        print(
            f"warning: {overall.offline} requests were answered by the offline matcher: "
            "the Rasa server failed them"
        )
    answered = len(overall.service) + len(overall.person)
    share = answered / overall.n if overall.n else 0.0
    ok = share <= MAX_SERVICE_SHARE and not overall.crisis
    print(
        f"\nanswered as a service or a person: {answered}/{overall.n} = {100 * share:.1f}% "
        f"(target <= {100 * MAX_SERVICE_SHARE:.0f}%); crises: {len(overall.crisis)} (target 0)"
        f" -> {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xsid", type=Path, default=DEFAULT_XSID)
    parser.add_argument("--rasa-url", default="")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--show", type=int, default=0, help="list false answers per group")
    parser.add_argument("--training-fold", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(_arguments())))
