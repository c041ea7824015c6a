"""Service settings, from one place.

Precedence, lowest first: the defaults below, an optional TOML file
(``--config`` or ``$HEADLINE_SIEVE_CONFIG``), environment variables
``HEADLINE_SIEVE_<NAME>`` (``HEADLINE_SIEVE_DATA`` for ``data_dir``, the
variable the training commands read), then explicit overrides (command-line
flags, or keyword arguments of :func:`service.app.create_app` in tests).

:func:`settings_table` is the one table of every setting (name, default,
environment variable, help): ``serve --help`` prints it, and the tables in
README.md and docs/service.md are :func:`settings_markdown` (a test keeps
them equal).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ENV_PREFIX = "HEADLINE_SIEVE_"
CONFIG_ENV = "HEADLINE_SIEVE_CONFIG"
HOME_DEFAULT = Path("var")
RETRAIN_MODES = ("auto", "corpora", "labels")


class ConfigError(ValueError):
    """A setting has a value of the wrong type or outside its range."""


@dataclass(frozen=True)
class Settings:
    """Every setting of the service (see docs/service.md for the table)."""

    home: Path = HOME_DEFAULT
    database_url: str = ""
    registry: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    timeout: int = 60
    max_batch: int = 1000
    max_headline_chars: int = 512
    max_body_bytes: int = 2 * 1024 * 1024
    score_requires_token: bool = False
    labels_read_requires_token: bool = True
    promotion_tolerance: float = 0.01
    holdout_fraction: float = 0.2
    retrain_mode: str = "auto"
    label_weight: float = 3.0
    keep_versions: int = 5
    job_heartbeat_timeout: float = 300.0
    store_scored: bool = False
    recipe: str = "default"
    data_dir: Path | None = None
    cors_origins: tuple[str, ...] = ()
    warm_up: bool = True
    log_level: str = "INFO"

    def to_json(self) -> str:
        """Serialise for a child process (see :func:`settings_from_json`)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return json.dumps(data, default=str)

    def resolved_data_dir(self) -> Path:
        """The corpora folder with ``HEADLINE_SIEVE_DATA`` semantics
        (:func:`training.locations.data_dir`): the setting, else ``../shared/datasets``."""
        from training.locations import data_dir

        return data_dir(self.data_dir)

    def resolved_registry(self) -> Path:
        """The model registry directory: the ``registry`` setting, else ``home/models``."""
        return self.registry if self.registry is not None else self.home / "models"

    def open_database(self):
        """The :class:`service.stores.database.Database` of ``database_url``
        (empty: ``home/labels.sqlite3``); connects on first use."""
        from service.stores.database import open_database

        return open_database(self.database_url, self.home)


# Setting name -> environment variable; FIELDS: setting name -> description (docs table).
ENV_NAMES = {f.name: ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}
ENV_NAMES["data_dir"] = "HEADLINE_SIEVE_DATA"

FIELDS: dict[str, str] = {
    "home": "State directory of this instance: the SQLite database and the model registry "
            "unless `database_url` and `registry` put them elsewhere, and the pools.",
    "database_url": "Where labels (with history), tokens (hashed) and jobs live: "
                    "`sqlite:///PATH` or `postgresql://USER:PASSWORD@HOST:PORT/DB`; "
                    "instances sharing one PostgreSQL database share them.",
    "registry": "Model registry directory (versions and the active pointer); instances "
                "sharing one directory serve the same active model.",
    "host": "Address `serve` binds to.",
    "port": "TCP port `serve` listens on.",
    "workers": "gunicorn worker processes.",
    "timeout": "Seconds a worker may spend on one request before gunicorn restarts it.",
    "max_batch": "Most headlines per `/v1/score` request and labels per `/v1/labels` "
                 "request (413 above).",
    "max_headline_chars": "Longest headline accepted, in characters (422 above).",
    "max_body_bytes": "Largest request body, in bytes (413 above, before the body is read).",
    "score_requires_token": "`true`: `/v1/score` needs a bearer token like the write endpoints.",
    "labels_read_requires_token": "`true`: `GET /v1/labels` and `/v1/labels/export` need a "
                                  "bearer token (labels record who sent them).",
    "promotion_tolerance": "A candidate is rejected if its ROC-AUC or average precision on "
                           "the held-out set is lower than the active model's by more than "
                           "this.",
    "holdout_fraction": "Share of labelled headlines held out for the quality gate "
                        "(chosen by a hash of the normalised headline, so stable).",
    "retrain_mode": "`auto` (corpora if `data_dir` has them, else labels only), "
                    "`corpora` or `labels`.",
    "label_weight": "Weight of an editor's label against a policy-labelled row of the "
                    "recipe when retraining with corpora.",
    "keep_versions": "Model versions kept besides the active and pinned ones: the newest "
                     "N; older ones are deleted after each retrain or activation.",
    "job_heartbeat_timeout": "Seconds without a heartbeat after which a retraining job is "
                             "dead (its host is gone) and another may start.",
    "store_scored": "`true`: keep the last 10,000 headlines sent to `/v1/score` as a pool "
                    "for the labelling page; `false` (default): scored text is not stored.",
    "recipe": "Recipe of the base corpora when retraining with corpora.",
    "data_dir": "Corpora folder for retraining (default `../shared/datasets` beside the "
                "project, as for `headline-sieve train`).",
    "cors_origins": "Origins allowed to call the API from a browser, comma-separated "
                    "(`*` for any); empty: no CORS headers.",
    "warm_up": "Load the active model when a worker starts rather than on its first request.",
    "log_level": "Level of the service's log on stderr (DEBUG, INFO, WARNING, ERROR).",
}

