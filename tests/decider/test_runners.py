"""The decider's env runners at scale: four runners on fractional CPUs all sample, and runners that ask for the
`rollout` custom resource run on the node that has it.

The placement check needs a 2-node `ray.cluster_utils.Cluster`, and a driver is connected to one Ray cluster at a
time: here that is the session's `ray_local`, whose actors other session fixtures keep (the vLLM teacher, ...), so
it cannot be shut down for a while. The check therefore runs `benchmarks/decider_scale.py --sections nodes` in a
child process, which starts (and removes) a cluster of its own and writes where each runner ran.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from raytool.decider.train import GUIDANCE_KEYS, RUNNER_KEYS, DeciderRunConfig, decider_config

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = 8  # env steps per runner per iteration
TINY_TRAINING = {"learning_starts": 4 * FRAGMENT, "updates_per_iteration": 2, "train_batch_size": 16}


@pytest.mark.slow
@pytest.mark.ray
def test_trains_with_four_env_runners_that_all_sample(ray_local, decider_setup) -> None:
    root, env_config = decider_setup
    # 4 x 0.25 CPUs: as much as test_algorithm's 2 x 0.5, so it fits beside a session actor holding 1 of the 2 CPUs
    run = DeciderRunConfig(num_env_runners=4, cpus_per_env_runner=0.25, rollout_fragment_length=FRAGMENT, hidden=16,
                           training=TINY_TRAINING)  # fmt: skip
    algo = decider_config(env_config, root / "fp", run).build_algo()
    try:
        results = [algo.train() for _ in range(2)]
        workers = algo.env_runner_group.foreach_env_runner(lambda runner: runner.worker_index, local_env_runner=False)
    finally:
        algo.stop()
    assert sorted(workers) == [1, 2, 3, 4]
    for result in results:  # each runner returns exactly its fragment: a runner that did not sample shows here
        assert result["env_runners"]["num_env_steps_sampled"] == 4 * FRAGMENT
    assert results[-1]["env_runners"]["num_env_steps_sampled_lifetime"] == 2 * 4 * FRAGMENT
    learner = results[-1]["learners"]["default_policy"]
    for key in (*GUIDANCE_KEYS, "critic_loss", "value_loss", "actor_loss"):
        assert math.isfinite(float(learner[key])), (key, learner[key])
    for key in RUNNER_KEYS:
        assert math.isfinite(float(results[-1]["env_runners"][key])), key


@pytest.mark.slow
@pytest.mark.ray
def test_env_runners_run_on_the_node_with_the_rollout_resource(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")} | {"RAYTOOL_CACHE": str(tmp_path)}
    command = [sys.executable, "benchmarks/decider_scale.py", "--sections", "nodes", "--iterations", "1",
               "--tasks", "8", "--fragment", str(FRAGMENT), "--updates", "2"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    nodes = json.loads((tmp_path / "bench" / "decider_scale" / "results.json").read_text())["nodes"]
    head, rollout = nodes["head_node"], nodes["rollout_node"]
    assert head != rollout
    assert "rollout" not in nodes["node_resources"][head]
    assert nodes["node_resources"][rollout]["rollout"] == 2
    assert nodes["runner_nodes"] == [rollout, rollout]
    assert nodes["env_steps_per_iteration"] == [2 * FRAGMENT]  # both remote runners sampled there
