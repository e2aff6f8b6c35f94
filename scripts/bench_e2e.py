"""End-to-end benchmark: simulated citizens through the web chat API, against bare Rasa.

    .venv/bin/python scripts/bench_e2e.py [--clients 1,8] [--seconds 20] [--rounds 4]
        [--database-url postgresql+psycopg://inngang:inngang@127.0.0.1:5432/inngang_bench]
        [--profile] [--button-every 6]
    .venv/bin/python scripts/bench_e2e.py --url http://127.0.0.1:8080 \\
        --nlu-url http://127.0.0.1:5005 [--app-pid PID] [--rasa-pid PID]

Without --url it starts a Rasa server of its own on a free port (the trained model in
var/models: it never trains; INNGANG_RASA_VENV says where Rasa is) and `inngang run` on
another free port with a temporary database: a fresh SQLite file, or --database-url (a
PostgreSQL database whose name contains "bench" is emptied first; any other is used as it
is). Then, for each N in --clients, in the same run and on the same Rasa server:

* bare: N concurrent clients POST /model/parse, each waiting for its answer before the next;
* e2e: N concurrent simulated citizens, each with its own web chat token (conversation),
  POST /api/chat with the same texts in the same order, now and then (--button-every)
  pressing a button the last answer offered, each waiting for the reply before the next.

The two take turns (--rounds, default 4: each N's --seconds split into that many turns of
each, bare first), so that a drift of the machine or of Rasa falls on both alike: the p50
overhead is the difference of two p50s, and Rasa's own p50 moved by a millisecond or more
between runs minutes apart. Each turn's citizens are new (new tokens) and their strings new.

The texts are the held-out questions (tests/data/heldout: never the blind sets), each sent
once with a number added ("... #8.3.17"), so that neither the application's understanding
cache nor anything else answers from memory; bare and e2e send identical strings.

It prints per mode and N: messages per second, p50/p95/p99 latency, the ratio of e2e to bare
throughput and the p50 overhead (both over typed messages only: a button press needs no
parse, so it is counted apart), the peak RSS (VmHWM) of the application and the Rasa
process, and the machine's load average (2 shared cores make single runs noisy). Under each
e2e run, from the application's log: how its messages were understood (rasa, fallback: the
offline matcher, none) and how often Rasa was left alone after a timeout (the application's
nlu.timeout_ms): then the matcher answers alone for a while, and the run no longer measures
the path through Rasa.

--profile records the application with py-spy (``record --idle --threads --format raw``,
collapsed stacks that speedscope opens) during the e2e run at the largest N, and prints the
top functions by samples including children, per thread and over all working threads. That
run is marked "profiled": py-spy (nonblocking) costs it a little.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu import evaluation  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "heldout"
AVOIDED_BUTTONS = ("delete:",)
"""Buttons a simulated citizen never presses (deleting the conversation ends the journey)."""
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Text:
    text: str
    language: str


def load_texts(directory: Path = HELDOUT) -> list[Text]:
    """The held-out questions with their languages (crisis messages included: citizens
    write them too, and they take the crisis path)."""
    return [Text(case.text, case.language) for case in evaluation.load_cases(directory)]


def message_text(texts: Sequence[Text], clients: int, citizen: int, n: int) -> Text:
    """The n-th message of a citizen in a run of ``clients``: each citizen starts at its own
    place in the list; the number makes every string of the whole run unique."""
    base = texts[(citizen * 37 + n) % len(texts)]
    return Text(f"{base.text} #{clients}.{citizen}.{n}", base.language)


@dataclass
class Run:
    """What came of one mode at one concurrency."""

    mode: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    """Seconds per typed message (a parse, or a chat message that needs one)."""
    button_latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    app_peak_mb: float | None = None
    rasa_peak_mb: float | None = None
    app_cpu_ms: float | None = None
    """CPU time of the application process per request (typed or button), in ms."""
    rasa_cpu_ms: float | None = None
    threads: str = ""
    """With --profile: the application's CPU per request by thread group."""
    sources: str = ""
    """From the application's log: how the run's messages were understood."""
    note: str = ""

    app_cpu_s: float | None = None
    """CPU seconds of the application processes in the run (its rounds together)."""
    rasa_cpu_s: float | None = None

    rounds: int = 0

    def add(self, other: Run) -> None:
        """Take in one round of the same mode and N."""
        first = self.rounds == 0
        self.rounds += 1
        self.latencies += other.latencies
        self.button_latencies += other.button_latencies
        self.errors += other.errors
        self.wall += other.wall
        self.app_cpu_s = other.app_cpu_s if first else _summed([self.app_cpu_s, other.app_cpu_s])
        self.rasa_cpu_s = (
            other.rasa_cpu_s if first else _summed([self.rasa_cpu_s, other.rasa_cpu_s])
        )
        self.app_cpu_ms = per_request_ms(0.0, self.app_cpu_s, self.requests)
        self.rasa_cpu_ms = per_request_ms(0.0, self.rasa_cpu_s, self.requests)
        self.threads = self.threads or other.threads
        self.note = self.note or other.note

    @property
    def rate(self) -> float:
        """Typed messages per second."""
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def requests(self) -> int:
        """Typed messages and button presses answered."""
        return len(self.latencies) + len(self.button_latencies)


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th quantile (0..1) by the nearest-rank method; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]


