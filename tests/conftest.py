"""Shared fixtures of the service tests (tests/test_service_*.py).

Every service test works in its own temporary home directory and reads the
corpora in ../shared/datasets without writing to them. Settings are built
from an empty environment so a developer's HEADLINE_SIEVE_* variables never
leak into a test; ``data_dir`` points at an empty folder (a fresh install,
retraining from labels only) unless a test asks for the corpora.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_SECONDS = 90  # generous upper bound, only to avoid hanging forever


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
def hancd_rows() -> list[tuple[str, int]]:
    """(headline, 1 = clickbait) of the HanCD Sina corpus, de-duplicated."""
    from model.normalize import normalize
    from training.corpora import read_hancd

    seen, rows = set(), []
    for row in read_hancd(corpora_dir() / "hancd" / "sina.csv").rows:
        key = normalize(row.text)
        if key not in seen:
            seen.add(key)
            rows.append((row.text, int(row.category)))
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
    from service.retraining import is_holdout

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEADLINE_SIEVE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    empty = Path(home).parent / "no-corpora"
    empty.mkdir(parents=True, exist_ok=True)
    env["HEADLINE_SIEVE_DATA"] = str(empty)
    return env


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    """Run ``headline-sieve ARGS`` as a user would; raises if it fails."""
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=server_env(home),
                          capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)


@contextlib.contextmanager
def running_server(home: Path, workers: int = 2) -> Iterator[str]:
    """``headline-sieve serve`` on a free loopback port; yields its base URL.

    Waits until /readyz answers 200 several times in a row (both workers
    loaded), and stops the server with SIGTERM (SIGKILL if it hangs).
    """
    import requests

    port = free_port()
    log_path = Path(home).parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--home", str(home),
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=server_env(home), stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        ready_in_a_row = 0
        deadline = time.monotonic() + SERVER_START_SECONDS
        while ready_in_a_row < 2 * workers:
            assert process.poll() is None, f"server exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"server not ready:\n{log_path.read_text()}"
            try:
                ok = requests.get(f"{base}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                ok = False
            ready_in_a_row = ready_in_a_row + 1 if ok else 0
            if not ok:
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def service_helpers():
    """The helper functions above, for tests (instead of importing conftest)."""
    import types

    return types.SimpleNamespace(settings=service_settings, pick_corrections=pick_corrections,
                                 corpora_dir=corpora_dir,
                                 label_payload=label_payload, running_server=running_server,
                                 cli=cli)
