"""The tool decider: an LLM-guided off-policy actor-critic over the proposer's top-p candidates (issue 6).

    losses.py   the pure objectives: JS(pi_DRL || pi_LLM) with masks, the smooth Kendall-tau surrogate and the
                real tau-b, the actor / critic / Lagrange-multiplier losses

The RLlib algorithm (config, algorithm, learner, RLModule, connectors) and F_P are built on top of these.
"""