async def parse_citizen(
    client: httpx.AsyncClient,
    texts: Sequence[Text],
    clients: int,
    citizen: int,
    deadline: float,
    run: Run,
    first: int = 0,
) -> None:
    """One client of the bare server: POST /model/parse, one at a time, until the deadline;
    its messages from the ``first``-th on."""
    n = first
    while time.perf_counter() < deadline:
        message = message_text(texts, clients, citizen, n)
        n += 1
        start = time.perf_counter()
        try:
            response = await client.post("/model/parse", json={"text": message.text})
            ok = response.status_code == 200 and "intent" in response.json()
        except httpx.HTTPError:
            ok = False
        if ok:
            run.latencies.append(time.perf_counter() - start)
        else:
            run.errors += 1
            await asyncio.sleep(0.1)


async def chat_citizen(
    client: httpx.AsyncClient,
    texts: Sequence[Text],
    clients: int,
    citizen: int,
    deadline: float,
    run: Run,
    button_every: int = 6,
    seed: int = 0,
    first: int = 0,
) -> None:
    """One web chat visitor: her own token, one message at a time (typed, or every
    ``button_every``-th time a button the last answer offered), each waiting for its reply;
    her typed messages from the ``first``-th on."""
    rng = random.Random(seed * 1000 + citizen + first)
    token: str | None = None
    offered: list[str] = []
    n = first
    sent = 0
    while time.perf_counter() < deadline:
        sent += 1
        press = bool(button_every) and sent % button_every == 0 and bool(offered)
        body: dict[str, str]
        if press:
            body = {"button": rng.choice(offered)}
            language = ""
        else:
            message = message_text(texts, clients, citizen, n)
            n += 1
            body = {"text": message.text}
            language = message.language
        body["id"] = f"bench-{seed}-{clients}-{citizen}-{sent}"
        headers = {"Accept-Language": language} if language else {}
        if token is not None:
            headers["X-Chat-Token"] = token
        start = time.perf_counter()
        try:
            response = await client.post("/api/chat", json=body, headers=headers)
            data = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            data = {}
        elapsed = time.perf_counter() - start
        replies = data.get("replies") if isinstance(data, dict) else None
        if not replies:
            run.errors += 1
            await asyncio.sleep(0.1)
            continue
        (run.button_latencies if press else run.latencies).append(elapsed)
        token = str(data.get("token") or token)
        offered = [
            str(button["payload"])
            for reply in replies
            for button in reply.get("buttons", ())
            if not str(button["payload"]).startswith(AVOIDED_BUTTONS)
        ]


