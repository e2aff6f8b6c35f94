"""SIGKILL under load: nothing a citizen writes is lost, handled twice or delivered twice.

    .venv/bin/python scripts/kill_under_load.py [--web 12] [--sms 12] [--telegram 8]
        [--messages 25] [--kills 5] [--database-url postgresql+psycopg://.../inngang_test_kill]

Starts `inngang run` (web chat, SMS webhook, Telegram by polling; the embedded SQLite unless
--database-url) with a local SMS gateway and a local fake Telegram Bot API that record what
they are asked to send, and drives it like citizens do: ``--web`` web chat visitors,
``--sms`` phones and ``--telegram`` Telegram users, each sending ``--messages`` messages one
after another, more if the kills are not done by then (web and SMS retry a message, with the
same id, until the server answers; Telegram hands out an update again until the bot confirms
it). Meanwhile the server
is killed with SIGKILL ``--kills`` times at random moments and started again at once. Then a
burst of ``--burst`` messages is sent at once to one conversation on each channel.

With ``--replicas 2`` (PostgreSQL only) two `inngang run` processes share the database behind
nginx (Debian's package; the configuration is ``deploy/nginx/replicas-test.conf``, the
shipped ``deploy`` one in miniature): the citizens and the SMS gateway talk to the proxy,
which passes a request a killed replica could not answer to the other (the message's id
makes a retry harmless). Each kill takes down one replica (in turn), and it is started again.
Telegram polling runs in one replica only (in production, more than one replica means
Telegram by webhook).

At the end it prints, from the database and from what the citizens received:
- lost: messages a citizen sent that are not recorded exactly once;
- handled twice: messages answered more than once (replies in two steps, or a conversation
  moved on more often than it had messages);
- unanswered: messages never handled;
- delivered twice / never delivered: replies a citizen received more (or less) often than they
  were recorded (web: responses and polls; SMS: messages accepted by the gateway);
- the burst: all kept, handled in arrival order.
Exit status 1 when any of these is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import count, pairwise
from pathlib import Path

import httpx
import uvicorn
import yaml
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.sms import sign  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store.crypto import new_key  # noqa: E402
from nlu.state import embeddings_dir  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, running  # noqa: E402

SECRET = "kill-under-load-secret"
SMS_SECRET = "kill-under-load-sms"
QUESTIONS = [
    "hei",
    "hvor er helsestasjonen?",
    "når har PPT åpent?",
    "hva gjør familieteamet?",
    "takk",
    "hvordan får jeg hjelp fra NAV?",
    "fritidsaktiviteter for ungdom",
    "skolehelsetjenesten",
    "what does the health station do?",
    "2",
]
PART = re.compile(r"^\((\d+)/(\d+)\) ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gateway:
    """The SMS gateway: records every part it accepts, per number, and (as gateways with
    client references do) hands a part on to the phone only once per reference."""

    received: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    references: set[str] = field(default_factory=set)
    repeats: int = 0
    """Parts posted again with a reference already accepted (dropped, not delivered)."""

    def app(self) -> Starlette:
        async def messages(request: Request) -> JSONResponse:
            try:
                data = await request.json()
            except ClientDisconnect:  # the server was killed while sending
                return JSONResponse({"error": "gone"}, status_code=400)
            reference = data.get("reference")
            if reference is not None and reference in self.references:
                self.repeats += 1
                return JSONResponse({"id": "repeat"}, status_code=202)
            if reference is not None:
                self.references.add(reference)
            self.received[data["to"]].append(data["text"])
            return JSONResponse({"id": "ok"}, status_code=202)

        return Starlette(routes=[Route("/messages", messages, methods=["POST"])])

    def messages_to(self, number: str) -> int:
        """Whole messages accepted for a number (a message cut in parts counts once)."""
        count = 0
        for text in self.received[number]:
            match = PART.match(text)
            count += 1 if match is None or match.group(1) == "1" else 0
        return count


@dataclass
class Server:
    """`inngang run` as a child process, killed and started again at will."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def kill(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Replicas:
    """Several `inngang run` processes on one database behind nginx; a kill takes down one of
    them (each in turn), and it is started again at once."""

    servers: list[Server]
    ports: list[int]
    proxy: subprocess.Popen[bytes] | None = None

    @property
    def starts(self) -> int:
        return sum(server.starts for server in self.servers)

    @property
    def log(self) -> str:
        return ", ".join(str(server.log) for server in self.servers)

    def start(self) -> None:
        for server in self.servers:
            server.start()

    def restart_one(self, turn: int) -> int:
        """SIGKILL the replica whose turn it is and start it again; returns its port."""
        index = turn % len(self.servers)
        self.servers[index].kill()
        self.servers[index].start()
        return self.ports[index]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)


