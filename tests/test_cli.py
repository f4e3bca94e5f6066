"""Subprocess smoke runs of each `raytool` subcommand, through the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from raytool.pipeline import STAGES

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
    lone = _run("distill", "instructions", "--suite", "cpn", "--out", str(tmp_path / "i"), "--proposer", "p")
    assert lone.returncode == 2 and "give both" in lone.stderr  # refused before the teacher starts


@pytest.mark.ray
@pytest.mark.slow
def test_train_main_job_runs(tiny_main_job) -> None:
    """Every stage of the main job ran and wrote its artifact (the run itself: the `tiny_main_job` fixture; its
    second run, where each stage with an artifact skips, is `tests/test_cluster_job.py`'s cluster job)."""
    out, stdout = tiny_main_job.out, tiny_main_job.stdout
    assert "seal_tools_dev" in stdout and "toolbench_g1" in stdout and "finance_l2" in stdout
    assert (out / "datasets" / "metatool_single" / "tasks.jsonl").is_file()
    assert "stage 3/11" in stdout and "selection_parse_failure_rate" in stdout
    assert len(list((out / "synth" / "shards").glob("shard-*.jsonl"))) == 5
    assert "stage 4/11" in stdout and (out / "proposer" / "model.safetensors").is_file()
    assert "| proposer " in stdout and "| bm25 " in stdout
    # the argument filler and the complete-call table (Seal-Tools' official metrics)
    assert (out / "filler" / "filler.json").is_file()
    assert "| proposer+filler |" in stdout and "| oracle-tools (oracle) |" in stdout
    # the decider half: proposer candidates, teacher labels, F_P, RLlib decider, results table
    assert (out / "envs" / "decider_test" / "candidates.jsonl").is_file()
    assert (out / "rank" / "summary.json").is_file() and (out / "fp" / "fp.json").is_file()
    assert (out / "decider" / "decider.json").is_file()
    assert "top-1 agreement, held-out" in stdout
    rows = ("| decider (RL", "| teacher-only", "| proposer-greedy", "| oracle", "| decider, gold arguments (ORACLE)")
    for row in rows:
        assert row in stdout, row
    assert "held-out tasks (" in stdout and "predicted arguments" in stdout  # the filler's values, not the gold ones
    for stage in STAGES:  # what the stage list declares each stage writes is there
        for written in _expand(stage.writes):
            assert (out / written).exists() or "<" in written or "(" in written, (stage.name, written)
    # the agent half: multi-domain requests, the proxies' decider on their sub-tasks, proxy vs ReAct
    assert (out / "proxies" / "proposer" / "proposer.json").is_file()  # fine-tuned on the suites' sub-tasks
    assert (out / "agent" / "subtasks" / "candidates.jsonl").is_file()
    assert (out / "proxies" / "decider" / "decider.json").is_file()
    for method in ("proxy", "react"):
        assert (out / "agent_eval" / method / "metrics.json").is_file(), method
    assert "stage 11/11" in stdout and "| proxy" in stdout and "| react" in stdout


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


def _expand(pattern: str) -> list[str]:
    """`envs/decider_{train,test}/` -> both paths."""
    head, brace, rest = pattern.partition("{")
    if not brace:
        return [pattern]
    options, _, tail = rest.partition("}")
    return [path for option in options.split(",") for path in _expand(head + option + tail)]


@pytest.mark.ray
@pytest.mark.slow
def test_eval_calls_puts_the_proxies_beside_proposer_and_filler(tiny_main_job, shared_data: Path, tmp_path) -> None:
    """`raytool eval calls --method proposer+filler,proxies` on Seal-Tools requests with the main job's proposer,
    decider and filler: both rows, every proxies call one of the request's given candidates, complete calls."""
    import json

    from raytool.evaluation.calls import given_candidates

    run, out = tiny_main_job.out, tmp_path / "calls"
    test = shared_data / "seal_tools" / "test_in_domain.jsonl"
    done = _run("eval", "calls", "--data", str(test), "--format", "seal_tools", "--candidates", "given",
                "--method", "proposer+filler,proxies", "--limit", "8", "--proposer", str(run / "proposer"),
                "--filler", str(run / "filler"), "--decider", str(run / "decider"), "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["methods"]) == {"proposer+filler", "proxies"}
    assert summary["methods"]["proxies"]["latency_ms"]["p50"] > 0 and "| proxies |" in done.stdout
    given = given_candidates(test.parent / "for_finetune" / "test_in_domain.json")
    lines = [json.loads(line) for line in (out / "proxies" / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 8 and any(line["calls"] for line in lines)
    for line in lines:
        assert all(call["api"] in given[line["id"]] for call in line["calls"]), line
