"""``headline-sieve score-archive`` on a real Dask cluster (model/archive.py).

One ``distributed.LocalCluster`` of 2 worker processes (loopback, no
dashboard) serves the module; the CLI runs as a user runs it (``python -m
cli.main score-archive ... --scheduler ADDRESS``), plus one run that starts
its own local cluster. Inputs are built in tmp_path from the real headlines
of ../shared/datasets/policy_gold/dev.tsv, with null and blank headlines
mixed in, in small partitions so both workers score some; every output row
is compared with in-process scoring of the same headline.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PROJECT_ROOT, free_port

BLOCKSIZE = "8KiB"  # ~60 headlines of CSV per partition: 6+ partitions of dev.tsv
RUN_SECONDS = 120  # only so that a hang fails instead of blocking the suite
BLANKS = {5: None, 17: "   ", 40: "\u3000", 41: None}  # row -> a headline with no text
NUMERIC = 23  # a headline that looks like a number: CSV must keep it as text


def score_archive(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADLINE_SIEVE_")}
    return subprocess.run([sys.executable, "-m", "cli.main", "score-archive", *args],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env=env,
                          timeout=RUN_SECONDS)


def score_archive_in_process(capsys, *args: str) -> tuple[int, str, str]:
    """``cli.main.main(["score-archive", *args])`` in this process: (status,
    stdout, stderr). Where a new interpreter (2 s) would show nothing more:
    input refused before a cluster is reached, or what a run computes."""
    from cli.main import main

    capsys.readouterr()
    status = main(["score-archive", *args])
    out, err = capsys.readouterr()
    return status, out, err


def failed_in_process(capsys, *args: str) -> str:
    status, _, err = score_archive_in_process(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, err
    assert lines[0].startswith("headline-sieve: error: "), err
    return lines[0]


def succeeded(done: subprocess.CompletedProcess) -> dict:
    """The run's summary (last stdout line); the run was quiet on stderr."""
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no Dask log lines (and no progress bar off a terminal)
    return json.loads(done.stdout.strip().splitlines()[-1])


def failed(done: subprocess.CompletedProcess) -> str:
    """The one error line of a run that failed as bad input."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("headline-sieve: error: "), done.stderr
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary siblings a run left in OUTPUT's folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def scheduler() -> str:
    from distributed import LocalCluster

    from model.archive import LOOPBACK_HTTP

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR,
                           scheduler_kwargs=LOOPBACK_HTTP)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def headlines() -> list[str | None]:
    """dev.tsv's headlines in order, a few replaced by null/blank ones and one number."""
    from training.corpora import read_table
    from training.locations import data_dir

    texts: list[str | None] = [row.text for row in
                               read_table(data_dir() / "policy_gold" / "dev.tsv").rows]
    assert len(texts) > 500
    for row, value in BLANKS.items():
        texts[row] = value
    texts[NUMERIC] = "2024"
    return texts


@pytest.fixture(scope="module")
def expected(headlines, bundled_model) -> dict[int, float]:
    """In-process p_clickbait of every row that has text."""
    rows = [i for i, h in enumerate(headlines) if h is not None and h.strip()]
    assert len(rows) == len(headlines) - len(BLANKS)
    p = bundled_model.predict_proba([headlines[i] for i in rows])
    return dict(zip(rows, p.tolist()))


def write_csv(path: Path, headlines: list[str | None]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "headline", "source"])
        for i, text in enumerate(headlines):
            writer.writerow([i, "" if text is None else text, "dev.tsv"])
    return path


def write_jsonl(path: Path, headlines: list[str | None], column: str = "headline") -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i, text in enumerate(headlines):
            handle.write(json.dumps({"id": i, column: text}, ensure_ascii=False) + "\n")
    return path


def write_parquet(path: Path, headlines: list[str | None]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(len(headlines))), "headline": headlines})
    pq.write_table(table, path, row_group_size=100)  # 8 row groups: 8 partitions
    return path


