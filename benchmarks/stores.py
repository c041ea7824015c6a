"""Label writes per second on the two databases (``database_url``): a SQLite file
in the benchmark's scratch folder and a PostgreSQL server started here
(benchmarks/postgres.py, loopback, ``fsync`` on as in production).

Each write is one :meth:`service.stores.labels.LabelStore.add` of one label,
as one ``POST /v1/labels`` with one label does: one transaction, committed
and durable before it returns. Measured with one writer and with four
concurrent writers (threads, each as a server worker would, with its own
connection), side by side in one run; medians of the repeats.
"""

from __future__ import annotations

import statistics
import threading
import time

from benchmarks.config import BenchConfig
from benchmarks.postgres import start_postgres

WRITERS = (1, 4)


def _write_rate(store, writers: int, per_writer: int, tag: str) -> float:
    """Labels per second of ``writers`` threads each adding ``per_writer`` labels."""
    from model.normalize import normalize
    from service.stores.labels import NewLabel

    barrier = threading.Barrier(writers + 1)

    def write(worker: int) -> None:
        barrier.wait()
        for n in range(per_writer):
            headline = f"{tag}-{worker}-{n}：地方两会今日开幕"
            store.add([NewLabel(headline, normalize(headline), "substantive", "bench")], "bench")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return writers * per_writer / (time.perf_counter() - started)


def _measure(db, per_writer: int, repeats: int) -> dict:
    from service.stores.labels import LabelStore

    store = LabelStore(db)
    figures = {}
    for writers in WRITERS:
        rates = [_write_rate(store, writers, per_writer, f"{writers}w{r}")
                 for r in range(repeats)]
        figures[f"writers_{writers}"] = {"labels_per_second": round(statistics.median(rates), 1),
                                         "runs": [round(rate, 1) for rate in rates]}
    return figures


def run(config: BenchConfig) -> dict:
    from service.stores.database import open_database

    per_writer, repeats = (40, 3) if config.quick else (400, 5)
    home = config.work_dir / "stores-bench"
    home.mkdir(parents=True, exist_ok=True)
    results = {"per_writer": per_writer, "repeats": repeats,
               "sqlite": _measure(open_database("", home), per_writer, repeats)}
    server = start_postgres()
    try:
        db = open_database(server.create_database("bench"), home)
        results["postgresql"] = _measure(db, per_writer, repeats)
        db.close()
    finally:
        server.remove()
    return results
