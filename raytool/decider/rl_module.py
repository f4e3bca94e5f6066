"""`DeciderTorchRLModule`: the decider's networks as one RLlib RLModule (new API stack).

    pi        CandidateScorer -> masked logits over the p candidates + STOP (acting: sample / argmax)
    q         CandidateScorer -> Q(s, a) for every action
    q_ref     CandidateScorer -> Q_ref(s, a), the referee: trained on the Bellman error alone (no Kendall term), it
              judges where to trust the LLM with `trust="referee"` (untrained and unused otherwise)
    v, v_g    StateValue -> V(s) and its target copy V_g (updated by the learner: hard interval or Polyak)
    f_p       PolicyReconstruction (frozen): pi_LLM(.|s), loaded from `raytool decider fp` output; without
              one pi_LLM is uniform over the allowed actions (then lambda1 = lambda2 = 0 is the honest setting)
    nu        the Lagrange multiplier nu >= 0 of the constraint E[JS] < sigma (own optimizer: projected SGD)

Everything that learning changes lives here, so a checkpoint of the module restores the multiplier and the
target network with the weights. model_config: `hidden` (width, default 64), `fp_path` (F_P checkpoint dir),
`initial_multiplier` (default 0: the constraint starts slack), `llm_exploration` and `llm_exploration_updates`
(exploring from a mixture with pi_LLM early on; see `DeciderConfig`).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule

from raytool.decider.fp_model import PolicyReconstruction
from raytool.decider.losses import MASKED_LOGIT, linear_fade
from raytool.decider.networks import CandidateScorer, StateValue, observation_dims

Q_VALUES, V_VALUES, V_TARGET_NEXT, LLM_LOGITS = "q_values", "v_values", "v_target_next", "llm_logits"


class DeciderTorchRLModule(TorchRLModule):
    """See the module docstring."""

    def setup(self) -> None:
        spaces = self.observation_space.spaces
        num_actions = int(spaces["action_mask"].shape[0])
        self.dim, self.top_p = observation_dims(int(spaces["observations"].shape[0]), num_actions)
        hidden = int(self.model_config.get("hidden", 64))
        self.pi = CandidateScorer(self.dim, self.top_p, hidden)
        self.q = CandidateScorer(self.dim, self.top_p, hidden)
        self.q_ref = CandidateScorer(self.dim, self.top_p, hidden)
        self.v = StateValue(self.dim, self.top_p, hidden)
        self.v_target = StateValue(self.dim, self.top_p, hidden)
        self.v_target.load_state_dict(self.v.state_dict())
        self.v_target.requires_grad_(False)
        self.f_p = _load_policy(self.model_config.get("fp_path"), self.dim, self.top_p)
        self.nu = torch.nn.Parameter(torch.tensor(float(self.model_config.get("initial_multiplier", 0.0))))
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    # -- acting ----------------------------------------------------------------------------------------------
    def _forward_inference(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs, mask = _unpack(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self.pi(obs, mask).masked_fill(mask <= 0, MASKED_LOGIT)}

    def _forward_exploration(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        """Sampling logits: pi's, or log((1 - beta) pi + beta pi_LLM) while `llm_share` is above 0."""
        logits = self._forward_inference(batch)[Columns.ACTION_DIST_INPUTS]
        beta = self.llm_share()
        if beta <= 0.0:
            return {Columns.ACTION_DIST_INPUTS: logits}
        obs, mask = _unpack(batch[Columns.OBS])
        mixed = torch.lerp(torch.softmax(logits, -1), torch.softmax(self.llm_logits(obs, mask), -1), beta)
        return {Columns.ACTION_DIST_INPUTS: mixed.log().masked_fill(mask <= 0, MASKED_LOGIT)}

    def llm_share(self) -> float:
        """beta: pi_LLM's share of the behaviour policy, beta_0 (1 - updates / horizon) down to 0; 0 without F_P."""
        beta = float(self.model_config.get("llm_exploration", 0.0))
        if beta <= 0.0 or self.f_p is None:
            return 0.0
        return linear_fade(beta, int(self.num_updates), int(self.model_config.get("llm_exploration_updates", 128)))

    # -- learning --------------------------------------------------------------------------------------------
    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs, mask = _unpack(batch[Columns.OBS])
        next_obs, next_mask = _unpack(batch[Columns.NEXT_OBS])
        with torch.no_grad():
            llm_logits = self.llm_logits(obs, mask)
            v_next = self.v_target(next_obs, next_mask)
        return {
            Columns.ACTION_DIST_INPUTS: self.pi(obs, mask).masked_fill(mask <= 0, MASKED_LOGIT),
            Q_VALUES: self.q(obs, mask),
            V_VALUES: self.v(obs, mask),
            V_TARGET_NEXT: v_next,
            LLM_LOGITS: llm_logits,
        }

    def referee_q(self, batch_obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Q_ref(s, .) (B, p + 1) of a batch's observations (computed only by a learner with `trust="referee"`)."""
        obs, mask = _unpack(batch_obs)
        return self.q_ref(obs, mask)

    def llm_logits(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """pi_LLM's logits (B, p + 1): F_P's, or zeros (uniform) without one."""
        if self.f_p is None:
            return torch.zeros_like(mask).masked_fill(mask <= 0, MASKED_LOGIT)
        return self.f_p(obs, mask)[0]

    @property
    def multiplier(self) -> torch.Tensor:
        return self.nu.detach()

    def project_multiplier(self, upper: float) -> None:
        """nu <- clip(nu, 0, upper): the projection step of the dual ascent."""
        with torch.no_grad():
            self.nu.clamp_(0.0, upper)

    def sync_target(self, tau: float) -> None:
        """V_g <- tau V + (1 - tau) V_g (tau = 1: a hard copy)."""
        with torch.no_grad():
            for target, source in zip(self.v_target.parameters(), self.v.parameters(), strict=True):
                target.mul_(1.0 - tau).add_(tau * source)

    def get_inference_action_dist_cls(self):
        return TorchCategorical

    def get_exploration_action_dist_cls(self):
        return TorchCategorical

    def get_train_action_dist_cls(self):
        return TorchCategorical


def _unpack(obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return obs["observations"].float(), obs["action_mask"].float()


def _load_policy(path: str | None, dim: int, top_p: int) -> PolicyReconstruction | None:
    if not path:
        return None
    from raytool.decider.fp_checkpoint import load_policy_reconstruction

    model, _ = load_policy_reconstruction(path)
    if (model.dim, model.top_p) != (dim, top_p):
        raise ValueError(
            f"{path}: F_P was trained on observations with D={model.dim}, p={model.top_p}; the decider env has "
            f"D={dim}, p={top_p} (use the same top_p and encoder for `distill rank` and the decider)"
        )
    model.requires_grad_(False)
    return model