def start_proxy(directory: Path, port: int, upstreams: list[int]) -> subprocess.Popen[bytes]:
    """nginx in the foreground on ``port``, passing to ``upstreams`` (a failed request goes to
    the next one), from deploy/nginx/replicas-test.conf."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    template = (ROOT / "deploy" / "nginx" / "replicas-test.conf").read_text(encoding="utf-8")
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams
    )
    config = (
        template.replace("{user}", "user root;" if os.geteuid() == 0 else "")
        .replace("{directory}", str(directory))
        .replace("{port}", str(port))
        .replace("{upstreams}", servers)
    )
    path = directory / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    with (directory / "nginx.log").open("ab") as out:
        return subprocess.Popen(
            [nginx, "-p", str(directory), "-c", str(path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class WebCitizen:
    """A web chat visitor: the token, what she sent and every reply she received."""

    name: str
    token: str = ""
    sent: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)


async def post_until_answered(
    client: httpx.AsyncClient, path: str, deadline: float, **kwargs: object
) -> httpx.Response:
    """POST again (the same request: the same message id) until the server answers 200."""
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # the server is down: it comes back
            response = await client.post(path, **kwargs)  # type: ignore[arg-type]
            if response.status_code == 200:
                return response
        await asyncio.sleep(0.2)
    raise TimeoutError(path)


async def web_citizen(
    client: httpx.AsyncClient,
    citizen: WebCitizen,
    messages: int,
    deadline: float,
    killed: asyncio.Event,
) -> None:
    first = await post_until_answered(
        client, "/api/chat", deadline, json={"text": "hei", "id": f"{citizen.name}-0"}
    )
    citizen.token = first.json()["token"]
    citizen.sent.append(f"{citizen.name}-0")
    citizen.received += [r["text"] for r in first.json()["replies"]]
    headers = {"X-Chat-Token": citizen.token}
    for n in count(1):
        if n >= messages and killed.is_set():
            break
        message_id = f"{citizen.name}-{n}"
        response = await post_until_answered(
            client,
            "/api/chat",
            deadline,
            json={"text": random.choice(QUESTIONS), "id": message_id},
            headers=headers,
        )
        citizen.sent.append(message_id)
        citizen.received += [r["text"] for r in response.json()["replies"]]
        if n % 5 == 0:
            await poll(client, citizen, deadline)


async def poll(client: httpx.AsyncClient, citizen: WebCitizen, deadline: float) -> None:
    response = await post_until_answered(
        client, "/api/poll", deadline, headers={"X-Chat-Token": citizen.token}
    )
    citizen.received += [m["text"] for m in response.json()["messages"]]


async def sms_citizen(
    client: httpx.AsyncClient,
    number: str,
    messages: int,
    deadline: float,
    sent: list[str],
    killed: asyncio.Event,
) -> None:
    for n in count():
        if n >= messages and killed.is_set():
            break
        message_id = f"{number}-{n}"
        await send_sms(client, number, random.choice(QUESTIONS), message_id, deadline)
        sent.append(message_id)


async def send_sms(
    client: httpx.AsyncClient, number: str, text: str, message_id: str, deadline: float
) -> None:
    """The gateway's webhook, retried (as gateways do) until the server answers."""
    body = json.dumps({"from": number, "text": text, "id": message_id}).encode()
    while True:
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "X-Timestamp": timestamp,
            "X-Signature": sign(SMS_SECRET, timestamp, body),
        }
        try:
            await post_until_answered(
                client,
                "/sms/inbound",
                min(deadline, time.monotonic() + 5),
                content=body,
                headers=headers,
            )
            return
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise


async def telegram_citizen(
    fake: FakeTelegram,
    user_id: int,
    messages: int,
    sent: list[str],
    deadline: float,
    killed: asyncio.Event,
) -> None:
    """A Telegram user who writes, waits for the answer, and writes again."""
    for n in count():
        if n >= messages and killed.is_set():
            break
        before = len(fake.texts_to(user_id))
        sent.append(str(fake.user_says(user_id, random.choice(QUESTIONS))))
        while len(fake.texts_to(user_id)) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.1)


