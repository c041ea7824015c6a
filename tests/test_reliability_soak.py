"""A bounded soak of the real server on loopback: several client processes,
mixed scoring (single and batch) and labelling, one retrain with promotion.

Fixed request count (:data:`CLIENTS` x :data:`REQUESTS_PER_CLIENT`), a hard
deadline only against hangs. Figures: requests sent, non-2xx answers (0: no
answer here is meant to fail), p99 latency before, during and after the
promotion (reported, not asserted), resident memory of each worker at start
and end, with the bound :data:`RSS_GROWTH_BOUND_MB` asserted, and labels lost
(0). They go to ``soak-figures.json`` in the test's temporary directory, to
the terminal summary, and by hand into docs/reliability.md.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import time

import psutil
import requests

from helpers import auth, confident_labels, stored_label_ids

CLIENTS = 4
REQUESTS_PER_CLIENT = 4000
RETRAIN_AFTER = 0.25  # share of all requests sent before the retrain starts
BATCH = 50
DEADLINE_SECONDS = 600  # only against a hang; the soak takes one to two minutes
# A promotion makes each worker load a second model (about 90 MB while both are held);
# the old one is released after the swap (gc + malloc_trim): about 40 MB more, measured.
# The start figure is taken after warm-up; models build their lookup tables at load.
RSS_GROWTH_BOUND_MB = 100
LEAK_BOUND_MB = 50  # growth from the promotion to the end (two thirds of the requests)
SCHEDULE = ["single"] * 12 + ["batch"] * 5 + ["label"] * 3  # per 20 requests


def client(index: int, base: str, token: str, headlines: list[str], labels: list[dict],
           sent, results) -> None:
    """One client process: its share of the mixed requests, counted in the shared
    ``sent``; puts one record per request (start, end, kind, status, model version
    or label ids) on ``results``."""
    session = requests.Session()
    records = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    for i in range(REQUESTS_PER_CLIENT):
        if time.monotonic() > deadline:
            break
        kind = SCHEDULE[(i + index * 7) % len(SCHEDULE)]
        offset = (i * BATCH + index * 131) % (len(headlines) - BATCH)
        started = time.time()
        try:
            if kind == "single":
                response = session.post(f"{base}/v1/score", timeout=60,
                                        json={"headline": headlines[offset]})
            elif kind == "batch":
                response = session.post(f"{base}/v1/score", timeout=60,
                                        json={"headlines": headlines[offset:offset + BATCH]})
            else:
                chunk = [labels[(offset + j) % len(labels)] for j in range(3)]
                response = session.post(f"{base}/v1/labels", headers=auth(token), timeout=60,
                                        json={"labels": chunk})
            body = response.json()
            detail = body.get("model") if kind != "label" else body.get("ids")
            records.append((started, time.time(), kind, response.status_code, detail))
        except (requests.RequestException, ValueError) as exc:
            records.append((started, time.time(), kind, 0, repr(exc)))
        with sent.get_lock():
            sent.value += 1
    results.put(records)


def wait_until(condition, seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def p99_ms(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    return round(statistics.quantiles(values, n=100)[98] * 1000, 1)


def rss_mb(pids: list[int]) -> dict[str, int]:
    return {str(pid): psutil.Process(pid).memory_info().rss // 2 ** 20 for pid in pids}


def test_soak_mixed_load_with_a_promotion(tmp_path, service_helpers, bundled_model, policy_rows,
                                          unlabeled_headlines, figures):
    home = tmp_path / "home"
    token = service_helpers.create_token(home)
    train, holdout = service_helpers.pick_corrections(bundled_model, policy_rows, 20, 24)
    labels = confident_labels(bundled_model, unlabeled_headlines, source="soak")
    context = multiprocessing.get_context("fork")
    with service_helpers.server_process(home) as server:
        workers = server.worker_pids()
        for i in range(100):  # warm both workers (tokenizer, caches) before the figures
            requests.post(f"{server.base}/v1/score", timeout=30,
                          json={"headlines": unlabeled_headlines[i:i + 1 + i % 50]})
        rss_start = rss_mb(workers)
        started = time.time()
        sent, queue = context.Value("i", 0), context.Queue()
        clients = [context.Process(target=client, args=(i, server.base, token,
                                                        unlabeled_headlines, labels, sent,
                                                        queue)) for i in range(CLIENTS)]
        for process in clients:
            process.start()
        try:
            wait_until(lambda: sent.value >= RETRAIN_AFTER * CLIENTS * REQUESTS_PER_CLIENT)
            stored = requests.post(f"{server.base}/v1/labels", headers=auth(token), timeout=30,
                                   json=service_helpers.label_payload(train + holdout))
            assert stored.status_code == 201
            retrain_at = time.time()
            job_id = requests.post(f"{server.base}/v1/retrain", headers=auth(token),
                                   timeout=30).json()["job"]
            job = service_helpers.wait_for_job(server.base, job_id)
            promoted_at = time.time()
            rss_promoted = rss_mb(workers)
            results = [queue.get(timeout=DEADLINE_SECONDS + 60) for _ in clients]
        finally:
            for process in clients:
                process.join(timeout=60)
                if process.is_alive():
                    process.kill()
        finished = time.time()
        assert server.worker_pids() == workers  # no worker died or was recycled
        rss_end = rss_mb(workers)
        stored_ids = stored_label_ids(server.base, token)
        log = server.log_text()

    assert job["state"] == "succeeded" and job["decision"] == "promoted", job
    records = [record for chunk in results for record in chunk]
    failures = [r for r in records if not 200 <= r[3] < 300]
    acknowledged = {i for r in records if r[2] == "label" and r[3] == 201 for i in r[4]}
    acknowledged.update(stored.json()["ids"])
    new_model = job["version"]
    switch_done = max((r[0] for r in records if r[2] != "label" and r[4] != new_model),
                      default=promoted_at)  # the last request answered by the old model

    def latencies(start: float, end: float, kinds=("single", "batch")) -> list[float]:
        return [r[1] - r[0] for r in records if start <= r[0] < end and r[2] in kinds]

    phases = {"before": (started, retrain_at), "during": (retrain_at, max(promoted_at,
                                                                          switch_done)),
              "after": (max(promoted_at, switch_done), finished)}
    result = {
        "clients": CLIENTS, "requests_sent": len(records),
        "requests_planned": CLIENTS * REQUESTS_PER_CLIENT,
        "by_kind": {kind: sum(1 for r in records if r[2] == kind) for kind in set(SCHEDULE)},
        "non_2xx": len(failures), "seconds": round(finished - started, 1),
        "retrain_seconds": round(promoted_at - retrain_at, 1),
        "p99_ms": {phase: {"single": p99_ms(latencies(*span, kinds=("single",))),
                           "batch_of_50": p99_ms(latencies(*span, kinds=("batch",))),
                           "requests": len(latencies(*span))}
                   for phase, span in phases.items()},
        "models_seen": sorted({r[4] for r in records if r[2] != "label" and r[3] == 200}),
        "worker_rss_mb_start": rss_start, "worker_rss_mb_at_promotion": rss_promoted,
        "worker_rss_mb_end": rss_end,
        "rss_growth_bound_mb": RSS_GROWTH_BOUND_MB, "rss_leak_bound_mb": LEAK_BOUND_MB,
        "labels_acknowledged": len(acknowledged), "labels_lost": len(acknowledged - stored_ids),
    }
    (tmp_path / "soak-figures.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    figures(**result)

    assert not failures, failures[:5]
    assert len(records) == CLIENTS * REQUESTS_PER_CLIENT  # all sent before the deadline
    assert result["models_seen"] == sorted([bundled_model.version, new_model])
    assert result["labels_lost"] == 0
    for pid in map(str, workers):
        assert rss_end[pid] - rss_start[pid] < RSS_GROWTH_BOUND_MB, result
        assert rss_end[pid] - rss_promoted[pid] < LEAK_BOUND_MB, result
    assert "Traceback" not in log and "WORKER TIMEOUT" not in log
