"""The label, token and job stores on both databases: a SQLite file and a real
PostgreSQL server (``database`` runs each test on both; see conftest.py).

What several instances rely on is tested with concurrent writers: label ids
are handed out in commit order (a reader paging with ``since`` skips
nothing), a resent ``client_id`` is stored once, and of simultaneous retrain
requests exactly one creates a job.
"""

from __future__ import annotations

import threading
import time

import pytest

from model.normalize import normalize
from service.stores.database import DatabaseError, DatabaseUnreachable, open_database
from service.stores.jobs import JobRunning, JobStore
from service.stores.labels import LabelStore, NewLabel
from service.stores.tokens import TokenError, TokenStore

HEADLINES = ["国务院召开常务会议 部署经济工作", "震惊！这位女星竟然做了这件事", "央行宣布降准0.5个百分点",
             "國務院召開常務會議 部署經濟工作"]


def new_label(headline: str, label: str = "clickbait", client_id: str | None = None) -> NewLabel:
    return NewLabel(headline, normalize(headline), label, "test", client_id)


def test_labels_keep_history_and_the_newest_label_of_a_headline_is_current(database):
    store = LabelStore(database)
    first = store.add([new_label(HEADLINES[0], "clickbait"), new_label(HEADLINES[1])], "editor")
    again = store.add([new_label(HEADLINES[3], "substantive")], "chief")  # traditional script
    assert first[0] < first[1] < again[0]
    assert store.counts() == (3, 2)
    current = {row["headline"]: row["label"] for row in store.current()}
    assert current == {HEADLINES[1]: "clickbait", HEADLINES[3]: "substantive"}
    history = store.page(since=0, limit=10)
    assert [row["id"] for row in history] == first + again
    assert [row["token"] for row in history] == ["editor", "editor", "chief"]
    assert store.page(since=first[1], limit=10)[0]["id"] == again[0]
    assert [row["id"] for row in store.iter_all(chunk=1)] == first + again
    assert [row["id"] for row in store.iter_all(current_only=True, chunk=1)] == [first[1],
                                                                                 again[0]]


def test_a_resent_client_id_is_stored_once_even_when_sent_concurrently(database):
    store = LabelStore(database)
    barrier = threading.Barrier(6)
    answers: list[list[int]] = []

    def send() -> None:
        barrier.wait()
        answers.append(store.add([new_label(HEADLINES[0], client_id="page-1-label-1"),
                                  new_label(HEADLINES[2], client_id="page-1-label-2")], None))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6 and all(answer == answers[0] for answer in answers)
    assert store.counts() == (2, 2)


def test_concurrent_writers_lose_nothing_and_a_paging_reader_skips_nothing(database):
    """Four writers and one reader that pages with ``since`` = the last id it saw,
    as an exporter or another instance does: it must see every row once."""
    store = LabelStore(database)
    written: list[int] = []
    done = threading.Event()
    seen: list[int] = []

    def write(worker: int) -> None:
        for batch in range(25):
            ids = store.add([new_label(f"第{worker}组第{batch}条新闻标题第{k}号", "substantive")
                             for k in range(1 + batch % 3)], f"writer-{worker}")
            written.extend(ids)

    def read() -> None:
        since = 0
        while True:
            finished = done.is_set()
            for row in store.page(since=since, limit=7):
                seen.append(row["id"])
                since = row["id"]
            if finished and not store.page(since=since, limit=1):
                return

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join(timeout=120)
    assert len(written) == len(set(written)) == 4 * sum(1 + b % 3 for b in range(25))
    assert seen == sorted(written)  # each row once, in id order, none skipped


def test_tokens_are_created_once_verified_and_revoked(database):
    store = TokenStore(database)
    token = store.create("editor-desk")
    assert store.verify(token) == "editor-desk"
    assert store.verify(token + "x") is None and store.verify(None) is None
    with pytest.raises(TokenError, match="exists"):
        store.create("editor-desk")
    with pytest.raises(TokenError, match="invalid token name"):
        store.create("-bad name")
    assert [entry["name"] for entry in store.list()] == ["editor-desk"]
    store.revoke("editor-desk")
    assert store.verify(token) is None
    with pytest.raises(TokenError, match="no token named"):
        store.revoke("editor-desk")


def test_tokens_of_a_legacy_tokens_file_are_copied_into_the_database(database, tmp_path):
    from service.stores.database import SQLiteDatabase

    home = tmp_path / "legacy-home"
    home.mkdir()
    token = TokenStore(SQLiteDatabase(home / "tokens.sqlite3")).create("old-editor")
    store = TokenStore(database, home)
    assert store.verify(token) == "old-editor"
    assert not (home / "tokens.sqlite3").exists()
    assert (home / "tokens.sqlite3.imported").is_file()
    assert TokenStore(database, home).verify(token) == "old-editor"  # imported once


