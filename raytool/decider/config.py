"""`DeciderConfig`: the RLlib builder for the LLM-guided decider (`Decider`), with its guidance knobs documented.

    config = (
        DeciderConfig()
        .environment(ENV_NAME, env_config={"tasks": "out/envs/cpn_l2", "top_p": 5})
        .env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5)
        .training(lambda1=0.1, lambda2=0.01, sigma=0.3)
        .rl_module(model_config={"fp_path": "out/fp"})
    )
    algo = config.build_algo()

Units: JS is measured in nats, so sigma lies in [0, ln 2 = 0.693] (the paper's [0, 1] is in bits: sigma_bits =
sigma / ln 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig, NotProvided
from ray.rllib.connectors.common.add_observations_from_episodes_to_batch import AddObservationsFromEpisodesToBatch
from ray.rllib.connectors.learner.add_next_observations_from_episodes_to_train_batch import (
    AddNextObservationsFromEpisodesToTrainBatch,
)
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from raytool.decider.callbacks import DeciderMetrics
from raytool.decider.losses import KENDALL_TEMPERATURE

GUIDANCE_FIELDS = (
    "lambda1", "lambda2", "sigma", "entropy_coeff", "tau_temperature", "actor_lr", "critic_lr", "multiplier_lr",
    "tau", "target_update", "target_update_interval", "replay_capacity", "train_batch_size", "updates_per_iteration",
    "learning_starts", "n_step", "guide_stop", "bootstrap_truncated", "multiplier_max", "trust", "llm_exploration",
    "llm_exploration_updates", "llm_warm_start", "llm_warm_start_lr", "llm_warm_start_states", "critic_warmup",
    "lambda1_boost", "lambda1_boost_updates",
)  # fmt: skip
TRUST_MODES = ("none", "q_filter", "referee")


class DeciderConfig(AlgorithmConfig):
    """Settings of the decider (the fields below), on top of RLlib's (`environment`, `env_runners`, `learners`...).

    lambda1: fixed weight of JS(pi || pi_LLM) in the actor loss (0 turns the JS guidance off).
    lambda1_boost: extra JS weight at the first update, fading linearly to 0 over `lambda1_boost_updates` learner
        updates: the actor loss weighs JS by lambda1 + boost max(0, 1 - updates / boost_updates) (+ nu). The
        policy is held to the teacher while the critic knows little and let go as it learns (a fixed lambda1 of
        5 holds it there for good). 0 (the default): off.
    lambda2: weight of the smooth Kendall-tau term in the critic loss (0 turns the ranking guidance off).
    sigma: the largest allowed mean JS (nats); a learned multiplier nu >= 0 adds to lambda1 while E[JS] > sigma.
        sigma >= ln 2 never binds; with lambda1 = 0 and sigma >= ln 2 the multiplier has no effect.
    entropy_coeff: alpha of the soft (max-entropy) actor and value targets.
    tau_temperature: T of the smooth Kendall tau (tanh((Q_i - Q_j) / T)); see `losses.soft_kendall_tau` for why
        0.1: the term breaks the critic's near-ties in the LLM's order and leaves clear gaps to the Bellman error.
    actor_lr, critic_lr: Adam learning rates of the actor and of the critic (Q and V).
    multiplier_lr: step size of the projected gradient ascent on nu: nu <- clip(nu + lr (E[JS] - sigma), 0, max)
        per update (plain SGD on nu itself, so the step is proportional to the violation).
    multiplier_max: the upper end of nu's range (keeps a long violation from making the JS term all there is).
    target_update: "polyak" (V_g <- tau V + (1 - tau) V_g after every update) or "hard" (copy every
        `target_update_interval` updates).
    replay_capacity: transitions kept in the replay buffer (FIFO).
    train_batch_size: transitions per update; updates_per_iteration: updates after each sampling round.
    learning_starts: env steps sampled before the first update.
    n_step: n-step returns drawn from the replay buffer.
    guide_stop: whether STOP enters the guidance terms (JS, Kendall tau); False: they compare the preferences
        among the candidate tools only, and stopping is learnt from the reward (see learner.py).
    trust: "none" (the guidance terms act on every state), "q_filter" (only on states where the critic rates
        E_{pi_LLM}[Q] >= E_pi[Q]: guidance falls away where the teacher is worse than what the policy has learnt)
        or "referee" (the same filter judged by a second critic trained on the reward alone, not pulled toward
        the LLM's order by the Kendall term; see learner.py).
    llm_exploration: beta_0, the teacher's share of the behaviour policy at the first update: the rollout workers act
        from (1 - beta) pi + beta pi_LLM, beta = beta_0 max(0, 1 - updates / llm_exploration_updates) (a decaying
        mixture, as in jump-start RL: the replay fills with the teacher's choices while the critic is blank; off-
        policy, so the targets are unchanged). 0 (the default) explores with pi alone; greedy acting never mixes.
    llm_exploration_updates: the learner updates over which beta falls to 0 (the module counts them).
    llm_warm_start: Adam steps of the actor alone on JS(pi || pi_LLM) (over the actions guidance compares: STOP only
        with guide_stop), once: on the replayed states when learning starts, or on `llm_warm_start_states` before
        the first rollout. The policy starts where the teacher is instead of at random. The critic, the env steps
        and the RL updates are unchanged (its own optimizer, lr `llm_warm_start_lr`, then dropped). 0 (the
        default): off.
    llm_warm_start_states: `distill rank` output dirs (comma-separated; the states F_P was fitted on, which an
        untrained policy's rollouts rarely reach): the warm start imitates pi_LLM there instead of on the replay,
        and before the first rollout, so that the replay fills with the imitated policy's episodes (an untrained
        policy's fill it with failed calls, from which the blank critic learns that stopping at once is safest).
    critic_warmup: learner updates (from the first) during which the actor does not learn, only the critics, V and
        the multiplier: a blank critic's Q pulls a warm-started actor off the teacher's policy before it knows
        anything (with 32 updates per iteration, 64 = the first two learning iterations). 0 (the default): off.
    bootstrap_truncated: whether a transition that ends an episode by truncation bootstraps V_g(s_T). False: the
        env's truncation is its `max_steps` limit, part of the task and visible in the observation, so the
        value past it is 0 (True is for envs whose time limit the observation does not show).
    """

    def __init__(self, algo_class=None) -> None:
        from raytool.decider.algorithm import Decider

        super().__init__(algo_class=algo_class or Decider)
        self.lambda1 = 0.1
        self.lambda2 = 0.01
        self.sigma = 0.3
        self.entropy_coeff = 0.02
        self.tau_temperature = KENDALL_TEMPERATURE
        self.actor_lr = 1e-3
        self.critic_lr = 1e-3
        self.multiplier_lr = 0.1  # at a violation of 0.1 nats nu rises by 0.01 per update (0.32 per iteration)
        self.multiplier_max = 10.0
        self.tau = 0.05
        self.target_update = "polyak"
        self.target_update_interval = 100
        self.replay_capacity = 50_000
        self.train_batch_size = 128
        self.updates_per_iteration = 32
        self.learning_starts = 256
        self.n_step = 1
        self.guide_stop = False
        self.bootstrap_truncated = False
        self.trust = "referee"
        self.llm_exploration = 0.0
        self.llm_exploration_updates = 128
        self.llm_warm_start = 0
        self.llm_warm_start_lr = 3e-3
        self.llm_warm_start_states = ""
        self.critic_warmup = 0
        self.lambda1_boost = 0.0
        self.lambda1_boost_updates = 256
        self.gamma = 0.95
        self.rollout_fragment_length = 64
        self.num_env_runners = 2
        self.num_cpus_per_env_runner = 0.5
        self.num_learners = 0
        self.callbacks_class = DeciderMetrics

    def training(self, **kwargs: Any) -> DeciderConfig:
        """RLlib's `training(...)` plus the fields of this class."""
        for name in GUIDANCE_FIELDS:
            value = kwargs.pop(name, NotProvided)
            if value is not NotProvided:
                setattr(self, name, value)
        super().training(**kwargs)
        return self

    def validate(self) -> None:
        super().validate()
        self.check_guidance()
        from raytool.decider.fp_checkpoint import check_env_settings, check_recorded_env

        env_config = dict(self.env_config or {})
        fp_path = (self.model_config or {}).get("fp_path")
        if fp_path:  # F_P must have been trained under the observation settings of the env it guides
            check_env_settings(fp_path, env_config)
        if self.llm_warm_start_states:  # so must the states the warm start imitates it on
            from raytool.distill.rank import SUMMARY_FILE

            for directory in filter(None, self.llm_warm_start_states.split(",")):
                check_recorded_env(Path(directory) / SUMMARY_FILE, env_config)

    def check_guidance(self) -> None:
        """The checks on this class's own fields (ValueError); `validate` runs them after RLlib's."""
        if self.target_update not in ("polyak", "hard"):
            raise ValueError(f"target_update must be 'polyak' or 'hard', got {self.target_update!r}")
        if min(self.lambda1, self.lambda2, self.sigma, self.entropy_coeff) < 0:
            raise ValueError("lambda1, lambda2, sigma and entropy_coeff must be >= 0")
        if not 0 < self.tau <= 1 or self.target_update_interval < 1 or self.tau_temperature <= 0:
            raise ValueError("need 0 < tau <= 1, target_update_interval >= 1 and tau_temperature > 0")
        if self.trust not in TRUST_MODES:
            raise ValueError(f"trust must be one of {TRUST_MODES}, got {self.trust!r}")
        if self.multiplier_lr <= 0 or self.multiplier_max <= 0:
            raise ValueError("multiplier_lr and multiplier_max must be > 0")
        if not 0 <= self.llm_exploration <= 1 or self.llm_exploration_updates < 1:
            raise ValueError("need 0 <= llm_exploration <= 1 and llm_exploration_updates >= 1")
        if self.llm_warm_start < 0 or self.llm_warm_start_lr <= 0 or self.critic_warmup < 0:
            raise ValueError("need llm_warm_start >= 0, llm_warm_start_lr > 0 and critic_warmup >= 0")
        if self.lambda1_boost < 0 or self.lambda1_boost_updates < 1:
            raise ValueError("need lambda1_boost >= 0 and lambda1_boost_updates >= 1")
        for directory in filter(None, self.llm_warm_start_states.split(",")):
            if not Path(directory).is_dir():
                raise ValueError(f"llm_warm_start_states: {directory} is not a directory (a `distill rank` output)")

    @property
    def _model_config_auto_includes(self) -> dict[str, Any]:
        """The module acts on these (the rollout workers build it from model_config)."""
        return super()._model_config_auto_includes | {
            "llm_exploration": self.llm_exploration,
            "llm_exploration_updates": self.llm_exploration_updates,
        }

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        from raytool.decider.rl_module import DeciderTorchRLModule

        return RLModuleSpec(module_class=DeciderTorchRLModule)

    def get_default_learner_class(self):
        from raytool.decider.learner import DeciderTorchLearner

        return DeciderTorchLearner

    def build_learner_connector(self, input_observation_space, input_action_space, device=None):
        pipeline = super().build_learner_connector(
            input_observation_space=input_observation_space, input_action_space=input_action_space, device=device
        )
        pipeline.insert_after(AddObservationsFromEpisodesToBatch, AddNextObservationsFromEpisodesToTrainBatch())
        return pipeline

    def guidance(self) -> dict[str, Any]:
        """The decider-specific fields, as a plain dict (for logs and result files)."""
        return {name: getattr(self, name) for name in GUIDANCE_FIELDS}
