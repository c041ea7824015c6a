"""The command line as a user runs it: the installed ``headline-sieve``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from training.locations import data_dir

CLI = shutil.which("headline-sieve", path=str(Path(sys.executable).parent)) or "headline-sieve"


def run(*args: str, stdin: str | bytes | None = None, env: dict | None = None):
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([CLI, *args], input=data, capture_output=True, timeout=300,
                          env={**os.environ, **(env or {})})


def json_lines(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode().splitlines()]


def assert_one_line_error(proc, fragment: str):
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("headline-sieve: error:"), err
    assert fragment in err and "Traceback" not in err


def test_score_arguments_stdin_and_file(tmp_path):
    proc = run("score", "央行宣布降准", "女星红毯造型惊艳全场")
    assert proc.returncode == 0
    results = json_lines(proc.stdout)
    assert [r["label"] for r in results] == ["substantive", "clickbait"]
    assert set(results[0]) == {"headline", "label", "p_clickbait", "model"}

    piped = json_lines(run("score", stdin="央行宣布降准\n\n女星红毯造型惊艳全场\n").stdout)
    assert [r["headline"] for r in piped] == ["央行宣布降准", "女星红毯造型惊艳全场"]

    lines = [json.loads(l)["sentence"] for l in
             (data_dir() / "unlabeled/tnews_unlabeled.json").read_text("utf-8").splitlines()]
    path = tmp_path / "many.txt"
    path.write_text("\n".join(lines[:4500]) + "\n", encoding="utf-8")
    streamed = json_lines(run("score", "--file", str(path), "--progress").stdout)
    assert len(streamed) == 4500 and streamed[-1]["headline"] == lines[4499].strip()


def test_explain_and_threshold():
    proc = run("explain", "女星红毯造型惊艳全场", "--top", "3")
    result = json.loads(proc.stdout)
    assert result["label"] == "clickbait" and len(result["explanation"]) == 3
    low = json_lines(run("score", "--threshold", "0", "央行宣布降准").stdout)[0]
    assert low["label"] == "clickbait"


@pytest.mark.parametrize("args,stdin,fragment", [
    (("score",), "", "no headlines"),
    (("score", "--file", "/nonexistent/list.txt"), None, "no such file"),
    (("score", "--model", "/nonexistent/model", "x"), None, "not a model directory"),
    (("explain", "  "), None, "empty"),
    (("eval", "/nonexistent.csv"), None, "no such file"),
    (("train", "--recipe", "nope"), None, "no recipe 'nope'"),
])
def test_errors_are_one_line(args, stdin, fragment):
    assert_one_line_error(run(*args, stdin=stdin), fragment)


def test_invalid_utf8_on_stdin_is_one_line():
    assert_one_line_error(run("score", stdin=b"ok\n\xff\xfe\n"), "UTF-8")


def test_eval_on_a_user_file_counts_malformed_rows(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("headline,label\n央行宣布降准,substantive\n女星红毯造型惊艳全场,clickbait\n"
                    "国务院常务会议部署稳就业,0\n明星离婚内幕曝光,1\n坏行,?\n", encoding="utf-8")
    proc = run("eval", str(path))
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["n"] == 4 and metrics["malformed_rows"] == 1
    assert metrics["roc_auc"] == 1.0


def test_train_on_a_small_recipe_then_score_with_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(data_dir() / "hancd/sina.csv", data / "sina.csv")
    (data / "tiny.csv").write_text("headline,label\n" + "\n".join(
        f"明星八卦第{i}期,clickbait\n国务院会议第{i}次,substantive" for i in range(30)) + "\n",
        encoding="utf-8")
    recipe = tmp_path / "small.toml"
    recipe.write_text('name = "small"\n[[sources]]\ncorpus = "hancd"\npath = "sina.csv"\n'
                      'clickbait = ["1"]\n[[sources]]\ncorpus = "table"\npath = "tiny.csv"\n'
                      'clickbait = ["clickbait"]\n', encoding="utf-8")
    out = tmp_path / "model"
    proc = run("train", "--recipe", str(recipe), "--data-dir", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert summary["version"] == manifest["version"] and manifest["recipe"]["name"] == "small"
    scored = json_lines(run("score", "--model", str(out), "明星八卦第99期").stdout)
    assert scored[0]["model"] == manifest["version"] and scored[0]["label"] == "clickbait"


def test_data_dir_from_environment(tmp_path):
    proc = run("eval", "--recipe", "default", env={"HEADLINE_SIEVE_DATA": str(tmp_path)})
    assert_one_line_error(proc, str(tmp_path))
