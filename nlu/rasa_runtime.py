"""Running Rasa in its own Python 3.10 virtual environment: train models, serve them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nlu.rasa_client import RasaClient
from nlu.state import state_dir
from nlu.training_data import DATA_DIR, NLU_DIR, PIPELINE_FILE, data_files, fingerprint

DEFAULT_VENV = NLU_DIR.parent / ".venv-rasa"
"""Where scripts/setup.sh puts Rasa in a checkout; elsewhere INNGANG_RASA_VENV says."""


class RasaError(Exception):
    """Rasa is missing, failed to train, or failed to start; the message says what to do."""


@dataclass(frozen=True)
class RasaPaths:
    """Where Rasa's environment, models and working files are."""

    venv: Path
    models: Path
    workdir: Path

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, state: Path | None = None
    ) -> RasaPaths:
        """Rasa's environment at INNGANG_RASA_VENV (default: the checkout's ``.venv-rasa``),
        models and working files in ``state`` (default: the state directory, INNGANG_VAR
        or ``./var``)."""
        environment = os.environ if env is None else env
        venv = environment.get("INNGANG_RASA_VENV")
        state = state or state_dir(environment)
        return cls(
            venv=Path(venv) if venv else DEFAULT_VENV,
            models=state / "models",
            workdir=state / "rasa-work",
        )

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "rasa"


def components_path(workdir: Path) -> Path:
    """A directory holding only the ``nlu`` package (a link to it), for the child's path:
    Rasa finds the custom components (nlu.rasa_components) there, and nothing else of the
    application's environment (an installed wheel's site-packages) shadows Rasa's own
    packages."""
    folder = workdir.absolute() / "pythonpath"
    link = folder / "nlu"
    if not (link.is_symlink() and link.resolve() == NLU_DIR):
        folder.mkdir(parents=True, exist_ok=True)
        fresh = folder / f"nlu.{os.getpid()}.tmp"
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(NLU_DIR, target_is_directory=True)
        fresh.replace(link)  # atomic: a concurrent start sees the old link or the new
    return folder


