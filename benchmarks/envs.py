"""Environment benchmark: random and gold-oracle policies on every suite and level, and on Seal-Tools
multi-call tasks; env steps/s in one process and through RLlib env runners.

    python benchmarks/envs.py [--tasks 40] [--episodes 200] [--top-p 5] [--rllib-steps 4000]

The oracle picks the next unmatched gold tool when it is among the top-p candidates (else STOP), so its
success is bounded by the candidate source's recall; the random policy picks uniformly among the allowed
actions (STOP included). Steps/s are medians of 3 repeats; a step is one decision (one tool call or STOP).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ENV_NAME, ToolDeciderEnv, register_decider_env
from raytool.envs.levels import LEVELS
from raytool.envs.suites import SUITE_NAMES
from raytool.paths import shared_data_dir
from raytool.tables import format_table
from raytool.tools.importers import import_dataset


def run_policy(env: ToolDeciderEnv, policy: str, episodes: int, seed: int = 0) -> tuple[float, float, float]:
    """(mean episode reward, success rate, env steps/s) of `policy` over `episodes` episodes."""
    rng = np.random.default_rng(seed)
    rewards, successes, steps = [], [], 0
    start = time.perf_counter()
    for episode in range(episodes):
        obs, _ = env.reset(options={"task_index": episode % len(env.tasks)})
        done = truncated = False
        while not (done or truncated):
            if policy == "oracle":
                action = env.oracle_action()
            else:
                action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
            obs, _, done, truncated, info = env.step(action)
            steps += 1
        rewards.append(info["episode_reward"])
        successes.append(info["success"])
    return float(np.mean(rewards)), float(np.mean(successes)), steps / (time.perf_counter() - start)


def measure(name: str, path: Path, args: argparse.Namespace, cache: Path, executor: str = "inline") -> list:
    config = {"tasks": str(path), "max_steps": 8, "executor": executor, "feature_cache": str(cache)}
    env = ToolDeciderEnv(config | {"top_p": args.top_p})
    rand_r, rand_s, _ = run_policy(env, "random", args.episodes)
    orac_r, orac_s, _ = run_policy(env, "oracle", args.episodes)
    speed = statistics.median(run_policy(env, "random", args.episodes, seed=s)[2] for s in range(3))
    env.close()
    wide = ToolDeciderEnv(config | {"top_p": 64})  # nearly the whole pool offered: the binder and tasks alone
    wide_s = run_policy(wide, "oracle", args.episodes)[1]
    wide.close()
    return [name, len(env.tasks), rand_r, rand_s, orac_r, orac_s, wide_s, speed]


def rllib_throughput(path: Path, cache: Path, steps: int, top_p: int) -> float:
    """Env steps/s sampled by 2 RLlib env runners (PPO action-masking module), median of 3 rounds."""
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_decider_env()
    env_config = {"tasks": str(path), "top_p": top_p, "max_steps": 8, "feature_cache": str(cache)}
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=ActionMaskingTorchRLModule))
    )
    algo = config.build_algo()
    rates = []
    try:
        for _ in range(3):
            start = time.perf_counter()
            algo.env_runner_group.foreach_env_runner(
                lambda runner: runner.sample(num_timesteps=steps // 2), local_env_runner=False
            )
            rates.append(steps / (time.perf_counter() - start))
    finally:
        algo.stop()
        ray.shutdown()
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--top-p", type=int, default=5)
    parser.add_argument("--rllib-steps", type=int, default=4000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp), Path(tmp) / "features"
        for suite in SUITE_NAMES:
            for level in sorted(LEVELS):
                data = build_tasks(BuildConfig((suite,), level, args.tasks, seed=0), log=lambda _: None)
                data.save(root / f"{suite}-{level}")
                rows.append(measure(f"{suite} L{level}", root / f"{suite}-{level}", args, cache))
                print(f"[bench] {rows[-1][0]} done", flush=True)
        seal = import_dataset("seal_tools", shared_data_dir() / "seal_tools" / "dev.jsonl")
        seal.tasks = [t for t in seal.tasks if len(t.calls) > 1]
        seal.save(root / "seal")
        rows.append(measure("seal_tools dev multi-call (no execution)", root / "seal", args, cache, executor="none"))
        headers = ["tasks", "n", "random reward", "random success", "oracle reward", "oracle success",
                   "oracle success top-64", "steps/s"]  # fmt: skip
        print(format_table(headers, rows))
        print(f"\ntop-p = {args.top_p} BM25 candidates; {args.episodes} episodes per policy; inline executor")
        rate = rllib_throughput(root / "cpn-2", cache, args.rllib_steps, args.top_p)
        speeds = [
            ["one process, cpn L2, random policy", rows[1][-1]],
            ["2 RLlib env runners, cpn L2, PPO module", rate],
        ]
        print(format_table(["setting", "env steps/s"], speeds))


if __name__ == "__main__":
    main()