async def drive(
    mode: str,
    client: httpx.AsyncClient,
    texts: Sequence[Text],
    clients: int,
    seconds: float,
    *,
    button_every: int = 6,
    seed: int = 0,
    first: int = 0,
) -> Run:
    """``clients`` concurrent citizens of one mode (``bare`` or ``e2e``) for ``seconds``,
    each sending its messages from the ``first``-th on."""
    run = Run(mode, clients)
    start = time.perf_counter()
    deadline = start + seconds
    if mode == "bare":
        work = [
            parse_citizen(client, texts, clients, i, deadline, run, first) for i in range(clients)
        ]
    else:
        work = [
            chat_citizen(client, texts, clients, i, deadline, run, button_every, seed, first)
            for i in range(clients)
        ]
    await asyncio.gather(*work)
    run.wall = time.perf_counter() - start
    return run


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{1000 * seconds:.1f}"  # NaN: no samples


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def table(runs: Sequence[Run]) -> str:
    """The result table: each e2e row is compared with the bare row of the same N."""
    bare = {r.clients: r for r in runs if r.mode == "bare"}
    header = (
        f"{'mode':5} {'clients':>7} {'typed':>6} {'msg/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'ratio':>6} {'+p50 ms':>8} {'buttons':>7} {'btn p50':>7} "
        f"{'errors':>6} {'app MB':>7} {'rasa MB':>7} {'app cpu':>7} {'rasa cpu':>8}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        base = bare.get(run.clients) if run.mode == "e2e" else None
        ratio = f"{run.rate / base.rate:.2f}" if base and base.rate else "-"
        overhead = (
            f"{1000 * (percentile(run.latencies, 0.5) - percentile(base.latencies, 0.5)):.1f}"
            if base and base.latencies and run.latencies
            else "-"
        )
        lines.append(
            f"{run.mode:5} {run.clients:>7} {len(run.latencies):>6} {run.rate:>7.1f} "
            f"{_ms(percentile(run.latencies, 0.5)):>7} {_ms(percentile(run.latencies, 0.95)):>7} "
            f"{_ms(percentile(run.latencies, 0.99)):>7} {ratio:>6} {overhead:>8} "
            f"{len(run.button_latencies) if run.mode == 'e2e' else '-':>7} "
            f"{_ms(percentile(run.button_latencies, 0.5)):>7} {run.errors:>6} "
            f"{_mb(run.app_peak_mb):>7} {_mb(run.rasa_peak_mb):>7} "
            f"{_mb(run.app_cpu_ms if run.mode == 'e2e' else None):>7} {_mb(run.rasa_cpu_ms):>8}"
            + (f"  {run.note}" if run.note else "")
        )
    return "\n".join(lines)


LEGEND = (
    "typed: messages that need a parse; msg/s, p50-p99 over those. ratio: e2e typed msg/s\n"
    "over bare msg/s at the same N (button presses are in the wall time, not the count: a\n"
    "conservative ratio); +p50: e2e p50 minus bare p50. MB: peak RSS (VmHWM) so far.\n"
    "cpu: CPU ms of that process per request in that run (less noisy than msg/s on a\n"
    "shared machine); ceiling: bare rasa cpu / (e2e rasa cpu + app cpu), the ratio a\n"
    "CPU-bound run could reach at best on these cores."
)


def ceilings(runs: Sequence[Run]) -> str:
    """Per N, the ratio a CPU-bound run could reach: the CPU a bare parse costs over the
    CPU an end-to-end message costs (Rasa's and the application's together)."""
    bare = {r.clients: r for r in runs if r.mode == "bare"}
    found = []
    for run in runs:
        base = bare.get(run.clients)
        if run.mode != "e2e" or base is None or base.rasa_cpu_ms is None:
            continue
        if run.rasa_cpu_ms is None or run.app_cpu_ms is None:
            continue
        found.append(
            f"{run.clients} clients {base.rasa_cpu_ms / (run.rasa_cpu_ms + run.app_cpu_ms):.2f}"
        )
    return "CPU-bound ceiling of the ratio: " + ", ".join(found) if found else ""


HANDLED = re.compile(r"handled conversation=\S+ intent=\S+ source=(\w+)")
NLU_DOWN = "NLU server unavailable"


def answer_sources(log: Path, start: int) -> tuple[str, int]:
    """How the messages the application's ``log`` reports after byte ``start`` were
    understood, and how often it left Rasa alone after a failure; and the log's end."""
    try:
        with log.open("rb") as handle:
            handle.seek(start)
            added = handle.read()
    except OSError:
        return "", start
    text = added.decode("utf-8", errors="replace")
    sources = Counter(HANDLED.findall(text))
    downs = text.count(NLU_DOWN)
    counted = ", ".join(f"{source} {n}" for source, n in sorted(sources.items()))
    summary = f"understood by: {counted or 'nothing logged'}; Rasa left alone {downs}x"
    return summary, start + len(added)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def peak_rss_mb(pid: int | None) -> float | None:
    """A process's peak resident set (VmHWM) in MB, from /proc; None when unknown."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU time a process has used so far (its threads included)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time so far of each thread of a process, by thread id."""
    found = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, IndexError):
                fields = (task / "stat").read_text().rpartition(")")[2].split()
                found[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf(
                    "SC_CLK_TCK"
                )
    return found


def thread_names(profile: Path) -> dict[int, str]:
    """Thread id -> thread group, from py-spy's ``thread (id): name;...`` stacks."""
    names = {}
    with profile.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            found = re.match(r"thread \((\d+)\): ([^;]+)", line)
            if found:
                names[int(found.group(1))] = _thread_group(": " + found.group(2))
    return names


def cpu_by_thread_group(
    before: dict[int, float], after: dict[int, float], names: dict[int, str], requests: int
) -> str:
    """CPU ms per request of each thread group; threads py-spy saw no Python in are native
    (a library's own threads: OpenBLAS, OpenMP)."""
    groups: dict[str, float] = {}
    for tid, seconds in after.items():
        group = names.get(tid, "native (no Python)")
        groups[group] = groups.get(group, 0.0) + seconds - before.get(tid, 0.0)
    total = sum(groups.values())
    ranked = sorted(groups.items(), key=lambda item: -item[1])
    parts = [f"{group} {1000 * seconds / requests:.1f}" for group, seconds in ranked]
    return f"application CPU ms per request {1000 * total / requests:.1f}: " + ", ".join(parts)


def per_request_ms(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or not requests:
        return None
    return 1000 * (after - before) / requests


# --- the profile ----------------------------------------------------------------------------

IDLE = re.compile(
    r"^(?:\w+\.)?(?:select \(selectors\.py"  # the event loop waiting for something to do
    r"|_worker \(concurrent/futures/thread\.py"  # a pool thread waiting for work
    r"|wait \(threading\.py)"  # a thread waiting on a condition
)
PLUMBING = re.compile(
    r"\((?:threading\.py|concurrent/futures/thread\.py|<frozen runpy>|asyncio/runners\.py"
    r"|asyncio/base_events\.py|asyncio/events\.py|contextlib\.py|bot/cli\.py|starlette/"
    r"|uvicorn/|bot/web\.py)"
)
"""Frames on every stack of their thread (thread start, the event loop, the ASGI chain):
left out of the rankings."""
LINE_NUMBER = re.compile(r":\d+\)$")


def _short(frame: str) -> str:
    """A frame with the path shortened to the package: ``save_step (bot/store/repo.py:300)``."""
    for marker in ("site-packages/", "lib/python3.11/", str(ROOT) + "/"):
        frame = frame.replace(marker, "")
    return re.sub(r"\(/\S*/(python3\.\d+/)?", "(", frame)


def _thread_group(name: str) -> str:
    """``thread (123): store_3`` -> ``store``: threads of one pool counted together."""
    label = name.split(":", 1)[1].strip() if ":" in name else name
    return re.sub(r"[_-]?\d+(?: \(.*\))?$", "", label) or label


@dataclass
class Profile:
    """Samples from py-spy's collapsed stacks, per thread group, split into waiting for work
    (an idle event loop or pool thread) and working (on the CPU, or blocked on the disk, a
    lock or the network: what a request waits for)."""

    total: Counter[str] = field(default_factory=Counter)
    working: Counter[str] = field(default_factory=Counter)
    inclusive: dict[str, Counter[str]] = field(default_factory=dict)
    own: dict[str, Counter[str]] = field(default_factory=dict)
    lines: Counter[str] = field(default_factory=Counter)
    """Working samples by their innermost frame with its line: a ``with lock`` line is a
    thread waiting for that lock, a commit's line one waiting for the disk."""

    @classmethod
    def read(cls, lines: Iterator[str]) -> Profile:
        profile = cls()
        for line in lines:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = stack.split(";")
            threaded = frames[0].startswith("thread")
            group = _thread_group(frames[0]) if threaded else "process"
            calls = [_short(f) for f in (frames[1:] if threaded else frames)]
            profile.total[group] += count
            if not calls or IDLE.match(calls[-1]):
                continue
            profile.working[group] += count
            profile.lines[f"{calls[-1]} [{group}]"] += count
            names = [LINE_NUMBER.sub(")", f) for f in calls]
            inclusive = profile.inclusive.setdefault(group, Counter())
            for name in set(names):
                if not PLUMBING.search(name):
                    inclusive[name] += count
            profile.own.setdefault(group, Counter())[names[-1]] += count
        return profile

    def report(self, top: int = 25) -> str:
        lines = ["samples per thread group (working: not waiting for work to do):"]
        for group, total in self.total.most_common():
            working = self.working[group]
            lines.append(
                f"  {group:12} {total:7} samples, working {working:7} ({working / total:.0%})"
            )
        everything: Counter[str] = Counter()
        own: Counter[str] = Counter()
        for group in self.inclusive:
            everything.update(self.inclusive[group])
            own.update(self.own[group])
        base = sum(self.working.values()) or 1
        lines.append(
            f"\ntop {top} functions, share of all working samples ({base}): own+children (own)"
        )
        for name, count in everything.most_common(top):
            lines.append(f"  {count / base:6.1%} ({own[name] / base:5.1%})  {name}")
        lines.append(
            "\ninnermost lines of the working samples (a `with` line: waiting for a lock):"
        )
        for name, count in self.lines.most_common(12):
            lines.append(f"  {count / base:6.1%}  {name}")
        loop = self.inclusive.get("MainThread")
        if loop:
            share = self.total["MainThread"] or 1
            lines.append(
                f"\nthe event loop (MainThread): {self.working['MainThread'] / share:.0%} of its "
                "samples busy; top functions, share of its samples: own+children (own)"
            )
            loop_own = self.own["MainThread"]
            for name, count in loop.most_common(top // 2):
                lines.append(f"  {count / share:6.1%} ({loop_own[name] / share:5.1%})  {name}")
        return "\n".join(lines)


def start_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy recording ``pid`` for ``seconds`` into ``out`` (collapsed stacks)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("py-spy is not installed (pip install -e '.[dev]'): no profile", file=sys.stderr)
        return None
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds)))]
    command += ["--format", "raw", "--idle", "--threads", "--nonblocking", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# --- the servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(client: httpx.AsyncClient, path: str, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(path)).status_code == 200:
                return
        await asyncio.sleep(0.25)
    raise SystemExit(f"{what} did not become ready within {timeout_s:.0f} s")


@contextlib.asynccontextmanager
async def rasa_server(nlu_url: str | None) -> AsyncIterator[tuple[str, int | None]]:
    """The given Rasa server, or one of our own on a free port with the trained model."""
    if nlu_url:
        yield nlu_url.rstrip("/"), None
        return
    from nlu.rasa_runtime import RasaError, RasaPaths, RasaServer, model_path

    paths = RasaPaths.from_env()
    model = model_path(paths)
    if not model.exists():
        raise SystemExit(f"no trained model {model}: this benchmark never trains (make setup)")
    server = RasaServer(paths, model, "127.0.0.1", free_port())
    print(f"starting Rasa ({model.name}) on {server.url} ...", file=sys.stderr, flush=True)
    try:
        await server.start()
    except RasaError as error:
        raise SystemExit(f"the Rasa server did not start: {error}") from None
    try:
        yield server.url, server.process.pid if server.process else None
    finally:
        await server.stop()


def prepare_database(url: str | None, directory: Path) -> str:
    """A fresh SQLite file, or the given URL (a PostgreSQL database named for benchmarks is
    emptied first, so every run starts alike)."""
    if not url:
        return f"sqlite:///{directory / 'inngang.db'}"
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, make_url, text

        if "bench" in (make_url(url).database or ""):
            engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
    return url


@dataclass(frozen=True)
class Keys:
    """The secrets every replica of one run shares (one database, one set of keys)."""

    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    data: str = field(default_factory=lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())
    staff_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))


