from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import ConfigError, load_settings, resolve_config_path
from config.reference import setting_paths
from config.settings import EmbeddedIndexSettings, EmbeddingSettings, Settings

REPO = Path(__file__).resolve().parents[1]
ENV = {"OPINIONWATCH_SMTP_PASSWORD": "s3cret-value"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ow.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_secret_from_environment() -> None:
    settings = load_settings(REPO / "config" / "example.yaml", environ=ENV)
    assert {w.name for w in settings.watchlists} >= {"shein", "competitors", "platform_regulation"}
    assert settings.mail.password is not None
    assert settings.mail.password.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in settings.model_dump_json()
    assert any("希音" in e.aliases for w in settings.watchlists for e in w.entities)


def test_demo_config_loads_without_the_world_running() -> None:
    settings = load_settings(REPO / "config" / "demo.yaml", environ={})
    assert [s.name for s in settings.sources][0] == "harbor-daily"
    assert isinstance(settings.index, EmbeddedIndexSettings)
    assert settings.data_dir.is_absolute() and settings.data_dir.parent == REPO / "config"


def test_bad_value_names_file_line_field_and_expectation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "watchlists:\n  - name: a\n    query: x\nsources:\n  - name: s\n    url: ftp://example.com/feed\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    message = str(error.value)
    assert str(path) in message and "line 6" in message and "sources[0].url" in message
    assert "http:// or https://" in message and "ftp://example.com/feed" in message


def test_unknown_key_and_bad_schedule_are_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path, "sources:\n  - name: s\n    url: https://e.com/f\n    schedule: hourly\n    colour: red\n"
    )
    message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
    assert "line 4, field 'sources[0].schedule'" in message and "every 15m" in message
    assert "sources[0].colour" in message and "Extra inputs are not permitted" in message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: [unclosed\n")
    message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
    assert "not valid YAML" in message and "line" in message


def test_bad_watchlist_query_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "watchlists:\n  - name: w\n    query: '(a OR b'\n")
    message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
    assert "line 3, field 'watchlists[0].query'" in message and "missing ')'" in message


def test_secrets_only_from_environment(tmp_path: Path) -> None:
    literal = write(tmp_path, "mail:\n  password: hunter2\n")
    message = str(pytest.raises(ConfigError, load_settings, literal, environ={}).value)
    assert "line 2" in message and "environment" in message and "hunter2" not in message
    missing = write(tmp_path, "mail:\n  password: ${SMTP_PW}\n")
    message = str(pytest.raises(ConfigError, load_settings, missing, environ={}).value)
    assert "SMTP_PW is not set" in message and "line 2" in message
    settings = load_settings(missing, environ={"SMTP_PW": "pw"})
    assert settings.mail.password is not None and settings.mail.password.get_secret_value() == "pw"


def test_team_must_name_known_watchlists(tmp_path: Path) -> None:
    path = write(
        tmp_path, "watchlists:\n  - name: a\n    query: x\nteams:\n  - name: t\n    watchlists: [a, b]\n"
    )
    message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
    assert "line 6, field 'teams[0].watchlists[1]'" in message and "unknown watchlist 'b'" in message


def test_a_key_left_empty_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: d\ncrawl:\nwatchlists:\n  - name: a\n    query: x\n")
    message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
    assert "line 2, field 'crawl': is empty" in message and "Traceback" not in message


def test_query_errors_in_the_config_name_the_position(tmp_path: Path) -> None:
    for query, expected in (
        ("titel:Trump", "unknown field 'titel' at position 0"),
        ("Trump NEAR/x Jr", "NEAR takes a whole number"),
        ("Trump -", "excludes nothing"),
    ):
        path = write(tmp_path, f"watchlists:\n  - name: w\n    query: '{query}'\n")
        message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
        assert "line 3, field 'watchlists[0].query'" in message and expected in message, message


def test_timezone_and_recipients_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "teams:\n  - name: t\n    watchlists: []\n    timezone: Mars/Base\n    recipients: [nobody]\n",
    )
    message = str(pytest.raises(ConfigError, load_settings, path, environ={}).value)
    assert "Mars/Base" in message and "nobody" in message


def test_an_empty_batch_size_is_the_backends_own() -> None:
    assert [EmbeddingSettings(backend=b).texts_per_pass for b in ("torch", "onnx", "onnx-int8")] == [
        32,
        16,
        16,
    ]
    assert EmbeddingSettings(backend="torch", batch_size=4).texts_per_pass == 4


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    message = str(pytest.raises(ConfigError, load_settings, tmp_path / "none.yaml").value)
    assert "not found" in message and "--config" in message


def test_config_path_resolution(tmp_path: Path) -> None:
    assert resolve_config_path(None, {}) == Path("opinionwatch.yaml")
    assert resolve_config_path(None, {"OPINIONWATCH_CONFIG": "/x.yaml"}) == Path("/x.yaml")
    assert resolve_config_path(tmp_path, {"OPINIONWATCH_CONFIG": "/x.yaml"}) == tmp_path


def test_every_setting_is_described_and_documented() -> None:
    reference = (REPO / "docs" / "configuration.md").read_text("utf-8")
    paths = list(setting_paths(Settings))
    assert len(paths) > 50
    for path, field in paths:
        assert field.description, f"{path} has no description"
        assert f"`{path}`" in reference, (
            f"{path} is missing from docs/configuration.md (run python -m config.reference)"
        )