_DEFAULTS_SHOWN = {"home": "./var", "data_dir": "../shared/datasets", "cors_origins": "(none)",
                   "database_url": "sqlite:///<home>/labels.sqlite3",
                   "registry": "<home>/models"}


def settings_table() -> list[tuple[str, str, str, str]]:
    """(name, default as text, environment variable, help) of every setting, in
    the order of :class:`Settings`."""
    rows = []
    for field in dataclasses.fields(Settings):
        default = _DEFAULTS_SHOWN.get(field.name, field.default)
        if isinstance(default, bool):
            default = str(default).lower()
        rows.append((field.name, str(default), ENV_NAMES[field.name], FIELDS[field.name]))
    return rows


def settings_markdown() -> str:
    """:func:`settings_table` as the Markdown table of the README and docs/service.md."""
    lines = ["| setting (TOML key) | environment variable | default | meaning |",
             "|---|---|---|---|"]
    for name, default, env, text in settings_table():
        shown = default if default.startswith("(") else f"`{default}`"
        lines.append(f"| `{name}` | `{env}` | {shown} | {text} |")
    return "\n".join(lines) + "\n"


def settings_help() -> str:
    """:func:`settings_table` as plain text, for ``serve --help``."""
    lines = ["settings (TOML key / environment variable, default):"]
    for name, default, env, text in settings_table():
        lines.append(f"  {name} / {env} (default {default})")
        lines.append(f"      {text.replace('`', '')}")
    return "\n".join(lines)


_POSITIVE_INTS = ("port", "workers", "timeout", "max_batch", "max_headline_chars",
                  "max_body_bytes", "keep_versions")
# prometheus_client reads it when it is imported, so it is defined here, where
# importing it imports no metrics code (service.server sets it for the workers).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(text: str) -> bool:
    """``true``/``false`` (also 1/0, yes/no, on/off, any case) as a bool: the
    one reading of a true/false word, for settings and query parameters.
    Raises ValueError for any other word."""
    word = str(text).strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError("expected true or false")
    return word in _TRUE


def _field_types() -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(Settings)}


def _coerce(name: str, value: Any, where: str) -> Any:
    """Convert ``value`` (from TOML, env or a caller) to the type of setting ``name``."""
    default = _field_types()[name]
    try:
        if name in ("home", "data_dir", "registry"):
            return None if value in (None, "") else Path(value).expanduser()
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            return parse_bool(value)
        if isinstance(default, int):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected an integer")
            return int(value)
        if isinstance(default, float):
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
        if name == "database_url":
            from service.stores.database import check_url

            return check_url(str(value).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: invalid value {value!r} for {name} ({exc})") from None


def _validate(settings: Settings) -> Settings:
    for name in _POSITIVE_INTS:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be a positive integer, not {getattr(settings, name)}")
    if not settings.job_heartbeat_timeout >= 3 * 5.0:
        raise ConfigError("job_heartbeat_timeout must be at least 15 seconds (three heartbeats)")
    if not 0.0 <= settings.promotion_tolerance <= 1.0:
        raise ConfigError("promotion_tolerance must be between 0 and 1")
    if not 0.0 < settings.label_weight <= 1000.0:
        raise ConfigError("label_weight must be above 0 and at most 1000")
    if not 0.0 < settings.holdout_fraction < 1.0:
        raise ConfigError("holdout_fraction must be strictly between 0 and 1")
    if settings.retrain_mode not in RETRAIN_MODES:
        raise ConfigError(f"retrain_mode must be one of {', '.join(RETRAIN_MODES)}, "
                          f"not {settings.retrain_mode!r}")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"log_level {settings.log_level!r} is not a logging level")
    return settings


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (from --config or {CONFIG_ENV})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    raw = raw.get("service", raw)  # accept a [service] table or top-level keys
    unknown = sorted(set(raw) - set(_field_types()))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(_field_types()))}")
    return {name: _coerce(name, value, str(path)) for name, value in raw.items()}


def load_settings(overrides: Mapping[str, Any] | None = None,
                  config_file: str | os.PathLike | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from defaults <- TOML file <- environment <- ``overrides``.

    ``config_file`` defaults to ``$HEADLINE_SIEVE_CONFIG``; ``environ`` to
    ``os.environ``. ``overrides`` with value None are ignored (unset flags).
    The home directory is made absolute. Raises :class:`ConfigError`.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = config_file or environ.get(CONFIG_ENV)
    if config_file:
        values.update(_from_toml(Path(config_file)))
    for name, variable in ENV_NAMES.items():
        if environ.get(variable, "") != "":
            values[name] = _coerce(name, environ[variable], variable)
    for name, value in (overrides or {}).items():
        if name not in _field_types():
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = _coerce(name, value, "argument")
    values["home"] = Path(values.get("home") or HOME_DEFAULT).expanduser().resolve()
    if values.get("registry") is not None:
        values["registry"] = Path(values["registry"]).resolve()
    return _validate(Settings(**values))


def settings_from_json(text: str) -> Settings:
    """Inverse of :meth:`Settings.to_json` (used by the retraining process)."""
    data = json.loads(text)
    return _validate(Settings(**{name: _coerce(name, value, "settings JSON")
                                 for name, value in data.items()}))