async def killer(
    client: httpx.AsyncClient, server: Server | Replicas, kills: int, killed: asyncio.Event
) -> int:
    """SIGKILL the server (one of the replicas) at random moments while it serves, starting
    it again at once; ``killed`` is set after the last kill (the citizens go on until then)."""
    for done in range(1, kills + 1):
        await wait_healthy(client)
        await asyncio.sleep(random.uniform(1.0, 4.0))
        if isinstance(server, Replicas):
            port = server.restart_one(done - 1)
            print(f"  SIGKILL {done}/{kills} (the replica on port {port})", flush=True)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as direct:
                await wait_healthy(direct)  # both up again before the next kill
            continue
        server.kill()
        server.start()
        print(f"  SIGKILL {done}/{kills}", flush=True)
    killed.set()
    return kills


async def wait_healthy(client: httpx.AsyncClient, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if (await client.get("/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.3)
    raise TimeoutError("the server did not come up")


def write_config(directory: Path, gateway_port: int) -> Path:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config["sms"] = {
        **config.get("sms", {}),
        "enabled": True,
        "outbound_url": f"http://127.0.0.1:{gateway_port}/messages",
    }
    config["notifications"] = {**config["notifications"], "sms": False}
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Findings:
    lost: int = 0
    handled_twice: int = 0
    unanswered: int = 0
    delivered_twice: int = 0
    never_delivered: int = 0
    burst_out_of_order: int = 0
    burst_lost: int = 0
    notes: list[str] = field(default_factory=list)


def sender_id(external_id: str | None) -> str | None:
    """The sender's message id in a recorded one ("w3-7:<keyed digest of the content>")."""
    return None if external_id is None else external_id.rsplit(":", 1)[0]


def check(
    env: dict[str, str],
    web: list[WebCitizen],
    sms_sent: dict[str, list[str]],
    gateway: Gateway,
    telegram_sent: dict[int, list[str]],
    fake: FakeTelegram,
    bursts: dict[tuple[str, str], list[str]],
) -> tuple[Findings, int]:
    """Compare what the citizens sent and received with the database."""
    from bot.app import build_app
    from bot.store.enums import Direction
    from bot.store.models import Conversation, Message, Outbox

    settings = load_settings(Path(env["INNGANG_CONFIG"]), env=env)
    app = build_app(settings, secret_file=Path(env["INNGANG_VAR"]) / "secret.key")
    found = Findings()
    total = 0
    with app.store.sessions() as session:

        def conversation(channel: str, user: str) -> Conversation | None:
            return session.scalars(
                select(Conversation).where(
                    Conversation.channel == channel,
                    Conversation.address_hash == app.router.address(channel, user),
                )
            ).first()

        def inspect(channel: str, user: str, sent: list[str]) -> Conversation | None:
            nonlocal total
            found_conversation = conversation(channel, user)
            if found_conversation is None:
                found.lost += len(sent)
                return None
            inbound = session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == found_conversation.id,
                    Message.direction == Direction.IN,
                )
                .order_by(Message.id)
            ).all()
            ids = Counter(sender_id(m.external_id) for m in inbound)
            total += len(sent)
            found.lost += sum(1 for s in sent if ids[s] != 1)
            found.unanswered += sum(1 for m in inbound if m.handled_at is None)
            steps = session.scalars(
                select(Message).where(
                    Message.conversation_id == found_conversation.id,
                    Message.direction.in_((Direction.IN, Direction.EVENT)),
                    Message.handled_at.is_not(None),
                )
            ).all()
            if found_conversation.version > len(steps):
                found.handled_twice += found_conversation.version - len(steps)
            for message in inbound:
                moments = {
                    r.created_at
                    for r in session.scalars(select(Message).where(Message.reply_to == message.id))
                }
                if len(moments) > 1:
                    found.handled_twice += 1
            return found_conversation

        for citizen in web:
            found_conversation = inspect("web", citizen.token, citizen.sent)
            if found_conversation is None:
                continue
            recorded = [
                m.text
                for m in session.scalars(
                    select(Message)
                    .where(
                        Message.conversation_id == found_conversation.id,
                        Message.direction == Direction.OUT,
                    )
                    .order_by(Message.id)
                )
            ]
            got, want = Counter(citizen.received), Counter(recorded)
            found.delivered_twice += sum((got - want).values())
            found.never_delivered += sum((want - got).values())
            if got != want:
                found.notes.append(
                    f"web {citizen.name}: {sum((got - want).values())} extra, "
                    f"{sum((want - got).values())} missing of {len(recorded)}: "
                    f"{[text[:50] for text in (want - got)][:3]}"
                )
        for number, sent in sms_sent.items():
            found_conversation = inspect("sms", number, sent)
            if found_conversation is None:
                continue
            rows = session.scalars(
                select(Outbox).where(Outbox.conversation_id == found_conversation.id)
            ).all()
            found.never_delivered += sum(1 for r in rows if r.delivered_at is None)
            accepted = gateway.messages_to(number)
            found.delivered_twice += max(0, accepted - len(rows))
            found.never_delivered += max(0, len(rows) - accepted)
            if accepted != len(rows):
                found.notes.append(f"sms {number}: gateway took {accepted} of {len(rows)}")
        for user_id, sent in telegram_sent.items():
            found_conversation = inspect("telegram", str(user_id), sent)
            if found_conversation is None:
                continue
            rows = session.scalars(
                select(Outbox).where(Outbox.conversation_id == found_conversation.id)
            ).all()
            found.never_delivered += sum(1 for r in rows if r.delivered_at is None)
            accepted = len(fake.texts_to(user_id))
            found.delivered_twice += max(0, accepted - len(rows))
            found.never_delivered += max(0, len(rows) - accepted)
            if accepted != len(rows):
                twice = [t[:40] for t, n in Counter(fake.texts_to(user_id)).items() if n > 1]
                found.notes.append(
                    f"telegram {user_id}: got {accepted} of {len(rows)}; repeated: {twice}"
                )
        for (channel, user), sent in bursts.items():
            found_conversation = conversation(channel, user)
            if found_conversation is None:
                found.burst_lost += len(sent)
                continue
            wanted = set(sent)
            inbound = [
                m
                for m in session.scalars(
                    select(Message)
                    .where(
                        Message.conversation_id == found_conversation.id,
                        Message.direction == Direction.IN,
                    )
                    .order_by(Message.id)
                )
                if sender_id(m.external_id) in wanted
            ]
            found.burst_lost += len(sent) - len(inbound)
            handled = [m.handled_at for m in inbound]
            if None in handled:
                found.burst_lost += handled.count(None)
            else:
                found.burst_out_of_order += sum(
                    1 for a, b in pairwise(handled) if a is not None and b is not None and a > b
                )
    app.store.close()
    return found, total


async def burst(
    client: httpx.AsyncClient, size: int, number: str, deadline: float
) -> dict[tuple[str, str], list[str]]:
    """``size`` messages at once to one web conversation and to one phone."""
    first = await post_until_answered(client, "/api/chat", deadline, json={"text": "hei"})
    token = first.json()["token"]
    web_ids = [f"burst-web-{n}" for n in range(size)]
    sms_ids = [f"burst-sms-{n}" for n in range(size)]
    await asyncio.gather(
        *(
            post_until_answered(
                client,
                "/api/chat",
                deadline,
                json={"text": f"del {n} av beskrivelsen", "id": message_id},
                headers={"X-Chat-Token": token},
            )
            for n, message_id in enumerate(web_ids)
        ),
        *(
            send_sms(client, number, f"del {n} av beskrivelsen", message_id, deadline)
            for n, message_id in enumerate(sms_ids)
        ),
    )
    return {("web", token): web_ids, ("sms", number): sms_ids}


async def settle(
    gateway: Gateway, fake: FakeTelegram, quiet_s: float = 40.0, limit_s: float = 180.0
) -> None:
    """Wait until the gateway and Telegram have received nothing new for ``quiet_s`` (longer
    than the 30 s claim a killed server leaves on what it was sending)."""
    started = last_change = time.monotonic()
    seen = -1
    while time.monotonic() - last_change < quiet_s and time.monotonic() - started < limit_s:
        count = sum(len(texts) for texts in gateway.received.values()) + len(fake.sent)
        if count != seen:
            seen, last_change = count, time.monotonic()
        await asyncio.sleep(1.0)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", type=int, default=12)
    parser.add_argument("--sms", type=int, default=12)
    parser.add_argument("--telegram", type=int, default=8)
    parser.add_argument("--messages", type=int, default=25)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    if args.replicas > 1 and not (args.database_url or "").startswith("postgresql"):
        parser.error("--replicas needs --database-url postgresql+psycopg://... (SQLite: one)")
    random.seed(args.seed)

    directory = Path(tempfile.mkdtemp(prefix="inngang-kill-"))
    # The servers keep their state here (INNGANG_VAR): with the checkout's cache of the
    # training sentences' vectors they start in seconds instead of embedding them again.
    if embeddings_dir().is_dir():
        shutil.copytree(embeddings_dir(), directory / "embeddings")
    gateway = Gateway()
    gateway_port = free_port()
    gateway_server = uvicorn.Server(
        uvicorn.Config(gateway.app(), host="127.0.0.1", port=gateway_port, log_level="error")
    )
    gateway_task = asyncio.create_task(gateway_server.serve())
    fake = FakeTelegram()
    async with running(fake):
        return await drive(
            args, directory, gateway, gateway_port, fake, gateway_server, gateway_task
        )


async def drive(
    args: argparse.Namespace,
    directory: Path,
    gateway: Gateway,
    gateway_port: int,
    fake: FakeTelegram,
    gateway_server: uvicorn.Server,
    gateway_task: asyncio.Task[None],
) -> int:
    """Run the load with the kills, then check."""
    web_port = free_port()
    env = {
        **os.environ,
        "INNGANG_CONFIG": str(write_config(directory, gateway_port)),
        "INNGANG_DATABASE_URL": args.database_url or f"sqlite:///{directory / 'inngang.db'}",
        "INNGANG_NLU_URL": "http://127.0.0.1:9",
        "INNGANG_NLU_MANAGE_SERVER": "false",
        "INNGANG_WEB_PORT": str(web_port),
        "INNGANG_SECRET_KEY": SECRET,
        "INNGANG_DATA_KEY": new_key(),
        "SMS_SHARED_SECRET": SMS_SECRET,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "INNGANG_VAR": str(directory),
    }
    if args.database_url and args.database_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(args.database_url)
        name = engine.url.database or ""
        if "test" not in name:
            print(f"refusing to empty {name!r}: not a test database", file=sys.stderr)
            return 2
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    server: Server | Replicas
    if args.replicas > 1:
        ports = [free_port() for _ in range(args.replicas)]
        replicas = [
            Server(
                {
                    **env,
                    "INNGANG_WEB_PORT": str(port),
                    # one Telegram poller (more replicas: Telegram by webhook in production)
                    **({} if n == 0 else {"TELEGRAM_BOT_TOKEN": ""}),
                },
                directory / f"replica-{n}.log",
            )
            for n, port in enumerate(ports)
        ]
        server = Replicas(replicas, ports)
        server.start()
        server.proxy = start_proxy(directory, web_port, ports)
    else:
        server = Server(env, directory / "server.log")
        server.start()
    started = time.monotonic()
    web = [WebCitizen(f"w{n}") for n in range(args.web)]
    sms_sent: dict[str, list[str]] = {f"+4790{n:06d}": [] for n in range(args.sms)}
    telegram_sent: dict[int, list[str]] = {5000 + n: [] for n in range(args.telegram)}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}", timeout=15.0) as client:
        await wait_healthy(client)
        deadline = time.monotonic() + 1200
        all_killed = asyncio.Event()
        kills = asyncio.create_task(killer(client, server, args.kills, all_killed))
        await asyncio.gather(
            *(web_citizen(client, c, args.messages, deadline, all_killed) for c in web),
            *(
                sms_citizen(client, n, args.messages, deadline, s, all_killed)
                for n, s in sms_sent.items()
            ),
            *(
                telegram_citizen(fake, u, args.messages, s, deadline, all_killed)
                for u, s in telegram_sent.items()
            ),
        )
        killed = await kills
        await wait_healthy(client)
        bursts = await burst(client, args.burst, "+4799999999", deadline)
        await settle(gateway, fake)  # the push loop sends what waits (a killed one's claim expires)
        for citizen in web:
            await poll(client, citizen, deadline)
        load_s = time.monotonic() - started
    server.stop()
    gateway_server.should_exit = True
    await gateway_task
    found, total = check(env, web, sms_sent, gateway, telegram_sent, fake, bursts)
    print(
        f"messages sent: {total} ({args.web} web, {args.sms} SMS, {args.telegram} Telegram; "
        f"at least {args.messages} each)"
    )
    print(
        f"SIGKILLs: {killed}; server starts: {server.starts}"
        f"{f' ({args.replicas} replicas behind nginx)' if args.replicas > 1 else ''}; "
        f"load took {load_s:.0f} s"
    )
    print(f"burst: {args.burst} at once to one conversation on the web chat and on SMS")
    rows = [
        ("lost", found.lost),
        ("handled twice", found.handled_twice),
        ("unanswered", found.unanswered),
        ("delivered twice", found.delivered_twice),
        ("never delivered", found.never_delivered),
        ("burst lost", found.burst_lost),
        ("burst out of order", found.burst_out_of_order),
    ]
    for name, value in rows:
        print(f"  {name:<20} {value}")
    print(
        f"  (SMS parts the server sent again after a kill, dropped by reference: {gateway.repeats})"
    )
    for note in found.notes:
        print(f"  - {note}")
    print(f"(server log: {server.log})")
    return 0 if all(value == 0 for _, value in rows) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
