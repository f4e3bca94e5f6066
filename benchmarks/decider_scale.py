"""Decider scale and cost: env-runner scaling, the RLlib learner update against the same maths in plain torch, and
env runners placed on another node through the `rollout` custom resource.

    python benchmarks/decider_scale.py [--sections runners,learner,nodes] [--runners 1,2,4,8] [--iterations 3]
                                       [--repeats 40] [--batch-sizes 32,128,512] [--tasks 24] [--fragment 64]
                                       [--updates 32]

Task set (built in a temp dir, removed at the end): level-2 `cpn` tasks (`build_tasks`, no integration walks), a
`ToolDeciderEnv` config with top_p 5, max_steps 8, BM25 candidates and hashing-256 features (the main job's
settings), the feature cache built once in the driver, and an F_P of `PolicyTrainConfig`'s default shape (width 64,
4 heads, 2 layers) with random weights: the learner pays for a real F_P forward pass. Networks are 64 wide (the
default); the algorithm is built with `raytool.decider.train.decider_config` as `raytool train` builds it.

runners   num_env_runners in --runners on a local Ray cluster of 2 CPUs, each runner asking for
          min(0.5, 1.6 / n) CPUs (0.5, 0.5, 0.4, 0.2 for 1, 2, 4, 8: all fit on 2 cores; the learner runs in the
          driver, outside Ray's accounting). Each runner samples --fragment steps per iteration; learning starts
          in the warm-up iteration (learning_starts = n x fragment); --updates updates of 128 per iteration.
          After one warm-up iteration, --iterations `algo.train()` calls are timed; medians over them. `Decider`'s
          `training_step` logs none of RLlib's phase timers (env_runner_sampling_timer, learner_update_timer), so
          the phases are timed by wrapping the algorithm's `learner_group.update`, `replay.add` / `replay.sample`
          and `env_runner_group.sync_weights` (instance attributes; nothing in raytool changed); sampling =
          iteration wall time - learning - replay - weight sync. `runner sample() s (EMA)` is RLlib's own
          timer inside each runner (`env_runners/sample`): an EMA with coefficient 0.01 that still carries the
          slower warm-up iteration, so it can read above `sample s`; shown because it is RLlib's, not as the rate.
learner   one `DeciderTorchLearner.update(episodes=..., timesteps=...)` on a fixed batch of B hand-built one-step
          episodes (what the replay buffer hands it) against the same update in plain torch: copies of the
          module's pi, q, v, v_target and F_P, the functions of raytool/decider/losses.py wired as learner.py wires
          them, Adam (q + v), Adam (pi), SGD (nu), one backward, three steps, the projection of nu and the Polyak
          sync. Both start from the same weights; `max weight diff` compares their parameters after one update
          (the plain update is the same computation). `RLlib, tensor batch` feeds the learner the batch its
          connector made once (`update(batch=...)`): its gap to `RLlib update` is the learner connector.
          `tau-b metric` is the Kendall tau-b that learner.py logs on every update (numpy; part of the RLlib
          time, not of the plain one, which computes the losses only). Timed alternately (RLlib, RLlib on a
          batch, plain, ...) so background load hits all alike; medians after 5 warm-up updates; 1 torch thread.
nodes     a `ray.cluster_utils.Cluster` with a head node (1 CPU, no `rollout`) and a second node (1 CPU,
          `rollout: 2`); the algorithm, unchanged, with 2 runners asking for {"rollout": 0.5}
          (`DeciderRunConfig.runner_resources`), trains --iterations iterations; each runner reports the node it
          runs on. Exits with an error when a runner is not on the rollout node.

Results: printed tables and `$RAYTOOL_CACHE/bench/decider_scale/results.json` (with the load average at the start:
on a shared 2-core machine the timings include whatever else ran).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch
from ray.cluster_utils import Cluster
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from raytool.decider.fp_checkpoint import observation_settings, save_policy_reconstruction
from raytool.decider.fp_model import PolicyReconstruction
from raytool.decider.learner import LN2, TAU_SAMPLE
from raytool.decider.losses import (
    MASKED_LOGIT,
    actor_loss,
    bellman_target,
    critic_loss,
    kendall_tau_b,
    masked_log_softmax,
    multiplier_loss,
    q_filter,
)
from raytool.decider.train import DeciderRunConfig, decider_config
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.paths import cache_dir
from raytool.tables import format_table

OUT = cache_dir() / "bench" / "decider_scale"
SECTIONS = ("runners", "learner", "nodes")
TOP_P, MAX_STEPS, HIDDEN = 5, 8, 64
WARMUP = 5  # untimed learner updates before timing
RUNNER_COLUMNS = {  # table header: results key
    "runners": "runners",
    "CPUs/runner": "cpus_per_runner",
    "env steps/iter": "env_steps",
    "iter s": "wall_s",
    "sample s": "sample_s",
    "runner sample() s (EMA)": "runner_sample_s",
    "env steps/s": "env_steps_per_s",
    "updates/iter": "updates",
    "learn s": "learn_s",
    "updates/s": "updates_per_s",
    "replay s": "replay_s",
    "sync s": "sync_s",
    "build s": "build_s",
}
LEARNER_COLUMNS = {
    "batch": "batch_size",
    "RLlib update ms": "rllib_ms",
    "RLlib, tensor batch ms": "rllib_batch_ms",
    "plain torch ms": "plain_ms",
    "ratio": "ratio",
    "tau-b metric ms": "tau_b_ms",
    "max weight diff after 1 update": "max_weight_gap",
}


# -- task set ----------------------------------------------------------------------------------------------------
def build_task_set(root: Path, num_tasks: int, seed: int = 3) -> tuple[dict[str, Any], Path]:
    """(env config, F_P checkpoint dir) of a level-2 cpn task set under `root` (features cached in the driver)."""
    data = build_tasks(
        BuildConfig(("cpn",), level=2, num_tasks=num_tasks, seed=seed, integration_walks=0), log=lambda _: None
    )
    data.save(root / "tasks")
    env_config = {
        "tasks": str(root / "tasks"),
        "top_p": TOP_P,
        "max_steps": MAX_STEPS,
        "feature_cache": str(root / "features"),
    }
    env = ToolDeciderEnv(env_config)  # builds the feature cache once; the runners only load it
    torch.manual_seed(seed)
    model = PolicyReconstruction(env.features.dim, TOP_P)  # PolicyTrainConfig's default shape, random weights
    save_policy_reconstruction(model, {"env": observation_settings(env_config)}, root / "fp")
    env.close()
    return env_config, root / "fp"


def run_config(num_runners: int, args: argparse.Namespace, **extra: Any):
    """The `DeciderRunConfig` of a benchmark run with `num_runners` runners of min(0.5, 1.6 / n) CPUs."""
    return DeciderRunConfig(
        num_env_runners=num_runners,
        cpus_per_env_runner=round(min(0.5, 1.6 / num_runners), 3),
        rollout_fragment_length=args.fragment,
        hidden=HIDDEN,
        training={"learning_starts": num_runners * args.fragment, "updates_per_iteration": args.updates},
        **extra,
    )


# -- runner scaling ----------------------------------------------------------------------------------------------
class PhaseClock:
    """Seconds the algorithm spends in learner updates, replay (add, sample) and weight syncs: wrapped methods."""

    def __init__(self, algo) -> None:
        self.seconds = {"learn": 0.0, "replay": 0.0, "sync": 0.0}
        self.updates = 0
        algo.learner_group.update = self._timed(algo.learner_group.update, "learn")
        algo.replay.add = self._timed(algo.replay.add, "replay")
        algo.replay.sample = self._timed(algo.replay.sample, "replay")
        algo.env_runner_group.sync_weights = self._timed(algo.env_runner_group.sync_weights, "sync")

    def _timed(self, method, phase: str):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
                self.updates += phase == "learn"

        return timed

    def reset(self) -> None:
        self.seconds = dict.fromkeys(self.seconds, 0.0)
        self.updates = 0


def time_iterations(algo, iterations: int) -> list[dict[str, float]]:
    """One warm-up `algo.train()`, then per timed iteration: wall, sample, learn, replay, sync s, steps, updates."""
    clock = PhaseClock(algo)
    algo.train()
    rows = []
    for _ in range(iterations):
        clock.reset()
        start = time.perf_counter()
        result = algo.train()
        wall = time.perf_counter() - start
        runners = result["env_runners"]
        rows.append(
            {
                "wall_s": wall,
                "learn_s": clock.seconds["learn"],
                "replay_s": clock.seconds["replay"],
                "sync_s": clock.seconds["sync"],
                "sample_s": wall - sum(clock.seconds.values()),
                "env_steps": int(runners["num_env_steps_sampled"]),
                "updates": clock.updates,
                "runner_sample_s": float(runners.get("sample", float("nan"))),
                "js_to_llm": float(result["learners"]["default_policy"]["decider/js_to_llm"]),
            }
        )
    return rows


def runner_scaling(env_config: dict[str, Any], fp_path: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Median phase times and rates per number of env runners (module docstring)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    rows = []
    try:
        for n in args.runners:
            run = run_config(n, args)
            start = time.perf_counter()
            algo = decider_config(env_config, fp_path, run).build_algo()
            build_s = time.perf_counter() - start
            try:
                timed = time_iterations(algo, args.iterations)
            finally:
                algo.stop()
            med = {key: statistics.median(row[key] for row in timed) for key in timed[0]}
            rows.append(
                med
                | {
                    "runners": n,
                    "cpus_per_runner": run.cpus_per_env_runner,
                    "build_s": build_s,
                    "env_steps_per_s": statistics.median(r["env_steps"] / r["sample_s"] for r in timed),
                    "updates_per_s": statistics.median(r["updates"] / r["learn_s"] for r in timed),
                    "iterations": timed,
                }
            )
            print(
                f"[runners] n={n}: {rows[-1]['env_steps_per_s']:.0f} env steps/s, "
                f"{rows[-1]['updates_per_s']:.1f} updates/s, build {build_s:.0f} s",
                flush=True,
            )
    finally:
        ray.shutdown()
    return rows


# -- learner update vs plain torch -------------------------------------------------------------------------------
def one_step_episodes(observation_space, batch_size: int, seed: int = 0) -> list:
    """`batch_size` one-step `SingleAgentEpisode`s (random observations, all actions allowed), as replay hands them."""
    rng = np.random.default_rng(seed)
    dim, actions = observation_space["observations"].shape[0], observation_space["action_mask"].shape[0]

    def obs() -> dict[str, np.ndarray]:
        return {"observations": rng.uniform(-1, 1, dim).astype(np.float32), "action_mask": np.ones(actions, np.float32)}

    episodes = []
    for i in range(batch_size):
        episodes.append(
            SingleAgentEpisode(
                observations=[obs(), obs()],
                actions=[int(rng.integers(actions))],
                rewards=[float(rng.uniform(-1, 1))],
                extra_model_outputs={"n_step": [1]},
                terminated=bool(i % 3 == 0),
                truncated=bool(i % 7 == 0),
                len_lookback_buffer=0,
            )
        )
    return episodes


def tensor_batch(episodes: list) -> dict[str, torch.Tensor]:
    """The columns the decider's losses read, stacked from one-step episodes."""

    def stack(values) -> torch.Tensor:
        return torch.as_tensor(np.stack(values))

    first, last = [e.get_observations(0) for e in episodes], [e.get_observations(-1) for e in episodes]
    return {
        "obs": stack([o["observations"] for o in first]),
        "mask": stack([o["action_mask"] for o in first]),
        "next_obs": stack([o["observations"] for o in last]),
        "next_mask": stack([o["action_mask"] for o in last]),
        "actions": torch.as_tensor([int(e.get_actions(0)) for e in episodes]),
        "rewards": torch.as_tensor([float(e.get_rewards(0)) for e in episodes]),
        "terminated": torch.as_tensor([e.is_terminated for e in episodes]),
        "truncated": torch.as_tensor([e.is_truncated for e in episodes]),
        "n_step": torch.ones(len(episodes)),
    }