@contextlib.asynccontextmanager
async def app_server(
    nlu_url: str, database_url: str, directory: Path, keys: Keys | None = None
) -> AsyncIterator[tuple[str, int]]:
    """`inngang run` as a child process on a free port, the NLU server given (not managed)."""
    keys = keys or Keys()
    port = free_port()
    env = {
        **os.environ,
        "INNGANG_DATABASE_URL": database_url,
        "INNGANG_NLU_URL": nlu_url,
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_WEB_PORT": str(port),
        "INNGANG_SECRET_KEY": keys.secret,
        "INNGANG_DATA_KEY": keys.data,
        "INNGANG_STAFF_PASSWORD": keys.staff_password,
        "PYTHONPATH": str(ROOT),
    }
    log = directory / "app.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    print(f"starting the application on {url} ...", file=sys.stderr, flush=True)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as probe:
            try:
                await wait_ready(probe, "/readyz", 180, "the application")
            except SystemExit:
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
        yield url, process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        errors = [line for line in log.read_text(errors="replace").splitlines() if "ERROR" in line]
        if errors:
            print(f"{len(errors)} ERROR lines in the application's log, e.g.:", file=sys.stderr)
            print("\n".join(errors[:5]), file=sys.stderr)


# --- the run --------------------------------------------------------------------------------


