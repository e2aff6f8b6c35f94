"""The `inngang` command: run, chat, nlu train/eval, check-config, staff and queue work, keys,
backup and restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import backup_cli, key_cli, staff_cli
from bot.app import App
from bot.cli_args import readable, whole_number
from bot.log_format import configure_logging, format_from_env
from bot.resources import BUNDLED_DIR, PROJECT_ROOT
from bot.settings import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inngang", description=__doc__)
    parser.add_argument(
        "--config",
        help="path to config.yml (default: INNGANG_CONFIG, else ./config.yml, else the "
        "example configuration)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="start the NLU server and the web chat and staff console")
    chat = sub.add_parser("chat", help="chat in the terminal, or JSON lines with --jsonl")
    chat.add_argument("--jsonl", action="store_true", help="read/write one JSON object per line")
    chat.add_argument("--user", default="terminal-user", help="user id for the interactive chat")
    chat.add_argument(
        "--offline",
        action="store_true",
        help="do not use a Rasa server; the offline matcher answers",
    )
    nlu = sub.add_parser("nlu", help="train and evaluate the NLU model")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    train = nlu_sub.add_parser("train", help="train when the data or pipeline changed")
    train.add_argument("--force", action="store_true")
    evaluate = nlu_sub.add_parser("eval", help="score the understanding on the held-out set")
    evaluate.add_argument("--offline", action="store_true", help="without the Rasa server")
    evaluate.add_argument(
        "--out", help="where to write the matrix picture (default: the state directory's eval/)"
    )
    crossval = nlu_sub.add_parser(
        "crossval", help="cross-validate the shipped classifier on the training data"
    )
    crossval.add_argument("--folds", type=whole_number(2, 20), default=3)
    crossval.add_argument(
        "--rasa", action="store_true", help="Rasa's own cross-validation instead (an hour)"
    )
    suggest = nlu_sub.add_parser(
        "suggest",
        help="write messages the bot could not place as candidate training examples, "
        "for review (never trained)",
    )
    suggest.add_argument("--out", help="file to write (default: nlu/suggestions/unplaced-DATE.yml)")
    suggest.add_argument(
        "--min-group", type=whole_number(1, 1000), default=2, help="smallest group written"
    )
    sub.add_parser("check-config", help="validate config.yml and exit")
    sub.add_parser(
        "demo-figures",
        help="write four weeks of made-up contacts and cases for the leaders' figures (only "
        "with the shipped example configuration; `inngang run` does it on an empty database)",
    )
    sub.add_parser(
        "sinks",
        help="a local SMTP server and SMS gateway that print the staff notices they receive",
    )
    staff_cli.add_parsers(sub)
    key_cli.add_parsers(sub)
    backup_cli.add_parsers(sub)
    return parser


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app, managed_nlu
    from bot.channels import jsonl, terminal

    use_rasa = not args.offline
    async with (
        managed_nlu(settings, train_if_needed=not args.jsonl) if use_rasa else _without_nlu_server()
    ):
        app = build_app(settings, use_rasa=use_rasa)
        try:
            if args.jsonl:
                # Bytes that are not UTF-8 become U+FFFD rather than ending the process.
                sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
                sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]

                def error_reply(code: str) -> str:
                    lang = settings.languages.default
                    return app.catalogs("jsonl.invalid_input", lang, code=code)

                await jsonl.serve(app.router, sys.stdin, _stdout_write, error_reply)
            else:
                await terminal.chat(app.router, args.user)
        finally:
            if app.rasa is not None:
                await app.rasa.aclose()
    return 0


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@asynccontextmanager
async def _without_nlu_server() -> AsyncIterator[bool]:
    yield False


async def _run(settings: Settings) -> int:
    from bot.app import build_app, managed_nlu
    from bot.notify_dispatch import Dispatcher
    from bot.store.deliveries import DeliveryRepo
    from bot.web import serve

    async with managed_nlu(settings):
        app = build_app(settings)
        _demo_figures(app, only_if_empty=True)
        await app.understander.warm_up()  # the first citizen should not wait seconds
        recovered = await app.router.recover_unhandled()
        if recovered:
            print(f"Recovered {recovered} message(s) left unanswered by a crash.", file=sys.stderr)
        housekeeping = asyncio.create_task(_housekeeping(app))
        deliveries = DeliveryRepo(app.store.sessions)
        accounts = app.router.staffing.accounts
        dispatcher = Dispatcher(
            settings,
            deliveries,
            app.catalogs,
            clock=app.router.clock,
            contacts=accounts.contact if accounts else None,
        )
        delivery = asyncio.create_task(dispatcher.run_forever())
        try:
            await serve(app)
        finally:
            housekeeping.cancel()
            dispatcher.stop()  # finishes the sends in progress, so none is left half-done
            await asyncio.wait([delivery], timeout=DISPATCH_STOP_S)
            delivery.cancel()
            await dispatcher.aclose()
            if app.rasa is not None:
                await app.rasa.aclose()
    return 0


def _demo_figures(app: App, *, only_if_empty: bool) -> int:
    """With the example configuration, a month of made-up figures for the leaders' page."""
    from bot.demo_figures import write_for_example

    written = write_for_example(app, only_if_empty=only_if_empty)
    if written is None:
        return 0 if only_if_empty else _not_example()
    print(
        f"Demo figures (example data): {written} made-up contacts of the last four weeks, "
        "for the leaders' page /staff/figures",
        flush=True,
    )
    return 0


