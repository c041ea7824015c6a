"""Shared fixtures of the service tests (tests/test_service_*.py).

Every service test works in its own temporary home directory and reads the
corpora in ../shared/datasets without writing to them. Settings are built
from an empty environment so a developer's HEADLINE_SIEVE_* variables never
leak into a test; ``data_dir`` points at an empty folder (a fresh install,
retraining from labels only) unless a test asks for the corpora.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import (auth, cli, create_token, running_server, server_process,
                     wait_for_job)


def corpora_dir() -> Path:
    """The shared corpora (read-only): $HEADLINE_SIEVE_DATA, else ../shared/datasets."""
    from training.locations import data_dir

    return data_dir()


def service_settings(home: Path, **overrides):
    """Settings for a test app in ``home``: no environment, no corpora, no warm-up."""
    from service.config import load_settings

    empty = Path(home) / "no-corpora"
    empty.mkdir(parents=True, exist_ok=True)
    values = {"home": home, "data_dir": empty, "warm_up": False, **overrides}
    return load_settings(values, environ={})


@pytest.fixture
def service_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def service_app(service_home: Path):
    from service.app import create_app

    return create_app(service_settings(service_home))


@pytest.fixture
def service_client(service_app):
    return service_app.test_client()


@pytest.fixture
def service_token(service_app) -> str:
    from service.state import EXTENSION

    return service_app.extensions[EXTENSION].tokens.create("editor")


@pytest.fixture(scope="session")
def bundled_model():
    from model import load_model

    return load_model()


@pytest.fixture(scope="session")
def policy_rows() -> list[tuple[str, int]]:
    """(headline, 1 = clickbait) of the policy-labelled sets (policy_gold), de-duplicated:
    the kind of labels editors send."""
    from model.normalize import normalize
    from training.corpora import read_table

    seen, rows = set(), []
    for name in ("dev.tsv", "train.tsv"):
        for row in read_table(corpora_dir() / "policy_gold" / name).rows:
            key = normalize(row.text)
            if key not in seen:
                seen.add(key)
                rows.append((row.text, int(row.category == "clickbait")))
    return rows


@pytest.fixture(scope="session")
def unlabeled_headlines() -> list[str]:
    """The first 600 headlines of the unlabeled TNEWS pool."""
    path = corpora_dir() / "unlabeled" / "tnews_unlabeled.json"
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["sentence"] for _, line in zip(range(600), handle)]


def pick_corrections(model, rows: list[tuple[str, int]], n_train: int, n_holdout: int,
                     fraction: float = 0.2) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Labels a retraining job should learn and promote, chosen deterministically.

    ``train``: ``n_train`` headlines the model gets wrong that fall outside
    the held-out slice. ``holdout``: ``n_holdout`` held-out headlines the
    model gets confidently right, half of each class, so the quality gate has
    both classes and a candidate that only fixes the corrections passes it.
    """
    from model.normalize import normalize_many
    from training.retraining import is_holdout

    texts = [text for text, _ in rows]
    p = model.predict_proba(texts)
    normalized = normalize_many(texts)
    train, holdout = [], {0: [], 1: []}
    for (text, y), pi, norm in zip(rows, p, normalized):
        wrong = int(pi >= model.threshold) != y
        if not is_holdout(norm, fraction):
            if wrong and len(train) < n_train and len(norm) >= 8:
                train.append((text, y))
        elif not wrong and abs(pi - model.threshold) > 0.3 and len(holdout[y]) < n_holdout // 2:
            holdout[y].append((text, y))
    assert len(train) == n_train and len(holdout[0]) + len(holdout[1]) == n_holdout
    return train, holdout[0] + holdout[1]


def label_payload(pairs: list[tuple[str, int]], source: str = "test") -> dict:
    return {"labels": [{"headline": h, "label": "clickbait" if y else "substantive",
                        "source": source} for h, y in pairs]}


@pytest.fixture(scope="session")
def service_helpers():
    """The helper functions above, for tests (instead of importing conftest)."""
    import types

    return types.SimpleNamespace(settings=service_settings, pick_corrections=pick_corrections,
                                 corpora_dir=corpora_dir,
                                 label_payload=label_payload, running_server=running_server,
                                 server_process=server_process, cli=cli, auth=auth,
                                 create_token=create_token, wait_for_job=wait_for_job)


# -- figures of the reliability tests --------------------------------------------
# Each reliability test records what it measured (requests sent, faults survived,
# inputs tried, labels lost, ...) with the ``figures`` fixture, as a user property
# of its report (which pytest-xdist sends from the worker that ran the test to
# the controller). The controller writes them to
# <pytest basetemp>/reliability-figures.json and prints them in the terminal
# summary, without -s; they are copied by hand into docs/reliability.md.

_FIGURES: dict[str, dict] = {}
FIGURES_FILE = "reliability-figures.json"
FIGURES_PROPERTY = "reliability_figures"


@pytest.fixture
def figures(record_property):
    """``figures(name=value, ...)`` records this test's figures (JSON-serialisable)."""

    def record(**values) -> None:
        record_property(FIGURES_PROPERTY, values)

    return record


def pytest_runtest_logreport(report) -> None:
    if report.when != "teardown":  # its report carries every property of the test
        return
    for name, values in report.user_properties:
        if name == FIGURES_PROPERTY:
            _FIGURES.setdefault(report.nodeid.rpartition("::")[2], {}).update(values)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, values in _FIGURES.items():
        terminalreporter.write_line(f"{test}: {json.dumps(values, ensure_ascii=False)}")
    path = config._tmp_path_factory.getbasetemp() / FIGURES_FILE
    path.write_text(json.dumps(_FIGURES, ensure_ascii=False, indent=2), encoding="utf-8")
    terminalreporter.write_line(f"(written to {path})")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium (Debian's, through Selenium) for one test module."""
    from benchmarks.browser import headless_chromium

    driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


# -- the database: SQLite and a real PostgreSQL server ------------------------------

@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of this test session (benchmarks/postgres.py)."""
    from benchmarks.postgres import start_postgres

    server = start_postgres()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    import secrets

    return postgres.create_database(f"test_{secrets.token_hex(6)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """Each store test runs twice: on a SQLite file and on PostgreSQL."""
    from service.stores.database import open_database

    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    db = open_database(url, tmp_path)
    try:
        yield db
    finally:
        db.close()