def _summed(values: Sequence[float | None]) -> float | None:
    """The sum over the replicas; None when any is unknown."""
    known = [v for v in values if v is not None]
    return sum(known) if values and len(known) == len(values) else None


ROUND_STRIDE = 100_000
"""Each round's citizens number their messages from round x this on: no string twice."""


async def measured_round(
    mode: str,
    client: httpx.AsyncClient,
    texts: Sequence[Text],
    clients: int,
    args: argparse.Namespace,
    app_pids: Sequence[int],
    rasa_pid: int | None,
    directory: Path,
    *,
    seconds: float,
    first: int,
    profiled: bool,
) -> Run:
    """One round of one mode, with the CPU the processes spent in it (and, when
    ``profiled``, the application's py-spy profile and CPU by thread group)."""
    profiler = None
    threads_before: dict[int, float] = {}
    app_pid = app_pids[0] if len(app_pids) == 1 else None
    if profiled and app_pid is not None:
        threads_before = thread_cpu_seconds(app_pid)
        profiler = start_profiler(app_pid, seconds, directory / "profile.txt")
    cpu = _summed([cpu_seconds(p) for p in app_pids]), cpu_seconds(rasa_pid)
    run = await drive(
        mode,
        client,
        texts,
        clients,
        seconds,
        button_every=args.button_every,
        seed=args.seed,
        first=first,
    )
    app_after, rasa_after = _summed([cpu_seconds(p) for p in app_pids]), cpu_seconds(rasa_pid)
    run.app_cpu_s = None if cpu[0] is None or app_after is None else app_after - cpu[0]
    run.rasa_cpu_s = None if cpu[1] is None or rasa_after is None else rasa_after - cpu[1]
    if profiler is not None and app_pid is not None:
        run.note = "profiled"
        threads_after = thread_cpu_seconds(app_pid)
        _, problem = profiler.communicate(timeout=60)
        if profiler.returncode != 0:
            print(problem.decode(errors="replace")[-2000:], file=sys.stderr)
        else:
            run.threads = cpu_by_thread_group(
                threads_before,
                threads_after,
                thread_names(directory / "profile.txt"),
                run.requests,
            )
    return run