def _not_example() -> int:
    print(
        "demo-figures writes made-up data only into the shipped example configuration's "
        "database (example_data: true); this is not it",
        file=sys.stderr,
    )
    return 2


HOUSEKEEPING_S = 30
"""How often the housekeeping loop ticks: often enough for a 5-minute urgent escalation."""
ESCALATION_EVERY = timedelta(seconds=HOUSEKEEPING_S * 0.8)
RETENTION_EVERY = timedelta(hours=1)
SLOTS_EVERY = timedelta(hours=1)
"""Between all replicas sharing the database (``JobGate``): escalation and the callback
reminders once per tick (a tick a little early still counts), retention and the generated
callback slots once an hour."""
DISPATCH_STOP_S = 15.0


async def _housekeeping(app: App) -> None:
    """Every tick: escalate cases nobody claimed, remind families of calls; every hour: apply
    retention, generate callback slots. Each once per tick between all replicas, whichever
    gets there first."""
    from functools import partial

    from bot.callback_jobs import CallbackJobs
    from bot.store.callbacks import Callbacks
    from bot.store.jobs import JobGate
    from bot.store.retention import run_retention

    gate = JobGate(app.store.sessions, app.router.clock)
    retention = partial(run_retention, app.settings, app.store.sessions, app.router.clock)
    calls = CallbackJobs(
        app.settings.callbacks,
        Callbacks(app.store.sessions, app.router.clock),
        app.router.schedule,
        app.router.clock,
        app.router.schedules,  # each area's opening hours and roster
    )
    while True:
        try:
            await asyncio.to_thread(
                gate.run_due, "escalation", ESCALATION_EVERY, app.queue.escalate_due
            )
            await asyncio.to_thread(gate.run_due, "retention", RETENTION_EVERY, retention)
            await asyncio.to_thread(gate.run_due, "callback_slots", SLOTS_EVERY, calls.generate)
            await asyncio.to_thread(
                gate.run_due, "callback_reminders", ESCALATION_EVERY, calls.remind
            )
        except Exception as error:  # keep the loop alive; the kind only, never message text
            logging.getLogger(__name__).error("housekeeping failed: %s", type(error).__name__)
        await asyncio.sleep(HOUSEKEEPING_S)


def _nlu(args: argparse.Namespace) -> int:
    from nlu.rasa_runtime import RasaError, RasaPaths, cross_validate, train

    try:
        if args.nlu_command == "train":
            train(RasaPaths.from_env(), force=args.force)
        elif args.nlu_command == "crossval" and args.rasa:
            print(cross_validate(RasaPaths.from_env(), folds=args.folds))
        elif args.nlu_command == "crossval":
            from nlu.crossval import cross_validate_classifier

            return cross_validate_classifier(folds=args.folds)
    except RasaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


