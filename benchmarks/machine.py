"""The machine a run measured: CPU, cores, memory, versions, date, load."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from model.artifacts import library_versions
from training.locations import PROJECT_ROOT

LIBRARIES = ("numpy", "scipy", "scikit-learn", "rjieba", "jieba", "opencc", "flask",
             "gunicorn", "fasttext-community", "matplotlib", "psutil")


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return float("nan")


def _command_output(*command: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10,
                                cwd=PROJECT_ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (
        result.stdout or result.stderr) else "unavailable"


def describe() -> dict:
    """The machine and software of this run; ``load_average`` is taken now (1, 5, 15 min)."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "versions": library_versions(LIBRARIES),
        "wrk": _command_output("wrk", "--version"),
        "commit": _command_output("git", "rev-parse", "--short", "HEAD"),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