class PlainDeciderUpdate:
    """`DeciderTorchLearner`'s update in plain torch, on copies of a `DeciderTorchRLModule`'s networks."""

    def __init__(self, module, config) -> None:
        self.config = config
        self.pi, self.q, self.v = copy.deepcopy(module.pi), copy.deepcopy(module.q), copy.deepcopy(module.v)
        self.q_ref = copy.deepcopy(module.q_ref)
        self.v_target, self.f_p = copy.deepcopy(module.v_target), copy.deepcopy(module.f_p)
        self.nu = torch.nn.Parameter(module.nu.detach().clone())
        self.optimizers = [
            torch.optim.Adam(
                [*self.q.parameters(), *self.q_ref.parameters(), *self.v.parameters()], lr=config.critic_lr
            ),
            torch.optim.Adam(self.pi.parameters(), lr=config.actor_lr),
            torch.optim.SGD([self.nu], lr=config.multiplier_lr),
        ]

    def losses(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        """critic + value + actor + multiplier loss of learner.py's `compute_loss_for_module`."""
        c = self.config
        with torch.no_grad():
            llm_logits = self.f_p(b["obs"], b["mask"])[0]
            v_next = self.v_target(b["next_obs"], b["next_mask"])
        mask = b["mask"] > 0
        logits = self.pi(b["obs"], b["mask"]).masked_fill(~mask, MASKED_LOGIT)
        q_values, v_values = self.q(b["obs"], b["mask"]), self.v(b["obs"], b["mask"])
        guided = mask.clone()
        guided[:, -1] = c.guide_stop
        target = bellman_target(
            b["rewards"], v_next, b["terminated"], b["truncated"], b["n_step"], c.gamma, c.bootstrap_truncated
        )
        q_taken = q_values.gather(-1, b["actions"].unsqueeze(-1)).squeeze(-1)
        llm_log_pi = masked_log_softmax(llm_logits, mask)
        # per-state trust in the LLM, as learner.py: the referee's Q-filter (the default), the guided Q's, or all 1
        ref_loss = torch.zeros(())
        if c.trust == "referee":
            q_ref = self.q_ref(b["obs"], b["mask"])
            ref_loss = torch.nn.functional.smooth_l1_loss(
                q_ref.gather(-1, b["actions"].unsqueeze(-1)).squeeze(-1), target
            )
            trust = q_filter(q_ref, llm_logits, logits, guided)
        elif c.trust == "q_filter":
            trust = q_filter(q_values, llm_logits, logits, guided)
        else:
            trust = torch.ones_like(target)
        q_loss, _ = critic_loss(q_taken, target, q_values, llm_log_pi, guided, c.lambda2, c.tau_temperature, trust)
        log_pi = masked_log_softmax(logits, mask)
        soft_value = (log_pi.exp() * (q_values - c.entropy_coeff * log_pi)).masked_fill(~mask, 0.0).sum(-1)
        v_loss = torch.nn.functional.smooth_l1_loss(v_values, soft_value.detach())  # learner.py's value loss
        nu = self.nu.detach() if c.sigma < LN2 else torch.zeros(())
        pi_loss, js = actor_loss(logits, q_values, llm_logits, mask, c.lambda1, nu, c.entropy_coeff, guided, trust)
        trusted_js = (trust * js).sum() / trust.sum().clamp(min=1.0)
        return q_loss + ref_loss + v_loss + pi_loss + multiplier_loss(self.nu, trusted_js, c.sigma)

    def __call__(self, batch: dict[str, torch.Tensor]) -> None:
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=True)
        self.losses(batch).backward()
        for optimizer in self.optimizers:
            optimizer.step()
        with torch.no_grad():
            self.nu.clamp_(0.0, self.config.multiplier_max)
            for target, source in zip(self.v_target.parameters(), self.v.parameters(), strict=True):
                target.mul_(1.0 - self.config.tau).add_(self.config.tau * source)

    def max_weight_gap(self, module) -> float:
        """max |w_plain - w_module| over pi, q, v, v_target and nu."""
        pairs = [(getattr(self, name), getattr(module, name)) for name in ("pi", "q", "v", "v_target")]
        gaps = [(a - b).abs().max() for x, y in pairs for a, b in zip(x.parameters(), y.parameters(), strict=True)]
        return float(max([*gaps, (self.nu - module.nu).abs()]).detach())


