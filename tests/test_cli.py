"""Subprocess smoke runs of each `raytool` subcommand, through the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY_TRAIN_CONFIG

RAYTOOL = shutil.which("raytool") or str(Path(sys.executable).parent / "raytool")


def _run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([RAYTOOL, *args], capture_output=True, text=True, timeout=timeout)


def test_data_import_then_stats(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "alpaca"
    src = str(shared_data / "toolalpaca" / "eval_simulated.json")
    done = _run("data", "import", "--format", "toolalpaca", "--src", src, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    stats = _run("data", "stats", str(out))
    assert stats.returncode == 0, stats.stderr
    row = next(line for line in stats.stdout.splitlines() if line.startswith("| alpaca"))
    assert [c.strip() for c in row.strip("|").split("|")][:4] == ["alpaca", "toolalpaca", "54", "100"]


def test_bad_arguments_exit_nonzero_with_message(tmp_path: Path) -> None:
    done = _run(
        "data",
        "import",
        "--format",
        "seal_tools",
        "--src",
        str(tmp_path / "missing.jsonl"),
        "--out",
        str(tmp_path / "o"),
    )
    assert done.returncode == 2
    assert "no such file" in done.stderr
    assert _run("data", "import", "--format", "nope", "--src", "x", "--out", "y").returncode == 2


@pytest.mark.ray
def test_train_main_job_runs(tmp_path: Path, shared_data: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(TINY_TRAIN_CONFIG)
    # the whole main job at tiny budgets: about 13 minutes on 2 cores when nothing else runs
    done = _run("train", "--data-dir", str(shared_data), "--out", str(tmp_path / "run"), "--config", str(config),
                timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "seal_tools_dev" in done.stdout and "toolbench_g1" in done.stdout and "finance_l2" in done.stdout
    assert (tmp_path / "run" / "datasets" / "metatool_single" / "tasks.jsonl").is_file()
    assert "stage 3/11" in done.stdout and "selection_parse_failure_rate" in done.stdout
    assert len(list((tmp_path / "run" / "synth" / "shards").glob("shard-*.jsonl"))) == 5
    assert "stage 4/11" in done.stdout and (tmp_path / "run" / "proposer" / "model.safetensors").is_file()
    assert "| proposer " in done.stdout and "| bm25 " in done.stdout
    # the argument filler and the complete-call table (Seal-Tools' official metrics)
    assert (tmp_path / "run" / "filler" / "filler.json").is_file()
    assert "| proposer+filler |" in done.stdout and "| oracle-tools (oracle) |" in done.stdout
    # the decider half: proposer candidates, teacher labels, F_P, RLlib decider, results table
    assert (tmp_path / "run" / "envs" / "decider_test" / "candidates.jsonl").is_file()
    assert (tmp_path / "run" / "rank" / "summary.json").is_file() and (tmp_path / "run" / "fp" / "fp.json").is_file()
    assert (tmp_path / "run" / "decider" / "decider.json").is_file()
    assert "top-1 agreement, held-out" in done.stdout
    rows = ("| decider (RL", "| teacher-only", "| proposer-greedy", "| oracle", "| decider, gold arguments (ORACLE)")
    for row in rows:
        assert row in done.stdout, row
    assert "held-out level-2 tasks, predicted arguments" in done.stdout  # the filler's values, not the gold ones
    # the agent half: multi-domain requests, the proxies' decider on their sub-tasks, proxy vs ReAct
    assert (tmp_path / "run" / "agent" / "subtasks" / "candidates.jsonl").is_file()
    assert (tmp_path / "run" / "proxies" / "decider" / "decider.json").is_file()
    for method in ("proxy", "react"):
        assert (tmp_path / "run" / "agent_eval" / method / "metrics.json").is_file(), method
    assert "stage 11/11" in done.stdout and "| proxy" in done.stdout and "| react" in done.stdout
    again = _run("train", "--data-dir", str(shared_data), "--out", str(tmp_path / "run"), "--config", str(config),
                 timeout=1800)  # fmt: skip
    assert again.returncode == 0, again.stderr
    for stage in ("stage 4/11: proposer checkpoint", "stage 4/11: filler checkpoint",
                  "stage 6/11: " + str(tmp_path / "run" / "rank") + " exists",
                  "stage 7/11: F_P", "stage 8/11: decider", "stage 10/11: proxy decider",
                  "stage 11/11: " + str(tmp_path / "run" / "agent_eval") + " exists"):  # fmt: skip
        assert stage in again.stdout, stage


def test_envs_list_and_build(tmp_path: Path) -> None:
    listed = _run("envs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "| cpn " in listed.stdout and "monitoring_billing" in listed.stdout
    out = tmp_path / "travel_l2"
    done = _run(
        "envs", "build", "--suite", "travel", "--level", "2", "--num-tasks", "12", "--seed", "4", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "12/12 reproduce their answer" in done.stdout
    assert "merged travel." in done.stdout
    assert len((out / "tasks.jsonl").read_text().splitlines()) == 12
    bad = _run("envs", "build", "--suite", "nope", "--num-tasks", "3", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "unknown suite 'nope'" in bad.stderr
