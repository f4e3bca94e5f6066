"""The tool decider: an LLM-guided off-policy actor-critic over the proposer's top-p candidates (docs/decider.md).

losses.py            the pure objectives: masked JS (nats), smooth Kendall tau and scipy tau-b, actor /
                     critic / Lagrange-multiplier losses, L_FP
fp_model.py      F_P (`PolicyReconstruction`): a Transformer emulating pi_LLM over candidates + STOP
fp_train.py      F_P training on `distill rank` labels; fp_checkpoint.py its checkpoints
networks.py          slot-shared candidate scorers for the policy, Q and V
rl_module.py         `DeciderTorchRLModule` (pi, Q, V, target V_g, frozen F_P, log multiplier)
learner.py           `DeciderTorchLearner` (three optimizers, target updates, guidance metrics)
config.py            `DeciderConfig` (RLlib builder); algorithm.py `Decider` (own training_step, replay in
                     its checkpoints); callbacks.py task metrics from the env runners
candidates.py        the trained proposer's candidates for the env (`file:` candidate source)
train.py             the driver: progress, atomic checkpoints, history, resume
"""
