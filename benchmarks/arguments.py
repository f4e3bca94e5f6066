"""Execution success on the executable suites with the filler's argument values against the tasks' gold values.

    python benchmarks/arguments.py [--levels 2,4] [--tasks 30]

Per level: held-out verified tasks over all three suites (level 2: the main job's `envs/decider_test`; level 4, two
suites per task: built here with seed 21, as the main job's `envs/agent_test`), the main job's proposer candidates,
and two fixed policies run in `ToolDeciderEnv` twice, with `arguments="predicted"` (the main job's filler reads
every value from the request) and `arguments="gold"` (an ORACLE: the gold calls' values):

    oracle tools      the gold next tool whenever it is among the candidates: success then depends only on the
                      argument values, so the gap between the two columns is what the filler's errors cost
    proposer-greedy   the proposer's best candidate while its score clears a threshold fitted on the training tasks

Success is the verifiable reward's task success (the answer produced by executed calls). No teacher is needed.
Tasks and candidates are cached in $RAYTOOL_CACHE/bench/arguments/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from raytool.paths import cache_dir

RUN = cache_dir() / "run"
ROOT = cache_dir() / "bench" / "arguments"


def level_tasks(level: int, count: int) -> Path:
    """Held-out tasks of `level` with the main job's proposer candidates."""
    from raytool.decider.candidates import CANDIDATES_FILE, write_candidates
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    if level == 2 and (RUN / "envs" / "decider_test" / CANDIDATES_FILE).exists():
        return RUN / "envs" / "decider_test"
    path = ROOT / f"l{level}"
    if not (path / CANDIDATES_FILE).exists():
        build_verified(BuildConfig(tuple(SUITE_NAMES), level=level, num_tasks=count, seed=21)).save(path)
        write_candidates(ToolProposer.load(RUN / "proposer"), ToolDataset.load(path), path / CANDIDATES_FILE)
    return path


def main() -> None:
    import torch

    from raytool.decider.candidates import decider_env_config
    from raytool.envs.decider_env import ToolDeciderEnv, argument_settings
    from raytool.evaluation.decider import evaluate_policies, fit_threshold, oracle_policy, proposer_greedy_policy
    from raytool.tables import format_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="2,4")
    parser.add_argument("--tasks", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sources = {"predicted": argument_settings(RUN / "filler"), "gold": argument_settings()}
    train_env = ToolDeciderEnv(decider_env_config(RUN / "envs" / "decider_train") | argument_settings())
    threshold = fit_threshold(train_env)
    rows = []
    for level in (int(x) for x in args.levels.split(",")):
        tasks = level_tasks(level, args.tasks)
        results = {}
        for name, source in sources.items():
            env = ToolDeciderEnv(decider_env_config(tasks) | source)
            policies = {"oracle tools": oracle_policy, "proposer-greedy": proposer_greedy_policy(threshold)}
            results[name] = evaluate_policies(env, policies)
            count = len(env.tasks)
        for policy in ("oracle tools", "proposer-greedy"):
            pred, gold = results["predicted"][policy], results["gold"][policy]
            diff = pred["success"] - gold["success"]
            rows.append([f"level {level} ({count} tasks)", policy, f"{pred['success']:.3f}", f"{gold['success']:.3f}",
                         f"{diff:+.3f}", f"{pred['reward']:.3f}", f"{gold['reward']:.3f}"])  # fmt: skip
    headers = ["tasks", "policy", "success, predicted", "success, gold (ORACLE)", "difference", "reward, predicted",
               "reward, gold"]  # fmt: skip
    print(format_table(headers, rows))
    print(f"proposer-greedy threshold {threshold} (fitted on the main job's training tasks); filler {RUN / 'filler'}")


if __name__ == "__main__":
    main()
