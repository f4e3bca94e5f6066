"""Real Ray Tune sweeps over the real RLlib decider on a tiny task set: a 6-trial grid with its report, a trial
whose process is killed and retried from its checkpoint, and an interrupted sweep resumed with `--resume`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from raytool.tune.space import load_sweep
from raytool.tune.sweep import run_sweep
from tests.tune.conftest import TINY_DECIDER, write_sweep

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def _results(trial_dir: Path) -> list[dict]:
    """The trial's reported results (a line still being written is left out)."""
    path = trial_dir / "result.json"
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def _trial_dirs(exp: Path) -> list[Path]:
    return sorted(p for p in exp.glob("decider_trial_*") if p.is_dir())


def test_six_trial_sweep_reports_a_table_heatmap_and_a_best_config_train_accepts(ray_local, sweep_data, tmp_path):
    from raytool.decider.train import DeciderRunConfig
    from raytool.pipeline import DeciderStages, load_train_config

    sweep = load_sweep(write_sweep(tmp_path / "grid.yaml", sweep_data, tmp_path / "store"))
    lines: list[str] = []
    summary = run_sweep(sweep, log=lines.append)
    exp, report = tmp_path / "store" / "grid", tmp_path / "store" / "grid" / "report"
    rows = summary["trials"]
    assert len(rows) == 6 and {r["status"] for r in rows} == {"TERMINATED"}
    assert {(r["config"]["lambda1"], r["config"]["lambda2"]) for r in rows} == {
        (a, b) for a in (0.0, 0.1, 0.5) for b in (0.0, 0.05)
    }
    assert all(0.0 <= r["success"] <= 1.0 and r["iterations"] in (2, 4) for r in rows)
    table = next(line for line in lines if line.startswith("| trial"))
    assert "lambda1" in table and "success" in table and table.count("\n") == 7  # header, rule, 6 trials
    assert (report / "heatmap.png").stat().st_size > 1000 and (report / "summary.md").read_text().count("|") > 60
    # logs: Tune's CSV and TensorBoard files per trial
    for trial_dir in _trial_dirs(exp):
        assert (trial_dir / "progress.csv").read_text().count("\n") >= 3, trial_dir
        assert list(trial_dir.glob("events.out.tfevents*")), trial_dir
    # the best config is a `decider:` section that `raytool train --config` and `decider train` accept
    best = summary["best"]
    assert best["iterations"] == 4 and best["success"] == max(r["success"] for r in rows if r["iterations"] == 4)
    settings = load_train_config(report / "best.yaml")
    DeciderStages.from_sections(settings)
    run = DeciderRunConfig.from_dict(settings["decider"])
    assert run.training["lambda1"] == best["config"]["lambda1"] and run.training["lambda2"] == best["config"]["lambda2"]
    assert run.training["sigma"] == 0.3 and run.iterations == 4 and run.hidden == 16
    # a second start refuses to overwrite; --resume of a finished sweep only reports it again
    with pytest.raises(FileExistsError, match="--resume continues that sweep"):
        run_sweep(sweep)
    sizes = {p.name: len(_results(p)) for p in _trial_dirs(exp)}
    again = run_sweep(sweep, resume=True, log=lambda _: None)
    assert again["best"]["trial"] == best["trial"] and {p.name: len(_results(p)) for p in _trial_dirs(exp)} == sizes


def test_a_killed_trial_is_retried_from_its_checkpoint(ray_local, sweep_data, tmp_path):
    decider = {**TINY_DECIDER, "iterations": 6}
    path = write_sweep(
        tmp_path / "retry.yaml", sweep_data, tmp_path / "store", decider=decider,
        space={"lambda1": {"grid": [0.1]}, "lambda2": 0.05}, scheduler={"type": "fifo"}, failure={"max_failures": 2},
    )  # fmt: skip
    sweep = load_sweep(path)
    exp = tmp_path / "store" / "retry"
    killed: list[int] = []  # the pid of the trial process killed

    def kill_after_first_checkpoint() -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            for trial_dir in _trial_dirs(exp):
                rows = _results(trial_dir)
                if list(trial_dir.glob("checkpoint_*")) and rows and 2 <= rows[-1]["training_iteration"] < 6:
                    killed.append(rows[-1]["pid"])
                    os.kill(rows[-1]["pid"], signal.SIGKILL)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_after_first_checkpoint, daemon=True)
    killer.start()
    summary = run_sweep(sweep, log=lambda _: None)
    killer.join()
    assert killed, "the trial process was never killed"
    (row,) = summary["trials"]
    assert row["status"] == "TERMINATED" and row["iterations"] == 6
    rows = _results(_trial_dirs(exp)[0])
    pid = killed[0]
    assert pid in [r["pid"] for r in rows] and len({r["pid"] for r in rows}) == 2, "a second process took over"
    after = [r["training_iteration"] for r in rows if r["pid"] != pid]
    # The killed process may report one more iteration between the killer's read and the signal, so what it reached
    # is read from the results afterwards: the retry resumed from a checkpoint (every 2 iterations) the killed
    # process had reported, not from scratch.
    reached = max(r["training_iteration"] for r in rows if r["pid"] == pid)
    assert after == list(range(after[0], 7)) and after[0] in (3, 5) and after[0] <= reached + 1, (after, reached)


def test_an_interrupted_sweep_resumes_and_finishes(sweep_data, tmp_path):
    path = write_sweep(tmp_path / "stop.yaml", sweep_data, tmp_path / "store", search={"algorithm": "grid",
                       "max_concurrent": 1}, space={"lambda1": {"grid": [0.0, 0.1, 0.5]}, "lambda2": 0.0})  # fmt: skip
    exp = tmp_path / "store" / "stop"
    command = [sys.executable, "-m", "raytool.cli", "tune", "--config", str(path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    finished: dict[str, int] = {}
    while time.monotonic() < deadline and process.poll() is None:
        finished = {p.name: len(_results(p)) for p in _trial_dirs(exp) if any(r.get("done") for r in _results(p))}
        if finished:
            break
        time.sleep(0.2)
    assert finished, "no trial finished within 300 s"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 130, err[-3000:]
    assert "interrupted" in err and "--resume" in err, err[-2000:]
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ") and "TERMINATED" in line]
    assert len(table) == 3, done.stdout[-3000:]
    for name, count in finished.items():  # finished before the interruption: not run again
        assert len(_results(exp / name)) == count, name
    summary = json.loads((exp / "report" / "results.json").read_text())
    assert len(summary["trials"]) == 3 and summary["best"]["iterations"] == 4
