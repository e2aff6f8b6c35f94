"""The trusted person's code is the young person's alone: Sara asks for a code, sees all of
it and its link; Kari reads the same reply in the case conversation with the code masked
("7KQ2-••••", the link's code too), on the case page, in what the console's case view holds
and in the archive copy; a friend still joins with the whole code Sara passed on."""

from __future__ import annotations

import re

import httpx

from bot.app import App
from bot.store.archive_repo import CaseRecord
from bot.trusted_codes import mask_codes
from tests.staff_browser import StaffBrowser
from tests.test_own_voice import Teen, texts
from tests.test_trusted import a_case_with_a_code, chat, joins

__all__ = ["chat"]  # the fixture


def test_a_code_is_masked_wherever_it_stands_and_other_words_are_left_alone() -> None:
    reply = "Koden: 7KQ2-MXAB, eller lenken https://chat.example/#join=7KQ2MXAB (til 11:00)."
    assert mask_codes(reply) == (
        "Koden: 7KQ2-••••, eller lenken https://chat.example/#join=•••••••• (til 11:00)."
    )
    assert mask_codes("7kq2-mxab") == "7kq2-••••"  # typed by hand
    assert mask_codes("7KQ2MXAB") == "••••••••"
    plain = "Møtet er 10-12 i rom ABCD-EFGH, skoleåret 2026-2027."
    assert mask_codes(plain) == plain  # no digit and letter together: no code


async def test_the_los_never_sees_a_whole_code_and_the_young_person_does(
    chat: httpx.AsyncClient,
    kari: StaffBrowser,
    offline_app: App,
) -> None:
    app = offline_app
    teen, reference, code = await a_case_with_a_code(chat, kari, app)
    shown, link = f"{code[:4]}-{code[4:]}", f"#join={code}"
    sara_saw = " ".join(texts(teen.seen[-1:]))
    assert shown in sara_saw and link in sara_saw

    page = await kari.get(f"/staff/case/{reference}")
    assert page.status_code == 200
    seen = re.sub(r"<[^>]+>", "", page.text)  # as the los reads it (numbers are isolated)
    assert f"{code[:4]}-••••" in seen and "#join=••••••••" in seen
    assert code not in seen and shown not in seen

    view = app.queue.view(reference, "kari")
    everything = " ".join(
        [m.text for m in view.conversation] + [text for _, _, text in view.messages]
    )
    assert f"{code[:4]}-••••" in everything
    assert code not in everything and shown not in everything

    records: list[CaseRecord] = []

    def build(record: CaseRecord) -> tuple[bytes, str]:
        records.append(record)
        return b"", "checked"

    app.queue.export(reference, "kari", build)
    archived = " ".join(m.text for m in records[0].view.conversation)
    assert f"{code[:4]}-••••" in archived and code not in archived and shown not in archived

    friend = Teen(chat, app)  # the whole code still works for whoever Sara gave it to
    assert "Du er med nå, Ola" in texts(await joins(friend, code))[0]
