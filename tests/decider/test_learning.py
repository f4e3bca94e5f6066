"""Learning regression tests: the decider from the plain start (what the default run does when the teacher audit does
not trust the teacher, as with the embedded one) must learn, well above proposer-greedy, on a small fixed task set;
and the default run, given a good teacher, must trust it, start at it (warm start on its labelled states, critic
warm-up) and be ahead early, while a poor teacher's F_P must not pass the audit.

The task set: level-2 travel + finance tasks (40 training, 20 held out; BM25 top-5 candidates, the env's defaults),
pi_LLM from a teacher of controlled quality (q = 0.8; q = 0.2 for the audit's poor teacher) through `distill rank`
and F_P, and the `DeciderConfig` defaults for `ITERATIONS` iterations on 2 env runners, for 3 seeds. Measured on
this machine when the threshold was set (docs/decider.md, "Learning regression test"): see `MEASURED`. The threshold
sits well below the measured mean so that it fails when learning breaks (the pre-fix decider never stopped: 8 calls
a task, success <= 0.5 and falling), not when a seed is unlucky.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

ITERATIONS = 16
SEEDS = (0, 1, 2)
THRESHOLD = 0.45  # seed-mean held-out success the default decider must reach
MARGIN = 0.15  # ... and by how much it must beat proposer-greedy (0.30 on these tasks)
MEASURED = (
    "trust='none' (the default until the referee): 0.50 / 0.60 / 0.60 (mean 0.57); unguided mean 0.58; "
    "proposer-greedy 0.30 (docs/decider.md); the referee default passes (figures: run with -rP)"
)

EARLY_ITERATIONS = 4  # 512 env steps: learning starts at 256, the actor is held for the first 64 updates (2 iterations)
POOR_QUALITY = 0.2  # a teacher the audit must not trust (kick-hold lost 0.06-0.09 with the embedded one: README)
UNGUIDED = {"lambda1": 0.0, "lambda2": 0.0, "sigma": math.log(2), "trust": "none"}
EARLY_THRESHOLD = 0.50  # seed-mean held-out success of the teacher-started decider after EARLY_ITERATIONS
EARLY_MARGIN = 0.05  # ... and by how much it must lead unguided RL after as many env steps
EARLY_MEASURED = (
    "after 512 env steps, 3 jobs sharing the 2 cores: teacher-start 0.60 / 0.55 / 0.55 (mean 0.567), unguided 0.45 / "
    "0.45 / 0.45 (the q = 0.8 teacher's F_P on 200 states is weaker than the benchmark's, and level 2 is easy)"
)


@pytest.fixture(scope="module")
def learning_setup(tmp_path_factory):
    import torch

    from raytool.decider.fp_checkpoint import observation_settings
    from raytool.decider.fp_train import PolicyTrainConfig, train_policy_reconstruction
    from raytool.distill.rank import RankConfig, rank_states, sample_states
    from raytool.envs.build import BuildConfig, build_tasks
    from raytool.teacher.synthetic import SyntheticTeacher

    torch.set_num_threads(1)
    root: Path = tmp_path_factory.mktemp("learning")
    for split, count, seed in (("train", 40, 20), ("test", 20, 21)):
        config = BuildConfig(("travel", "finance"), level=2, num_tasks=count, seed=seed, integration_walks=0)
        build_tasks(config, log=lambda _: None).save(root / split)
    env = {"feature_cache": str(root / "features")}
    rank = RankConfig(num_states=200, shard_size=50)
    states = sample_states(root / "train", rank, root / "features")
    from raytool.tools.dataset import ToolDataset

    train_env = env | {"tasks": str(root / "train")}
    tools = ToolDataset.load(root / "train").tools
    for quality, name in ((0.8, ""), (POOR_QUALITY, "-poor")):  # the good teacher's F_P, and a poor one's for the audit
        rank_dir = root / f"rank{name}"
        records = rank_states(states, tools, rank_dir, SyntheticTeacher(quality), rank, log=lambda _: None)
        train_policy_reconstruction(records, PolicyTrainConfig(), root / f"fp{name}", log=lambda _: None,
                                    env=observation_settings(train_env), sources=[rank_dir])  # fmt: skip
    return root, train_env, env | {"tasks": str(root / "test")}


@pytest.mark.slow
@pytest.mark.ray
def test_default_decider_learns_well_above_proposer_greedy(ray_local, learning_setup) -> None:
    from raytool.decider.train import DeciderRunConfig, decider_config
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation.decider import fit_threshold, module_policy, proposer_greedy_policy, rollout

    root, train_env, test_env = learning_setup
    held_out = ToolDeciderEnv(test_env)
    greedy = rollout(held_out, proposer_greedy_policy(fit_threshold(ToolDeciderEnv(train_env))))["success"]
    success, calls = [], []
    for seed in SEEDS:
        run = DeciderRunConfig(iterations=ITERATIONS, seed=seed, teacher_start="never")  # the plain RL start
        algo = decider_config(train_env, root / "fp", run).build_algo()
        try:
            for _ in range(ITERATIONS):
                algo.train()
            result = rollout(held_out, module_policy(algo.get_module()))
        finally:
            algo.stop()
        success.append(result["success"])
        calls.append(result["calls"])
    mean = float(np.mean(success))
    report = f"held-out success {success} (mean {mean:.3f}), calls {calls}, proposer-greedy {greedy:.3f}"
    print(report)  # shown with `pytest -rP`: the figures MEASURED quotes
    assert mean >= THRESHOLD, report
    assert mean >= greedy + MARGIN, report
    assert float(np.mean(calls)) < 6.0, report  # it learnt to stop (max_steps is 8)


@pytest.mark.slow
@pytest.mark.ray
def test_the_default_run_starts_at_a_good_teacher_only_and_is_ahead_early(ray_local, learning_setup) -> None:
    """The README's level-3 claim (kick-hold reaches unguided's final in 0.5x the env steps) in small, through the
    default run config: the teacher audit trusts the q = 0.8 teacher's F_P and not the q = 0.2 one's, and after 512
    env steps the decider it starts at the good teacher (`audit.TEACHER_START`) is ahead of unguided RL. Fails if the
    audit, the imitation, its states or F_P break (the actor then starts from scratch, as unguided does, and is held
    back two iterations besides). When the warm start runs and that the runners hold it is `test_algorithm.py`'s;
    the hold is `test_learner.py`'s."""
    from raytool.decider.audit import TEACHER_START, TeacherAudit
    from raytool.decider.train import DeciderRunConfig, decider_config, run_training
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation.decider import module_policy, rollout

    root, train_env, test_env = learning_setup
    good, poor = TeacherAudit.of_checkpoint(root / "fp"), TeacherAudit.of_checkpoint(root / "fp-poor")
    print(good.describe(), "|", poor.describe())  # shown with `pytest -rP`: the figures AUDIT_MEASURED quotes
    assert good.trusted and not poor.trusted, (good, poor)
    assert run_training(DeciderRunConfig(), root / "fp")[0] == TEACHER_START | {
        "llm_warm_start_states": str((root / "rank").resolve())
    }
    assert run_training(DeciderRunConfig(), root / "fp-poor")[0] == {}  # the poor teacher: the default start
    held_out = ToolDeciderEnv(test_env)
    variants = {"default": (root / "fp", {}), "unguided": (None, UNGUIDED)}
    success: dict[str, list[float]] = {name: [] for name in variants}
    for seed in SEEDS:
        for name, (fp, training) in variants.items():
            run = DeciderRunConfig(iterations=EARLY_ITERATIONS, seed=seed, training=training)
            algo = decider_config(train_env, fp, run).build_algo()
            try:
                for _ in range(EARLY_ITERATIONS):
                    algo.train()
                success[name].append(rollout(held_out, module_policy(algo.get_module()))["success"])
            finally:
                algo.stop()
    mean = {name: float(np.mean(values)) for name, values in success.items()}
    report = f"held-out success after {EARLY_ITERATIONS * 128} env steps: {success} (means {mean})"
    print(report)  # shown with `pytest -rP`: the figures EARLY_MEASURED quotes
    assert mean["default"] >= EARLY_THRESHOLD, report
    assert mean["default"] >= mean["unguided"] + EARLY_MARGIN, report
