"""Two ``headline-sieve serve`` instances on two ports sharing one PostgreSQL
database and one registry directory, as N machines behind a load balancer do.

Each instance has its own home (pools, metrics); what they share is what the
settings ``database_url`` and ``registry`` point at. Labels written on one are
read on the other, none lost when either is killed with SIGKILL mid-write; a
promotion or a rollback on one is served by both; of two simultaneous
retrain requests, one on each, exactly one starts a job. A database that
cannot be reached or a registry that cannot be written stops ``serve`` with
one line.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from helpers import (PROJECT_ROOT, auth, cli, free_port, read_only, server_env, server_process,
                     stored_label_ids, wait_for_job)

PROPAGATION_DEADLINE_SECONDS = 30  # only so a broken propagation cannot hang the suite


@pytest.fixture
def shared(tmp_path, postgres_url):
    """(environment of an instance, database URL, registry directory)."""
    registry = tmp_path / "shared-registry"
    env = {"HEADLINE_SIEVE_DATABASE_URL": postgres_url, "HEADLINE_SIEVE_REGISTRY": str(registry)}
    return env, postgres_url, registry


def _token(home, url: str, name: str = "editor") -> str:
    done = cli("token", "create", name, "--home", str(home), "--database-url", url, home=home)
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def two_instances(tmp_path, env):
    with server_process(tmp_path / "home-a", workers=1, env=env) as a, \
            server_process(tmp_path / "home-b", workers=1, env=env) as b:
        yield a, b


def _served_version(base: str) -> str:
    answer = requests.post(f"{base}/v1/score", json={"headlines": ["央行宣布降准"]}, timeout=30)
    return answer.json()["model"]


def _wait_until_both_serve(bases, version: str) -> float:
    """Seconds until every instance answers with ``version``."""
    started = time.monotonic()
    pending = set(bases)
    while pending:
        assert time.monotonic() - started < PROPAGATION_DEADLINE_SECONDS, pending
        pending = {base for base in pending if _served_version(base) != version}
    return time.monotonic() - started


def _add_version(registry_dir, bundled_model) -> str:
    from model.adaptation import adapt_to_labels
    from model.artifacts import new_version_id
    from service.stores.registry import Registry

    estimator = adapt_to_labels(bundled_model.classifier, ["国务院召开常务会议"], [1])
    version = new_version_id("adapted")
    Registry(registry_dir).add(estimator, {"version": version,
                                           "threshold": estimator.threshold_})
    return version


def test_two_instances_share_labels_the_active_model_and_one_job_at_a_time(
        tmp_path, shared, bundled_model, figures):
    env, url, registry_dir = shared
    with two_instances(tmp_path, env) as (a, b):
        for pid in a.worker_pids():  # installed for score-archive, never loaded by serve
            mapped = Path(f"/proc/{pid}/maps").read_text()
            assert "/pandas/" not in mapped and "/pyarrow/" not in mapped
        token = _token(a.home, url)
        sent = requests.post(f"{a.base}/v1/labels", headers=auth(token), timeout=30, json={
            "labels": [{"headline": "震惊！这位女星竟然做了这件事", "label": "clickbait"},
                       {"headline": "央行宣布降准0.5个百分点", "label": "substantive"}]})
        assert sent.status_code == 201, sent.text
        assert stored_label_ids(b.base, token) == set(sent.json()["ids"])

        # A promotion on one instance is served by both; so is a rollback on the other.
        bundled = _served_version(a.base)
        candidate = _add_version(registry_dir, bundled_model)
        activated = requests.post(f"{a.base}/v1/models/{candidate}/activate",
                                  headers=auth(token), timeout=60)
        assert activated.status_code == 200, activated.text
        promotion_seconds = _wait_until_both_serve([a.base, b.base], candidate)
        rolled_back = requests.post(f"{b.base}/v1/models/{bundled}/activate",
                                    headers=auth(token), timeout=60)
        assert rolled_back.status_code == 200, rolled_back.text
        rollback_seconds = _wait_until_both_serve([a.base, b.base], bundled)

        # Two retrain requests at once, one on each instance: one job.
        barrier = threading.Barrier(2)
        answers = {}

        def retrain(base: str) -> None:
            barrier.wait()
            answers[base] = requests.post(f"{base}/v1/retrain", headers=auth(token),
                                          json={"mode": "labels"}, timeout=60)

        threads = [threading.Thread(target=retrain, args=(base,)) for base in (a.base, b.base)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(answer.status_code for answer in answers.values())
        assert statuses == [202, 409], {k: v.text for k, v in answers.items()}
        started = next(v.json() for v in answers.values() if v.status_code == 202)
        refused = next(v.json() for v in answers.values() if v.status_code == 409)
        assert refused["error"]["code"] == "job_running"
        assert refused["error"]["job"] == started["job"]
        job = wait_for_job(b.base, started["job"])  # followed on either instance
        assert job == requests.get(f"{a.base}/v1/jobs/{started['job']}", timeout=10).json()
    figures(promotion_seen_by_both_seconds=round(promotion_seconds, 2),
            rollback_seen_by_both_seconds=round(rollback_seconds, 2),
            retrain_answers=statuses, job_state=job["state"])


def _keep_labelling(base: str, token: str, prefix: str, acknowledged: set[int],
                    stop: threading.Event) -> None:
    """One label per request until ``stop`` or the instance is gone; records the
    ids of every 201."""
    for n in range(100_000):
        if stop.is_set():
            return
        try:
            answer = requests.post(f"{base}/v1/labels", headers=auth(token), timeout=10, json={
                "labels": [{"headline": f"{prefix}第{n}条：地方两会今日开幕", "label": "substantive"}]})
        except requests.ConnectionError:
            return
        if answer.status_code == 201:
            acknowledged.update(answer.json()["ids"])


def test_no_acknowledged_label_is_lost_when_either_instance_is_killed_mid_write(
        tmp_path, shared, figures):
    from service.stores.database import open_database
    from service.stores.labels import LabelStore

    env, url, _ = shared
    with two_instances(tmp_path, env) as (a, b):
        token = _token(a.home, url)
        acknowledged = {"a": set(), "b": set()}
        stop = threading.Event()
        writers = [threading.Thread(target=_keep_labelling,
                                    args=(server.base, token, name, acknowledged[name], stop))
                   for name, server in (("a", a), ("b", b))]
        for writer in writers:
            writer.start()
        while len(acknowledged["a"]) < 30:
            time.sleep(0.05)
        a.kill_everything()  # mid-write: requests to it are in flight
        writers[0].join(timeout=30)
        lost_of_a = acknowledged["a"] - stored_label_ids(b.base, token)  # read on the other

        while len(acknowledged["b"]) < len(acknowledged["a"]) + 30:
            time.sleep(0.05)
        b.kill_everything()
        writers[1].join(timeout=30)
        stop.set()
    stored = {row["id"] for row in LabelStore(open_database(url, tmp_path)).iter_all()}
    assert lost_of_a == set()
    assert acknowledged["a"] | acknowledged["b"] <= stored
    figures(acknowledged_by_a=len(acknowledged["a"]), acknowledged_by_b=len(acknowledged["b"]),
            lost=len((acknowledged["a"] | acknowledged["b"]) - stored),
            rows_stored=len(stored))


def test_a_database_that_goes_away_answers_503_and_loses_nothing(tmp_path, service_helpers):
    from benchmarks.postgres import start_postgres
    from service.app import create_app
    from service.state import EXTENSION

    server = start_postgres()  # its own: this test stops it
    try:
        home = tmp_path / "home"
        app = create_app(service_helpers.settings(home, database_url=server.create_database("x")))
        client = app.test_client()
        token = app.extensions[EXTENSION].tokens.create("editor")

        def send(headline: str):
            return client.post("/v1/labels", headers=auth(token),
                               json={"labels": [{"headline": headline, "label": "clickbait"}]})

        before = send("震惊！这位女星竟然做了这件事")
        assert before.status_code == 201
        server.stop()
        refused = send("网友炸锅了！原来真相是这样")
        assert refused.status_code == 503
        assert refused.get_json()["error"]["code"] == "database_unavailable"
        assert refused.headers["Retry-After"]
        scored = client.post("/v1/score", json={"headlines": ["央行宣布降准"]})
        assert scored.status_code == 200  # scoring needs no database
        server.start()
        after = send("她终于承认了！粉丝看完沉默了")
        assert after.status_code == 201, after.get_json()
        listed = client.get("/v1/labels", headers=auth(token)).get_json()["labels"]
        assert [row["headline"] for row in listed] == ["震惊！这位女星竟然做了这件事",
                                                       "她终于承认了！粉丝看完沉默了"]
    finally:
        server.remove()


def _serve_exits_with_one_line(tmp_path, *flags: str) -> str:
    home = tmp_path / "home"
    done = subprocess.run([sys.executable, "-m", "cli.main", "serve", "--home", str(home),
                           "--port", str(free_port()), *flags], env=server_env(home),
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_serve_stops_with_one_line_when_the_database_cannot_be_reached(tmp_path):
    url = f"postgresql://sieve:pw-not-shown@127.0.0.1:{free_port()}/labels"
    line = _serve_exits_with_one_line(tmp_path, "--database-url", url)
    assert line.startswith("headline-sieve: error: cannot connect to the database "
                           "postgresql://sieve@127.0.0.1:"), line
    assert "pw-not-shown" not in line


def test_serve_stops_with_one_line_for_a_database_url_of_another_kind(tmp_path):
    line = _serve_exits_with_one_line(tmp_path, "--database-url", "mysql://root@db/labels")
    assert "sqlite:///PATH or postgresql://" in line, line


def test_serve_stops_with_one_line_when_the_registry_cannot_be_written(tmp_path):
    registry = tmp_path / "read-only-registry"
    registry.mkdir()
    with read_only(registry):
        line = _serve_exits_with_one_line(tmp_path, "--registry", str(registry))
    assert line.startswith(f"headline-sieve: error: the model registry {registry} cannot be "
                           "written"), line
    assert "--registry" in line