async def measure(
    app_url: str,
    nlu_url: str,
    app_pids: Sequence[int],
    rasa_pid: int | None,
    args: argparse.Namespace,
    directory: Path,
) -> list[Run]:
    texts = load_texts()
    log = directory / "app.log"
    clients_list: list[int] = args.clients
    limits = httpx.Limits(max_connections=max(clients_list) + 4)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    runs: list[Run] = []
    async with (
        httpx.AsyncClient(base_url=app_url, limits=limits, timeout=timeout) as app,
        httpx.AsyncClient(base_url=nlu_url, limits=limits, timeout=timeout) as rasa,
    ):
        warm = [Text(f"warm-up {t.text}", t.language) for t in texts[:10]]
        await drive("bare", rasa, warm, 2, 1.0)
        await drive("e2e", app, warm, 2, 1.0, button_every=0, seed=9)
        for clients in clients_list:
            profiled = args.profile and clients == max(clients_list)
            rounds = 1 if profiled else max(1, args.rounds)
            merged = {mode: Run(mode, clients) for mode in ("bare", "e2e")}
            log_start = log.stat().st_size if log.exists() else 0
            for number in range(rounds):  # bare and e2e by turns: drift hits both alike
                for mode, client in (("bare", rasa), ("e2e", app)):
                    run = await measured_round(
                        mode,
                        client,
                        texts,
                        clients,
                        args,
                        app_pids,
                        rasa_pid,
                        directory,
                        seconds=args.seconds / rounds,
                        first=number * ROUND_STRIDE,
                        profiled=profiled and mode == "e2e",
                    )
                    merged[mode].add(run)
            for mode in ("bare", "e2e"):
                run = merged[mode]
                run.app_peak_mb = _summed([peak_rss_mb(p) for p in app_pids])
                run.rasa_peak_mb = peak_rss_mb(rasa_pid)
                if mode == "e2e" and log.exists():
                    run.sources, _ = answer_sources(log, log_start)
                print(
                    f"  {mode} x{clients}: {len(run.latencies)} typed in {run.wall:.1f} s "
                    f"({rounds} rounds), {load_average()}",
                    file=sys.stderr,
                    flush=True,
                )
                runs.append(run)
    return runs