def test_of_simultaneous_retrain_requests_exactly_one_creates_a_job(database):
    jobs = JobStore(database)
    barrier = threading.Barrier(8)
    created, refused = [], []

    def request() -> None:
        store = JobStore(database, prepare=False)  # as another worker or instance would
        barrier.wait()
        try:
            created.append(store.create("labels", "editor"))
        except JobRunning as exc:
            refused.append(exc.job_id)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1 and refused == created * 7
    assert jobs.get(created[0])["state"] == "queued"


def _age_heartbeat(database, job_id: str, seconds: float) -> None:
    with database.transaction("jobs") as connection:
        connection.execute("UPDATE jobs SET heartbeat = ? WHERE id = ?",
                           (time.time() - seconds, job_id))


def test_a_job_of_another_host_is_reaped_only_by_its_heartbeat_timeout(database):
    jobs = JobStore(database, stale_seconds=60)
    job_id = jobs.create("labels", None)
    # Running on another machine: its pid means nothing here.
    jobs.update(job_id, state="running", pid=999_999_999, host="trainer-7")
    _age_heartbeat(database, job_id, 30)
    with pytest.raises(JobRunning) as refused:
        jobs.create("labels", None)
    assert refused.value.job_id == job_id

    _age_heartbeat(database, job_id, 90)
    second = jobs.create("labels", None)  # the dead job was reaped first
    job = jobs.get(job_id)
    assert job["state"] == "failed" and "trainer-7" in job["error"]
    assert "heartbeat" in job["error"]
    assert jobs.get(second)["state"] == "queued"


def test_a_job_whose_process_died_on_this_host_is_reaped_at_once(database):
    from service.stores.jobs import this_host

    jobs = JobStore(database)
    job_id = jobs.create("labels", None)
    jobs.update(job_id, state="running", pid=999_999_999, host=this_host())
    assert jobs.reap() == 1
    assert "ended without reporting" in jobs.get(job_id)["error"]


def test_finished_jobs_are_counted_by_outcome(database):
    jobs = JobStore(database)
    for decision in ("promoted", "rejected", "promoted", None):
        job_id = jobs.create("labels", None)
        if decision is None:
            jobs.fail(job_id, "no labels")
        else:
            jobs.succeed(job_id, {"decision": decision, "version": "v"})
    assert jobs.outcome_counts() == {"promoted": 2, "rejected": 1, "failed": 1}


def test_tables_of_an_older_release_are_migrated_keeping_their_rows(database):
    with database.transaction("schema") as connection:
        connection.execute(database.ddl(
            "CREATE TABLE labels (id {serial}, normalized TEXT NOT NULL, headline TEXT NOT NULL, "
            "label TEXT NOT NULL, source TEXT, token TEXT, created TEXT NOT NULL)"))
        connection.execute("INSERT INTO labels (normalized, headline, label, created) "
                           "VALUES (?, ?, 'clickbait', '2026-01-01T00:00:00+00:00')",
                           (normalize(HEADLINES[1]), HEADLINES[1]))
        connection.execute(database.ddl(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, mode TEXT NOT NULL, "
            "token TEXT, pid INTEGER, created TEXT NOT NULL, started TEXT, finished TEXT, "
            "heartbeat {real} NOT NULL, stage TEXT NOT NULL DEFAULT '', "
            "progress {real} NOT NULL DEFAULT 0, result TEXT NOT NULL DEFAULT '{{}}')"))
    labels, jobs = LabelStore(database), JobStore(database)
    with database.connect() as connection:
        assert "client_id" in database.columns(connection, "labels")
        assert "host" in database.columns(connection, "jobs")
    assert [row["headline"] for row in labels.current()] == [HEADLINES[1]]
    labels.add([new_label(HEADLINES[2], client_id="c-1")], None)
    assert labels.add([new_label(HEADLINES[2], client_id="c-1")], None) == [2]
    assert jobs.get(jobs.create("labels", None))["state"] == "queued"


def test_a_migration_that_fails_stops_with_one_line_naming_the_database(database):
    with database.transaction("schema") as connection:
        connection.execute("CREATE VIEW labels AS SELECT 1 AS id")
    with pytest.raises(DatabaseError) as failure:
        LabelStore(database)
    message = str(failure.value)
    assert "\n" not in message and "cannot prepare the labels tables" in message
    assert "check database_url" in message


def test_an_unreachable_postgresql_server_is_one_line_without_the_password(tmp_path):
    from helpers import free_port

    url = f"postgresql://sieve:s3cret-pw@127.0.0.1:{free_port()}/labels"
    with pytest.raises(DatabaseUnreachable) as failure:
        LabelStore(open_database(url, tmp_path))
    message = str(failure.value)
    assert message.startswith(f"cannot connect to the database postgresql://sieve@127.0.0.1:")
    assert "s3cret-pw" not in message and "\n" not in message


def test_a_url_of_another_kind_of_database_is_refused_when_settings_load(tmp_path):
    from service.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="sqlite:///PATH or postgresql://"):
        load_settings({"home": tmp_path, "database_url": "mysql://root@localhost/x"},
                      environ={})
