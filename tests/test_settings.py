"""config.yml validation: a bad file stops the start with a message naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import PROJECT_ROOT, ConfigError, load_settings


def write_config(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def error_for(tmp_path: Path, change: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, change), env={})
    return str(raised.value)


def test_the_shipped_config_is_valid_and_marked_as_example_data() -> None:
    settings = load_settings(PROJECT_ROOT / "config.yml", env={})
    assert settings.example_data
    assert settings.languages.default == "nb"
    assert set(settings.service_ids) >= {"helsestasjon", "barnevern", "flyktning"}
    numbers = {line.number for line in settings.crisis_lines}
    assert {"113", "112", "110", "116 111", "116 123", "22 40 00 40"} <= numbers


def test_a_missing_service_is_named(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, lambda d: d.update(services=[s for s in d["services"] if s["id"] != "ppt"])
    )
    assert "services" in message and "ppt" in message


def test_a_default_language_that_is_not_supported_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["languages"].update(default="de"))
    assert "languages" in message and "'de'" in message


def test_a_misspelt_field_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d.update(consent_agee=13))
    assert "consent_agee" in message


def test_waiting_targets_are_checked(tmp_path: Path) -> None:
    settings = load_settings(PROJECT_ROOT / "config.yml", env={})
    assert (settings.queue.target_minutes, settings.queue.urgent_target_minutes) == (30, 5)
    longer = error_for(tmp_path, lambda d: d["queue"].update(urgent_target_minutes=45))
    assert "queue" in longer and "urgent_target_minutes (45) is longer than" in longer
    zero = error_for(tmp_path, lambda d: d["queue"].update(target_minutes=0))
    assert "queue.target_minutes" in zero


def test_a_bad_opening_hour_is_named(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, lambda d: d["opening_hours"]["weekly"].update(monday=["16:00", "08:00"])
    )
    assert "opening_hours.weekly" in message and "monday" in message


def test_the_emergency_numbers_cannot_be_removed(tmp_path: Path) -> None:
    message = error_for(
        tmp_path,
        lambda d: d.update(crisis_lines=[l for l in d["crisis_lines"] if l["number"] != "113"]),
    )
    assert "crisis_lines" in message and "113" in message


def test_a_roster_naming_unknown_staff_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["roster"]["on_duty"].update(monday=["nobody"]))
    assert "roster" in message and "nobody" in message


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d.update(telegram_token="123:abc"))
    assert "environment" in message


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("municipality: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, env={})


def test_secrets_and_overrides_come_from_the_environment() -> None:
    settings = load_settings(
        PROJECT_ROOT / "config.yml",
        env={
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "INNGANG_DATABASE_URL": "postgresql://u:p@localhost/db",
        },
    )
    assert settings.telegram_token == "123:abc"
    assert settings.database_url == "postgresql://u:p@localhost/db"
    assert "123:abc" not in repr(settings)


def test_the_cli_stops_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    path = write_config(tmp_path, lambda d: d.update(consent_age="old"))
    assert main(["--config", str(path), "check-config"]) == 2
    assert "consent_age" in capsys.readouterr().err


def test_writable_state_goes_where_inngang_var_says(tmp_path: Path) -> None:
    settings = load_settings(PROJECT_ROOT / "config.yml", env={"INNGANG_VAR": str(tmp_path)})
    assert settings.var_dir == tmp_path
    assert settings.sqlite_path == tmp_path / "inngang.db"
    assert settings.database_url == f"sqlite:///{tmp_path / 'inngang.db'}"


def test_without_inngang_var_state_is_in_var_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(PROJECT_ROOT / "config.yml", env={})
    assert settings.var_dir == tmp_path / "var"  # `make run` in a checkout: its var/
    assert settings.sqlite_path == tmp_path / "var" / "inngang.db"
    relative = load_settings(
        PROJECT_ROOT / "config.yml", env={"INNGANG_DATABASE_URL": "sqlite:///data/x.db"}
    )
    assert relative.sqlite_path == tmp_path / "data" / "x.db"  # from the working directory


def test_the_state_directory_is_not_set_in_the_file(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d.update(var_dir="/srv/inngang"))
    assert "INNGANG_VAR" in message


def test_the_configuration_is_found_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.resources import EXAMPLE_CONFIG
    from bot.settings import default_config_path

    monkeypatch.chdir(tmp_path)
    assert default_config_path({}) == EXAMPLE_CONFIG  # nothing here: the example
    assert EXAMPLE_CONFIG == PROJECT_ROOT / "config.yml"  # a checkout's own
    local = write_config(tmp_path, lambda d: d)
    assert default_config_path({}) == local
    other = tmp_path / "other.yml"
    assert default_config_path({"INNGANG_CONFIG": str(other)}) == other


def test_postgresql_without_its_driver_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    with pytest.raises(ConfigError, match=r"inngang\[postgres\]"):
        load_settings(
            PROJECT_ROOT / "config.yml",
            env={"INNGANG_DATABASE_URL": "postgresql+psycopg://u@localhost/db"},
        )
    assert load_settings(PROJECT_ROOT / "config.yml", env={}).sqlite_path is not None
