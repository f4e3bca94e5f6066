"""`train_decider`: progress, atomic checkpoints, history, resume after a stop, and the module reloaded to act."""

from __future__ import annotations

import json

import pytest

from raytool.decider.train import CHECKPOINT, HISTORY, SUMMARY, DeciderRunConfig, load_module, train_decider
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.evaluation.decider import module_policy, rollout

TRAINING = {"learning_starts": 32, "updates_per_iteration": 2, "train_batch_size": 32, "lambda1": 0.5, "lambda2": 0.1}


@pytest.mark.slow
@pytest.mark.ray
def test_train_then_resume_continues_the_history_and_the_module_acts(ray_local, decider_setup, tmp_path) -> None:
    root, env_config = decider_setup
    lines: list[str] = []
    run = DeciderRunConfig(iterations=2, checkpoint_every=1, rollout_fragment_length=16, hidden=16, training=TRAINING)
    first = train_decider(env_config, root / "fp", run, tmp_path / "run", log=lines.append)
    assert first["iterations"] == 2 and (tmp_path / "run" / CHECKPOINT).is_dir()
    assert any("iter 2/2" in line and "ETA" in line for line in lines)
    assert [json.loads(x)["iteration"] for x in (tmp_path / "run" / HISTORY).read_text().splitlines()] == [1, 2]

    more = DeciderRunConfig(iterations=3, checkpoint_every=1, rollout_fragment_length=16, hidden=16, training=TRAINING)
    lines.clear()
    second = train_decider(env_config, root / "fp", more, tmp_path / "run", resume=True, log=lines.append)
    assert lines[0].startswith("[decider] resumed") and "iteration 2" in lines[0]
    assert second["iterations"] == 3
    history = [json.loads(x) for x in (tmp_path / "run" / HISTORY).read_text().splitlines()]
    assert [r["iteration"] for r in history] == [1, 2, 3]
    assert history[2]["env_steps"] > history[1]["env_steps"]
    summary = json.loads((tmp_path / "run" / SUMMARY).read_text())
    assert summary["iterations"] == 3 and summary["training"] == TRAINING  # this F_P records no labelled states:
    assert "names no `distill rank` dirs" in summary["teacher_start"] and summary["teacher_start"] in lines[1]

    module = load_module(tmp_path / "run")
    result = rollout(ToolDeciderEnv(env_config), module_policy(module), task_indices=[0, 1])
    assert 0.0 <= result["success"] <= 1.0 and result["calls"] <= 4


def test_unknown_run_setting_is_an_error() -> None:
    with pytest.raises(ValueError, match="^<decider config>: decider: unknown key 'iteratons'"):
        DeciderRunConfig.from_dict({"iteratons": 3})
    with pytest.raises(ValueError, match="decider.teacher_start: expected str, got False"):
        DeciderRunConfig.from_dict({"teacher_start": False})  # YAML's bare `off`
    with pytest.raises(ValueError, match="teacher_start must be one of"):
        DeciderRunConfig.from_dict({"teacher_start": "off"})


def test_load_module_without_checkpoint_names_the_path(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no decider module"):
        load_module(tmp_path)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_steps": 6}, "env.max_steps"),
        ({"candidate_source": "embedding"}, "env.candidate_source"),
        ({"encoder": "minilm"}, "env.encoder"),
    ],
)
def test_fp_trained_under_other_env_settings_is_refused_at_build_time(decider_setup, change, field) -> None:
    """F_P's pi_LLM is read off the decider's observations: a different step limit, candidate source or encoder
    changes what they mean (the same length does not make them the same), so building the algorithm fails."""
    from raytool.decider.train import decider_config

    root, env_config = decider_setup
    config = decider_config(env_config | change, root / "fp", DeciderRunConfig(num_env_runners=0))
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        config.validate()
    decider_config(env_config, root / "fp", DeciderRunConfig(num_env_runners=0)).validate()  # same settings: fine


def test_fp_without_recorded_env_settings_is_refused(decider_setup, tmp_path) -> None:
    from raytool.decider.fp_checkpoint import load_policy_reconstruction, save_policy_reconstruction
    from raytool.decider.train import decider_config

    root, env_config = decider_setup
    model, _ = load_policy_reconstruction(root / "fp")
    save_policy_reconstruction(model, {}, tmp_path / "fp")
    with pytest.raises(ValueError, match="field 'env' is missing"):
        decider_config(env_config, tmp_path / "fp", DeciderRunConfig(num_env_runners=0)).validate()
