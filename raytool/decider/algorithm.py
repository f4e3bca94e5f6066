"""`Decider`: the RLlib Algorithm of the LLM-guided tool decider (new API stack), with its own `training_step`.

One iteration: every env runner samples `rollout_fragment_length` steps with the current policy (in parallel);
the episodes go into a `DeciderReplayBuffer` (exact n-step counts); once `learning_starts` env steps were sampled,
the learner group runs `updates_per_iteration` updates on batches drawn from the buffer (`DeciderTorchLearner`),
and the new weights are synced to the runners. With `llm_warm_start`, the actor imitates pi_LLM once
(`warm_start`): on the teacher's labelled states before the first rollout (they need none, and the replay then
fills with the imitated policy's episodes), or on the replayed states when learning starts. The replay buffer is
part of the algorithm's state, so a checkpoint restores it with the weights, the optimizers, the multiplier, the
target network and the iteration count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import ALL_MODULES
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    LEARNER_RESULTS,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
)

from raytool.decider.replay import DeciderReplayBuffer

REPLAY_STATE = "decider_replay_buffer"
WARM_START = "decider_warm_start"


class Decider(Algorithm):
    """See the module docstring; configured by `DeciderConfig`."""

    @classmethod
    def get_default_config(cls):
        from raytool.decider.config import DeciderConfig

        return DeciderConfig(cls)

    def setup(self, config) -> None:
        super().setup(config)
        self.replay = DeciderReplayBuffer(capacity=self.config.replay_capacity)
        self.warm_started = not self.config.llm_warm_start

    def training_step(self) -> None:
        self.metrics.delete(WARM_START, key_error=False)  # reported by the warm start's iteration only
        if not self.warm_started and self.config.llm_warm_start_states:
            # the teacher's labelled states need no rollouts: imitate before the first one, so that the replay fills
            # with the imitated policy's episodes instead of an untrained policy's
            self.warm_start()
            self.env_runner_group.sync_weights(from_worker_or_learner_group=self.learner_group, inference_only=True)
        episodes, runner_metrics = synchronous_parallel_sample(
            worker_set=self.env_runner_group,
            concat=True,
            sample_timeout_s=self.config.sample_timeout_s,
            _uses_new_env_runners=True,
            _return_metrics=True,
        )
        self.metrics.aggregate(runner_metrics, key=ENV_RUNNER_RESULTS)
        self.replay.add(episodes)
        sampled = self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
        if sampled < self.config.learning_starts:
            return
        timesteps = {
            NUM_ENV_STEPS_SAMPLED_LIFETIME: sampled,
            NUM_AGENT_STEPS_SAMPLED_LIFETIME: self.metrics.peek(
                (ENV_RUNNER_RESULTS, NUM_AGENT_STEPS_SAMPLED_LIFETIME), default={}
            ),
        }
        if not self.warm_started:
            self.warm_start()
        results = []
        for _ in range(self.config.updates_per_iteration):
            batch = self.replay.sample(
                num_items=self.config.train_batch_size,
                n_step=self.config.n_step,
                gamma=self.config.gamma,
                sample_episodes=True,
            )
            results = self.learner_group.update(episodes=batch, timesteps=timesteps)
            self.metrics.aggregate(results, key=LEARNER_RESULTS)
        self.env_runner_group.sync_weights(
            from_worker_or_learner_group=self.learner_group,
            policies=set(results[0]) - {ALL_MODULES},
            inference_only=True,
        )

    def warm_start(self) -> None:
        """`llm_warm_start`: the actor imitates pi_LLM on `llm_warm_start_states` (before the first rollout; the
        caller syncs the runners) or on up to 4,096 replayed states (when learning starts), before the first RL
        update (`DeciderTorchLearner.imitate_llm`; a no-op for a learner that has updated already, as after a
        resume). Every learner runs the same steps on the same states with the same seed, so their copies of the
        module stay equal. (`DeciderConfig.validate` checked the states' env settings.)"""
        config = self.config
        if config.llm_warm_start_states:
            observations, masks = ranked_observations(config.llm_warm_start_states.split(","))
        else:
            items = self.replay.sample(num_items=min(4096, self.replay.get_num_timesteps()), sample_episodes=True)
            states = [episode.get_observations(0) for episode in items]
            observations = np.stack([state["observations"] for state in states]).astype(np.float32)
            masks = np.stack([state["action_mask"] for state in states]).astype(np.float32)
        outcome = self.learner_group.foreach_learner(
            lambda learner: learner.imitate_llm(
                observations,
                masks,
                config.llm_warm_start,
                config.llm_warm_start_lr,
                config.train_batch_size,
                seed=config.seed or 0,
            )  # fmt: skip
        )
        stats = next((result.get() for result in outcome), {})  # the first learner's (all hold the same module)
        if stats:  # per module: the mean JS to pi_LLM before and after (in the iteration's result)
            self.metrics.log_dict(stats, key=WARM_START, reduce="mean", window=1)
        self.warm_started = True

    # -- checkpoints: the replay buffer travels with the rest of the state -------------------------------------
    def get_state(self, components=None, *, not_components=None, **kwargs) -> dict[str, Any]:
        state = super().get_state(components, not_components=not_components, **kwargs)
        if components is None or REPLAY_STATE in components:
            state[REPLAY_STATE] = self.replay.get_state()
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if REPLAY_STATE in state:
            self.replay.set_state(state[REPLAY_STATE])


def ranked_observations(directories: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(observations (N, obs), action masks (N, p + 1)) of `distill rank` output dirs (checked as F_P's data)."""
    from raytool.decider.fp_train import load_rank_records, policy_data

    records, _ = load_rank_records(directories)
    data = policy_data(records, where=f"{directories[0]} record")
    return data.obs.numpy(), data.mask.float().numpy()