def time_update(learner, plain: PlainDeciderUpdate, episodes: list, repeats: int) -> dict[str, list[float]]:
    """ms per call of the RLlib update (episodes; a ready tensor batch) and of the plain one, interleaved."""
    timesteps = {NUM_ENV_STEPS_SAMPLED_LIFETIME: 10_000}
    batch = tensor_batch(episodes)
    # the learner connector's output for these episodes, made once: `update(batch=...)` skips the connector
    columns = learner._learner_connector(
        rl_module=learner.module, batch={}, episodes=episodes, shared_data={}, metrics=learner.metrics
    )
    ready = MultiAgentBatch({mid: SampleBatch(cols) for mid, cols in columns.items()}, env_steps=len(episodes))
    calls = {
        "rllib": lambda: learner.update(episodes=episodes, timesteps=timesteps),
        "rllib_batch": lambda: learner.update(batch=ready, timesteps=timesteps),
        "plain": lambda: plain(batch),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(WARMUP + repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if i >= WARMUP:
                times[name].append(1000 * (time.perf_counter() - start))
    return times


def time_tau_b(plain: PlainDeciderUpdate, batch: dict[str, torch.Tensor], repeats: int) -> float:
    """ms of the Kendall tau-b that learner.py logs on every update (numpy, first 64 rows): not a loss term."""
    rows = slice(0, TAU_SAMPLE)
    with torch.no_grad():
        q = plain.q(batch["obs"][rows], batch["mask"][rows]).numpy()
        llm = plain.f_p(batch["obs"][rows], batch["mask"][rows])[0].numpy()
    guided = batch["mask"][rows].numpy() > 0
    times = []
    for _ in range(WARMUP + repeats):
        start = time.perf_counter()
        kendall_tau_b(q, llm, guided)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times[WARMUP:])


def learner_cost(env_config: dict[str, Any], fp_path: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per batch size: medians of the RLlib update, the RLlib update on a ready batch and the plain update (ms)."""
    env = ToolDeciderEnv(env_config)
    spaces = {"default_policy": (env.observation_space, env.action_space)}
    rows = []
    for size in args.batch_sizes:
        config = decider_config(env_config, fp_path, DeciderRunConfig(num_env_runners=0, hidden=HIDDEN))
        torch.manual_seed(0)
        learner = config.build_learner(spaces=spaces)
        module = learner.module["default_policy"].unwrapped()
        plain = PlainDeciderUpdate(module, config)
        episodes = one_step_episodes(env.observation_space, size)
        learner.update(episodes=episodes, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 10_000})
        plain(tensor_batch(episodes))
        gap = plain.max_weight_gap(module)  # same start, same batch: the same update up to float rounding
        times = time_update(learner, plain, episodes, args.repeats)
        med = {name: statistics.median(values) for name, values in times.items()}
        tau_b_ms = time_tau_b(plain, tensor_batch(episodes), args.repeats)
        rows.append(
            {
                "batch_size": size,
                "rllib_ms": med["rllib"],
                "rllib_batch_ms": med["rllib_batch"],
                "plain_ms": med["plain"],
                "ratio": med["rllib"] / med["plain"],
                "tau_b_ms": tau_b_ms,
                "max_weight_gap": f"{gap:.1e}",
                "samples_ms": times,
            }
        )
        print(f"[learner] B={size}: RLlib {med['rllib']:.1f} ms, plain {med['plain']:.1f} ms", flush=True)
    env.close()
    return rows


# -- runners on another node -------------------------------------------------------------------------------------
def runners_on_rollout_node(env_config: dict[str, Any], fp_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Train on a 2-node `Cluster` whose second node alone has `rollout`; where each env runner ran."""
    temp = tempfile.mkdtemp(prefix="rtn", dir="/tmp")  # short: Ray's unix sockets live under it
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False, "temp_dir": temp}
    )
    head_node, rollout_node = (
        cluster.head_node.node_id,
        cluster.add_node(num_cpus=1, resources={"rollout": 2}, temp_dir=temp).node_id,
    )
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        algo = decider_config(env_config, fp_path, run_config(2, args, runner_resources={"rollout": 0.5})).build_algo()
        try:
            steps = [float(algo.train()["env_runners"]["num_env_steps_sampled"]) for _ in range(args.iterations)]
            where = algo.env_runner_group.foreach_env_runner(
                lambda runner: ray.get_runtime_context().get_node_id(), local_env_runner=False
            )
        finally:
            algo.stop()
        resources = {node["NodeID"]: node["Resources"] for node in ray.nodes() if node["Alive"]}
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
    return {
        "head_node": head_node,
        "rollout_node": rollout_node,
        "runner_nodes": where,
        "env_steps_per_iteration": steps,
        "fragment": args.fragment,
        "node_resources": resources,
    }


