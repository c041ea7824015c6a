"""The real server: ``headline-sieve serve`` (gunicorn, 2 workers) on a free loopback
port, spoken to over HTTP. Score, label, retrain, promotion, rollback, restart with
state kept, and scoring that never fails or mixes versions during a promotion."""

from __future__ import annotations

import threading
import time

import opencc
import pytest
import requests

from helpers import auth, wait_for_job


def score(base: str, headlines: list[str]) -> dict:
    response = requests.post(f"{base}/v1/score", json={"headlines": headlines}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def corrections(bundled_model, policy_rows, service_helpers):
    return service_helpers.pick_corrections(bundled_model, policy_rows, 20, 24)


def test_score_label_retrain_promote_rollback_restart(home, service_helpers, corrections,
                                                      bundled_model, policy_rows):
    train, holdout = corrections
    to_traditional = opencc.OpenCC("s2t")
    labelled = [h for h, _ in train]
    variants = [h + "（图）" for h in labelled] + [to_traditional.convert(h) for h in labelled]
    expected = ["clickbait" if y else "substantive" for _, y in train]
    sent = {h for h, _ in train + holdout}
    others = [h for h, _ in policy_rows if h not in sent][:300]  # labelled, known to the model

    created = service_helpers.cli("token", "create", "editor", "--home", str(home), home=home)
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("hs_") and "editor" in created.stdout

    with service_helpers.running_server(home) as base:
        health = requests.get(f"{base}/healthz", timeout=10).json()
        assert health["model"] == bundled_model.version
        before = score(base, labelled + variants + others)
        assert before["model"] == bundled_model.version
        assert [r["label"] for r in before["results"][:20]] != expected  # the model is wrong

        stored = requests.post(f"{base}/v1/labels", headers=auth(token), timeout=30,
                               json=service_helpers.label_payload(train + holdout))
        assert stored.status_code == 201 and stored.json()["stored"] == len(train) + len(holdout)
        assert requests.post(f"{base}/v1/labels", json={"labels": []},
                             timeout=10).status_code == 401

        started = requests.post(f"{base}/v1/retrain", headers=auth(token), timeout=30)
        assert started.status_code == 202
        job = wait_for_job(base, started.json()["job"])
        assert job["state"] == "succeeded" and job["decision"] == "promoted", job
        new_version = job["version"]

        after = score(base, labelled + variants + others)
        assert after["model"] == new_version
        labels_after = [r["label"] for r in after["results"]]
        assert labels_after[:20] == expected  # the labelled headlines flipped
        assert labels_after[20:40] == expected  # ... with a suffix
        assert labels_after[40:60] == expected  # ... in traditional script
        unchanged = sum(a["label"] == b["label"] for a, b in
                        zip(after["results"][60:], before["results"][60:]))
        # The labels teach the model (some other headlines move with them), but
        # it keeps what it knew: the change is weighed against the Fisher
        # information of its training headlines.
        assert unchanged >= 0.95 * len(others)

        models = requests.get(f"{base}/v1/models", timeout=10).json()
        assert models["active"] == new_version
        metrics = requests.get(f"{base}/metrics", timeout=10).text
        assert 'headline_sieve_retrain_jobs_total{outcome="promoted"} 1.0' in metrics
        assert f'headline_sieve_active_model_info{{version="{new_version}"}} 1.0' in metrics
        assert f"headline_sieve_labels_stored {len(train) + len(holdout)}.0" in metrics

        rolled = requests.post(f"{base}/v1/models/{bundled_model.version}/activate",
                               headers=auth(token), timeout=30)
        assert rolled.status_code == 200 and rolled.json()["previous"] == new_version
        for _ in range(4):  # both workers serve the old model again
            back = score(base, labelled)
            assert back["model"] == bundled_model.version
            assert [r["label"] for r in back["results"]] == [
                r["label"] for r in before["results"][:20]]

    with service_helpers.running_server(home) as base:  # restart: state kept
        assert requests.get(f"{base}/healthz", timeout=10).json()["model"] == \
            bundled_model.version
        statuses = {m["version"]: m["status"] for m in
                    requests.get(f"{base}/v1/models", timeout=10).json()["models"]}
        assert statuses == {bundled_model.version: "active", new_version: "retired"}
        page = requests.get(f"{base}/v1/labels?limit=1000", headers=auth(token), timeout=10)
        assert len(page.json()["labels"]) == len(train) + len(holdout)  # the token still works, the labels are there
        assert requests.get(f"{base}/v1/jobs/{job['job']}", timeout=10).json()["decision"] == \
            "promoted"
        forward = requests.post(f"{base}/v1/models/{new_version}/activate",
                                headers=auth(token), timeout=30)
        assert forward.status_code == 200
        assert score(base, labelled)["model"] == new_version


def test_scoring_during_a_promotion_never_fails_nor_mixes_versions(
        home, service_helpers, corrections, bundled_model, unlabeled_headlines):
    train, holdout = corrections
    token = service_helpers.cli("token", "create", "editor", "--home", str(home),
                                home=home).stdout.strip().splitlines()[-1]
    batch = unlabeled_headlines[:50] + [h for h, _ in train]
    records: list[tuple[float, int, str | None, set]] = []  # start, status, model, result models
    promoted_at: list[float] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = session.post(f"{base}/v1/score", json={"headlines": batch}, timeout=60)
                body = response.json()
                record = (started, response.status_code, body.get("model"),
                          {r["model"] for r in body.get("results", [])})
            except (requests.RequestException, ValueError) as exc:
                record = (started, 0, repr(exc), set())
            with lock:
                records.append(record)

    with service_helpers.running_server(home) as base:
        requests.post(f"{base}/v1/labels", headers=auth(token), timeout=30,
                      json=service_helpers.label_payload(train + holdout))
        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            job_id = requests.post(f"{base}/v1/retrain", headers=auth(token),
                                   timeout=30).json()["job"]
            job = wait_for_job(base, job_id)
            promoted_at.append(time.monotonic())
            assert job["decision"] == "promoted", job
            while True:  # keep scoring until every thread has run requests after the switch
                with lock:
                    after = [r for r in records if r[0] > promoted_at[0]]
                if len(after) >= 12:
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    failures = [r for r in records if r[1] != 200]
    assert not failures, failures[:3]
    for _, _, model, result_models in records:
        assert result_models == {model}  # one version per response
        assert model in (bundled_model.version, job["version"])
    assert any(r[2] == bundled_model.version for r in records)
    assert all(r[2] == job["version"] for r in records if r[0] > promoted_at[0])


def test_over_http_a_too_large_body_is_413_and_errors_are_json(home, service_helpers):
    with service_helpers.running_server(home, workers=1) as base:
        big = b'{"headlines": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
        response = requests.post(f"{base}/v1/score", data=big, timeout=30,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"
        bad = requests.post(f"{base}/v1/score", data=b"\xff{", timeout=10)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_utf8"
        assert requests.get(f"{base}/nowhere", timeout=10).json()["error"]["code"] == "not_found"
        doc = requests.get(f"{base}/openapi.json", timeout=10).json()
        assert "/v1/score" in doc["paths"]


def test_token_commands(home, capsys):
    from cli.main import main

    assert main(["token", "create", "desk", "--home", str(home)]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["token", "list", "--home", str(home)]) == 0
    listed = capsys.readouterr().out
    assert '"name": "desk"' in listed and token not in listed
    assert main(["token", "create", "desk", "--home", str(home)]) == 2
    assert "revoke it first" in capsys.readouterr().err
    assert main(["token", "revoke", "desk", "--home", str(home)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["token", "list", "--home", str(home)]) == 0
    assert "desk" not in capsys.readouterr().out
    assert main(["token", "revoke", "desk", "--home", str(home)]) == 2
    assert "no token named" in capsys.readouterr().err
