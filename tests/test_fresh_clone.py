"""A newcomer's first command on a fresh clone: ``make run`` sets itself up and serves.

The repository is cloned (its committed state, as CI clones it) into a
temporary folder with nothing beside it (no ``../shared``, no virtualenv),
and ``make run`` is run there as the README says: it must create its own
virtualenv, install the package from the package index, and serve the
bundled model on the port the environment names. ``make test`` on a fresh
clone is what CI itself runs (``.ci/run``).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import requests

from helpers import free_port, wait_for_200

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SETUP_SECONDS = 600  # venv + pip install (about 30 s with a warm pip cache) + start


def test_make_run_on_a_fresh_clone_serves_the_bundled_model(tmp_path):
    clone = tmp_path / "headline-sieve"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    assert not (clone / ".venv").exists() and not (tmp_path / "shared").exists()
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HEADLINE_SIEVE_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(HEADLINE_SIEVE_PORT=str(port), HEADLINE_SIEVE_HOME=str(tmp_path / "home"))
    log = tmp_path / "make-run.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_200(f"{base}/readyz", process, lambda: log.read_text(errors="replace")[-3000:],
                     SETUP_SECONDS)
        bundled = (clone / "model" / "bundled" / "manifest.json").read_text(encoding="utf-8")
        answer = requests.post(f"{base}/v1/score", json={"headline": "震惊！她竟然这样做"},
                               timeout=30)
        assert answer.status_code == 200, answer.text
        assert f'"{answer.json()["model"]}"' in bundled  # the clone's own bundled model
        assert answer.json()["results"][0]["label"] in ("clickbait", "substantive")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
