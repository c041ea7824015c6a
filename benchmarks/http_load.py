"""HTTP load: wrk against ``headline-sieve serve`` with 2 workers, on loopback.

For each concurrency level: ``GET /healthz`` (the yardstick: gunicorn, a
Flask view, one registry read), ``POST /v1/score`` with one headline and with
100 headlines (both on the lean path of service/views/scoring.py). wrk runs
for a fixed time per measurement (bounded), with as
many connections as the concurrency and up to 2 threads; a Lua script sends
the POST bodies (cycling through different headlines) and prints the
figures as JSON. Worker memory (RSS) is read with psutil after the load.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

from benchmarks.config import BenchConfig
from benchmarks.server import Server
from benchmarks.throughput import unlabeled_headlines

log = logging.getLogger(__name__)

BATCH = 100
BODIES = 50  # distinct request bodies per endpoint, cycled by the Lua script

LUA = r"""
local bodies = {%(bodies)s}
local counter = 0
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  if #bodies == 0 then
    return wrk.format(nil, nil, nil, nil)
  end
  return wrk.format(nil, nil, nil, bodies[(counter %% #bodies) + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "connect_errors": %%d, "read_errors": %%d, ' ..
    '"write_errors": %%d, "status_errors": %%d, "timeouts": %%d, ' ..
    '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def _lua_string(text: str) -> str:
    """``text`` as a Lua long string (raw UTF-8 bytes; LuaJIT has no \\u escapes)."""
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def _script(path: Path, method: str, bodies: list[str]) -> Path:
    path.write_text(LUA % {"method": method,
                           "bodies": ", ".join(_lua_string(b) for b in bodies)},
                    encoding="utf-8")
    return path


def _endpoints(config: BenchConfig) -> dict[str, tuple[str, str, list[str]]]:
    headlines = unlabeled_headlines(config, BODIES * BATCH)
    single = [json.dumps({"headline": h}, ensure_ascii=False) for h in headlines[:BODIES]]
    batches = [json.dumps({"headlines": headlines[i:i + BATCH]}, ensure_ascii=False)
               for i in range(0, BODIES * BATCH, BATCH)]
    return {"healthz": ("GET", "/healthz", []),
            "score_1": ("POST", "/v1/score", single),
            "score_100": ("POST", "/v1/score", batches)}


def wrk(url: str, script: Path, connections: int, seconds: int) -> dict:
    """One wrk run; figures in requests/s and milliseconds."""
    threads = min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    figures = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    ok = figures["requests"] - figures["status_errors"]
    return {"connections": connections, "threads": threads, "seconds": seconds,
            "requests": figures["requests"],
            "rps": round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
            "errors": {k: figures[k] for k in ("connect_errors", "read_errors",
                                               "write_errors", "status_errors", "timeouts")},
            "ok_responses": ok,
            **{k.replace("_us", "_ms"): round(figures[k] / 1000, 2)
               for k in ("p50_us", "p95_us", "p99_us", "max_us", "mean_us")}}


def _warm_up(server: Server, scripts: dict[str, tuple[str, Path]], seconds: int) -> None:
    """Every worker loads the model and compiles its lookup tables (~0.3 s on its
    first scoring request) before timing: a short wrk run per endpoint with 4
    connections, so both sync workers take requests."""
    for path, script in scripts.values():
        wrk(server.url + path, script, 4, seconds)


def run(config: BenchConfig) -> dict:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk; make bench does it)")
    sizes = config.sizes
    endpoints = _endpoints(config)
    results: dict = {"workers": 2, "runs": {}}
    scripts = {name: (path, _script(config.work_dir / f"wrk-{name}.lua", method, bodies))
               for name, (method, path, bodies) in endpoints.items()}
    with Server(config.work_dir / "http-home", workers=2) as server:
        _warm_up(server, scripts, min(sizes.http_seconds, 2))
        results["rss_mb_before"] = server.worker_rss_mb()
        for c in sizes.http_concurrency:  # the endpoints in turn: ratios share the noise
            for name, (path, script) in scripts.items():
                results["runs"].setdefault(name, []).append(
                    wrk(server.url + path, script, c, sizes.http_seconds))
            log.info("c=%d: %s", c, {n: r[-1]["rps"] for n, r in results["runs"].items()})
        results["rss_mb_after"] = server.worker_rss_mb()
    results["score_1_vs_healthz"] = [
        round(s["rps"] / h["rps"], 3) for s, h in zip(results["runs"]["score_1"],
                                                      results["runs"]["healthz"])]
    return results