# -- report ------------------------------------------------------------------------------------------------------
def print_tables(results: dict[str, Any]) -> None:
    """The three tables, from the results of whichever sections ran."""
    if results.get("runners"):
        print("\nRunner scaling (medians over the timed iterations)\n")
        rows = [[r[key] for key in RUNNER_COLUMNS.values()] for r in results["runners"]]
        print(format_table(list(RUNNER_COLUMNS), rows))
    if results.get("learner"):
        print("\nLearner update: RLlib vs plain torch (ms, medians; ratio = RLlib update / plain torch)\n")
        rows = [[r[key] for key in LEARNER_COLUMNS.values()] for r in results["learner"]]
        print(format_table(list(LEARNER_COLUMNS), rows))
    if results.get("nodes"):
        n = results["nodes"]
        print(
            f"\nEnv runners asking for rollout=0.5 on a 2-node cluster (env steps per iteration "
            f"{n['env_steps_per_iteration']})\n"
        )
        rows = []
        for name, node in (("head", n["head_node"]), ("second", n["rollout_node"])):
            have = n["node_resources"].get(node, {})
            resources = ", ".join(f"{k}={have[k]:g}" for k in ("CPU", "rollout") if k in have)
            rows.append([name, node[:12], resources, sum(r == node for r in n["runner_nodes"])])
        print(format_table(["node", "node id", "resources", "env runners on it"], rows))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    def ints(text: str) -> list[int]:
        return [int(x) for x in text.split(",") if x]

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument("--runners", type=ints, default=[1, 2, 4, 8], help="numbers of env runners")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per runner count (and nodes)")
    parser.add_argument("--repeats", type=int, default=40, help="timed learner updates per batch size")
    parser.add_argument("--batch-sizes", type=ints, default=[32, 128, 512])
    parser.add_argument("--tasks", type=int, default=24, help="level-2 cpn tasks")
    parser.add_argument("--fragment", type=int, default=64, help="rollout_fragment_length (env steps per runner)")
    parser.add_argument("--updates", type=int, default=32, help="learner updates per iteration")
    args = parser.parse_args(argv)
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    results: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items()},
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
    }
    with tempfile.TemporaryDirectory(prefix="decider_scale") as tmp:
        env_config, fp_path = build_task_set(Path(tmp), args.tasks)
        if "runners" in args.sections:
            results["runners"] = runner_scaling(env_config, fp_path, args)
        if "learner" in args.sections:
            results["learner"] = learner_cost(env_config, fp_path, args)
        if "nodes" in args.sections:
            results["nodes"] = runners_on_rollout_node(env_config, fp_path, args)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_tables(results)
    print(f"\nresults: {OUT / 'results.json'}")
    nodes = results.get("nodes")
    if nodes and any(node != nodes["rollout_node"] for node in nodes["runner_nodes"]):
        raise SystemExit("an env runner is not on the node with the `rollout` resource")


if __name__ == "__main__":
    main()
