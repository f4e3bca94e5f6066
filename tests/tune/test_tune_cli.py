"""`raytool tune` refuses bad input before starting Ray: exit 2 and a message naming the file, field or folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.tune.conftest import write_sweep

ROOT = Path(__file__).resolve().parents[2]


def _tune(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAYTOOL_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "raytool.cli", "tune", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_missing_main_job_artifacts_name_the_field_and_the_fix(tmp_path: Path) -> None:
    done = _tune("--config", str(ROOT / "tune_configs" / "decider_guidance.yaml"), cache=tmp_path / "empty")
    assert done.returncode == 2
    assert "decider_guidance.yaml: data.tasks:" in done.stderr and "run `raytool train` first" in done.stderr


def test_bad_sweep_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("space: {lambda1: {grid: [0.0, 0.1]}}\nmetric: accuracy\n")
    done = _tune("--config", str(path), cache=tmp_path)
    assert done.returncode == 2 and f"{path}: metric: 'accuracy' is not reported" in done.stderr


def test_an_existing_sweep_needs_resume_or_fresh_and_resume_needs_a_sweep(tmp_path: Path, sweep_data: Path) -> None:
    path = write_sweep(tmp_path / "s.yaml", sweep_data, tmp_path / "store")
    resumed = _tune("--config", str(path), "--resume", cache=tmp_path)
    assert resumed.returncode == 2 and "no sweep to resume" in resumed.stderr
    (tmp_path / "store" / "s").mkdir(parents=True)
    again = _tune("--config", str(path), cache=tmp_path)
    assert again.returncode == 2 and "--resume continues that sweep, --fresh deletes it first" in again.stderr
    assert "Started a local Ray instance" not in again.stderr  # refused before Ray started
