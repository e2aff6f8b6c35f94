"""Bad input gets a clear message and loses nothing: huge, empty, binary, RTL, emoji, markup,
duplicates, a crash between recording and answering."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.store.models import Message
from bot.web import create_web_app
from flows.types import Inbound


def inbound_texts(app: App) -> list[str]:
    with app.store.sessions() as session:
        return [
            m.text
            for m in session.scalars(
                select(Message).where(Message.direction == "in").order_by(Message.id)
            )
        ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "hei " * 30_000,
        "\x00\x01\x02\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd",
        "مرحبا، أين المركز الصحي للأطفال؟",
        "😭😭😭 hjelp 🙏",
        "<script>alert('x')</script> **bold** [link](http://evil.example)",
        "שלום",
    ],
)
async def test_every_odd_message_gets_a_clear_answer_and_is_kept(
    offline_app: App, text: str
) -> None:
    handled = await offline_app.router.handle(Inbound("jsonl", "odd", text))
    assert handled.replies and all(reply.text.strip() for reply in handled.replies)
    assert len(inbound_texts(offline_app)) == 1


async def test_an_empty_message_is_told_so(offline_app: App) -> None:
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "   "))
    assert "tom" in handled.replies[0].text


async def test_binary_junk_is_told_it_could_not_be_read_and_shown_the_emergency_numbers(
    offline_app: App,
) -> None:
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "\ufffd" * 20 + "ab"))
    assert "112" in handled.replies[0].text


async def test_a_huge_message_is_read_in_part_and_said_so(offline_app: App) -> None:
    handled = await offline_app.router.handle(
        Inbound("jsonl", "u", "hvor er helsestasjonen? " * 2000)
    )
    assert "veldig lang" in handled.replies[0].text


async def test_a_duplicate_platform_update_is_handled_once(offline_app: App) -> None:
    first = await offline_app.router.handle(
        Inbound("telegram", "42", "hei"), external_id="update-7"
    )
    again = await offline_app.router.handle(
        Inbound("telegram", "42", "hei"), external_id="update-7"
    )
    assert first.replies and again.duplicate
    assert again.replies == first.replies  # what was recorded; Telegram does not resend it
    assert inbound_texts(offline_app) == ["hei"]


async def test_the_message_is_on_disk_before_understanding_so_a_crash_loses_nothing(
    offline_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Killed(BaseException):
        """The process dies (SIGKILL): nothing after this point runs."""

    async def crash(*_: object, **__: object) -> None:
        raise Killed

    monkeypatch.setattr(offline_app.understander, "understand", crash)
    with pytest.raises(Killed):
        await offline_app.router.handle(Inbound("jsonl", "u", "vi trenger hjelp med sønnen vår"))
    assert inbound_texts(offline_app) == ["vi trenger hjelp med sønnen vår"]
    assert len(offline_app.store.unhandled_inbound()) == 1

    monkeypatch.undo()  # the process comes back
    assert await offline_app.router.recover_unhandled() == 1
    assert offline_app.store.unhandled_inbound() == []
    [answer] = await offline_app.router.take_pending("jsonl", "u")
    assert answer.text  # the citizen gets the answer when next in touch, once
    assert await offline_app.router.take_pending("jsonl", "u") == ()
    assert await offline_app.router.recover_unhandled() == 0


async def test_a_message_whose_handling_keeps_failing_gets_a_safe_reply_and_is_set_aside(
    offline_app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = offline_app.understander.understand

    async def poison(text: str, *args: object, **kwargs: object) -> object:
        if "giftig" in text:
            raise ValueError(f"cannot parse {text}")
        return await real(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(offline_app.understander, "understand", poison)
    handled = await offline_app.router.handle(Inbound("jsonl", "u", "giftig melding"))
    assert "113" in handled.replies[0].text and "112" in handled.replies[0].text
    assert "giftig" not in caplog.text  # the error's kind is logged, never its text
    assert offline_app.store.unhandled_inbound() == []  # set aside: nothing waits on it
    with offline_app.store.sessions() as session:
        failed = session.scalars(select(Message).where(Message.failure.is_not(None))).one()
        assert failed.failure == "ValueError" and failed.attempts == 3
    after = await offline_app.router.handle(Inbound("jsonl", "u", "hvor er helsestasjonen?"))
    assert "55 10 20 01" in after.replies[0].text
    assert await offline_app.router.recover_unhandled() == 0  # a restart does not replay it


@pytest.mark.parametrize("text", ["²", "①", "٣", "5" * 5000, "1" * 40, "  3 ", "३"])
async def test_numbers_in_any_script_never_crash_the_choice(offline_app: App, text: str) -> None:
    await offline_app.router.handle(Inbound("jsonl", "u", "hei"))
    handled = await offline_app.router.handle(Inbound("jsonl", "u", text))
    assert handled.replies and "Beklager, noe gikk galt" not in handled.replies[0].text
    with offline_app.store.sessions() as session:
        assert session.scalars(select(Message).where(Message.failure.is_not(None))).all() == []
    assert offline_app.store.unhandled_inbound() == []


async def test_message_text_never_reaches_the_logs(
    offline_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    await offline_app.router.handle(Inbound("jsonl", "u", "hemmelig-setning om familien"))
    assert "hemmelig-setning" not in caplog.text


async def test_a_retried_web_message_is_answered_again_and_stored_once(offline_app: App) -> None:
    """The browser lost the answer (a dropped connection) and sends the same message id again:
    it gets the same answer, buttons included, and nothing is handled or stored twice."""
    transport = httpx.ASGITransport(app=create_web_app(offline_app))
    async with httpx.AsyncClient(transport=transport, base_url="http://inngang.test") as web:
        first = (await web.post("/api/chat", json={"text": "hvor er PPT?", "id": "m-1"})).json()
        token = first["token"]
        again = await web.post(
            "/api/chat", json={"token": token, "text": "hvor er PPT?", "id": "m-1"}
        )
    assert again.json()["replies"] == first["replies"]
    assert first["replies"][0]["buttons"] == [{"label": "Snakk med en person", "payload": "person"}]
    with offline_app.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2  # in + out
