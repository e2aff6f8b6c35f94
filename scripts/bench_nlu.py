"""Benchmark: the understanding step through the application vs bare POST /model/parse.

Starts (or reuses) the Rasa server for config.yml's nlu.url, then, in the same run:
  1. bare POST /model/parse with httpx, sequential;
  2. Understander.understand (crisis lexicon + language + Rasa + mapping), first sight of each
     text (cache cold), then the same texts again (cache warm);
  3. the offline parts alone: crisis check, language detection, offline matcher.
Prints messages per second and p50/p99 latency in milliseconds.

Usage: .venv/bin/python scripts/bench_nlu.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx

from bot.app import build_understander, managed_nlu
from bot.settings import PROJECT_ROOT, load_settings
from nlu import evaluation
from nlu.rasa_client import RasaClient


def figures(name: str, samples: Sequence[float], wall: float) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"{name:44} n={len(samples):5}  {len(samples) / wall:8.1f} msg/s  "
        f"p50 {1000 * statistics.median(ordered):7.2f} ms  p99 {1000 * p99:7.2f} ms"
    )


async def timed(
    texts: Sequence[str], call: Callable[[str], Awaitable[object]]
) -> tuple[list[float], float]:
    samples = []
    start = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        await call(text)
        samples.append(time.perf_counter() - t0)
    return samples, time.perf_counter() - start


def timed_sync(texts: Sequence[str], call: Callable[[str], object]) -> tuple[list[float], float]:
    samples = []
    start = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        call(text)
        samples.append(time.perf_counter() - t0)
    return samples, time.perf_counter() - start


async def main(rounds: int) -> None:
    settings = load_settings()
    texts = [c.text for c in evaluation.load_cases(PROJECT_ROOT / "tests" / "data" / "heldout")]
    unique = [f"{text} #{n}" for n in range(rounds) for text in texts]
    async with managed_nlu(settings) as up:
        if not up:
            raise SystemExit("the Rasa server is not available; run scripts/setup.sh first")
        async with httpx.AsyncClient(base_url=settings.nlu.url, timeout=10) as bare:

            async def parse(text: str) -> object:
                return (await bare.post("/model/parse", json={"text": text})).json()

            await timed(texts[:20], parse)  # warm-up
            bare_samples, bare_wall = await timed(unique, parse)
        rasa = RasaClient(settings.nlu.servers(), settings.nlu.timeout_ms / 1000)
        understander = build_understander(settings, rasa)
        await understander.understand("warm up the language models", None)

        async def understand(text: str) -> object:
            return await understander.understand(text, "nb")

        cold, cold_wall = await timed(unique, understand)
        warm, warm_wall = await timed(unique, understand)
        await rasa.aclose()
    crisis, crisis_wall = timed_sync(unique, understander.crisis.check)
    language, language_wall = timed_sync(unique, lambda t: understander.guesser.detect(t, "nb"))
    matcher, matcher_wall = timed_sync(unique, understander.fallback.parse)
    print(f"{len(texts)} held-out texts x {rounds} rounds, sequential, one client")
    print(figures("bare POST /model/parse", bare_samples, bare_wall))
    print(figures("understanding step (cache cold)", cold, cold_wall))
    print(figures("understanding step (cache warm)", warm, warm_wall))
    print(figures("  crisis lexicon check", crisis, crisis_wall))
    print(figures("  language detection", language, language_wall))
    print(figures("  offline matcher (used when Rasa is down)", matcher, matcher_wall))
    overhead = statistics.median(cold) - statistics.median(bare_samples)
    print(f"application overhead over bare parse at p50: {1000 * overhead:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