async def measure_replicas(
    database_url: str, args: argparse.Namespace, directory: Path
) -> list[Run]:
    """Several `inngang run` processes on one database (the same keys) behind nginx
    (deploy/nginx/replicas-test.conf, as the two-replica kill test uses it), measured through
    the proxy; memory and CPU are the replicas' sums."""
    from scripts.kill_under_load import start_proxy

    if not database_url.startswith("postgresql"):
        raise SystemExit("--replicas needs --database-url postgresql+psycopg://...")
    keys = Keys()
    async with contextlib.AsyncExitStack() as stack:
        nlu_url, rasa_pid = await stack.enter_async_context(rasa_server(args.nlu_url))
        apps = [
            await stack.enter_async_context(app_server(nlu_url, database_url, directory, keys))
            for _ in range(args.replicas)
        ]
        port = free_port()
        proxy = start_proxy(directory, port, [int(url.rsplit(":", 1)[1]) for url, _ in apps])

        def stop_proxy() -> None:
            proxy.terminate()
            proxy.wait(timeout=10)

        stack.callback(stop_proxy)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=5) as probe:
            await wait_ready(probe, "/readyz", 60, "nginx in front of the replicas")
        pids = [pid for _, pid in apps]
        return await measure(url, nlu_url, pids, rasa_pid or args.rasa_pid, args, directory)


