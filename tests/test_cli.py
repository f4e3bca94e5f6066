"""Subprocess smoke runs of each `raytool` subcommand, through the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

RAYTOOL = shutil.which("raytool") or str(Path(sys.executable).parent / "raytool")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RAYTOOL, *args], capture_output=True, text=True, timeout=300)


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


def test_train_main_job_runs(tmp_path: Path, shared_data: Path) -> None:
    done = _run("train", "--data-dir", str(shared_data), "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "seal_tools_dev" in done.stdout and "toolbench_g1" in done.stdout
    assert (tmp_path / "run" / "datasets" / "metatool_single" / "tasks.jsonl").is_file()
