"""service.config: defaults <- TOML <- environment <- arguments; errors name the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import (ENV_NAMES, ConfigError, Settings, load_settings, settings_markdown,
                            settings_table)
from service.config import settings_from_json

DOCS = Path(__file__).resolve().parents[1] / "docs" / "service.md"


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.home == tmp_path / "var"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 2)
    assert settings.max_batch >= 1000
    assert settings.score_requires_token is False
    assert settings.cors_origins == ()


def test_precedence_toml_then_env_then_arguments(tmp_path):
    config = tmp_path / "service.toml"
    config.write_text('port = 9000\nworkers = 4\nmax_batch = 2000\n'
                      'cors_origins = ["https://a.example"]\nscore_requires_token = true\n',
                      encoding="utf-8")
    env = {"HEADLINE_SIEVE_CONFIG": str(config), "HEADLINE_SIEVE_WORKERS": "3",
           "HEADLINE_SIEVE_HOME": str(tmp_path / "h"), "HEADLINE_SIEVE_DATA": str(tmp_path / "d"),
           "HEADLINE_SIEVE_PROMOTION_TOLERANCE": "0.05"}
    settings = load_settings({"workers": 5, "port": None}, environ=env)
    assert settings.port == 9000  # TOML; the None argument is "flag not given"
    assert settings.workers == 5  # argument over env over TOML
    assert settings.max_batch == 2000
    assert settings.cors_origins == ("https://a.example",)
    assert settings.score_requires_token is True
    assert settings.home == tmp_path / "h"
    assert settings.data_dir == tmp_path / "d"
    assert settings.resolved_data_dir() == tmp_path / "d"
    assert settings.promotion_tolerance == 0.05


def test_a_service_table_in_toml_and_comma_separated_env_lists(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[service]\nmax_headline_chars = 300\n", encoding="utf-8")
    settings = load_settings(config_file=config,
                             environ={"HEADLINE_SIEVE_CORS_ORIGINS": "https://a.example, *"})
    assert settings.max_headline_chars == 300
    assert settings.cors_origins == ("https://a.example", "*")


@pytest.mark.parametrize("env, message", [
    ({"HEADLINE_SIEVE_PORT": "eighty"}, "HEADLINE_SIEVE_PORT"),
    ({"HEADLINE_SIEVE_SCORE_REQUIRES_TOKEN": "maybe"}, "expected true or false"),
    ({"HEADLINE_SIEVE_WORKERS": "0"}, "workers must be a positive integer"),
    ({"HEADLINE_SIEVE_RETRAIN_MODE": "magic"}, "retrain_mode must be one of"),
    ({"HEADLINE_SIEVE_HOLDOUT_FRACTION": "1.5"}, "holdout_fraction"),
])
def test_invalid_values_name_their_source(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_or_missing_config_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting.*prot.*known: "):
        load_settings(config_file=config, environ={})
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(config_file=tmp_path / "missing.toml", environ={})


def test_settings_survive_the_trip_to_the_retraining_process(tmp_path):
    settings = load_settings({"home": tmp_path, "cors_origins": "a,b", "data_dir": tmp_path},
                             environ={})
    assert settings_from_json(settings.to_json()) == settings


def test_the_readme_and_the_docs_show_the_settings_table_of_the_code():
    expected = settings_markdown()
    for name in Settings.__dataclass_fields__:
        assert f"| `{name}` | `{ENV_NAMES[name]}` |" in expected, name
    for document in (DOCS, DOCS.parents[1] / "README.md"):
        text = document.read_text(encoding="utf-8")
        start = text.index("-->\n", text.index("<!-- settings table")) + 4
        assert text[start:text.index("<!-- end of settings table -->")] == expected, document


def test_serve_help_lists_every_setting(service_helpers, tmp_path):
    shown = service_helpers.cli("serve", "--help", home=tmp_path).stdout
    for name, default, env, _ in settings_table():
        assert f"{name} / {env} (default {default})" in shown, name