def rasa_environment(workdir: Path | None = None) -> dict[str, str]:
    """The child's environment: no telemetry, quiet TensorFlow, no inherited app venv, and
    only the nlu package on the path (``components_path`` under ``workdir``, default: the
    state directory's ``rasa-work/``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(
        PYTHONPATH=str(components_path(workdir or RasaPaths.from_env().workdir)),
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def serving_environment(workdir: Path | None = None) -> dict[str, str]:
    """The served model's environment: the e5 featurizer embeds one message at a time on
    one thread (OpenMP's default, one thread per core, only adds contention under load)."""
    return {**rasa_environment(workdir), "OMP_NUM_THREADS": "1"}


def require_rasa(paths: RasaPaths) -> Path:
    """The rasa executable, or a RasaError saying how to install it."""
    if not paths.executable.exists():
        raise RasaError(
            f"Rasa is not installed at {paths.venv}. In a checkout run `scripts/setup.sh` "
            "(it creates a Python 3.10 environment with rasa==3.6.21); elsewhere point "
            "INNGANG_RASA_VENV at one with rasa==3.6.21 and nlu/rasa/requirements.txt."
        )
    return paths.executable


def model_path(
    paths: RasaPaths, data_dir: Path | None = None, pipeline: Path = PIPELINE_FILE
) -> Path:
    """The model file for the current training data and pipeline (named by their hash)."""
    files = data_files(data_dir) if data_dir else data_files()
    return paths.models / f"nlu-{fingerprint(files, pipeline)}.tar.gz"


def train(
    paths: RasaPaths,
    data_dir: Path | None = None,
    pipeline: Path = PIPELINE_FILE,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> tuple[Path, bool]:
    """Train when the data or pipeline changed; return (model file, whether it trained)."""
    target = model_path(paths, data_dir, pipeline)
    if target.exists() and not force:
        progress(f"NLU model is up to date: {target.name}")
        return target, False
    rasa = require_rasa(paths)
    source = (data_dir or DATA_DIR).resolve()
    pipeline = pipeline.resolve()
    paths.models.mkdir(parents=True, exist_ok=True)
    paths.workdir.mkdir(parents=True, exist_ok=True)
    progress(f"Training the NLU model from {source} (a few minutes; progress below) ...")
    command = [
        str(rasa),
        "train",
        "nlu",
        "--config",
        str(pipeline),
        "--nlu",
        str(source),
        "--out",
        str(paths.models.resolve()),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    last_epoch = ""
    with subprocess.Popen(
        command,
        cwd=paths.workdir,
        env=rasa_environment(paths.workdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in _lines(process.stdout):
            epoch = _EPOCH.search(line)
            if epoch and epoch.group(1) != last_epoch:
                last_epoch = epoch.group(1)
                if int(last_epoch.split("/")[0]) % 10 == 0:
                    progress(f"  epoch {last_epoch}")
            elif "Error" in line or "error:" in line:
                progress(line[:300])
        code = process.wait()
    if code != 0 or not target.exists():
        raise RasaError(f"rasa train nlu failed with exit code {code}")
    progress(f"Trained {target.name}")
    return target, True


def cross_validate(paths: RasaPaths, folds: int = 3, data_dir: Path | None = None) -> str:
    """Run `rasa test nlu --cross-validation` and return the intent summary it reports."""
    rasa = require_rasa(paths)
    source = (data_dir or DATA_DIR).resolve()
    out = (paths.workdir / "crossval").resolve()
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa),
        "test",
        "nlu",
        "--nlu",
        str(source),
        "--config",
        str(PIPELINE_FILE),
        "--cross-validation",
        "--folds",
        str(folds),
        "--out",
        str(out),
    ]
    completed = subprocess.run(
        command,
        cwd=paths.workdir,
        env=rasa_environment(paths.workdir),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RasaError(f"rasa test nlu failed: {completed.stderr[-500:]}")
    report_file = out / "intent_report.json"
    if not report_file.exists():
        raise RasaError("rasa test nlu wrote no intent_report.json")
    import json

    report = json.loads(report_file.read_text(encoding="utf-8"))
    lines = [f"Rasa {folds}-fold cross-validation on {source} (test folds):"]
    for name in ("accuracy", "macro avg", "weighted avg"):
        value = report.get(name)
        if isinstance(value, dict):
            lines.append(
                f"  {name}: precision {value['precision']:.3f} recall "
                f"{value['recall']:.3f} f1 {value['f1-score']:.3f}"
            )
        elif value is not None:
            lines.append(f"  {name}: {value:.3f}")
    for intent, value in sorted(report.items()):
        if isinstance(value, dict) and "f1-score" in value and " avg" not in intent:
            lines.append(f"  {intent:28} f1 {value['f1-score']:.3f} (n={value['support']})")
    lines.append(f"  full report: {report_file}")
    return "\n".join(lines)


_EPOCH = re.compile(r"Epochs:\s+\d+%\|[^|]*\|\s*(\d+/\d+)")


def _lines(stream: IO[str]) -> Iterator[str]:
    """Lines split on newlines and carriage returns (progress bars use the latter)."""
    buffer = ""
    while chunk := stream.read(512):
        buffer += chunk
        *complete, buffer = re.split(r"[\r\n]", buffer)
        yield from (line for line in complete if line)
    if buffer:
        yield buffer


def port_in_use(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.3)
        return probe.connect_ex((host, port)) == 0


class RasaServer:
    """A managed `rasa run --enable-api` child: started, watched, restarted, stopped."""

    def __init__(self, paths: RasaPaths, model: Path, host: str, port: int) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise RasaError("the Rasa server is only ever bound to 127.0.0.1")
        self.paths = paths
        self.model = model
        self.host = host
        self.port = port
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False
        self.reused = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, timeout_s: float = 120.0) -> None:
        """Start (or reuse an already healthy server on the port) and wait until healthy."""
        if port_in_use(self.host, self.port):
            if await self._healthy():
                self.reused = True
                return
            raise RasaError(
                f"port {self.port} is in use by something that is not a healthy Rasa server; "
                "stop it or set nlu.url in config.yml to another port"
            )
        await self._spawn()
        await self.wait_healthy(timeout_s)
        self._watch = asyncio.create_task(self._keep_alive())

    async def _spawn(self) -> None:
        rasa = require_rasa(self.paths)
        self.paths.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.paths.workdir / "rasa-server.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            str(rasa),
            "run",
            "--enable-api",
            "-m",
            str(self.model),
            "-i",
            self.host,
            "--port",
            str(self.port),
            cwd=self.paths.workdir,
            env=serving_environment(self.paths.workdir),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    async def _healthy(self) -> bool:
        client = RasaClient(self.url, timeout_s=2.0)
        try:
            return await client.healthy()
        finally:
            await client.aclose()

    async def wait_healthy(self, timeout_s: float) -> None:
        """Poll /status until the model is loaded; RasaError if it dies or times out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self.process is not None and self.process.returncode is not None:
                raise RasaError(
                    f"the Rasa server exited with {self.process.returncode}; "
                    f"see {self.paths.workdir / 'rasa-server.log'}"
                )
            if await self._healthy():
                return
            await asyncio.sleep(0.5)
        raise RasaError(f"the Rasa server did not become healthy within {timeout_s:.0f} s")

    async def _keep_alive(self) -> None:
        while not self._stopping:
            assert self.process is not None
            await self.process.wait()
            if self._stopping:
                return
            self.restarts += 1
            await asyncio.sleep(min(30.0, 2.0 * self.restarts))
            with contextlib.suppress(RasaError):
                await self._spawn()
                await self.wait_healthy(120.0)

    async def stop(self) -> None:
        """Stop the child and its process group (a reused server is left running)."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


def rasa_installed(paths: RasaPaths) -> bool:
    """Whether the Rasa environment exists."""
    return paths.executable.exists() and shutil.which(str(paths.executable)) is not None