async def _evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_understander, managed_nlu
    from nlu import evaluation
    from nlu.rasa_client import RasaClient

    heldout = PROJECT_ROOT / "tests" / "data" / "heldout"
    if not heldout.is_dir():
        print(f"error: the held-out set ({heldout}) is only in a checkout", file=sys.stderr)
        return 1
    cases = evaluation.load_cases(heldout)
    async with managed_nlu(settings) if not args.offline else _without_nlu_server() as up:
        rasa = RasaClient(settings.nlu.servers(), settings.nlu.timeout_ms / 1000) if up else None
        understander = build_understander(settings, rasa)
        outcomes = []
        for case in cases:
            understood = await understander.understand(case.text, None)
            outcomes.append(
                evaluation.Outcome(
                    case, understood.topic, understood.crisis is not None, understood.language
                )
            )
        if rasa is not None:
            await rasa.aclose()
    print(
        f"NLU evaluation on {len(cases)} held-out messages "
        f"({'Rasa server' if up else 'offline matcher only'})"
    )
    print(evaluation.report(outcomes))
    out = Path(args.out) if args.out else settings.var_dir / "eval"
    picture = evaluation.confusion_svg(outcomes, out / "confusion.svg")
    print(f"confusion matrix: {picture}")
    return 0


def _suggest(settings: Settings, args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from bot.app import build_app
    from bot.store.unplaced import UnplacedNotes
    from bot.suggest import UnsafeTarget, default_target, suggestions_yaml, write_suggestions
    from bot.unplaced_groups import grouped

    app = build_app(settings, use_rasa=False)
    clock = app.router.clock
    today = clock().astimezone(ZoneInfo(settings.municipality.timezone)).date()
    notes = UnplacedNotes(app.store.sessions, clock).listed()
    groups = grouped(notes, app.understander.fallback.embedder)
    text = suggestions_yaml(groups, args.min_group, today)
    try:
        path = write_suggestions(text, Path(args.out) if args.out else default_target(today))
    except UnsafeTarget as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    written = sum(1 for g in groups if g.size >= args.min_group)
    print(f"{written} groups written for review (not trained): {path}")
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager stopping us), handled like Ctrl-C: every `finally` runs, so
    the managed Rasa server is stopped rather than left behind."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `inngang` console script."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    args = readable(_parser().parse_args(argv))
    verbose = args.verbose or args.command == "run"
    configure_logging(verbose, format_from_env())  # until the settings say
    if args.command == "nlu" and args.nlu_command not in ("eval", "suggest"):
        return _nlu(args)
    try:
        settings = load_settings(None if args.config is None else Path(args.config))
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(verbose, settings.logging.format)
    if settings.config_path.is_relative_to(BUNDLED_DIR):
        logging.getLogger(__name__).warning(
            "Using the example configuration (%s): set INNGANG_CONFIG or put a config.yml "
            "in this directory for your own.",
            settings.municipality.name,
        )
    if args.command == "check-config":
        print(f"{settings.config_path}: OK ({settings.municipality.name})", file=sys.stderr)
        return 0
    try:
        return _dispatch(settings, args)
    except Terminated:
        return 143
    except KeyboardInterrupt:
        return 130


def serve_on_fastest_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run the server's coroutine on uvloop's event loop where it is installed (a
    dependency on Linux and macOS: libuv spends less time per message between the sockets,
    the store's threads and the tasks than asyncio's own loop), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "chat":
        return asyncio.run(_chat(settings, args))
    if args.command == "nlu" and args.nlu_command == "suggest":
        return _suggest(settings, args)
    if args.command == "nlu":
        return asyncio.run(_evaluate(settings, args))
    if args.command == "run":
        return serve_on_fastest_loop(_run(settings))
    if args.command == "sinks":
        from bot import dev_sinks

        return asyncio.run(dev_sinks.serve(settings))
    if args.command == "keys":
        return key_cli.run(settings, args)
    if args.command in ("backup", "restore"):
        return backup_cli.run(settings, args)
    from bot.app import build_app

    if args.command == "demo-figures":
        if not settings.example_data:
            return _not_example()  # refused before anything is opened
        return _demo_figures(build_app(settings, use_rasa=False), only_if_empty=False)

    return staff_cli.run(build_app(settings, use_rasa=False), args)


if __name__ == "__main__":
    sys.exit(main())
