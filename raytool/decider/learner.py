"""`DeciderTorchLearner`: one gradient step of the LLM-guided constrained actor-critic (objectives in `losses.py`).

Per batch of replayed transitions (s, a, r, s', done), with pi_LLM = F_P(s) and V_g the target value network:

    critic  Huber(Q(s,a) - y) - lambda2 * soft_tau(Q(s,.), log pi_LLM(.|s)),  y = R^(k) + gamma^k (1 - done) V_g(s')
    value   Huber(V(s) - E_{a~pi}[Q(s,a) - alpha log pi(a|s)])                     (V_g tracks V)
    actor   E_{a~pi}[alpha log pi(a|s) - Q(s,a)] + (lambda1 + nu) JS(pi(.|s) || pi_LLM(.|s))
    nu      -nu * (E[JS] - sigma), then nu <- clip(nu, 0, multiplier_max)
                                            (projected dual ascent; off when sigma >= ln 2: it never binds)

done is terminated, or truncated by the env's step limit (`bootstrap_truncated=False`, the default: the limit is
part of the task and the observation shows the step fraction, so nothing follows the last step). k is the number of
transitions the replay buffer actually summed (`DeciderReplayBuffer`: fewer than n_step at an episode's end).

Trust (`trust="q_filter"`): the JS and Kendall terms act per state only where the critic rates the LLM's
distribution at least as high as the policy's (`losses.q_filter`), and E[JS] in the constraint is taken over those
states; `trust="none"` guides every state. `trust="referee"` applies the same filter with a second critic, Q_ref,
trained on the Bellman error alone: the guided Q is pulled toward the LLM's order by the Kendall term, so it
cannot referee that same LLM (with a poor teacher it keeps rating the teacher's choices up). Q_ref shares the
target y (V_g is trained on the guided Q, but only through an expectation under pi) and the critic's optimizer.

    referee Huber(Q_ref(s,a) - y)                  trust(s) = 1[E_{pi_LLM}[Q_ref(s,.)] >= E_pi[Q_ref(s,.)]]

Guidance (JS and the Kendall terms) compares the policy's and the LLM's preferences among the candidate tools:
with `guide_stop=False` (the default) STOP is left out of both, JS is taken between the two distributions
renormalised over the candidates, and when to stop is learnt from the reward alone (docs/decider.md: the
embedded teacher almost never picks STOP, and pulling Q's ranking of STOP toward it kept the decider from ever
stopping). `guide_stop=True` compares all p + 1 actions.

Each term reaches only its own parameters (the others' outputs are detached), so the summed loss back-propagates
exactly these gradients, and each group has its own optimizer: `critic` (Q, Q_ref and V), `actor`, `multiplier`.
For the first `critic_warmup` updates the actor's loss is held at zero gradient: the critics learn from the replay
while the actor stays where it started (after `llm_warm_start`, where the teacher is). With `lambda1_boost` the JS
weight is lambda1 + boost max(0, 1 - updates / lambda1_boost_updates) (`losses.linear_fade`): held to the teacher
early, let go as the critic learns.
After every update V_g moves toward V: Polyak with `tau`, or a hard copy every `target_update_interval` updates.
Logged: decider/js_to_llm (nats), decider/kendall_tau_b (scipy, on up to 64 states), decider/sigma_multiplier,
decider/lambda1 (the JS weight in use), decider/soft_tau, and the losses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.torch.torch_learner import TorchLearner

from raytool.decider.losses import (
    actor_loss,
    bellman_target,
    critic_loss,
    guided_actions,
    js_divergence,
    kendall_tau_b,
    linear_fade,
    masked_log_softmax,
    multiplier_loss,
    q_filter,
)
from raytool.decider.rl_module import LLM_LOGITS, Q_VALUES, V_TARGET_NEXT, V_VALUES

TAU_SAMPLE = 64
LN2 = math.log(2.0)


class DeciderTorchLearner(TorchLearner):
    """See the module docstring."""

    def configure_optimizers_for_module(self, module_id, config=None) -> None:
        module = self._module[module_id]
        groups = {
            "critic": (
                list(module.q.parameters()) + list(module.q_ref.parameters()) + list(module.v.parameters()),
                config.critic_lr,
            ),
            "actor": (list(module.pi.parameters()), config.actor_lr),
            "multiplier": ([module.nu], config.multiplier_lr),
        }
        for name, (params, lr) in groups.items():
            # plain SGD on nu: its step is lr * (E[JS] - sigma), in proportion to the violation (losses.py)
            optimizer = torch.optim.SGD(params) if name == "multiplier" else torch.optim.Adam(params)
            self.register_optimizer(
                module_id=module_id,
                optimizer_name=name,
                optimizer=optimizer,
                params=params,
                lr_or_lr_schedule=lr,
            )

    def compute_loss_for_module(self, *, module_id, config, batch: dict[str, Any], fwd_out: dict[str, Any]):
        module = self._module[module_id].unwrapped()
        mask = batch[Columns.OBS]["action_mask"] > 0
        guided = guided_actions(mask, config.guide_stop)
        actions = batch[Columns.ACTIONS].long()
        q_values, logits, llm_logits = fwd_out[Q_VALUES], fwd_out[Columns.ACTION_DIST_INPUTS], fwd_out[LLM_LOGITS]
        llm_log_pi = masked_log_softmax(llm_logits, mask)

        terminated = batch[Columns.TERMINATEDS]
        truncated = batch.get(Columns.TRUNCATEDS, torch.zeros_like(terminated))
        n_step = batch.get("n_step", torch.ones_like(terminated, dtype=torch.float32))
        target = bellman_target(
            batch[Columns.REWARDS], fwd_out[V_TARGET_NEXT], terminated, truncated, n_step, config.gamma,
            config.bootstrap_truncated,
        )  # fmt: skip
        q_taken = q_values.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        # per-state trust in the LLM: all 1, or the Q-filter (guidance only where a critic rates pi_LLM >= pi),
        # judged by the guided critic itself or by the referee (trained on the reward alone)
        ref_loss = torch.zeros(())
        if config.trust == "referee":
            q_ref = module.referee_q(batch[Columns.OBS])
            ref_loss = F.smooth_l1_loss(q_ref.gather(-1, actions.unsqueeze(-1)).squeeze(-1), target)
            trust = q_filter(q_ref, llm_logits, logits, guided)
        elif config.trust == "q_filter":
            trust = q_filter(q_values, llm_logits, logits, guided)
        else:
            trust = torch.ones_like(target)
        q_loss, soft_tau = critic_loss(
            q_taken, target, q_values, llm_log_pi, guided, config.lambda2, config.tau_temperature, trust
        )  # fmt: skip

        log_pi = masked_log_softmax(logits, mask)
        pi = log_pi.exp()
        soft_value = (pi * (q_values - config.entropy_coeff * log_pi)).masked_fill(~mask, 0.0).sum(-1)
        v_loss = F.smooth_l1_loss(fwd_out[V_VALUES], soft_value.detach())

        nu = module.nu.detach() if config.sigma < LN2 else torch.zeros(())  # sigma >= ln 2 never binds
        lambda1 = config.lambda1 + linear_fade(
            config.lambda1_boost, int(module.num_updates), config.lambda1_boost_updates
        )
        pi_loss, js = actor_loss(
            logits, q_values, llm_logits, mask, lambda1, nu, config.entropy_coeff, guided, trust
        )  # fmt: skip
        if int(module.num_updates) < config.critic_warmup:  # the actor waits for the critic (zero gradient: Adam's
            pi_loss = 0.0 * pi_loss  # moments stay 0, so it does not move)
        trusted_js = (trust * js).sum() / trust.sum().clamp(min=1.0)  # the constraint holds where guidance acts
        nu_loss = multiplier_loss(module.nu, trusted_js, config.sigma)

        rows = slice(0, TAU_SAMPLE)
        tau_b = kendall_tau_b(
            q_values[rows].detach().cpu().numpy(), llm_log_pi[rows].detach().cpu().numpy(), guided[rows].cpu().numpy()
        )  # fmt: skip
        self.metrics.log_dict(
            {
                "decider/js_to_llm": js.mean().item(),
                "decider/kendall_tau_b": tau_b,
                "decider/soft_tau": soft_tau.mean().item(),
                "decider/trust": trust.mean().item(),
                "referee_loss": ref_loss.item(),
                "decider/sigma_multiplier": nu.item(),
                "decider/lambda1": lambda1,
                "critic_loss": q_loss.item(),
                "value_loss": v_loss.item(),
                "actor_loss": pi_loss.item(),
                "multiplier_loss": nu_loss.item(),
                "q_mean": q_taken.mean().item(),
                "q_target_mean": target.mean().item(),
                "policy_entropy": -(pi * log_pi).masked_fill(~mask, 0.0).sum(-1).mean().item(),
            },
            key=module_id,
            window=1,
        )
        return q_loss + ref_loss + v_loss + pi_loss + nu_loss

    def imitate_llm(self, observations: np.ndarray, masks: np.ndarray, steps: int, lr: float, batch_size: int,
                    seed: int = 0) -> dict[str, dict[str, float]]:  # fmt: skip
        """The warm start (`DeciderConfig.llm_warm_start`): `steps` Adam steps of the actor alone on the mean
        JS(pi || pi_LLM) over minibatches of the given states (observations (N, obs), masks (N, p + 1)); a fresh
        optimizer, dropped afterwards. Only before the first RL update (a resumed run has done it): afterwards a
        module is left alone. Returns per module the mean JS over all the states before and after."""
        obs = torch.as_tensor(observations, dtype=torch.float32, device=self._device)
        mask = torch.as_tensor(masks, dtype=torch.float32, device=self._device)
        return {
            module_id: _imitate(module.unwrapped(), obs, mask, self.config.get_config_for_module(module_id).guide_stop,
                                steps, lr, batch_size, seed)
            for module_id, module in self.module.items()
            if int(module.unwrapped().num_updates) == 0
        }  # fmt: skip

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        for module_id in self.module.keys():
            config = self.config.get_config_for_module(module_id)
            module = self.module[module_id].unwrapped()
            module.num_updates += 1
            module.project_multiplier(config.multiplier_max)
            if config.target_update == "polyak":
                module.sync_target(config.tau)
            elif int(module.num_updates) % config.target_update_interval == 0:
                module.sync_target(1.0)


def _imitate(module, obs, mask, guide_stop: bool, steps: int, lr: float, batch_size: int, seed: int):
    """`imitate_llm` on one module: its actor `pi` fitted to pi_LLM (F_P) by Adam on minibatches of the states."""
    guided = guided_actions(mask > 0, guide_stop)  # js_divergence masks everything else
    with torch.no_grad():
        llm_logits = module.llm_logits(obs, mask)

    def mean_js(rows) -> torch.Tensor:
        return js_divergence(module.pi(obs[rows], mask[rows]), llm_logits[rows], guided[rows]).mean()

    everything = torch.arange(len(obs), device=obs.device)
    with torch.no_grad():
        before = float(mean_js(everything))
    optimizer = torch.optim.Adam(module.pi.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        rows = torch.randint(len(obs), (min(batch_size, len(obs)),), generator=generator).to(obs.device)
        optimizer.zero_grad()
        mean_js(rows).backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    with torch.no_grad():
        return {"js_before": before, "js_after": float(mean_js(everything))}
