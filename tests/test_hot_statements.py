"""The per-message statements built once (bot/store/hot.py) stay safe to run as they are."""

from __future__ import annotations

import pytest
from sqlalchemy import Insert, Select, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import iterate

from bot.store import hot

STATEMENTS = {
    name: value
    for name, value in vars(hot).items()
    if name.isupper() and not name.startswith("_") and isinstance(value, Insert | Select | Update)
}


def _parameters(statement: Update) -> set[str]:
    return {e.key for e in iterate(statement) if isinstance(e, BindParameter) and e.key}


@pytest.mark.parametrize("name", sorted(n for n, s in STATEMENTS.items() if isinstance(s, Update)))
def test_no_update_parameter_is_named_as_a_column_it_could_set(name: str) -> None:
    """Core takes a parameter named as a column of the updated table as a value to SET: a
    step in a case then failed with CompileError and the citizen got the safe reply."""
    statement = STATEMENTS[name]
    assert isinstance(statement, Update)
    columns = {c.key for c in statement.table.c}  # type: ignore[attr-defined]
    named = {p for p in _parameters(statement) if not p.startswith("param_")}
    assert not named & columns


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_every_statement_compiles_on_both_databases(name: str, dialect: object) -> None:
    assert str(STATEMENTS[name].compile(dialect=dialect))  # type: ignore[arg-type]


def test_the_statements_cover_a_message_path() -> None:
    assert {"KNOWN", "RECORD", "PENDING", "MOVE", "MARK_HANDLED", "REPLY"} <= set(STATEMENTS)


ONE_STATEMENT_STEPS = {
    f"step_saved({replies}, queued={queued})": hot.step_saved(replies, queued)
    for replies in (0, 1, 3)
    for queued in (False, True)
}


@pytest.mark.parametrize(
    "name",
    sorted(n for n, s in STATEMENTS.items() if isinstance(s, Update)) + sorted(ONE_STATEMENT_STEPS),
)
def test_naming_every_parameter_of_a_write_sets_nothing_more(name: str) -> None:
    """Executed with all its parameters, a statement that writes (also in a common table
    expression, as PostgreSQL's one-statement step does) sets no column it did not name:
    a parameter called ``conversation_id`` made the step's UPDATE of messages set it."""
    statement = STATEMENTS[name] if name in STATEMENTS else ONE_STATEMENT_STEPS[name]
    dialect = postgresql.dialect()
    named = sorted(_parameters(statement))  # type: ignore[arg-type]
    assert str(statement.compile(dialect=dialect, column_keys=named)) == str(
        statement.compile(dialect=dialect)
    )


@pytest.mark.parametrize("name", sorted(ONE_STATEMENT_STEPS))
def test_the_one_statement_step_compiles_on_postgresql(name: str) -> None:
    assert str(ONE_STATEMENT_STEPS[name].compile(dialect=postgresql.dialect()))