async def main(args: argparse.Namespace) -> int:
    started = load_average()
    keep = Path(args.keep) if args.keep else None
    with tempfile.TemporaryDirectory(prefix="inngang-bench-") as temporary:
        directory = keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        if args.url:
            if not args.nlu_url:
                raise SystemExit("--url needs --nlu-url (the Rasa server the application uses)")
            pids = [args.app_pid] if args.app_pid else []
            runs = await measure(
                args.url.rstrip("/"), args.nlu_url, pids, args.rasa_pid, args, directory
            )
            database = "(given server)"
        elif args.replicas > 1:
            database_url = prepare_database(args.database_url, directory)
            database = f"{database_url.split(':', 1)[0].split('+')[0]}, {args.replicas} replicas"
            runs = await measure_replicas(database_url, args, directory)
        else:
            database_url = prepare_database(args.database_url, directory)
            database = database_url.split(":", 1)[0].split("+")[0]
            async with (
                rasa_server(args.nlu_url) as (nlu_url, rasa_pid),
                app_server(nlu_url, database_url, directory) as (app_url, app_pid),
            ):
                runs = await measure(
                    app_url, nlu_url, [app_pid], rasa_pid or args.rasa_pid, args, directory
                )
        texts = len(load_texts())
        print(
            f"\nEnd-to-end web chat vs bare POST /model/parse: {database}, {args.seconds:g} s "
            f"per run, {texts} held-out texts (unique per send), a button every "
            f"{args.button_every or 'never'}"
        )
        print(f"before: {started}\nafter:  {load_average()}\n")
        print(table(runs))
        print(ceilings(runs))
        for run in runs:
            if run.sources:
                print(f"e2e x{run.clients} {run.sources}")
        print(LEGEND)
        profile_file = directory / "profile.txt"
        if args.profile and profile_file.exists():
            with profile_file.open(encoding="utf-8", errors="replace") as lines:
                print("\nProfile of the application (py-spy, --idle --threads):")
                print("\n".join(r.threads for r in runs if r.threads))
                print(Profile.read(lines).report(args.top))
            if keep:
                print(f"collapsed stacks (speedscope opens them): {profile_file}")
    return 0 if all(r.latencies for r in runs) else 1


def _clients(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive numbers")
    return counts


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=_clients, default=[1, 8], help="default 1,8")
    parser.add_argument("--seconds", type=float, default=20.0, help="per mode and N")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="bare and e2e take turns this many times per N (the seconds split among them)",
    )
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--url", help="a running application (then --nlu-url too)")
    parser.add_argument("--nlu-url", help="a running Rasa server (default: start one)")
    parser.add_argument("--app-pid", type=int, help="with --url: for its memory and profile")
    parser.add_argument("--rasa-pid", type=int, help="with --nlu-url: for its memory")
    parser.add_argument("--button-every", type=int, default=6, help="0: never press")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="py-spy on the largest N")
    parser.add_argument("--top", type=int, default=25, help="functions in the profile")
    parser.add_argument("--keep", help="keep the database, log and profile in this directory")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="several `inngang run` behind nginx on one PostgreSQL (--database-url)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parser().parse_args())))