def read_parquet_rows(path: Path) -> list[dict]:
    """OUTPUT read back as one table with pandas, nulls as None."""
    import pandas as pd

    frame = pd.read_parquet(path)
    assert list(frame.columns) == ["headline", "p_clickbait", "label", "model"]
    assert str(frame["p_clickbait"].dtype) == "float64"
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def read_jsonl_rows(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert "震后十年".encode() in raw  # UTF-8, not \\u-escaped
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def assert_scored_like_in_process(rows: list[dict], headlines, expected, model) -> None:
    """Row by row: the input's headline in input order, p to 1e-9, the label by
    the model's threshold, the version; null p and label for no text."""
    assert [r["headline"] for r in rows] == headlines
    for i, row in enumerate(rows):
        assert row["model"] == model.version, i
        if i in expected:
            assert row["p_clickbait"] == pytest.approx(expected[i], abs=1e-9), i
            want = "clickbait" if expected[i] >= model.threshold else "substantive"
            assert row["label"] == want, i
        else:
            assert row["p_clickbait"] is None and row["label"] is None, i
    assert {r["label"] for r in rows} == {"clickbait", "substantive", None}


def assert_shared(summary: dict, n_rows: int, min_partitions: int) -> None:
    assert summary["rows"] == n_rows and summary["null_or_blank"] == len(BLANKS)
    assert summary["partitions"] >= min_partitions
    assert len(summary["workers"]) == 2, summary  # both workers scored partitions
    assert sum(summary["workers"].values()) == summary["partitions"]


def test_csv_in_parquet_out_matches_in_process_scoring(scheduler, headlines, expected,
                                                       bundled_model, tmp_path):
    source = write_csv(tmp_path / "archive.csv", headlines)
    out = tmp_path / "out" / "scored.parquet"
    out.parent.mkdir()
    done = score_archive(str(source), str(out), "--scheduler", scheduler,
                         "--blocksize", BLOCKSIZE, "--progress")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    # --progress: a bar on stderr although it is a pipe, up to every partition; nothing else
    assert f"{summary['partitions']}/{summary['partitions']} " in done.stderr
    assert all("partitions" in line for line in done.stderr.replace("\r", "\n").splitlines()
               if line.strip()), done.stderr
    assert_shared(summary, len(headlines), min_partitions=4)
    assert summary["model"] == bundled_model.version
    assert out.is_dir() and len(list(out.glob("part.*.parquet"))) == summary["partitions"]
    assert_scored_like_in_process(read_parquet_rows(out), headlines, expected, bundled_model)
    assert leftovers(out.parent) == []


def test_jsonl_in_jsonl_out_in_input_order(scheduler, headlines, expected, bundled_model,
                                           tmp_path, capsys):
    source = write_jsonl(tmp_path / "archive.ndjson", headlines, column="title")
    out = tmp_path / "scored.jsonl"
    summary = succeeded(score_archive(str(source), str(out), "--scheduler", scheduler,
                                      "--column", "title", "--blocksize", BLOCKSIZE))
    assert_shared(summary, len(headlines), min_partitions=4)
    assert_scored_like_in_process(read_jsonl_rows(out), headlines, expected, bundled_model)
    assert leftovers(tmp_path) == []

    # An existing OUTPUT is refused and left as it was.
    before = out.read_bytes()
    line = failed_in_process(capsys, str(source), str(out), "--scheduler", scheduler,
                             "--column", "title")
    assert line.endswith("scored.jsonl exists; pass --overwrite to replace it")
    assert out.read_bytes() == before


def test_parquet_in_with_the_registry_active_model(scheduler, headlines, expected,
                                                   bundled_model, tmp_path, capsys):
    from service.stores.registry import Registry

    registry_dir = tmp_path / "registry"
    index = Registry(registry_dir).ensure_initialized()
    source = write_parquet(tmp_path / "archive.parquet", headlines)
    out = tmp_path / "scored.parquet"
    out.mkdir()  # an earlier run's dataset, replaced as a whole with --overwrite
    (out / "part.99999.parquet").write_bytes(b"stale")
    status, stdout, stderr = score_archive_in_process(
        capsys, str(source), str(out), "--scheduler", scheduler, "--registry",
        str(registry_dir), "--blocksize", "4KiB", "--overwrite")
    assert status == 0, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["model"] == index.active == bundled_model.version
    assert_shared(summary, len(headlines), min_partitions=8)
    assert not (out / "part.99999.parquet").exists()
    assert_scored_like_in_process(read_parquet_rows(out), headlines, expected, bundled_model)
    assert leftovers(tmp_path) == []


def test_without_scheduler_starts_and_stops_a_local_cluster(headlines, expected,
                                                            bundled_model, tmp_path):
    source = write_parquet(tmp_path / "archive.parquet", headlines)
    out = tmp_path / "scored.json"
    summary = succeeded(score_archive(str(source), str(out), "--workers", "2",
                                      "--blocksize", "4KiB"))
    assert_shared(summary, len(headlines), min_partitions=8)
    assert all(address.startswith("tcp://127.0.0.1:") for address in summary["workers"])
    assert_scored_like_in_process(read_jsonl_rows(out), headlines, expected, bundled_model)


def test_bad_input_is_one_line_and_writes_nothing(scheduler, headlines, tmp_path, capsys):
    source = write_csv(tmp_path / "archive.csv", headlines[:50])
    out = tmp_path / "scored.parquet"
    # Reaching for a cluster: a new interpreter, as a user runs it (no Dask log lines).
    port = free_port()  # nothing listens there
    line = failed(score_archive(str(source), str(out), "--scheduler", f"tcp://127.0.0.1:{port}",
                                "--connect-timeout", "1"))
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: " in line
    assert line.endswith("; check --scheduler")
    # Refused before any cluster is reached.
    cases = {
        "missing column": ([str(source), str(out), "--column", "title"],
                           "archive.csv has no column 'title' (columns: id, headline, "
                           "source); pick one with --column"),
        "missing file": ([str(tmp_path / "absent.csv"), str(out)], "absent.csv: no such file"),
        "unknown suffix": ([str(shutil.copy(source, tmp_path / "archive.txt")), str(out)],
                           "unknown input suffix '.txt'; use one of .csv, .jsonl"),
        "unknown output suffix": ([str(source), str(tmp_path / "scored.xlsx")],
                                  "unknown output suffix '.xlsx'"),
        "unreadable file": ([str(shutil.copy(source, tmp_path / "archive-csv.parquet")),
                             str(out)], "cannot be read as Parquet"),
    }
    for name, (args, message) in cases.items():
        assert message in failed_in_process(capsys, *args, "--scheduler", scheduler), name
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_partition_failing_on_a_worker_leaves_no_output(scheduler, headlines, tmp_path,
                                                          capsys):
    """A late partition cannot be decoded (the client's sample, the first 256 kB,
    can): the run stops with one line, and the part files the other
    partitions wrote are removed with their temporary directory."""
    source = write_csv(tmp_path / "archive.csv", headlines * 6)
    data = source.read_bytes()
    cut = data.index(b"\n", int(len(data) * 0.9)) + 1
    assert cut > 256_000
    source.write_bytes(data[:cut] + b'9999,"\xff\xfe broken",x\n' + data[cut:])
    out = tmp_path / "scored.parquet"
    line = failed_in_process(capsys, str(source), str(out), "--scheduler", scheduler,
                             "--blocksize", "32KiB")
    assert "archive.csv: UnicodeDecodeError: not valid utf-8 text" in line
    assert ": error: partition " in line
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_modified_model_is_refused_before_any_work(scheduler, headlines, tmp_path, capsys):
    from model.artifacts import MODEL_FILE
    from model.scoring import BUNDLED_MODEL_DIR

    model_dir = shutil.copytree(BUNDLED_MODEL_DIR, tmp_path / "model")
    data = bytearray((model_dir / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_dir / MODEL_FILE).write_bytes(bytes(data))
    source = write_csv(tmp_path / "archive.csv", headlines[:50])
    out = tmp_path / "scored.parquet"
    line = failed_in_process(capsys, str(source), str(out), "--scheduler", scheduler,
                             "--model", str(model_dir))
    assert "does not match the manifest" in line and "refusing to load" in line
    assert not out.exists() and leftovers(tmp_path) == []


def test_workers_recheck_the_bytes_and_keep_the_model_on_the_worker(scheduler):
    """The plugin itself, on the real workers: bytes that do not hash to the
    SHA-256 sent with them are refused there; verified ones are loaded once
    per worker, kept on the worker object, and dropped when unregistered."""
    from distributed import Client

    from model.archive import model_payload
    from model.archive_worker import WORKER_ATTRIBUTE, ModelPlugin
    from model.artifacts import ArtifactError

    payload = model_payload()
    with Client(scheduler, set_as_default=False) as client:
        with pytest.raises(ArtifactError, match="does not match the expected"):
            client.register_plugin(ModelPlugin("tampered", payload.data[:-1] + b"\0",
                                               payload.manifest, payload.sha256))

        def models(dask_worker) -> dict:
            return {name: model.version for name, model in
                    getattr(dask_worker, WORKER_ATTRIBUTE, {}).items()}

        assert all("tampered" not in m for m in client.run(models).values())
        client.unregister_worker_plugin("tampered")
        client.register_plugin(ModelPlugin("good", payload.data, payload.manifest,
                                           payload.sha256))
        loaded = client.run(models)
        assert len(loaded) == 2 and all(m == {"good": payload.version} for m in loaded.values())
        client.unregister_worker_plugin("good")
        assert all(m == {} for m in client.run(models).values())
