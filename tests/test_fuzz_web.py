"""Fuzzing the web chat API: every bad-input class and generated bodies get a clear error
(4xx with a code) or a sensible reply, never a 5xx or a traceback; the visitor's next
"hei" is answered; nothing recorded is lost. On SQLite and PostgreSQL."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.app import App
from tests.fuzz_drivers import WebHarness, fuzz_web, lost_messages, web_client
from tests.fuzz_inputs import any_bytes, any_text, json_bytes, json_values, objects_with


async def test_every_bad_input_class_gets_a_clear_answer_and_the_next_hei_a_reply(
    any_app: App,
) -> None:
    report = await fuzz_web(any_app)
    assert len(report.tried) >= 150
    assert report.crashes == {}


@given(objects_with({"text": any_text, "button": any_text, "id": any_text, "token": any_text}))
async def test_generated_chat_bodies_never_crash(any_app: App, body: dict[str, object]) -> None:
    async with web_client(any_app) as client:
        web = WebHarness(client)
        assert await web.answered(await web.chat(json_bytes(body))) is None
    assert lost_messages(any_app) == []


@given(json_values | st.text(max_size=50), any_bytes)
async def test_generated_documents_and_bytes_never_crash(
    any_app: App, document: object, raw: bytes
) -> None:
    async with web_client(any_app) as client:
        web = WebHarness(client)
        assert await web.answered(await web.chat(json_bytes(document))) is None
        assert await web.answered(await web.chat(raw)) is None


@given(st.text(st.characters(codec="latin-1"), max_size=200))
async def test_generated_tokens_are_refused_with_a_code(any_app: App, token: str) -> None:
    async with web_client(any_app) as client:
        response = await client.post("/api/poll", headers={"x-chat-token": token.encode("latin-1")})
    assert response.status_code in (400, 401) and response.json()["error"]
