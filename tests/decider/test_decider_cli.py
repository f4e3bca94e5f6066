"""`raytool decider train` and `raytool eval decider` end to end on a tiny task set (in-process, real RLlib)."""

from __future__ import annotations

import json

import pytest

from raytool.cli import main


@pytest.mark.ray
def test_decider_train_then_eval_prints_the_table(ray_local, decider_setup, tmp_path, capsys) -> None:
    root, _ = decider_setup
    config = tmp_path / "d.yaml"
    config.write_text("decider:\n  iterations: 2\n  rollout_fragment_length: 16\n  hidden: 16\n")
    run_dir = str(tmp_path / "run")
    args = ["decider", "train", "--tasks", str(root / "tasks"), "--fp", str(root / "fp"), "--out", run_dir,
            "--config", str(config), "--set", "learning_starts=16", "updates_per_iteration=1", "train_batch_size=16",
            "--top-p", "4", "--max-steps", "4"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((tmp_path / "run" / "decider.json").read_text())
    assert summary["iterations"] == 2 and summary["run"]["training"]["learning_starts"] == 16
    assert main(["eval", "decider", "--run-dir", run_dir, "--tasks", str(root / "tasks"),
                 "--fp", str(root / "fp")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    for row in ("| decider", "teacher-only", "proposer-greedy", "oracle"):
        assert row in out


def test_decider_train_bad_set_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["decider", "train", "--tasks", str(tmp_path), "--out", str(tmp_path / "r"), "--set", "lambda1"]) == 2
    assert "--set: expects KEY=VALUE, got 'lambda1'" in capsys.readouterr().err
